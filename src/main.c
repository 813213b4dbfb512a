/*
 * main.c: start-up (options, configuration), FastCGI-or-CGI detection,
 * the request loop, signals and the request log.
 *
 * A configuration error is fatal only for the command line (-t, or a
 * terminal); under a web server the process stays up and answers every
 * request with a JSON 500 naming the problem, instead of crash-looping
 * the server's process manager.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
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
#include "jsonw.h"
#include "metrics.h"
#include "req.h"
#include "resp.h"
#include "route.h"

static volatile sig_atomic_t	 stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	gw_shutdown();
}

static void
usage(void)
{
	fprintf(stderr, "usage: taskgate [-tV] [-c file]\n");
	exit(2);
}

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

struct app {
	struct cfg	 cfg;
	struct auth	 auth;
	struct db	*db;
	struct db	*rdb;		/* read_database (a standby), or NULL */
	double		 rdb_retry;	/* now_ms() before which GETs skip it */
	char		 cfgerr[512];
	int		 cfgbad;
};

/*
 * The connection a route runs on: the standby (read_database) for the
 * routes that only read, unless it failed less than read_retry seconds
 * ago and the primary stands in (read_fallback).
 */
static struct db *
route_db(struct app *a, const struct route *rt)
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
rest_standby(struct app *a, struct req *r, const struct resp *w,
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
 */
static enum app_err
etag(struct req *r, struct resp *w, struct db *db, const struct route *rt)
{
	struct db_res	*res;

	if (strcmp(r->method, "GET") != 0)
		return APP_OK;
	if (rt->flags & ROUTE_OPEN)
		snprintf(w->etag, sizeof(w->etag), "\"%s.static\"",
		    PACKAGE_VERSION);
	else {
		if (db_exec(db, DB_ETAG, NULL, &res) != APP_OK)
			return APP_OK;
		snprintf(w->etag, sizeof(w->etag), "\"%s.%llx.%llx\"",
		    PACKAGE_VERSION,
		    (unsigned long long)(db_nrows(res) ? db_int(res, 0, 1) : 0),
		    (unsigned long long)(db_nrows(res) ? db_int(res, 0, 0) : 0));
		db_res_free(res);
	}
	if (resp_etag_match(r->if_none_match, w->etag))
		w->status = 304;
	return APP_OK;
}

/*
 * Serves one request.  Returns 1 when its response broke off after the
 * headers went out (the caller aborts the connection), else 0.
 */
static int
serve(struct app *a, struct gw *g, struct req *r)
{
	struct resp		 w;
	struct route_result	 rr;
	struct auth_verdict	 av;
	struct str		 param;
	struct db		*db;
	enum app_err		 rc = APP_OK;
	double			 t0 = now_ms(), ms;
	size_t			 mroute = route_count;	/* metrics: none */
	char			 ra[16];
	const char		*note = NULL;
	char			 fnote[384];

	resp_init(&w, gw_write, g, (size_t)a->cfg.stream_threshold);
	memset(&param, 0, sizeof(param));
	if (a->cfgbad) {
		resp_set_detail(&w, "Server misconfigured: ", NULL, a->cfgerr);
		rc = APP_SYSTEM;
		note = a->cfgerr;
		goto done;
	}
	/* Limits first, before routing: a 414 even for unknown paths. */
	if (strlen(r->uri_path) > (size_t)a->cfg.max_path_length ||
	    strlen(r->query) > (size_t)a->cfg.max_query_length) {
		rc = APP_URITOOLONG;
		goto done;
	}
	/* CORS: an allowed page sees every answer, errors included; a
	 * preflight is answered whole, before routing (as Starlette). */
	if (auth_cors(&a->auth, r, &w))
		goto done;
	route_match(r->method, r->dpath, r->dpathlen, &rr);
	switch (rr.kind) {
	case ROUTE_FOUND:
		mroute = (size_t)(rr.route - route_table);
		if (rr.route->flags & ROUTE_OPEN)
			break;
		auth_check(&a->auth, r, rr.route->flags & ROUTE_WRITE, &av);
		if (av.rc != APP_OK) {
			if (av.challenge != NULL)
				resp_header(&w, "WWW-Authenticate",
				    av.challenge);
			if (av.detail != NULL)
				resp_set_detail(&w, av.detail, NULL, "");
			rc = av.rc;
			goto done;
		}
		break;
	case ROUTE_METHOD:
		resp_header(&w, "Allow", rr.route->method);
		rc = APP_METHOD;
		goto done;
	case ROUTE_REDIRECT:
		redirect(r, &w);
		goto done;
	default:
		rc = APP_NOTFOUND;
		goto done;
	}
	if (rr.param != NULL && !req_str_set(&param, rr.param, rr.paramlen)) {
		rc = APP_NOMEM;
		goto done;
	}
	/* Longer than any stored id can be: it simply matches nothing. */
	if (param.len > r->max_id_len)
		param.bad = 1;
	db = route_db(a, rr.route);
	if ((rc = etag(r, &w, db, rr.route)) == APP_OK && w.status != 304)
		rc = rr.route->handler(r, &w, db, rr.param ? &param : NULL);
	if (db == a->rdb && rc != APP_OK) {
		if (rest_standby(a, r, &w, rc)) {
			resp_reset(&w);
			db = a->db;
			if ((rc = etag(r, &w, db, rr.route)) == APP_OK &&
			    w.status != 304)
				rc = rr.route->handler(r, &w, db,
				    rr.param ? &param : NULL);
		} else if (rc == APP_CONFLICT)
			rc = APP_DBDOWN;	/* a recovery conflict, lasting */
	}
	if (rc == APP_DBDOWN || rc == APP_SYSTEM || rc == APP_CONFLICT)
		note = db_last_error(db);
done:
	if (rc != APP_OK && w.streaming) {
		/*
		 * The status and part of the body are out: the rest is not
		 * sent and the connection is aborted, so that the client
		 * sees a broken response, not a short one that looks whole.
		 */
		int	 gone = w.write_failed;

		snprintf(fnote, sizeof(fnote), "failed after %d and %zu body "
		    "bytes were sent: response aborted; %.240s", w.status, w.sent,
		    gone ? "client gone" : note ? note : "");
		resp_abort(&w);
		if (a->cfg.log_requests || !gone)
			log_request(r, gone ? w.status : resp_err_status(rc),
			    now_ms() - t0, fnote);
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

int
main(int argc, char *argv[])
{
	struct app		 a;
	struct gw		*g;
	struct req		 r;
	struct sigaction	 sa;
	sigset_t		 stopset;
	struct db_opts		 o;
	const char		*cpath = NULL, *found;
	char			 why[256];
	unsigned long		 nreq = 0;
	int			 broken = 0;
	int			 ch, test = 0, rc;

	while ((ch = getopt(argc, argv, "c:tV")) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("taskgate %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	memset(&a, 0, sizeof(a));
	cfg_defaults(&a.cfg);
	if ((found = cfg_find(cpath, argv[0])) != NULL &&
	    !cfg_load(&a.cfg, found, a.cfgerr, sizeof(a.cfgerr)))
		a.cfgbad = 1;
	if (!a.cfgbad && !auth_init(&a.auth, &a.cfg, why, sizeof(why))) {
		snprintf(a.cfgerr, sizeof(a.cfgerr), "%s: %s",
		    found ? found : "(defaults)", why);
		a.cfgbad = 1;
	}
	if (test) {
		if (a.cfgbad)
			fprintf(stderr, "taskgate: %s\n", a.cfgerr);
		else
			printf("taskgate: configuration %s ok\n",
			    found ? found : "(defaults)");
		auth_free(&a.auth);
		cfg_free(&a.cfg);
		return a.cfgbad ? 1 : 0;
	}
	if (a.cfgbad)
		fprintf(stderr, "taskgate[%ld]: error config: %s\n",
		    (long)getpid(), a.cfgerr);
	else if (a.cfg.metrics) {
		route_show(ROUTE_METRICS);
		if (!metrics_init(a.cfg.metrics_dir, why, sizeof(why)))
			fprintf(stderr, "taskgate[%ld]: error metrics: %s\n",
			    (long)getpid(), why);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGUSR1);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if ((g = gw_open()) == NULL) {
		fprintf(stderr, "taskgate: cannot initialize FastCGI\n");
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.conninfo = a.cfg.database;
	o.schema = a.cfg.schema;
	o.statement_timeout_ms = (int)a.cfg.statement_timeout;
	o.long_timeout_ms = (int)a.cfg.move_statement_timeout;
	o.connect_timeout_s = (int)a.cfg.connect_timeout;
	o.prepare = (int)a.cfg.prepare;
	if ((a.db = db_new(&o)) == NULL) {
		fprintf(stderr, "taskgate: out of memory\n");
		return 1;
	}
	if (a.cfg.read_database[0] != '\0') {
		o.conninfo = a.cfg.read_database;
		if ((a.rdb = db_new(&o)) == NULL) {
			fprintf(stderr, "taskgate: out of memory\n");
			return 1;
		}
	}
	while (!stopping) {
		if ((rc = gw_accept(g)) <= 0) {
			if (rc < 0 && !stopping && errno == EINTR)
				continue;
			break;
		}
		/*
		 * The stop signals wait while a request is served, and are
		 * delivered at the unblock below (the loop then ends before
		 * the next accept).  libfcgi does not retry a write that a
		 * signal interrupts (EINTR): a SIGTERM from mod_fcgid's
		 * recycling, systemd's stop or a supervisor of spawn-fcgi
		 * while a long list streams to a slow client would otherwise
		 * truncate the response (t/250-sigterm.t).
		 */
		sigprocmask(SIG_BLOCK, &stopset, NULL);
		if (req_init(&r, gw_getenv, g, gw_read, g,
		    a.cfg.base_path) != APP_OK) {
			/* Out of memory: answer 500 without the request. */
			struct resp	 w;

			resp_init(&w, gw_write, g, (size_t)a.cfg.stream_threshold);
			resp_error(&w, APP_NOMEM);
			resp_finish(&w);
			resp_free(&w);
		} else {
			r.id = ++nreq;
			r.max_body = (size_t)a.cfg.max_body_size;
			r.max_ids = (size_t)a.cfg.max_ids;
			r.max_id_len = (size_t)a.cfg.max_id_length;
			gw_set_timeout(g, (int)a.cfg.body_timeout);
			broken = serve(&a, g, &r);
		}
		req_free(&r);
		if (broken)
			gw_abort(g);
		else
			gw_finish(g);
		broken = 0;
		sigprocmask(SIG_UNBLOCK, &stopset, NULL);
	}
	gw_close(g);
	metrics_close();
	db_free(a.rdb);
	db_free(a.db);
	auth_free(&a.auth);
	cfg_free(&a.cfg);
	return 0;
}
