// app.js: the dashboard (index.html).  Overview (counts by status, per
// backend when the API has by=backend), the task table (filters, paging,
// sort by submit time), the detail panel (fields, shards, result as
// histograms or JSON) and the actions (archive, delete, restore, archive
// finished tasks older than N hours).  Reads only pages of at most 100
// tasks; polls with If-None-Match when answers carry an ETag.

import { call, features, detectFilters, seg, ApiError, getToken, setToken } from './client.js';
import { statusChart, stackBar, histogram, countsList, STATUSES, num } from './charts.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;

function el(tag, attrs = {}, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') e.className = v;
		else if (k === 'text') e.textContent = v;
		else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
		else e.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of kids) if (c !== null && c !== undefined) e.append(c);
	return e;
}

const state = {
	view: 'active',			// 'active' | 'archive'
	limit: 50,
	order: 'desc',
	page: 0,			// index into cursors (cursor mode)
	offset: 0,			// offset mode
	cursors: [''],
	next: null,			// next_cursor of the shown page
	rows: [],
	total: null,
	selected: new Set(),
	countsText: null, rowsText: '',
	updated: null, checked: null,
	detail: null,			// {id, view}
	busy: false,
};

// ---- errors ----------------------------------------------------------

// What a failed request means for the person at the keyboard: the API's
// own words, then how to get access / what happens next.
function explain(err) {
	if (!(err instanceof ApiError)) return String(err && err.message || err);
	const d = err.detail;
	switch (err.status) {
	case 0:
		return 'The server could not be reached. The page keeps trying.';
	case 401:
		return `${d} (401). This taskgate wants a bearer token: ask its operator for one ` +
		    '(read_tokens / write_tokens in taskgate.conf) and enter it under “Access token” above.';
	case 403:
		if (/insufficient_scope/.test(err.authenticate))
			return `${d} (403). Your token may only read; changing tasks needs a write token ` +
			    '(write_tokens in taskgate.conf).';
		return `${d} (403). This computer may not change tasks: writes are allowed from the ` +
		    'networks in write_networks (by default only the machine itself) or with a write ' +
		    'token (write_tokens in taskgate.conf). Ask the operator, then enter the token under “Access token”.';
	case 503:
		return `${d} (503): the database is unavailable. taskgate keeps running; this page ` +
		    'retries automatically and updates once it is back.';
	default:
		return `${d} (${err.status})`;
	}
}

let bannerKind = '';
function showBanner(kind, text) {
	const b = $('banner');
	b.replaceChildren(el('span', { text }));
	if (kind !== 'poll')
		b.append(' ', el('button', { type: 'button', class: 'link', text: 'Dismiss',
		    onclick: () => clearBanner(kind) }));
	b.dataset.kind = kind;
	bannerKind = kind;
	b.hidden = false;
}
function clearBanner(kind) {
	if (kind && bannerKind !== kind) return;
	$('banner').hidden = true;
	bannerKind = '';
}
let toastTimer = 0;
function toast(text) {
	const t = $('toast');
	t.textContent = text;
	t.classList.add('on');
	clearTimeout(toastTimer);
	toastTimer = setTimeout(() => t.classList.remove('on'), 6000);
}

// ---- times -----------------------------------------------------------

const dtf = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
function when(iso) {
	if (!iso) return '—';
	const d = new Date(iso);
	if (isNaN(d)) return iso;
	return dtf.format(d).replace(',', '');
}
function timeEl(iso) {
	return iso ? el('time', { datetime: iso, title: iso, text: when(iso) }) : document.createTextNode('—');
}
// datetime-local value (local time) -> ISO 8601 in UTC for the API.
function localToIso(v) {
	if (!v) return undefined;
	const d = new Date(v);
	return isNaN(d) ? undefined : d.toISOString();
}

// ---- overview --------------------------------------------------------

// Counts; returns whether they changed since the last time.
async function loadCounts() {
	const r = await call('GET', 'tasks/counts', { query: { by: 'backend' } });
	if (r.etag) features.etag = true;
	if (r.text === state.countsText) return false;
	state.countsText = r.text;
	features.byBackend = !!(r.data && r.data.by_backend);
	renderCounts(r.data);
	return true;
}

