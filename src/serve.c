/*
 * serve.c: the request pipeline, one request from its parsed CGI
 * variables to the last byte: a configuration error's 500, the limits,
 * CORS, routing (404, 405, 307 and its Location), access control, the
 * choice of connection (the standby for reads, and the fallback to the
 * primary when it fails), the ETag and 304, the handler, the mapping of
 * errors to a response (Retry-After), the abort of a broken stream, the
 * metrics and the request log.  Called from main.c's accept loop.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "gw.h"
#include "metrics.h"
#include "req.h"
#include "resp.h"
#include "route.h"
#include "rows.h"
#include "serve.h"

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Appends s with every byte outside printable ASCII as \xHH. */
static void
log_escape(struct buf *b, const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
	}
	if (s[i] != '\0')
		buf_adds(b, "...");
}

/* One line per request on stderr: the web server's error log. */
static void
log_request(const struct req *r, int status, double ms, const char *note)
{
	struct buf	 b;

	buf_init(&b);
	buf_printf(&b, "taskgate[%ld]: %s req=%lu \"", (long)getpid(),
	    status >= 500 ? "error" : "info", r->id);
	log_escape(&b, r->method ? r->method : "-", 16);
	buf_addc(&b, ' ');
	log_escape(&b, r->uri_path ? r->uri_path : "-", 512);
	buf_printf(&b, "\" %d %.1fms", status, ms);
	if (note != NULL && *note != '\0') {
		buf_adds(&b, " (");
		log_escape(&b, note, 300);
		buf_addc(&b, ')');
	}
	buf_addc(&b, '\n');
	if (!b.oom)
		fwrite(b.p, 1, b.len, stderr);
	buf_free(&b);
}

/*
 * Appends s[0..n) for a header value: every byte outside printable ASCII
 * (CR and LF above all) as %XX, as Starlette's RedirectResponse quotes.
 */
static void
add_url_part(struct buf *b, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			buf_printf(b, "%%%02X", c);
		else
			buf_addc(b, (char)c);
	}
}

/* Builds the absolute Location of a 307: same URL without the slash. */
static void
redirect(struct req *r, struct resp *w)
{
	struct buf	 loc;
	size_t		 n;
	const char	*q = r->query;

	n = route_strip_slashes(r->rawpath, strlen(r->rawpath));
	buf_init(&loc);
	buf_adds(&loc, r->scheme);
	buf_adds(&loc, "://");
	buf_adds(&loc, r->host);
	/* The raw path may hold control bytes (REQUEST_URI is not
	 * checked by every server): never let them into the header. */
	add_url_part(&loc, r->prefix, strlen(r->prefix));
	add_url_part(&loc, r->rawpath, n);
	if (*q != '\0') {
		buf_addc(&loc, '?');
		add_url_part(&loc, q, strlen(q));
	}
	w->status = 307;
	if (!loc.oom)
		resp_header(w, "Location", loc.p);
	buf_free(&loc);
}

/*
 * The connection a route runs on: the standby (read_database) for the
 * routes that only read, unless it failed less than read_retry seconds
 * ago and the primary stands in (read_fallback).
 */
static struct db *
route_db(struct serve_app *a, const struct route *rt)
{
	if (a->rdb == NULL || (rt->flags & (ROUTE_WRITE | ROUTE_OPEN)))
		return a->db;
	if (a->cfg.read_fallback && now_ms() < a->rdb_retry)
		return a->db;
	return a->rdb;
}

/*
 * A read on the standby failed before any output began: with
 * read_fallback the standby rests for read_retry seconds (one log line
 * says why) and the caller runs the request again on the primary.
 * Returns 1 when it should.
 */
static int
rest_standby(struct serve_app *a, struct req *r, const struct resp *w,
    enum app_err rc)
{
	struct buf	 b;

