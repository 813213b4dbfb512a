// client.js: the dashboard's only door to taskgate.  Every URL is relative to
// the page (api/ next to index.html), so the same files work at the site
// root, under a prefix and in a shared-hosting directory.  Also finds out,
// without a failing request, which SPEC §4 additions this taskgate has.

export const base = new URL('api/', document.baseURI);

const TOKEN_KEY = 'taskgate.token';
let token = '';
try { token = sessionStorage.getItem(TOKEN_KEY) || ''; } catch { token = ''; }

// The bearer token sent with every request ('' for none); kept in
// sessionStorage (this tab only), never in the URL.
export function getToken() { return token; }
export function setToken(t) {
	token = t || '';
	try {
		if (token) sessionStorage.setItem(TOKEN_KEY, token);
		else sessionStorage.removeItem(TOKEN_KEY);
	} catch { /* storage disabled: keep it in memory */ }
}

// An answer other than 2xx/304, or no answer at all (status 0).  detail is
// the API's own wording (its "detail" text, or the 422 list joined).
export class ApiError extends Error {
	constructor(status, detail, body, retryAfter, authenticate) {
		super(detail);
		this.status = status;
		this.detail = detail;
		this.body = body;
		this.retryAfter = retryAfter;
		this.authenticate = authenticate || '';
	}
}

// The API's words for an error body: FastAPI's {"detail":"…"} or the 422
// list of {"loc","msg"}.
export function detailText(data, text, status) {
	if (data && typeof data.detail === 'string') return data.detail;
	if (data && Array.isArray(data.detail)) {
		return data.detail.map((e) => {
			const loc = Array.isArray(e.loc) ? e.loc.slice(1).join('.') : '';
			return (loc ? loc + ': ' : '') + (e.msg || JSON.stringify(e));
		}).join('; ');
	}
	if (text) return text.slice(0, 300);
	return 'HTTP ' + status;
}

// One path segment: an id may hold '/', '?', '#', or be "." / "..".
export function seg(id) {
	const s = encodeURIComponent(id);
	return s === '.' ? '%2E' : s === '..' ? '%2E%2E' : s;
}

// fetch() one API path.  query: {key: value} (undefined/null left out);
// body: JSON-encoded.  Resolves to {status, etag, data, text}; rejects
// with ApiError.  GETs use the browser's HTTP cache in "no-cache" mode:
// when an answer carried an ETag (SPEC §4.3) the browser asks again with
// If-None-Match and a 304 costs the server nothing; the page gets the
// stored answer and compares text to see whether anything changed.
// (Setting If-None-Match by hand would hand the 304 itself to the page,
// which chromium then reports as an aborted request.)
export async function call(method, path, opts = {}) {
	const url = new URL(path, base);
	for (const [k, v] of Object.entries(opts.query || {}))
		if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
	const headers = { Accept: 'application/json' };
	if (token) headers.Authorization = 'Bearer ' + token;
	const init = { method, headers, cache: 'no-cache', credentials: 'same-origin' };
	if (opts.body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(opts.body);
	}
	let res;
	try {
		res = await fetch(url, init);
	} catch (e) {
		throw new ApiError(0, 'The server could not be reached', null, 0);
	}
	const etag = res.headers.get('ETag');
	const text = await res.text();
	let data = null;
	try { data = text ? JSON.parse(text) : null; } catch { data = null; }
	if (!res.ok) {
		throw new ApiError(res.status, detailText(data, text, res.status), data,
		    parseInt(res.headers.get('Retry-After') || '0', 10) || 0,
		    res.headers.get('WWW-Authenticate'));
	}
	if (data === null && text)
		throw new ApiError(res.status, 'The answer was not JSON: ' + text.slice(0, 120), null, 0);
	return { status: res.status, etag, data, text };
}

// What this taskgate offers beyond SPEC §2 (null: not known yet).
//   filters:    §4.1 filters, order and total=none
//   cursor:     §4.1 cursor paging (next_cursor in the answer)
//   etag:       §4.3 ETag on GET answers
//   byBackend:  §4.2 by=backend in counts
//   bulkFilter: §4.5 bulk operations by filter with dry_run
export const features = { filters: null, cursor: null, etag: null, byBackend: null, bulkFilter: null };

// Finds out about §4.1 with a request that cannot fail on an older
// taskgate: total=none answers "total":null there, while §2 ignores the
// unknown key and counts.  (Probing with a bad value would get a 422 that
// the browser logs as an error.)
export async function detectFilters() {
	const r = await call('GET', 'tasks', { query: { limit: 0, total: 'none' } });
	features.filters = !!(r.data && r.data.total === null);
	if (r.etag) features.etag = true;
	return features.filters;
}