async function loadArchiveCount() {
	const r = await call('GET', 'archive', { query: { limit: 0 } });
	if ($('arch-count')) $('arch-count').textContent = num(r.data.count);
	lastArchCount = r.data.count;
}

let lastArchCount = null;
let lastCounts = null;
function renderCounts(c) {
	lastCounts = c;
	const fig = $('status-chart');
	fig.replaceChildren(statusChart(c, fig.clientWidth),
	    el('figcaption', {},
		el('strong', { text: num(c.total) }), ' active tasks · ',
		el('span', { id: 'arch-count', text: lastArchCount === null ? '…' : num(lastArchCount) }),
		' archived'));
	fig.setAttribute('aria-busy', 'false');
	const box = $('backend-chart');
	box.hidden = false;
	if (!c.by_backend) {
		box.replaceChildren(el('h3', { text: 'By backend' }),
		    el('p', { class: 'note', text: 'Per-backend counts need a taskgate with ' +
			'counts?by=backend (SPEC §4.2); the backend filter below works here.' }));
		return;
	}
	const list = Object.entries(c.by_backend).sort((a, b) => b[1].total - a[1].total);
	const max = list.length ? list[0][1].total : 1;
	const shown = list.slice(0, 6);
	const rows = shown.map(([b, n]) => el('tr', {},
	    el('th', { scope: 'row' }, el('button', { type: 'button', class: 'link', text: b,
		title: 'Show only ' + b, onclick: () => { $('f-backend').value = b; applyFilters(); } })),
	    el('td', { class: 'bar' }, stackBar(n, max)),
	    el('td', { class: 'num', text: num(n.total) })));
	const dl = $('backend-list');
	dl.replaceChildren(...list.slice(0, 200).map(([b]) => el('option', { value: b })));
	box.replaceChildren(el('h3', { text: 'By backend' }),
	    el('table', { class: 'by-backend' },
		el('caption', { class: 'sr-only', text: 'Active tasks per backend' }),
		el('thead', { class: 'sr-only' }, el('tr', {}, el('th', { scope: 'col', text: 'Backend' }),
		    el('th', { scope: 'col', text: 'Statuses' }), el('th', { scope: 'col', text: 'Tasks' }))),
		el('tbody', {}, ...rows)),
	    list.length > shown.length ? el('p', { class: 'note',
		text: `and ${num(list.length - shown.length)} more backends` }) : '');
}

// ---- the task list ---------------------------------------------------

function filterValues() {
	return {
		status: $('f-status').value,
		backend: $('f-backend').value.trim(),
		after: $('f-after').value, before: $('f-before').value,
		meta: $('f-meta').value.trim(),
	};
}
let filters = filterValues();

function listQuery() {
	const q = { limit: state.limit };
	if (filters.status) q.status = filters.status;
	if (filters.backend) q.backend = filters.backend;
	if (features.filters) {
		q.submitted_after = localToIso(filters.after);
		q.submitted_before = localToIso(filters.before);
		if (filters.meta) q.metadata = filters.meta;
		if (state.order !== 'desc') q.order = state.order;
	}
	// Cursor paging when the API has it: the first page asks with an empty
	// cursor; an answer without "next_cursor" means offsets (§2).
	if (features.cursor !== false && (state.page === 0 || features.cursor))
		q.cursor = state.cursors[state.page];
	else if (state.offset) q.offset = state.offset;
	return q;
}

async function loadList(poll) {
	const q = listQuery();
	const path = state.view === 'active' ? 'tasks' : 'archive';
	if (!poll) $('tasks-table').setAttribute('aria-busy', 'true');
	let r;
	try {
		r = await call('GET', path, { query: q });
	} finally {
		if (!poll) $('tasks-table').setAttribute('aria-busy', 'false');
	}
	if (r.etag) features.etag = true;
	const d = r.data;
	if (features.cursor === null && 'cursor' in q) features.cursor = 'next_cursor' in d;
	state.next = features.cursor ? d.next_cursor : null;
	const text = JSON.stringify(d.tasks);
	if (poll && text === state.rowsText && d.total === state.total) return false;
	state.rowsText = text;
	state.rows = d.tasks;
	state.total = d.total;
	renderRows();
	return true;
}

