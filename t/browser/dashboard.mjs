// dashboard.mjs: drives the dashboard (www/) in headless chromium through
// puppeteer-core, against the real stack t/390-dashboard.t started.
// Usage: node dashboard.mjs CONFIG.json.  Prints one line per check,
// "ok - NAME" or "not ok - NAME # why", which the .t turns into TAP.
// CONFIG: { base, artifacts, tag, scenario: "full" | "big" | "auth",
//   chromium, dbStop: [argv], dbStart: [argv], expect: {...} }
import { readFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import puppeteer from 'puppeteer-core';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const X = cfg.expect || {};
if (typeof X.expirePreview === 'string') X.expirePreview = new RegExp(X.expirePreview);
mkdirSync(cfg.artifacts, { recursive: true });

let failures = 0;
function ok(cond, name, why) {
	if (cond) console.log(`ok - ${name}`);
	else { failures++; console.log(`not ok - ${name}${why !== undefined ? ' # ' + String(why).replace(/\n/g, ' ') : ''}`); }
	return cond;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
	executablePath: cfg.chromium || '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
		'--disable-extensions', '--disable-background-networking'],
});
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 800 });
const origin = new URL(cfg.base).origin;
await browser.defaultBrowserContext().overridePermissions(origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);

// Console and network: anything unexpected fails the run.  "allowed"
// names statuses a step expects (503 while the database is down).
const problems = [];
let allowed = new Set();
const apiRequests = [];
page.on('console', (m) => {
	if (m.type() !== 'error' && m.type() !== 'warning') return;
	const t = m.text();
	// Chromium logs every 4xx/5xx fetch as "Failed to load resource";
	// those are judged below by status, with the step's allowance.
	if (/Failed to load resource: the server responded with a status of (\d+)/.test(t) &&
	    allowed.has(Number(RegExp.$1))) return;
	problems.push(`console ${m.type()}: ${t}`);
});
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
page.on('request', (r) => {
	// data: URLs (chromium's own date-picker icon) are no request.
	if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push('outside request: ' + r.url());
});
page.on('response', async (r) => {
	const u = new URL(r.url());
	if (u.pathname.includes('/api/')) {
		const rec = { method: r.request().method(), url: r.url(), status: r.status(), rows: null };
		apiRequests.push(rec);
		if (r.status() === 200 && /\/api\/(tasks|archive)$/.test(u.pathname) && rec.method === 'GET') {
			try { rec.rows = (await r.json()).tasks.length; } catch { rec.rows = -1; }
		}
	}
	if (r.status() >= 400 && !allowed.has(r.status()))
		problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
});

async function shot(name) {
	const file = `${cfg.artifacts}/${cfg.tag}-${name}.png`;
	await page.screenshot({ path: file, fullPage: false });
	console.log(`# screenshot ${file}`);
}
const text = (sel) => page.$eval(sel, (e) => e.textContent.replace(/\s+/g, ' ').trim());
const rowIds = () => page.$$eval('#tasks-body tr[data-id]', (rs) => rs.map((r) => r.dataset.id));
async function waitText(sel, re, ms = 20000) {
	try {
		await page.waitForFunction((s, src) => {
			const e = document.querySelector(s);
			return e && new RegExp(src).test(e.textContent);
		}, { timeout: ms, polling: 100 }, sel, re.source);
		return true;
	} catch { return false; }
}
async function waitRows(pred, ms = 20000) {
	const t0 = Date.now();
	while (Date.now() - t0 < ms) {
		const busy = await page.$eval('#tasks-table', (e) => e.getAttribute('aria-busy'));
		const ids = await rowIds();
		if (busy !== 'true' && pred(ids)) return ids;
		await sleep(100);
	}
	return null;
}
// The API, outside the browser (what the database now holds).
async function api(path) {
	const r = await fetch(new URL('api/' + path, cfg.base), { headers: cfg.token ? { Authorization: 'Bearer ' + cfg.token } : {} });
	return { status: r.status, body: await r.text() };
}
async function confirmWith(choice) {
	await page.waitForSelector('#confirm[open]', { timeout: 5000 });
	const t = await text('#confirm');
	await page.click(choice === 'ok' ? '#confirm-ok' : '#confirm-cancel');
	await page.waitForFunction(() => !document.querySelector('#confirm[open]'), { timeout: 5000 });
	return t;
}

