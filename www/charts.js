// charts.js: the dashboard's SVG drawings (status bars, per-backend
// stacked bars, result histograms), built with DOM calls only: no
// library, no innerHTML, so stored text cannot turn into markup.

const NS = 'http://www.w3.org/2000/svg';

export const STATUSES = ['pending', 'running', 'success', 'failed', 'cancelled'];
// Bar colours: at least 3:1 against the white background (WCAG 1.4.11).
export const COLORS = {
	pending: '#8a5d00', running: '#0969da', success: '#1a7f37',
	failed: '#cf222e', cancelled: '#6e7781',
};

export function svg(tag, attrs = {}, text) {
	const e = document.createElementNS(NS, tag);
	for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
	if (text !== undefined) e.textContent = text;
	return e;
}

const fmt = new Intl.NumberFormat('en');
export function num(n) { return fmt.format(n); }

// Horizontal bars of the counts by status: an <svg role="img"> whose label
// says every number (screen readers get the chart as one sentence).
export function statusChart(counts, width) {
	// Drawn at the width it is shown at, so its text stays 15 px.
	const W = Math.max(280, Math.min(720, Math.round(width || 560))), row = 30, left = 92, right = 78, H = STATUSES.length * row + 8;
	const max = Math.max(1, ...STATUSES.map((s) => counts[s] || 0));
	const label = 'Tasks by status: ' + STATUSES.map((s) => s + ' ' + num(counts[s] || 0)).join(', ') +
	    '; total ' + num(counts.total || 0) + '.';
	const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label,
	    class: 'status-svg', preserveAspectRatio: 'xMinYMin meet' });
	STATUSES.forEach((s, i) => {
		const y = 4 + i * row, n = counts[s] || 0;
		const w = Math.round((W - left - right) * n / max);
		root.append(svg('text', { x: left - 8, y: y + 19, 'text-anchor': 'end', class: 'lbl' }, s));
		root.append(svg('rect', { x: left, y: y + 4, width: W - left - right, height: row - 8, class: 'track' }));
		const bar = svg('rect', { x: left, y: y + 4, width: Math.max(n ? 2 : 0, w), height: row - 8,
		    fill: COLORS[s], 'data-status': s });
		bar.append(svg('title', {}, `${s}: ${num(n)}`));
		root.append(bar);
		root.append(svg('text', { x: W - right + 8, y: y + 19, class: 'val' }, num(n)));
	});
	return root;
}

// One stacked bar (the statuses of one backend), width proportional to
// the backend's share of the largest backend.
export function stackBar(c, max) {
	const W = 200, H = 14;
	const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'stack', 'aria-hidden': 'true',
	    preserveAspectRatio: 'none' });
	let x = 0;
	for (const s of STATUSES) {
		const w = W * (c[s] || 0) / Math.max(1, max);
		if (w <= 0) continue;
		const r = svg('rect', { x, y: 0, width: w, height: H, fill: COLORS[s] });
		r.append(svg('title', {}, `${s}: ${num(c[s])}`));
		root.append(r);
		x += w;
	}
	return root;
}

// A result histogram for {"outcome": count, …}.  At most MAXBARS bars (the
// largest counts, in key order); the caller says how many were left out.
export const MAXBARS = 48;
export function histogram(counts, title, width) {
	let keys = Object.keys(counts);
	const all = keys.length;
	if (all > MAXBARS)
		keys = keys.sort((a, b) => counts[b] - counts[a]).slice(0, MAXBARS);
	keys.sort((a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0));
	const total = Object.values(counts).reduce((a, b) => a + b, 0);
	const max = Math.max(1, ...keys.map((k) => counts[k]));
	const W = Math.max(280, Math.min(720, Math.round(width || 520))), H = 190, top = 18, bottom = 40, left = 8;
	const bw = (W - 2 * left) / keys.length;
	const every = Math.ceil(keys.length / 16);
	const desc = keys.slice(0, 8).map((k) => `${k}: ${num(counts[k])}`).join(', ') +
	    (keys.length > 8 ? ', …' : '');
	const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'hist',
	    'aria-label': `${title}: ${all} outcomes, ${num(total)} in all; ${desc}` });
	keys.forEach((k, i) => {
		const h = Math.round((H - top - bottom) * counts[k] / max);
		const x = left + i * bw;
		const r = svg('rect', { x: x + bw * 0.12, y: H - bottom - h, width: Math.max(1, bw * 0.76),
		    height: Math.max(counts[k] ? 1 : 0, h), class: 'bar' });
		r.append(svg('title', {}, `${k}: ${num(counts[k])}` +
		    (total ? ` (${(100 * counts[k] / total).toFixed(1)} %)` : '')));
		root.append(r);
		if (i % every === 0) {
			const lx = x + bw / 2;
			const t = keys.length > 8 ?
			    svg('text', { x: lx, y: H - bottom + 10, class: 'klbl', 'text-anchor': 'end',
				transform: `rotate(-45 ${lx} ${H - bottom + 10})` }, k) :
			    svg('text', { x: lx, y: H - bottom + 16, class: 'klbl', 'text-anchor': 'middle' }, k);
			root.append(t);
		}
		if (keys.length <= 16)
			root.append(svg('text', { x: x + bw / 2, y: H - bottom - h - 4, class: 'vlbl',
			    'text-anchor': 'middle' }, num(counts[k])));
	});
	root.append(svg('line', { x1: left, x2: W - left, y1: H - bottom + 0.5, y2: H - bottom + 0.5, class: 'axis' }));
	return root;
}

// {"00":512,"11":488}: every value a non-negative number.
export function isCounts(v) {
	if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
	const ks = Object.keys(v);
	return ks.length > 0 && ks.every((k) => typeof v[k] === 'number' && Number.isFinite(v[k]) && v[k] >= 0);
}

// The histograms a result holds: a counts object, {"counts": {…}}, or a
// list of either (a batch task: one per circuit), also under "counts".
// Returns a list of counts objects, or null when the result is not of
// that kind.
export function countsList(r) {
	const one = (v) => isCounts(v) ? v : (v && typeof v === 'object' && !Array.isArray(v) &&
	    isCounts(v.counts)) ? v.counts : null;
	if (one(r)) return [one(r)];
	let list = Array.isArray(r) ? r :
	    (r && typeof r === 'object' && Array.isArray(r.counts)) ? r.counts : null;
	if (!list || !list.length) return null;
	const out = list.map(one);
	return out.every((c) => c) ? out : null;
}
