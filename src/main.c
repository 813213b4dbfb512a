/*
 * main.c: start-up (options, configuration), FastCGI-or-CGI detection,
 * signals and the accept loop; each request is served by serve.c.
 *
 * A configuration error is fatal only for the command line (-t, or a
 * terminal); under a web server the process stays up and answers every
 * request with a JSON 500 naming the problem, instead of crash-looping
 * the server's process manager.
 */
#include "config.h"

#include <errno.h>
#ifdef HAVE_MALLOPT
#include <malloc.h>
#endif
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
#include "metrics.h"
#include "req.h"
#include "resp.h"
#include "route.h"
#include "serve.h"
#include "count_cache.h"

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

/*
 * The stop signals (SIGTERM, SIGINT, SIGUSR1) end the accept loop;
 * *stopset gets them, for the loop to hold while a request is served.
 * SIGPIPE is ignored: a write to a gone client fails instead.
 */
static void
signals_init(sigset_t *stopset)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(stopset);
	sigaddset(stopset, SIGTERM);
	sigaddset(stopset, SIGINT);
	sigaddset(stopset, SIGUSR1);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * glibc serves a block above its mmap threshold with mmap and gives the
 * top of the heap back to the system once twice that is free; the
 * threshold starts at 128 KiB and moves up (to 32 MiB at most) as such
 * blocks are freed.  A process answering one large body after another
 * (a lookup of 1 000 ids builds 457 KB of JSON from a 500 KB result)
 * kept growing and giving back its heap: 6 brk(2) calls a lookup in one
 * strace, 14 % of its time in page faults under load (perf; see
 * bench/API-REPORT.md).  Blocks
 * below HEAP_MMAP now come from the heap, and up to HEAP_KEEP of free
 * heap is kept for the next request; larger blocks, and free heap past
 * that, go back to the system as before.
 */
#define HEAP_MMAP	(4 * 1024 * 1024)
#define HEAP_KEEP	(8 * 1024 * 1024)

static void
heap_init(void)
{
#ifdef HAVE_MALLOPT
	(void)mallopt(M_MMAP_THRESHOLD, HEAP_MMAP);
	(void)mallopt(M_TRIM_THRESHOLD, HEAP_KEEP);
#endif
}

/*
 * The connections (not yet connected: db.c connects on first use): the
 * primary, and the standby when read_database is set.  Returns APP_OK
 * or APP_NOMEM.
 */
static enum app_err
dbs_init(struct serve_app *a)
{
	struct db_opts	 o;

	memset(&o, 0, sizeof(o));
	o.conninfo = a->cfg.database;
	o.schema = a->cfg.schema;
	o.statement_timeout_ms = (int)a->cfg.statement_timeout;
	o.long_timeout_ms = (int)a->cfg.move_statement_timeout;
	o.connect_timeout_s = (int)a->cfg.connect_timeout;
	o.prepare = (int)a->cfg.prepare;
	if ((a->db = db_new(&o)) == NULL)
		return APP_NOMEM;
	if (a->cfg.read_database[0] != '\0') {
		o.conninfo = a->cfg.read_database;
		if ((a->rdb = db_new(&o)) == NULL)
			return APP_NOMEM;
	}
	return APP_OK;
}

/*
 * Reads the accepted request into a struct req with the configured
 * limits and serves it.  Returns 1 when the connection must be aborted
 * (see serve_request()), else 0.
 */
static int
one_request(struct serve_app *a, struct gw *g, unsigned long id)
{
	struct req	 r;
	int		 broken = 0;

	if (req_init(&r, gw_getenv, g, gw_read, g,
	    a->cfg.base_path) != APP_OK) {
		/* Out of memory: answer 500 without the request. */
		struct resp	 w;

		resp_init(&w, gw_write, g, (size_t)a->cfg.stream_threshold);
		resp_error(&w, APP_NOMEM);
		resp_finish(&w);
		resp_free(&w);
	} else {
		r.id = id;
		r.max_body = (size_t)a->cfg.max_body_size;
		r.max_ids = (size_t)a->cfg.max_ids;
		r.max_id_len = (size_t)a->cfg.max_id_length;
		gw_set_timeout(g, (int)a->cfg.body_timeout);
		broken = serve_request(a, g, &r);
	}
	req_free(&r);
	return broken;
}

/*
 * The configuration: defaults, then the file cfg_find() names (-c,
 * TASKGATE_CONFIG, beside the binary, or sysconfdir), then the access
 * rules it gives.  An error sets a->cfgbad and a->cfgerr.  Returns the file's
 * path, or NULL when there is none (defaults).
 */
static const char *
config_init(struct serve_app *a, const char *cpath, const char *argv0)
{
	const char	*found;
	char		 why[256];

	cfg_defaults(&a->cfg);
	if ((found = cfg_find(cpath, argv0)) != NULL &&
	    !cfg_load(&a->cfg, found, a->cfgerr, sizeof(a->cfgerr)))
		a->cfgbad = 1;
	if (!a->cfgbad && !auth_init(&a->auth, &a->cfg, why, sizeof(why))) {
		snprintf(a->cfgerr, sizeof(a->cfgerr), "%s: %s",
		    found ? found : "(defaults)", why);
		a->cfgbad = 1;
	}
	if (!a->cfgbad)
		cc_setup((size_t)a->cfg.count_cache);
	return found;
}

/*
 * Accepts and serves requests until a stop signal (or, in CGI mode,
 * after the one request).
 */
static void
accept_loop(struct serve_app *a, struct gw *g, const sigset_t *stopset)
{
	unsigned long	 nreq = 0;
	int		 rc;

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
		sigprocmask(SIG_BLOCK, stopset, NULL);
		if (one_request(a, g, ++nreq))
			gw_abort(g);
		else
			gw_finish(g);
		sigprocmask(SIG_UNBLOCK, stopset, NULL);
	}
}

int
main(int argc, char *argv[])
{
	struct serve_app	 a;
	struct gw		*g;
	sigset_t		 stopset;
	const char		*cpath = NULL, *found;
	char			 why[256];
	int			 ch, test = 0;

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
	found = config_init(&a, cpath, argv[0]);
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

	signals_init(&stopset);
	heap_init();

	if ((g = gw_open()) == NULL) {
		fprintf(stderr, "taskgate: cannot initialize FastCGI\n");
		return 1;
	}
	if (dbs_init(&a) != APP_OK) {
		fprintf(stderr, "taskgate: out of memory\n");
		return 1;
	}
	accept_loop(&a, g, &stopset);
	gw_close(g);
	metrics_close();
	db_free(a.rdb);
	db_free(a.db);
	auth_free(&a.auth);
	cfg_free(&a.cfg);
	return 0;
}