// Where the task table sits when the page first paints (before any
// data): it must not move once the data is in.
await page.evaluateOnNewDocument(() => {
	document.addEventListener('DOMContentLoaded', () => {
		const t = document.getElementById('tasks-table');
		window.__tableTop0 = t ? t.getBoundingClientRect().top + window.scrollY : null;
	});
});

const t0 = Date.now();
await page.goto(cfg.base, { waitUntil: 'domcontentloaded' });
try {
	await page.waitForSelector('body[data-ready="1"]', { timeout: X.loadMs || 20000 });
	await page.waitForSelector('#tasks-body tr[data-id]', { timeout: X.loadMs || 20000 });
} catch (e) { /* judged below */ }
const firstRender = Date.now() - t0;
console.log(`# first table render after ${firstRender} ms`);
ok(firstRender < (X.loadMs || 20000), `${cfg.tag}: table rendered within ${X.loadMs || 20000} ms (took ${firstRender})`);
const features = await page.$eval('body', (b) => b.dataset.features || '');
console.log(`# features detected: ${features || '(SPEC §2 only)'}`);
if (X.features !== undefined)
	ok(features === X.features, `${cfg.tag}: features detected as expected`, `got "${features}", want "${X.features}"`);
const top0 = await page.evaluate(() => window.__tableTop0);
const top1 = await page.$eval('#tasks-table', (t) => t.getBoundingClientRect().top + window.scrollY);
ok(top0 !== null && Math.abs(top0 - top1) < 1, `${cfg.tag}: no layout jump while loading (table top ${top0} -> ${top1})`);

// Keyboard: the first Tab reaches the skip link.
await page.keyboard.press('Tab');
ok(await page.evaluate(() => document.activeElement.className) === 'skip', `${cfg.tag}: first Tab: the skip link`);

let ids = await rowIds();
ok(ids.length === 50, `${cfg.tag}: first page shows 50 rows`, ids.length);
if (X.total !== undefined)
	ok(await waitText('#page-info', new RegExp(`^1–50 of ${X.totalText}$`)), `${cfg.tag}: page info "1–50 of ${X.totalText}"`, await text('#page-info'));
ok(await waitText('#status-chart figcaption', /active tasks/), `${cfg.tag}: overview chart drawn`);
const bars = await page.$$eval('#status-chart svg rect[data-status]', (rs) => rs.map((r) => [r.dataset.status, Number(r.getAttribute('width'))]));
ok(bars.length === 5, `${cfg.tag}: five status bars`, JSON.stringify(bars));
if (X.counts) {
	const label = await page.$eval('#status-chart svg', (s) => s.getAttribute('aria-label'));
	ok(label.includes(X.counts), `${cfg.tag}: chart label says the counts`, label);
}
ok(await waitText('#updated', /^Updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/), `${cfg.tag}: "last updated" shown`, await text('#updated'));
await shot('desktop-overview');

// Nothing ever asks for more than 100 rows, and no answer holds more.
function checkRequests(label) {
	const big = apiRequests.filter((r) => {
		const u = new URL(r.url);
		const lim = u.searchParams.get('limit');
		return /\/api\/(tasks|archive)$/.test(u.pathname) && r.method === 'GET' &&
		    (lim === null || Number(lim) < 0 || Number(lim) > 100 || r.rows > 100);
	});
	ok(big.length === 0, `${label}: every list request has 0 <= limit <= 100 (${apiRequests.length} API requests)`,
	    big.map((r) => r.url).join(' '));
}