	if (!a->cfg.read_fallback || w->streaming ||
	    (rc != APP_DBDOWN && rc != APP_CONFLICT))
		return 0;
	a->rdb_retry = now_ms() + a->cfg.read_retry * 1e3;
	buf_init(&b);
	buf_printf(&b, "taskgate[%ld]: warning req=%lu read_database failed, "
	    "reads on database for %lds (", (long)getpid(), r->id,
	    a->cfg.read_retry);
	log_escape(&b, db_last_error(a->rdb), 300);
	buf_adds(&b, ")\n");
	if (!b.oom)
		fwrite(b.p, 1, b.len, stderr);
	buf_free(&b);
	return 1;
}

/*
 * FNV-1a of the path (after the mount prefix) and the raw query: the
 * tag names the URL too, so a tag of one answer never matches the
 * request of another (a 404 or 422 that never had a tag cannot be
 * answered 304 with a tag taken elsewhere).
 */
static uint32_t
url_hash(const struct req *r)
{
	uint32_t	 h = 2166136261u;
	const char	*parts[3] = { r->rawpath, "?", r->query };
	const char	*p;
	size_t		 k;

	for (k = 0; k < 3; k++)
		for (p = parts[k]; p != NULL && *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* Where the tag of an answer goes when DB_ETAG's row comes. */
struct etag_to {
	struct resp	*w;
	uint32_t	 url;	/* url_hash() */
};

/* Sets the tag from DB_ETAG's row (db_etag_ask's callback too). */
static enum app_err
etag_set(void *ctx, const struct db_res *res)
{
	const struct etag_to	*to = ctx;
	struct etag_row		 e;
	enum app_err		 rc;

	if ((rc = db_etag_row(res, &e)) != APP_OK)
		return rc;
	snprintf(to->w->etag, sizeof(to->w->etag), "\"%s.%llx.%llx.%08x\"",
	    PACKAGE_VERSION, (unsigned long long)e.salt,
	    (unsigned long long)e.changes, to->url);
	to->w->tag_read = 1;
	to->w->tag_changes = e.changes;
	to->w->tag_salt = e.salt;
	return APP_OK;
}

/*
 * SPEC 4.3: the tag of a GET's answer, read before the answer (so it
 * is never newer than it) with one cheap statement on the connection
 * the answer will use; routes that never touch the database (health,
 * version, the OpenAPI document) answer the same until the binary
 * changes.  Sets w->etag, and answers 304 (w->status 304) when
 * If-None-Match holds it.  When the counter cannot be read (database
 * down) there is no tag: the handler then answers as it would (a 503
 * when it needs the database, a 404 or 422 when it does not, as
 * before the tags), and a 200 it gives without the database (a filter
 * that names nothing) goes without an ETag.
 *
 * Without If-None-Match there is no 304 to work out first: the tag
 * then rides ahead of the handler's first statement, in its pipeline
 * (run_handler); this is the statement of its own that the 304 needs.
 */
static enum app_err
etag(struct req *r, struct resp *w, struct db *db, const struct route *rt)
{
	struct db_res	*res;
	struct etag_to	 to = { w, url_hash(r) };
	enum app_err	 rc;

	if (strcmp(r->method, "GET") != 0 || (rt->flags & ROUTE_METRICS))
		return APP_OK;
	if (rt->flags & ROUTE_OPEN)
		snprintf(w->etag, sizeof(w->etag), "\"%s.static.%08x\"",
		    PACKAGE_VERSION, to.url);
	else {
		if (db_exec(db, DB_ETAG, NULL, &res) != APP_OK)
			return APP_OK;
		rc = etag_set(&to, res);
		db_res_free(res);
		if (rc != APP_OK)
			return rc;
	}
	if (resp_etag_match(r->if_none_match, w->etag))
		w->status = 304;
	return APP_OK;
}

/*
 * The handler of the route, with its ETag.  A GET of the database's
 * without If-None-Match asks db for DB_ETAG ahead of the handler's
 * first statement (db_etag_ask: same pipeline, the tag read first, set
 * before any byte of the answer goes out); a 200 for which the handler
 * ran no statement (a filter that names nothing: an answer the
 * database does not change) reads it after, alone, as etag() would
 * have before.  Anything else: etag() first (a 304 when
 * If-None-Match holds the tag: the answer is never computed).
 */
static enum app_err
run_handler(struct req *r, struct resp *w, struct db *db,
    const struct route_result *rr, struct str *param)
{
	const struct route	*rt = rr->route;
	struct etag_to		 to = { w, url_hash(r) };
	enum app_err		 rc;
	int			 tagless;

	if (r->if_none_match != NULL || strcmp(r->method, "GET") != 0 ||
	    (rt->flags & (ROUTE_METRICS | ROUTE_OPEN))) {
		if ((rc = etag(r, w, db, rt)) != APP_OK || w->status == 304)
			return rc;
		return rt->handler(r, w, db, rr->param ? param : NULL);
	}
	db_etag_ask(db, etag_set, &to);
	rc = rt->handler(r, w, db, rr->param ? param : NULL);
	tagless = db_etag_failed(db);
	db_etag_ask(db, NULL, NULL);
	/*
	 * When DB_ETAG riding along is what failed (taskgate_changes not
	 * there: sql/004 not applied, no grant), the GET, read-only, runs
	 * once more the sequential way, where a failed tag only leaves the
	 * answer without one.  Any other failure is the answer.
	 */
	if (rc == APP_SYSTEM && tagless && !w->streaming) {
		resp_reset(w);
		if ((rc = etag(r, w, db, rt)) != APP_OK)
			return rc;
		return rt->handler(r, w, db, rr->param ? param : NULL);
	}
	if (rc == APP_OK && w->status == 200 && w->etag[0] == '\0' &&
	    !w->streaming)
		rc = etag(r, w, db, rt);
	return rc;
}

/*
 * Runs the matched route: on the connection route_db() picks, the ETag
 * (and 304) and the handler (run_handler); a read that failed on the
 * standby runs again on the primary when rest_standby() says so.  *dbp
 * is the connection it ended on (for the note of the log line).
 */
static enum app_err
run_route(struct serve_app *a, struct req *r, struct resp *w,
    const struct route_result *rr, struct str *param, struct db **dbp)
{
	enum app_err	 rc;
	struct db	*db;

	db = route_db(a, rr->route);
	rc = run_handler(r, w, db, rr, param);
	if (db == a->rdb && rc != APP_OK) {
		if (rest_standby(a, r, w, rc)) {
			resp_reset(w);
			db = a->db;
			rc = run_handler(r, w, db, rr, param);
		} else if (rc == APP_CONFLICT)
			rc = APP_DBDOWN;	/* a recovery conflict, lasting */
	}
	*dbp = db;
	return rc;
}

/*
 * The status and part of the body are out: the rest is not sent and
 * the connection is aborted (the caller does), so that the client sees
 * a broken response, not a short one that looks whole.  Logs it unless
 * the client went away and log_requests is off.
 */
static void
aborted(struct serve_app *a, struct req *r, struct resp *w,
    enum app_err rc, const char *note, double t0)
{
	char	 fnote[384];
	int	 gone = w->write_failed;

	snprintf(fnote, sizeof(fnote), "failed after %d and %zu body "
	    "bytes were sent: response aborted; %.240s", w->status, w->sent,
	    gone ? "client gone" : note ? note : "");
	resp_abort(w);
	if (a->cfg.log_requests || !gone)
		log_request(r, gone ? w->status : resp_err_status(rc),
		    now_ms() - t0, fnote);
}

/*
 * Before the handler: the length limits (a 414 even for unknown paths),
 * CORS (a preflight answered whole, before routing, as Starlette), the
 * route (404, 405 with Allow, the 307 of a missing slash) and the access
 * rules of a found one (401/403).  Returns APP_OK to run the route, with
 * *answered set when w already holds the whole answer (preflight,
 * redirect); an error otherwise (w may hold its headers or detail).
 */
static enum app_err
admit(struct serve_app *a, struct req *r, struct resp *w,
    struct route_result *rr, size_t *mroute, int *answered)
{
	struct auth_verdict	 av;

	/* Limits first, before routing: a 414 even for unknown paths. */
	if (strlen(r->uri_path) > (size_t)a->cfg.max_path_length ||
	    strlen(r->query) > (size_t)a->cfg.max_query_length)
		return APP_URITOOLONG;
	/* CORS: an allowed page sees every answer, errors included; a
	 * preflight is answered whole, before routing (as Starlette). */
	if (auth_cors(&a->auth, r, w)) {
		*answered = 1;
		return APP_OK;
	}
	route_match(r->method, r->dpath, r->dpathlen, rr);
	switch (rr->kind) {
	case ROUTE_FOUND:
		*mroute = (size_t)(rr->route - route_table);
		if (rr->route->flags & ROUTE_OPEN)
			return APP_OK;
		auth_check(&a->auth, r, rr->route->flags & ROUTE_WRITE, &av);
		if (av.rc != APP_OK) {
			if (av.challenge != NULL)
				resp_header(w, "WWW-Authenticate",
				    av.challenge);
			if (av.detail != NULL)
				resp_set_detail(w, av.detail, NULL, "");
		}
		return av.rc;
	case ROUTE_METHOD:
		resp_header(w, "Allow", rr->route->method);
		return APP_METHOD;
	case ROUTE_REDIRECT:
		redirect(r, w);
		*answered = 1;
		return APP_OK;
	default:
		return APP_NOTFOUND;
	}
}

/*
 * Serves one request.  Returns 1 when its response broke off after the
 * headers went out (the caller aborts the connection), else 0.
 *
 * The pipeline's one page: the gates in the order a request meets
 * them (config; limits, CORS, route and access in admit(); the handler
 * in run_route()), each ending at "done", where the answer is finished,
 * counted and logged (a broken-off stream: aborted()).
 */
int
serve_request(struct serve_app *a, struct gw *g, struct req *r)
{
	struct resp		 w;
	struct route_result	 rr;
	struct str		 param;
	struct db		*db;
	enum app_err		 rc = APP_OK;
	double			 t0 = now_ms(), ms;
	size_t			 mroute = route_count;	/* metrics: none */
	char			 ra[16];
	const char		*note = NULL;
	int			 answered = 0;

	resp_init(&w, gw_write, g, (size_t)a->cfg.stream_threshold);
	memset(&param, 0, sizeof(param));
	if (a->cfgbad) {
		resp_set_detail(&w, "Server misconfigured: ", NULL, a->cfgerr);
		rc = APP_SYSTEM;
		note = a->cfgerr;
		goto done;
	}
	if ((rc = admit(a, r, &w, &rr, &mroute, &answered)) != APP_OK ||
	    answered)
		goto done;
	if (rr.param != NULL && !req_str_set(&param, rr.param, rr.paramlen)) {
		rc = APP_NOMEM;
		goto done;
	}
	/* Longer than any stored id can be: it simply matches nothing. */
	if (param.len > r->max_id_len)
		param.bad = 1;
	rc = run_route(a, r, &w, &rr, &param, &db);
	if (rc == APP_DBDOWN || rc == APP_SYSTEM || rc == APP_CONFLICT)
		note = db_last_error(db);
done:
	if (rc != APP_OK && w.streaming) {
		aborted(a, r, &w, rc, note, t0);
		req_str_free(&param);
		resp_free(&w);
		return 1;
	}
	if (rc != APP_OK) {
		resp_error(&w, rc);
		if (rc == APP_DBDOWN) {
			snprintf(ra, sizeof(ra), "%ld", a->cfg.retry_after);
			resp_header(&w, "Retry-After", ra);
		}
	}
	resp_finish(&w);
	/* The end time (vDSO, no system call) only when something uses it. */
	ms = metrics_enabled() || a->cfg.log_requests || w.status >= 500 ?
	    now_ms() - t0 : 0;
	metrics_request(mroute, w.status, ms, w.sent);
	if (a->cfg.log_requests || w.status >= 500)
		log_request(r, w.status, ms, w.status >= 500 ? note : NULL);
	req_str_free(&param);
	resp_free(&w);
	return 0;
}