function sortedRows() {
	const rows = state.rows.slice();
	// Without server-side order the current page is sorted here.
	if (!features.filters && state.order === 'asc') rows.reverse();
	return rows;
}

function badge(s) {
	return el('span', { class: 'badge s-' + (STATUSES.includes(s) ? s : 'other'), text: s });
}

function copyButton(id) {
	return el('button', { type: 'button', class: 'copy', 'aria-label': 'Copy task id ' + id,
	    title: 'Copy id', text: 'Copy', 'data-focus': 'copy:' + id, onclick: () => copyText(id) });
}

// Clipboard API where the page is a secure context; otherwise a selected
// textarea and execCommand; if both fail, the id is shown to copy by hand.
async function copyText(t) {
	try {
		if (navigator.clipboard && window.isSecureContext) {
			await navigator.clipboard.writeText(t);
			toast('Copied ' + t);
			return;
		}
	} catch { /* fall through */ }
	const ta = el('textarea', { class: 'sr-only', readonly: true });
	ta.value = t;
	document.body.append(ta);
	ta.select();
	let ok = false;
	try { ok = document.execCommand('copy'); } catch { ok = false; }
	ta.remove();
	toast(ok ? 'Copied ' + t : 'Copy this id by hand: ' + t);
}

function renderRows() {
	const focusKey = document.activeElement && document.activeElement.dataset ?
	    document.activeElement.dataset.focus : null;
	const body = $('tasks-body');
	const arch = state.view === 'archive';
	const rows = sortedRows();
	if (!rows.length) {
		body.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: 7,
		    text: arch ? 'The archive has no tasks matching these filters.' :
			'No tasks match these filters.' })));
	} else {
		body.replaceChildren(...rows.map((t) => {
			const sel = state.selected.has(t.task_id);
			return el('tr', { class: sel ? 'sel' : null, 'data-id': t.task_id },
			    el('td', { class: 'c-sel' }, el('input', { type: 'checkbox', checked: sel,
				'aria-label': 'Select task ' + t.task_id, 'data-focus': 'sel:' + t.task_id,
				onchange: (e) => select(t.task_id, e.target.checked) })),
			    el('td', { class: 'c-id' },
				el('button', { type: 'button', class: 'link id', text: t.task_id,
				    title: 'Show details of ' + t.task_id, 'data-focus': 'open:' + t.task_id,
				    onclick: () => openDetail(t.task_id, state.view) }),
				copyButton(t.task_id)),
			    el('td', { class: 'c-status' }, badge(t.status)),
			    el('td', { class: 'c-backend', title: t.backend, text: t.backend }),
			    el('td', { class: 'c-time' }, timeEl(t.submit_time)),
			    el('td', { class: 'c-shots num', text: num(t.shots) }),
			    arch ? el('td', { class: 'c-result' }, timeEl(t.archived_at)) :
				el('td', { class: 'c-result', text: t.has_result ? 'yes' : '—' }));
		}));
	}
	if (focusKey) {
		const f = body.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`);
		if (f) f.focus();
	}
	renderPager();
	renderSelection();
}

function renderPager() {
	const n = state.rows.length;
	const t = state.total;
	let first;
	if (features.cursor) first = state.page * state.limit;
	else first = state.offset;
	const range = n ? `${num(first + 1)}–${num(first + n)}` : '0';
	$('page-info').textContent = (t === null || t === undefined) ? `Tasks ${range}` :
	    `${range} of ${num(t)}` + (state.view === 'archive' ? ' archived' : '');
	const atStart = features.cursor ? state.page === 0 : state.offset === 0;
	const atEnd = features.cursor ? !state.next : (t === null ? n < state.limit : first + n >= t);
	$('page-first').disabled = atStart;
	$('page-prev').disabled = atStart;
	$('page-next').disabled = atEnd;
	const asc = state.order === 'asc';
	$('th-submit').setAttribute('aria-sort', asc ? 'ascending' : 'descending');
	$('sort-arrow').textContent = asc ? '▲' : '▼';
	$('sort-submit').title = features.filters ? 'Sort all tasks by submit time' :
	    'Sort this page by submit time';
}

function skeleton() {
	$('tasks-body').replaceChildren(...Array.from({ length: Math.min(state.limit, 25) }, () =>
	    el('tr', { class: 'skel', 'aria-hidden': 'true' },
		...Array.from({ length: 7 }, () => el('td', {}, el('span', { class: 'skeleton' }))))));
}

function resetPaging() {
	state.page = 0;
	state.offset = 0;
	state.cursors = [''];
	state.next = null;
	if (features.cursor === false) features.cursor = null;
}

async function reload() {
	try {
		await loadList(false);
		clearBanner('poll');
	} catch (e) {
		reportPollError(e);
	}
}

function applyFilters() {
	const f = filterValues();
	if (f.meta) {
		let ok = false;
		try { const v = JSON.parse(f.meta); ok = v !== null && typeof v === 'object'; } catch { ok = false; }
		if (!ok) {
			$('f-meta').setAttribute('aria-invalid', 'true');
			showBanner('form', 'Metadata must be a JSON object, e.g. {"circuit":"bell"}.');
			$('f-meta').focus();
			return;
		}
	}
	$('f-meta').removeAttribute('aria-invalid');
	clearBanner('form');
	filters = f;
	state.limit = parseInt($('f-limit').value, 10) || 50;
	state.selected.clear();
	resetPaging();
	reload();
}

function setView(v) {
	if (state.view === v) return;
	state.view = v;
	$('view-active').setAttribute('aria-pressed', String(v === 'active'));
	$('view-archive').setAttribute('aria-pressed', String(v === 'archive'));
	$('table-caption').textContent = v === 'active' ? 'Active tasks' : 'Archived tasks';
	$('th-result').textContent = v === 'active' ? 'Result' : 'Archived';
	document.body.classList.toggle('view-archive', v === 'archive');
	for (const b of document.querySelectorAll('[data-view]')) b.hidden = b.dataset.view !== v;
	$('act-delete').textContent = v === 'active' ? 'Delete selected' : 'Delete selected permanently';
	state.selected.clear();
	state.rows = [];
	state.rowsText = '';
	resetPaging();
	skeleton();
	reload();
}

// ---- selection and actions -------------------------------------------

function select(id, on) {
	if (on) state.selected.add(id); else state.selected.delete(id);
	const tr = $('tasks-body').querySelector(`tr[data-id="${CSS.escape(id)}"]`);
	if (tr) tr.classList.toggle('sel', on);
	renderSelection();
}

function renderSelection() {
	const n = state.selected.size;
	$('sel-count').textContent = `${n} selected`;
	for (const id of ['act-archive', 'act-restore', 'act-delete']) $(id).disabled = n === 0;
	const ids = state.rows.map((t) => t.task_id);
	const on = ids.filter((i) => state.selected.has(i)).length;
	$('sel-all').checked = on > 0 && on === ids.length;
	$('sel-all').indeterminate = on > 0 && on < ids.length;
}

// The confirmation dialog: resolves true when the person chose the
// action.  Cancel has the focus first, so Enter does not destroy.
function confirmDialog(title, paras, ids, okText, danger) {
	const d = $('confirm');
	$('confirm-title').textContent = title;
	const kids = paras.map((p) => el('p', { text: p }));
	if (ids && ids.length) {
		kids.push(el('ul', { class: 'idlist' }, ...ids.slice(0, 8).map((i) => el('li', { text: i })),
		    ids.length > 8 ? el('li', { text: `… and ${ids.length - 8} more` }) : null));
	}
	$('confirm-text').replaceChildren(...kids);
	$('confirm-ok').textContent = okText;
	$('confirm-ok').className = danger ? 'danger' : 'primary';
	d.returnValue = '';
	d.showModal();
	$('confirm-cancel').focus();
	return new Promise((res) => d.addEventListener('close', () => res(d.returnValue === 'ok'), { once: true }));
}

const plural = (n, w) => `${num(n)} ${w}${n === 1 ? '' : 's'}`;

async function act(kind, ids) {
	if (!ids.length) return;
	const n = ids.length;
	const what = {
		archive: ['Archive ' + plural(n, 'task') + '?',
		    ['They move to the archive together with their shards. You can restore them ' +
			'from the Archive view.'], 'Archive ' + plural(n, 'task'), false],
		delete: ['Delete ' + plural(n, 'task') + ' permanently?',
		    ['The tasks and all their shards are removed from the database. This cannot be undone.'],
		    'Delete ' + plural(n, 'task'), true],
		restore: ['Restore ' + plural(n, 'task') + '?',
		    ['They move back to the active tasks together with their shards.'],
		    'Restore ' + plural(n, 'task'), false],
		purge: ['Delete ' + plural(n, 'archived task') + ' permanently?',
		    ['The archived tasks and their archived shards are removed from the database. ' +
			'This cannot be undone.'], 'Delete ' + plural(n, 'task'), true],
	}[kind];
	if (!await confirmDialog(what[0], what[1], ids, what[2], what[3])) return;
	try {
		let msg;
		if (kind === 'archive' || kind === 'delete') {
			const r = await call('POST', kind === 'archive' ? 'tasks/bulk-archive' : 'tasks/bulk-delete',
			    { body: { task_ids: ids } });
			const done = kind === 'archive' ? r.data.archived : r.data.deleted;
			msg = `${kind === 'archive' ? 'Archived' : 'Deleted'} ${plural(done.length, 'task')}.`;
			if (r.data.missing && r.data.missing.length)
				msg += ` ${plural(r.data.missing.length, 'task')} no longer active: ${r.data.missing.slice(0, 3).join(', ')}.`;
			if (r.data.conflicts && r.data.conflicts.length)
				msg += ` ${plural(r.data.conflicts.length, 'task')} already in the archive, left alone.`;
		} else {
			// The archive has single-id routes only: one request each, in order.
			let ok = 0;
			const failed = [];
			for (const id of ids) {
				try {
					if (kind === 'restore') await call('POST', 'archive/restore/' + seg(id));
					else await call('DELETE', 'archive/' + seg(id));
					ok++;
				} catch (e) {
					if (e instanceof ApiError && (e.status === 404 || e.status === 409)) failed.push(e.detail);
					else throw e;
				}
			}
			msg = `${kind === 'restore' ? 'Restored' : 'Deleted'} ${plural(ok, 'task')}.` +
			    (failed.length ? ' ' + failed.slice(0, 3).join('; ') : '');
		}
		for (const id of ids) state.selected.delete(id);
		toast(msg);
		clearBanner('action');
		if (state.detail && ids.includes(state.detail.id)) closeDetail();
		await refreshAll();
	} catch (e) {
		showBanner('action', 'Could not ' + kind + ': ' + explain(e));
	}
}

const selectedIds = () => state.rows.map((t) => t.task_id).filter((i) => state.selected.has(i))
    .concat([...state.selected].filter((i) => !state.rows.some((t) => t.task_id === i)));

// ---- archive finished tasks older than N hours ------------------------

async function expirePreview() {
	const h = Number($('expire-hours').value);
	const out = $('expire-preview');
	if (!Number.isInteger(h) || h < 0) { out.textContent = 'Give a whole number of hours.'; return; }
	if (features.bulkFilter === false) {
		out.textContent = 'This taskgate has no dry run (SPEC §4.5); the archive happens without a preview.';
		return;
	}
	out.textContent = 'Counting…';
	const cutoff = new Date(Date.now() - h * 3600e3).toISOString();
	try {
		// §4.5 dry run.  A taskgate without it ignores the unknown keys,
		// takes task_ids as [] and answers the id form: nothing changes.
		const r = await call('POST', 'tasks/bulk-archive', { body: {
			filter: { status_in: ['success', 'failed', 'cancelled'], updated_before: cutoff },
			dry_run: true } });
		if (r.data && r.data.dry_run === true) {
			features.bulkFilter = true;
			out.replaceChildren(el('p', { text: `About ${plural(r.data.matched, 'task')} would be archived` +
			    (r.data.matched ? ', for example:' : '.') }),
			    r.data.sample && r.data.sample.length ?
				el('ul', { class: 'idlist' }, ...r.data.sample.slice(0, 5).map((i) => el('li', { text: i }))) : '');
		} else {
			features.bulkFilter = false;
			out.textContent = 'This taskgate has no dry run (SPEC §4.5); the archive happens without a preview.';
		}
	} catch (e) {
		out.textContent = 'No preview: ' + explain(e);
	}
}

function openExpire() {
	const d = $('expire');
	$('expire-preview').textContent = '';
	d.returnValue = '';
	d.showModal();
	$('expire-hours').focus();
	expirePreview();
	d.addEventListener('close', async () => {
		if (d.returnValue !== 'ok') return;
		const h = $('expire-hours').value;
		try {
			const r = await call('POST', 'tasks/archive-expired', { query: { hours: h } });
			let msg = `Archived ${plural(r.data.count, 'finished task')} older than ${r.data.hours} hours.`;
			if (r.data.skipped_running && r.data.skipped_running.length)
				msg += ` ${plural(r.data.skipped_running.length, 'unfinished task')} left alone.`;
			toast(msg);
			clearBanner('action');
			await refreshAll();
		} catch (e) {
			showBanner('action', 'Could not archive: ' + explain(e));
		}
	}, { once: true });
}

// ---- detail panel ----------------------------------------------------

let detailOpener = null;
async function openDetail(id, view) {
	const a = document.activeElement;
	detailOpener = a && a.dataset && a.dataset.focus ? a.dataset.focus : null;
	state.detail = { id, view };
	const p = $('detail');
	p.hidden = false;
	document.body.classList.add('has-detail');
	$('detail-heading').textContent = id;
	$('detail-body').replaceChildren(el('div', { class: 'skeleton block' }));
	$('detail').setAttribute('aria-busy', 'true');
	$('detail-heading').focus();
	try {
		const arch = view === 'archive';
		const [t, sh] = await Promise.all([
			call('GET', (arch ? 'archive/' : 'tasks/') + seg(id)),
			arch ? null : call('GET', 'tasks/' + seg(id) + '/shards')]);
		if (!state.detail || state.detail.id !== id) return;
		renderDetail(t.data, sh ? sh.data : null, arch);
	} catch (e) {
		$('detail-body').replaceChildren(el('p', { class: 'error', role: 'alert', text: explain(e) }));
	} finally {
		$('detail').setAttribute('aria-busy', 'false');
	}
}

function closeDetail() {
	state.detail = null;
	$('detail').hidden = true;
	document.body.classList.remove('has-detail');
	// Back to the button that opened it (found again by its key: the rows
	// may have been redrawn meanwhile).
	const b = detailOpener && document.querySelector(`[data-focus="${CSS.escape(detailOpener)}"]`);
	if (b) b.focus(); else $('tasks-heading').focus();
}

function size(text) {
	const n = new Blob([text]).size;
	return n < 1024 ? `${n} bytes` : `${(n / 1024).toFixed(1)} kB`;
}

function pretty(v, big) {
	const text = JSON.stringify(v, null, 2);
	const pre = el('pre', { class: 'json', tabindex: 0, text });
	if (!big && text.length <= 2000) return pre;
	return el('details', { class: 'big' }, el('summary', {
	    text: `Show the whole JSON (${size(text)})` }), pre);
}

function resultSection(result) {
	const sec = el('section', { class: 'result', 'aria-labelledby': 'result-h' },
	    el('h3', { id: 'result-h', text: 'Result' }));
	if (result === null || result === undefined) {
		sec.append(el('p', { class: 'note', text: 'No result yet.' }));
		return sec;
	}
	const hs = countsList(result);
	if (!hs) {
		sec.append(pretty(result, false));
		return sec;
	}
	const SHOW = 4;
	const draw = (list, from) => list.map((c, i) => {
		const title = hs.length > 1 ? `Circuit ${from + i}` : 'Counts';
		const keys = Object.keys(c).length;
		return el('figure', { class: 'histo' }, el('figcaption', { text: title +
		    (keys > 48 ? ` (the 48 largest of ${num(keys)} outcomes)` : '') }), histogram(c, title, $('detail-body').clientWidth - 4));
	});
	sec.append(...draw(hs.slice(0, SHOW), 0));
	if (hs.length > SHOW) {
		const more = el('button', { type: 'button', text: `Show the other ${hs.length - SHOW} circuits`,
		    onclick: () => { more.replaceWith(...draw(hs.slice(SHOW, 64), SHOW),
			hs.length > 64 ? el('p', { class: 'note', text: `${hs.length - 64} more in the JSON below.` }) : ''); } });
		sec.append(more);
	}
	const text = JSON.stringify(result);
	sec.append(el('details', { class: 'big' }, el('summary', {
	    text: `Result as JSON (${size(text)})` }),
	    el('pre', { class: 'json', tabindex: 0, text: JSON.stringify(result, null, 2) })));
	return sec;
}

function renderDetail(t, shards, arch) {
	const rows = [
		['Task id', el('span', {}, el('code', { text: t.task_id }), ' ', copyButton(t.task_id))],
		['Status', badge(t.status)],
		['Backend', t.backend],
		['Shots', num(t.shots)],
		['Submitted', timeEl(t.submit_time)],
		['Updated', timeEl(t.update_time)],
	];
	if (t.archived_at) rows.push(['Archived', timeEl(t.archived_at)]);
	const dl = el('dl', { class: 'fields' });
	for (const [k, v] of rows) dl.append(el('dt', { text: k }), el('dd', {}, v));
	dl.append(el('dt', { text: 'Metadata' }), el('dd', {},
	    t.metadata && typeof t.metadata === 'object' && !Object.keys(t.metadata).length ?
		'—' : pretty(t.metadata, false)));
	const buttons = arch ?
	    [el('button', { type: 'button', text: 'Restore', onclick: () => act('restore', [t.task_id]) }),
	     el('button', { type: 'button', class: 'danger', text: 'Delete permanently',
		onclick: () => act('purge', [t.task_id]) })] :
	    [el('button', { type: 'button', text: 'Archive', onclick: () => act('archive', [t.task_id]) }),
	     el('button', { type: 'button', class: 'danger', text: 'Delete',
		onclick: () => act('delete', [t.task_id]) })];
	const parts = [dl, el('div', { class: 'detail-actions' }, ...buttons)];
	if (shards) {
		const sec = el('section', { 'aria-labelledby': 'shards-h' },
		    el('h3', { id: 'shards-h', text: `Shards (${shards.shard_count})` }));
		if (!shards.shards.length) sec.append(el('p', { class: 'note', text: 'No shards.' }));
		else {
			sec.append(el('div', { class: 'table-wrap' }, el('table', { class: 'shards' },
			    el('thead', {}, el('tr', {}, ...['#', 'Platform id', 'Backend', 'Circuits', 'Status', 'Updated']
				.map((h) => el('th', { scope: 'col', text: h })))),
			    el('tbody', {}, ...shards.shards.map((s) => el('tr', {},
				el('td', { class: 'num', text: s.shard_index }),
				el('td', {}, el('code', { text: s.platform_task_id })),
				el('td', { text: s.backend }),
				el('td', { class: 'num', text: s.circuit_count > 1 ?
				    `${s.circuit_count} (from ${s.sub_index_offset})` : String(s.circuit_count) }),
				el('td', {}, badge(s.status), s.error_message ?
				    el('div', { class: 'err', text: s.error_message }) : null),
				el('td', {}, timeEl(s.update_time))))))));
		}
		parts.push(sec);
	}
	parts.push(resultSection(t.result));
	$('detail-body').replaceChildren(...parts);
}

// ---- polling ---------------------------------------------------------

function reportPollError(e) {
	showBanner('poll', explain(e));
	$('updated').textContent = state.updated ? `Last updated ${when(state.updated.toISOString())}; ` +
	    'retrying…' : 'Not loaded yet; retrying…';
}

let pollTimer = 0, tick = 0, pollGen = 0;
// One poll: counts, archive size, and the shown page (always when
// `force`, else every poll with ETags — a 304 costs nothing — and every
// third without).  Counts come first, so the overview has its final size
// before the table fills.  A newer poll() supersedes a running one.
async function poll(force) {
	clearTimeout(pollTimer);
	const gen = ++pollGen;
	let delay = POLL_MS;
	try {
		const changed = await loadCounts();
		await loadArchiveCount();
		if (force) await loadList(false);
		else if (features.etag || tick % 3 === 0) await loadList(true);
		tick++;
		const now = new Date();
		state.checked = now;
		if (changed || force || !state.updated) state.updated = now;
		clearBanner('poll');
		$('updated').textContent = `Updated ${when(state.updated.toISOString())}` +
		    (state.updated !== now ? ` · no change at ${when(now.toISOString()).slice(11)}` : '') +
		    ` · checks every ${POLL_MS / 1000} s`;
	} catch (e) {
		reportPollError(e);
		if (e instanceof ApiError && e.retryAfter) delay = Math.min(30, Math.max(2, e.retryAfter)) * 1000;
		else delay = 3000;
	}
	if (gen === pollGen) pollTimer = setTimeout(() => poll(false), delay);
}

// Everything again, now (after an action, a new token, at start).
async function refreshAll() {
	state.countsText = null;
	tick = 1;
	await poll(true);
}

// ---- wiring ----------------------------------------------------------

function wire() {
	$('filters').addEventListener('submit', (e) => { e.preventDefault(); applyFilters(); });
	$('f-status').addEventListener('change', applyFilters);
	$('f-limit').addEventListener('change', applyFilters);
	$('f-reset').addEventListener('click', () => {
		$('filters').reset();
		$('f-limit').value = '50';
		applyFilters();
	});
	$('view-active').addEventListener('click', () => setView('active'));
	$('view-archive').addEventListener('click', () => setView('archive'));
	$('sel-all').addEventListener('change', (e) => {
		for (const t of state.rows) {
			if (e.target.checked) state.selected.add(t.task_id); else state.selected.delete(t.task_id);
		}
		renderRows();
	});
	$('act-archive').addEventListener('click', () => act('archive', selectedIds()));
	$('act-restore').addEventListener('click', () => act('restore', selectedIds()));
	$('act-delete').addEventListener('click', () =>
	    act(state.view === 'active' ? 'delete' : 'purge', selectedIds()));
	$('act-expire').addEventListener('click', openExpire);
	$('expire-check').addEventListener('click', expirePreview);
	$('page-next').addEventListener('click', () => {
		if (features.cursor) { state.cursors[state.page + 1] = state.next; state.page++; }
		else state.offset += state.limit;
		reload();
	});
	$('page-prev').addEventListener('click', () => {
		if (features.cursor) state.page = Math.max(0, state.page - 1);
		else state.offset = Math.max(0, state.offset - state.limit);
		reload();
	});
	$('page-first').addEventListener('click', () => { resetPaging(); reload(); });
	$('sort-submit').addEventListener('click', () => {
		state.order = state.order === 'desc' ? 'asc' : 'desc';
		if (features.filters) { resetPaging(); reload(); } else renderRows();
	});
	$('detail-close').addEventListener('click', closeDetail);
	document.addEventListener('keydown', (e) => {
		if (e.key === 'Escape' && state.detail && !document.querySelector('dialog[open]')) closeDetail();
	});
	$('token').value = getToken();
	$('token-form').addEventListener('submit', (e) => {
		e.preventDefault();
		setToken($('token').value.trim());
		toast(getToken() ? 'Token set for this tab.' : 'No token.');
		clearBanner('action');
		refreshAll();
	});
	$('token-clear').addEventListener('click', () => {
		setToken('');
		$('token').value = '';
		toast('Token forgotten.');
		refreshAll();
	});
}

async function start() {
	wire();
	let rw = 0;
	window.addEventListener('resize', () => {
		clearTimeout(rw);
		rw = setTimeout(() => { if (lastCounts) renderCounts(lastCounts); }, 150);
	});
	skeleton();
	try {
		await detectFilters();
	} catch (e) {
		features.filters = null;
	}
	for (const f of document.querySelectorAll('.adv input')) f.disabled = !features.filters;
	$('filter-note').textContent = features.filters ?
	    'Times are in your local time zone; metadata matches tasks whose metadata contains the JSON given.' :
	    'Time and metadata filters need a taskgate with the SPEC §4.1 filters; status and backend work here.';
	if (features.filters === null) features.filters = false;
	document.body.dataset.features = Object.entries(features).filter(([, v]) => v).map(([k]) => k).join(' ');
	await refreshAll();
	document.body.dataset.features = Object.entries(features).filter(([, v]) => v).map(([k]) => k).join(' ');
	document.body.dataset.ready = '1';
}

start();