if (cfg.scenario === 'big') {
	checkRequests(cfg.tag);
	const maxRows = Math.max(0, ...apiRequests.map((r) => r.rows || 0));
	ok(maxRows <= 50, `${cfg.tag}: rows fetched per request <= page size (max ${maxRows})`);
	// Paging deep into 100 000 tasks: a few pages forward stay quick.
	const t1 = Date.now();
	for (let i = 0; i < 3; i++) {
		const before = (await rowIds())[0];
		await page.click('#page-next');
		if (!await waitRows((r) => r.length === 50 && r[0] !== before)) { ok(false, `${cfg.tag}: page ${i + 2}`); break; }
	}
	ok(await waitText('#page-info', /^151–200 of /), `${cfg.tag}: three pages on`, await text('#page-info'));
	console.log(`# three pages in ${Date.now() - t1} ms`);
	await page.click('#f-status');
	await page.select('#f-status', 'failed');
	ok(!!await waitRows((r) => r.length > 0) && await waitText('#page-info', new RegExp(`of ${X.failedText}$`)),
	    `${cfg.tag}: status filter over 100 000 tasks`, await text('#page-info'));
	await shot('desktop-100k');
	await page.setViewport({ width: 360, height: 740 });
	await sleep(300);
	await shot('phone-100k');
	// Loaded afresh at phone width: the table does not move either.
	await page.reload({ waitUntil: 'domcontentloaded' });
	await page.waitForSelector('body[data-ready="1"]', { timeout: X.loadMs || 20000 }).catch(() => {});
	await page.waitForSelector('#tasks-body tr[data-id]', { timeout: X.loadMs || 20000 }).catch(() => {});
	const ptop0 = await page.evaluate(() => window.__tableTop0);
	const ptop1 = await page.$eval('#tasks-table', (t) => t.getBoundingClientRect().top + window.scrollY);
	ok(ptop0 !== null && Math.abs(ptop0 - ptop1) < 1, `${cfg.tag}: at 360 px no layout jump either (table top ${ptop0} -> ${ptop1})`);
	await shot('phone-100k-top');
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	ok(overflow <= 0, `${cfg.tag}: no sideways scrolling at 360 px`, overflow);
	await finish();
}

if (cfg.scenario === 'auth') {
	// Writes need a token here: the API's 401 shown with how to get access,
	// then the same action with the token succeeds.
	await page.click(`#tasks-body tr[data-id="${X.victim}"] input[type=checkbox]`);
	await page.click('#act-archive');
	allowed = new Set([401]);
	await confirmWith('ok');
	ok(await waitText('#banner', /Not authenticated \(401\).*bearer token.*Access token/),
	    `${cfg.tag}: 401 shown with how to get access`, await text('#banner'));
	await shot('desktop-401');
	allowed = new Set();
	await page.click('#access summary');
	await page.type('#token', cfg.token);
	// The new token refreshes every part (refreshAll), and the rows may be
	// drawn anew at any moment of that: wait for the refreshed list, then
	// tick the box from inside the page, where finding and clicking it is
	// one task (a row replaced between the two was a detached node: a CI
	// run under ASan lost that race).
	const listed = page.waitForResponse((r) => /\/api\/tasks\?/.test(r.url()), { timeout: 10000 }).catch(() => {});
	await page.click('#token-form button[type=submit]');
	await listed;
	await waitRows((r) => r.includes(X.victim));
	await page.evaluate((id) => {
		const c = document.querySelector(`#tasks-body tr[data-id="${id}"] input[type=checkbox]`);
		if (c && !c.checked) c.click();
	}, X.victim);
	await page.click('#act-archive');
	await confirmWith('ok');
	ok(await waitText('#toast', /Archived 1 task\./), `${cfg.tag}: archived with the token`, await text('#toast'));
	ok((await api('archive/' + encodeURIComponent(X.victim))).status === 200, `${cfg.tag}: the task is in the archive`);
	checkRequests(cfg.tag);
	await finish();
}

// ---- scenario "full" -------------------------------------------------

// Filter by status.
await page.select('#f-status', 'failed');
ids = await waitRows((r) => r.length > 0 && r.length <= 50);
const statuses = await page.$$eval('#tasks-body tr[data-id] .badge', (b) => [...new Set(b.map((x) => x.textContent))]);
ok(statuses.length === 1 && statuses[0] === 'failed', `${cfg.tag}: status filter: only failed rows`, statuses.join(','));
ok(await waitText('#page-info', new RegExp(`of ${X.failedText}$`)), `${cfg.tag}: status filter total`, await text('#page-info'));

// Filter by backend (typed, Enter submits the form).
await page.select('#f-status', '');
await waitRows((r) => r.length === 50);
await page.click('#f-backend');
await page.type('#f-backend', X.backend);
await page.keyboard.press('Enter');
ids = await waitRows((r) => r.length === X.backendRows);
const backends = await page.$$eval('#tasks-body tr[data-id] td.c-backend', (b) => [...new Set(b.map((x) => x.textContent))]);
ok(ids && backends.length === 1 && backends[0] === X.backend, `${cfg.tag}: backend filter: ${X.backendRows} rows of ${X.backend}`, `${ids && ids.length} ${backends}`);

// Reset, then page forward and back.
await page.click('#f-reset');
const p1 = await waitRows((r) => r.length === 50);
await page.click('#page-next');
const p2 = await waitRows((r) => r.length === 50 && p1 && r[0] !== p1[0]);
ok(p2 && !p2.some((i) => p1.includes(i)), `${cfg.tag}: next page: 50 other tasks`);
ok(await waitText('#page-info', /^51–100 of /), `${cfg.tag}: page info 51–100`, await text('#page-info'));
await page.click('#page-prev');
const p1b = await waitRows((r) => r.length === 50 && r[0] === p1[0]);
ok(!!p1b, `${cfg.tag}: previous page is the first again`);

// Sort by submit time (keyboard: focus the header button, Enter).
const times = () => page.$$eval('#tasks-body tr[data-id] td.c-time time', (t) => t.map((x) => x.getAttribute('datetime')));
let tt = await times();
ok(tt.every((t, i) => i === 0 || tt[i - 1] >= t), `${cfg.tag}: newest first by default`);
await page.focus('#sort-submit');
await page.keyboard.press('Enter');
await page.waitForFunction(() => document.getElementById('th-submit').getAttribute('aria-sort') === 'ascending');
await waitRows((r) => r.length === 50);
tt = await times();
ok(tt.every((t, i) => i === 0 || tt[i - 1] <= t), `${cfg.tag}: sorted oldest first after Enter on the header`);
await page.keyboard.press('Enter');
await page.waitForFunction(() => document.getElementById('th-submit').getAttribute('aria-sort') === 'descending');
await waitRows((r) => r.length === 50);

// Copy an id.
const first = (await rowIds())[0];
await page.click(`#tasks-body tr[data-id="${first}"] button.copy`);
ok(await waitText('#toast', new RegExp('^Copied ')), `${cfg.tag}: copy button`, await text('#toast'));
const clip = await page.evaluate(() => navigator.clipboard.readText().catch((e) => 'ERR ' + e.message));
ok(clip === first, `${cfg.tag}: the clipboard holds the id`, clip);

// Detail with a histogram (opened from the keyboard), shards, Escape back.
await page.click('#f-backend', { clickCount: 3 });
await page.type('#f-backend', 'dash:special');
await page.keyboard.press('Enter');
await waitRows((r) => r.includes('dash-hist'));
await page.focus('#tasks-body tr[data-id="dash-hist"] button.id');
await page.keyboard.press('Enter');
await page.waitForSelector('#detail:not([hidden]) svg.hist', { timeout: 10000 }).catch(() => {});
const bars2 = await page.$$eval('#detail svg.hist rect.bar', (r) => r.length);
ok(bars2 === 2, `${cfg.tag}: counts result drawn as a histogram of 2 bars`, bars2);
const histLabel = await page.$eval('#detail svg.hist', (s) => s.getAttribute('aria-label')).catch(() => '');
ok(/00: 512, 11: 488/.test(histLabel), `${cfg.tag}: histogram label has the counts`, histLabel);
const shardRows = await page.$$eval('#detail table.shards tbody tr', (r) => r.length);
ok(shardRows === 3, `${cfg.tag}: shards table has 3 rows`, shardRows);
ok(await page.evaluate(() => document.activeElement.id) === 'detail-heading', `${cfg.tag}: focus moved to the detail`);
await shot('desktop-detail');
await page.$eval('#detail .result', (e) => e.scrollIntoView({ block: 'start' }));
await shot('desktop-histogram');
await page.setViewport({ width: 360, height: 740 });
await sleep(300);
await shot('phone-detail');
await page.keyboard.press('Escape');
await page.waitForSelector('#detail[hidden]');
ok(await page.evaluate(() => document.activeElement.dataset.focus) === 'open:dash-hist', `${cfg.tag}: Escape closes the detail, focus back on the row`);
await shot('phone-tasks');
const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
ok(overflow <= 0, `${cfg.tag}: no sideways scrolling at 360 px`, overflow);
await page.setViewport({ width: 1280, height: 800 });
await sleep(200);

// A batch result: one histogram per circuit, the rest behind a button.
await page.click('#tasks-body tr[data-id="dash-batch"] button.id');
await page.waitForSelector('#detail figure.histo', { timeout: 10000 }).catch(() => {});
let figs = await page.$$eval('#detail figure.histo', (f) => f.length);
ok(figs === 4, `${cfg.tag}: batch result: 4 histograms shown first`, figs);
const more = await page.$('#detail .result > button');
if (more) await more.click();
figs = await page.$$eval('#detail figure.histo', (f) => f.length);
ok(figs === 6, `${cfg.tag}: ... all 6 after "Show the other"`, figs);
await page.$eval('#detail .result', (e) => e.scrollIntoView({ block: 'start' }));
await shot('desktop-batch');
// A big non-counts result: pretty JSON, collapsed.
await page.click('#tasks-body tr[data-id="dash-big"] button.id');
await page.waitForSelector('#detail details.big', { timeout: 10000 }).catch(() => {});
const big = await page.$eval('#detail details.big', (d) => [d.open, d.querySelector('summary').textContent]).catch(() => [null, '']);
ok(big[0] === false && /Show the whole JSON \(\d+\.\d kB\)/.test(big[1]), `${cfg.tag}: large JSON result collapsed`, JSON.stringify(big));
await page.click('#detail-close');

// Archive a task from its detail, then restore it from the archive view.
await page.click('#tasks-body tr[data-id="dash-arch"] button.id');
await page.waitForSelector('#detail .detail-actions button');
await page.click('#detail .detail-actions button:not(.danger)');
let dt = await confirmWith('ok');
ok(/Archive 1 task\?.*move to the archive together with their shards.*dash-arch/.test(dt), `${cfg.tag}: archive confirmation says what happens`, dt);
ok(await waitText('#toast', /^Archived 1 task\./), `${cfg.tag}: archived`, await text('#toast'));
ok((await api('archive/dash-arch')).status === 200 && (await api('tasks/dash-arch')).status === 404, `${cfg.tag}: dash-arch is in the archive`);
await page.click('#view-archive');
await waitRows((r) => r.includes('dash-arch'));
await shot('desktop-archive');
await page.click('#tasks-body tr[data-id="dash-arch"] input[type=checkbox]');
await page.click('#act-restore');
dt = await confirmWith('ok');
ok(/Restore 1 task\?.*back to the active tasks/.test(dt), `${cfg.tag}: restore confirmation`, dt);
ok(await waitText('#toast', /^Restored 1 task\./), `${cfg.tag}: restored`, await text('#toast'));
ok((await api('tasks/dash-arch')).status === 200, `${cfg.tag}: dash-arch active again`);
ok((await api('tasks/dash-arch/shards')).body.includes('"shard_count":1'), `${cfg.tag}: with its shard`);
await page.click('#view-active');
await waitRows((r) => r.includes('dash-del1'));

// Delete two selected tasks: Cancel changes nothing, OK deletes.
await page.click('#tasks-body tr[data-id="dash-del1"] input[type=checkbox]');
await page.click('#tasks-body tr[data-id="dash-del2"] input[type=checkbox]');
ok(await text('#sel-count') === '2 selected', `${cfg.tag}: 2 selected`);
await page.click('#act-delete');
await shot('desktop-confirm');
dt = await confirmWith('cancel');
ok(/Delete 2 tasks permanently\?.*cannot be undone/.test(dt) && /dash-del1/.test(dt) && /dash-del2/.test(dt), `${cfg.tag}: delete confirmation names the tasks and says it is final`, dt);
ok((await api('tasks/dash-del1')).status === 200, `${cfg.tag}: Cancel deleted nothing`);
await page.click('#act-delete');
await confirmWith('ok');
ok(await waitText('#toast', /^Deleted 2 tasks\./), `${cfg.tag}: deleted`, await text('#toast'));
ok((await api('tasks/dash-del1')).status === 404 && (await api('tasks/dash-del2')).status === 404 &&
    (await api('archive/dash-del1')).status === 404, `${cfg.tag}: both gone for good`);

// Archive finished tasks older than N hours (dry-run preview when offered).
await page.click('#act-expire');
await page.waitForSelector('#expire[open]');
await page.click('#expire-hours', { clickCount: 3 });
await page.type('#expire-hours', String(X.expireHours));
await page.click('#expire-check');
ok(await waitText('#expire-preview', X.expirePreview), `${cfg.tag}: archive-expired preview`, await text('#expire-preview'));
await shot('desktop-expire');
await page.click('#expire-ok');
ok(await waitText('#toast', new RegExp(`^Archived ${X.expireCount} finished tasks older than ${X.expireHours} hours`)),
    `${cfg.tag}: archive-expired archived ${X.expireCount}`, await text('#toast'));
const archCount = JSON.parse((await api('archive?limit=0')).body).count;
ok(archCount === Number(X.expireCount) + 5, `${cfg.tag}: the archive holds ${X.expireCount} + 5`, archCount);

// The database goes away: 503 in the API's words, then it comes back.
allowed = new Set([503]);
execFileSync(cfg.dbStop[0], cfg.dbStop.slice(1), { stdio: 'ignore' });
ok(await waitText('#banner', /Database unavailable \(503\): the database is unavailable.*retries automatically/, 30000),
    `${cfg.tag}: database down: 503 shown, retrying`, await text('#banner').catch(() => ''));
ok(!/null|undefined/.test(await text('#banner')), `${cfg.tag}: the message is words only`, await text('#banner'));
await shot('desktop-503');
execFileSync(cfg.dbStart[0], cfg.dbStart.slice(1), { stdio: 'ignore' });
const back = await page.waitForFunction(() => document.getElementById('banner').hidden, { timeout: 60000 }).then(() => true, () => false);
ok(back, `${cfg.tag}: database back: the page recovers by itself`);
ok(await waitText('#updated', /^Updated /), `${cfg.tag}: ... and says when it last updated`, await text('#updated'));
allowed = new Set();

// Contrast of every visible text against its background.
const low = await page.evaluate(() => {
	const lum = (c) => {
		const m = c.match(/rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/);
		if (!m) return null;
		const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
		return { l: 0.2126 * f(+m[1]) + 0.7152 * f(+m[2]) + 0.0722 * f(+m[3]), a: m[4] === undefined ? 1 : +m[4] };
	};
	const bgOf = (e) => {
		for (; e; e = e.parentElement) {
			const b = lum(getComputedStyle(e).backgroundColor);
			if (b && b.a > 0.5) return b.l;
		}
		return 1;
	};
	const out = [];
	for (const e of document.querySelectorAll('body *')) {
		if (!e.offsetParent && getComputedStyle(e).position !== 'fixed') continue;
		if (e.closest('svg,[disabled],.skeleton,.toast:not(.on)')) continue;
		if (![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
		const fg = lum(getComputedStyle(e).color);
		const bg = bgOf(e);
		const r = (Math.max(fg.l, bg) + 0.05) / (Math.min(fg.l, bg) + 0.05);
		if (r < 4.5) out.push(`${e.tagName}.${e.className} "${e.textContent.trim().slice(0, 20)}" ${r.toFixed(2)}`);
	}
	return out;
});
ok(low.length === 0, `${cfg.tag}: every text has contrast >= 4.5:1`, low.slice(0, 5).join('; '));
checkRequests(cfg.tag);
await finish();

async function finish() {
	ok(problems.length === 0, `${cfg.tag}: console clean, no request failed that should not`, problems.slice(0, 6).join(' | '));
	await browser.close();
	process.exit(failures ? 1 : 0);
}
