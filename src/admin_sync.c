/*
 * admin_sync.c: "import FILE" and "sync FILE": the passes over a uniqc
 * store.  Each pass reads the store inside one read transaction (one
 * snapshot), active tasks then archived ones, each in rowid order, and
 * stages every task to apply (admin_import.c).  import applies every
 * row; sync skips rows whose fingerprint (location, update_time,
 * archived_at, shard count and latest shard update) is the one the
 * database recorded in task_origin, so an unchanged store costs one
 * light scan.  --mirror deletes the tasks this store once sent and no
 * longer has; --follow repeats until SIGTERM or SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "admin_fp.h"
#include "admin_import.h"
#include "admin_store.h"
#include "db.h"

struct run {
	const char	*file;
	char		 digest[24];	/* the database's, of the last pass */
	char		 sig[160];	/* file_sig of the last pass */
	int64_t		 ntasks;	/* store_tasks of the last pass */
	char		 name[PATH_MAX + 300];
	char		 abspath[PATH_MAX];
	int		 sync, follow, mirror;
	double		 interval, progress;
	int64_t		 total, done;
	double		 t0, last;
	int		 tty;
	int		 loaded;	/* task_origin read into known */
};

static const char *const src_sql =
	"INSERT INTO taskgate_import_sources (name, path, host) "
	"VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET "
	"path = excluded.path, host = excluded.host RETURNING id, "
	"coalesce(digest, ''), coalesce(file_sig, ''), coalesce(store_tasks, 0)";
static const char *const src_done_sql =
	"UPDATE taskgate_import_sources SET last_sync = now(), "
	"store_version = $2::int, store_tasks = $3::bigint, digest = $4, "
	"file_sig = $5 "
	"WHERE id = $1::int";
static const char *const known_sql =
	"SELECT task_id, fp FROM task_origin WHERE source_id = $1::int";
/* Tasks this store sent that it no longer has: gone with their shards. */
static const char *const mirror_sql =
	"WITH o AS (DELETE FROM task_origin x WHERE x.source_id = $1::int "
	"AND x.task_id = ANY ($2::text[]) RETURNING x.task_id), "
	"lt AS MATERIALIZED (SELECT task_id FROM tasks WHERE task_id IN "
	"(SELECT task_id FROM o) ORDER BY task_id FOR UPDATE), "
	"dt AS (DELETE FROM tasks t USING lt WHERE t.task_id = lt.task_id "
	"RETURNING 1), "
	"da AS (DELETE FROM archived_tasks a USING o WHERE a.task_id = "
	"o.task_id RETURNING 1), "
	"ds AS (DELETE FROM archived_task_shards s USING o WHERE "
	"s.uniqc_task_id = o.task_id) "
	"SELECT (SELECT count(*) FROM dt) + (SELECT count(*) FROM da)";

static void
progress(struct run *r, const struct imp *m, int final)
{
	double	 now = adm_now(), rate, el;
	int	 i, w = 30, fill;

	if (m->a->quiet || (!final && now - r->last < (r->tty ? 0.2 :
	    r->progress)) || (final && !r->tty))
		return;
	r->last = now;
	el = now - r->t0;
	rate = el > 0 ? r->done / el : 0;
	if (r->tty) {
		fill = r->total > 0 ? (int)(w * r->done / r->total) : w;
		fprintf(stderr, "\r[");
		for (i = 0; i < w; i++)
			fputc(i < fill ? '=' : (i == fill ? '>' : ' '), stderr);
		fprintf(stderr, "] %lld/%lld tasks %.0f/s ETA %.0fs ",
		    (long long)r->done, (long long)r->total, rate,
		    rate > 0 ? (r->total - r->done) / rate : 0.0);
		if (final)
			fputc('\n', stderr);
	} else
		fprintf(stderr, "taskgate-admin: progress %lld/%lld tasks, "
		    "%.0f tasks/s, %.0f s left\n", (long long)r->done,
		    (long long)r->total, rate, rate > 0 ?
		    (r->total - r->done) / rate : 0.0);
}

/* Loads task_origin of this source into m->known. */
static int
load_known(struct imp *m)
{
	PGresult	*r;
	const char	*pv[1] = { m->source };
	int		 i, n;

	known_free(&m->known);
	if ((r = (PGresult *)adm_exec(m->a, known_sql, 1, pv, 1)) == NULL)
		return 0;
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		if (!known_put(&m->known, PQgetvalue(r, i, 0),
		    (size_t)PQgetlength(r, i, 0), PQgetvalue(r, i, 1))) {
			PQclear(r);
			adm_log(m->a, 0, "out of memory");
			return 0;
		}
	PQclear(r);
	return 1;
}

static int
mirror_send(struct imp *m, struct buf *arr, const char **ids,
    size_t *lens, size_t n)
{
	PGresult	*r;
	const char	*pv[2];

	buf_reset(arr);
	db_array(arr, ids, lens, n);
	if (arr->oom)
		return 0;
	pv[0] = m->source;
	pv[1] = arr->p;
	if ((r = (PGresult *)adm_exec(m->a, mirror_sql, 2, pv, 1)) == NULL)
		return 0;
	m->deleted += strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 1;
}

/* --mirror: what this store sent before and no longer holds. */
static int
mirror(struct imp *m)
{
	struct known	*k = &m->known;
	const char	*ids[500];
	size_t		 lens[500], i, n = 0;
	struct buf	 arr;
	int		 ok = 1;

	buf_init(&arr);
	for (i = 0; i < k->cap && ok; i++) {
		if (k->t[i].id == NULL || k->t[i].fp == NULL || k->t[i].seen)
			continue;
		ids[n] = k->t[i].id;
		lens[n++] = k->t[i].idlen;
		if (n == NELEM(ids)) {
			ok = mirror_send(m, &arr, ids, lens, n);
			n = 0;
		}
	}
	if (ok && n > 0)
		ok = mirror_send(m, &arr, ids, lens, n);
	for (i = 0; i < k->cap && ok; i++)
		if (k->t[i].id != NULL && k->t[i].fp != NULL && !k->t[i].seen) {
			free(k->t[i].fp);
			k->t[i].fp = NULL;
		}
	buf_free(&arr);
	return ok;
}

static int
orphans(struct imp *m)
{
	static const char *const tab[2] = { "task_shards",
	    "archived_task_shards" };
	struct sval	 id;
	int64_t		 idx;
	int		 a, rc = 0;

	for (a = 0; a < 2; a++) {
		if (!store_orphans_start(m->st, a))
			return 0;
		while ((rc = store_orphans_next(m->st, &id, &idx)) == 1)
			adm_report(m->a, tab[a], id.p, id.n, idx, -1, a ?
			    "orphan shard: its task is not in archived_tasks "
			    "(or its id is active too): not imported" :
			    "orphan shard: its task is not in tasks: not "
			    "imported");
		if (rc < 0)
			break;
	}
	return rc == 0;
}

/*
 * The scan of one pass: active tasks then archived ones, in rowid
 * order; each row whose fingerprint is not the known one is staged.
 * Returns 1; 0 on a store error (the caller logs it); -1 when the run
 * must stop (logged already, or interrupted).
 */
static int
scan_tables(struct run *r, struct imp *m, struct known *agg,
    struct buf *fpb, int first)
{
	struct sval		 id, fp;
	struct known_ent	*e;
	int64_t			 rowid, st0;
	int			 arch, dup, rc;

	for (arch = 0; arch < 2; arch++) {
		if (m->use_known && !fp_shard_agg(m, arch, agg))
			return 0;
		if (!store_scan_start(m->st, arch, m->use_known))
			return 0;
		while ((rc = store_scan_next(m->st, &rowid, &id, &fp,
		    &dup)) == 1) {
			if (m->use_known && !fp_full(agg, &id, &fp, fpb))
				return -1;
			r->done++;
			m->scanned++;
			progress(r, m, 0);
			if (dup) {
				if (!first)
					continue;
				adm_report(m->a, "archived_tasks", id.p, id.n,
				    -1, rowid, "skipped: the id is also in "
				    "tasks, whose copy is kept");
				m->skipped++;
				continue;
			}
			e = known_get(&m->known, id.p, id.n);
			if (e != NULL)
				e->seen = 1;
			if (m->use_known && e != NULL && e->fp != NULL &&
			    strlen(e->fp) == fp.n &&
			    memcmp(e->fp, fp.p, fp.n) == 0) {
				m->unchanged++;
				continue;
			}
			st0 = m->staged;
			if (!imp_stage(m, arch, rowid, fp.p, fp.n))
				return -1;
			/* Skipped: not reported again until it changes. */
			if (m->use_known && m->staged == st0 &&
			    !known_put(&m->known, id.p, id.n, fp.p))
				return -1;
			if (adm_stopping && !imp_flush(m))
				return -1;
			if (adm_stopping)
				return -1;
		}
		if (rc < 0)
			return 0;
		adm_log(m->a, 2, "%s scanned at %.3f s", arch ? "archived_tasks" :
		    "tasks", adm_now() - r->t0);
	}
	return 1;
}

/* The pass done: recorded in taskgate_import_sources and in r.  1, or 0. */
static int
record_pass(struct run *r, struct imp *m, int64_t ntasks, const char *dg,
    const char *sig)
{
	PGresult	*res;
	const char	*pv[5];
	char		 v[16], n[24];

	snprintf(v, sizeof(v), "%d", store_version(m->st));
	snprintf(n, sizeof(n), "%lld", (long long)ntasks);
	pv[0] = m->source;
	pv[1] = v;
	pv[2] = n;
	pv[3] = dg;
	pv[4] = sig;
	if ((res = (PGresult *)adm_exec(m->a, src_done_sql, 5, pv, 0)) == NULL)
		return 0;
	PQclear(res);
	snprintf(r->digest, sizeof(r->digest), "%s", dg);
	snprintf(r->sig, sizeof(r->sig), "%s", sig);
	r->ntasks = ntasks;
	return 1;
}

/*
 * One pass over the store: nothing read when the files' signature or
 * the digest is the last pass's, else the scan, the last flush, the
 * orphans (first pass), --mirror.  Returns 0 when the run must stop.
 */
static int
pass(struct run *r, struct imp *m, int first)
{
	int64_t			 na, nr;
	struct known		 agg;
	struct buf		 fpb;
	char			 dg[24], err[300], sig[160];
	size_t			 i;
	int			 ok = 0, settled, rc;

	memset(&agg, 0, sizeof(agg));
	buf_init(&fpb);
	/* Files untouched since the last pass: nothing to read. */
	fp_file_sig(r->abspath, sig, sizeof(sig), &settled);
	if (m->use_known && !r->mirror && settled && r->sig[0] != '\0' &&
	    strcmp(sig, r->sig) == 0) {
		m->unchanged += r->ntasks;
		m->scanned += r->ntasks;
		adm_log(m->a, 2, "the store's files are as at the last pass");
		return 1;
	}
	if (!settled)
		sig[0] = '\0';
	if (!store_begin(m->st, err, sizeof(err))) {
		adm_log(m->a, 0, "%s: %s", r->file, err);
		return 0;
	}
	if (!store_count(m->st, &na, &nr))
		goto fail;
	r->total = na + nr;
	r->done = 0;
	r->t0 = adm_now();
	r->last = r->t0;
	if (!fp_digest(m, &agg, &fpb, dg, sizeof(dg)))
		goto fail;
	if (m->use_known && !r->mirror && strcmp(dg, r->digest) == 0) {
		m->scanned += na + nr;
		m->unchanged += na + nr;
		adm_log(m->a, 2, "the store's digest is the last pass's");
		goto record;
	}
	if (m->use_known && !r->loaded) {
		if (!load_known(m))
			goto out;
		r->loaded = 1;
	}
	for (i = 0; i < m->known.cap; i++)
		m->known.t[i].seen = 0;
	if ((rc = scan_tables(r, m, &agg, &fpb, first)) <= 0) {
		if (rc == 0)
			goto fail;
		goto out;
	}
	if (!imp_flush(m))
		goto out;
	if (first && !orphans(m))
		goto fail;
	adm_log(m->a, 2, "orphans listed at %.3f s", adm_now() - r->t0);
	if (r->mirror && !mirror(m))
		goto out;
	progress(r, m, 1);
record:
	ok = record_pass(r, m, na + nr, dg, sig);
	goto out;
fail:
	adm_log(m->a, 0, "%s: %s", r->file, store_error(m->st));
out:
	store_end(m->st);
	known_free(&agg);
	buf_free(&fpb);
	return ok;
}

static int
source_id(struct run *r, struct imp *m)
{
	PGresult	*res;
	const char	*pv[3];
	char		 host[256];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (realpath(r->file, r->abspath) == NULL)
		snprintf(r->abspath, sizeof(r->abspath), "%s", r->file);
	if (r->name[0] == '\0')
		snprintf(r->name, sizeof(r->name), "%s:%s", host, r->abspath);
	pv[0] = r->name;
	pv[1] = r->abspath;
	pv[2] = host;
	if ((res = (PGresult *)adm_exec(m->a, src_sql, 3, pv, 1)) == NULL) {
		adm_log(m->a, 0, "is sql/005_sources.sql applied? "
		    "(taskgate-admin migrate)");
		return 0;
	}
	snprintf(m->source, sizeof(m->source), "%s", PQgetvalue(res, 0, 0));
	snprintf(r->digest, sizeof(r->digest), "%s", PQgetvalue(res, 0, 1));
	snprintf(r->sig, sizeof(r->sig), "%s", PQgetvalue(res, 0, 2));
	r->ntasks = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	return 1;
}

static int
num(const char *s, double min, double max, double *out)
{
	char	*ep;

	errno = 0;
	*out = strtod(s, &ep);
	return errno == 0 && ep != s && *ep == '\0' && *out >= min &&
	    *out <= max;
}

static void
sleep_for(double s)
{
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	double		 until = adm_now() + s;

	while (!adm_stopping && adm_now() < until)
		nanosleep(&ts, NULL);
}

/*
 * The options of import / sync into r and m.  Returns -1 to go on, or
 * the exit status (a bad argument, a --report file that cannot be
 * written).
 */
static int
options(struct adm *a, struct run *r, struct imp *m, int argc, char **argv,
    int sync)
{
	const char	*what = sync ? "sync" : "import";
	double		 d;
	int		 i;

	for (i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (sync && strcmp(o, "--follow") == 0)
			r->follow = 1;
		else if (sync && strcmp(o, "--mirror") == 0)
			r->mirror = 1;
		else if (sync && strcmp(o, "--interval") == 0 && v &&
		    num(v, 0.01, 86400, &r->interval))
			i++;
		else if (strcmp(o, "--progress") == 0 && v &&
		    num(v, 0.1, 86400, &r->progress))
			i++;
		else if (strcmp(o, "--batch") == 0 && v &&
		    num(v, 1, 1000000, &d)) {
			m->batch_tasks = (size_t)d;
			i++;
		} else if (strcmp(o, "--source") == 0 && v && *v) {
			snprintf(r->name, sizeof(r->name), "%s", v);
			i++;
		} else if (strcmp(o, "--report") == 0 && v) {
			if (a->report == NULL &&
			    (a->report = fopen(v, "w")) == NULL) {
				adm_log(a, 0, "%s: %s", v, strerror(errno));
				return ADM_EXIT_FAIL;
			}
			i++;
		} else if (o[0] != '-' && r->file == NULL)
			r->file = o;
		else {
			adm_log(a, 0, "%s: bad argument \"%s\" (see --help)",
			    what, o);
			return ADM_EXIT_FAIL;
		}
	}
	if (r->file == NULL) {
		adm_log(a, 0, "%s: which store? (%s FILE)", what, what);
		return ADM_EXIT_FAIL;
	}
	return -1;
}

/*
 * The passes: one, or with --follow one every interval until a stop
 * signal (a failed pass is tried again after a reconnect).  Returns
 * whether the run ended well; *passes counts the passes done.
 */
static int
passes_run(struct adm *a, struct run *r, struct imp *m, int *passes)
{
	int	 first = 1;

	for (;;) {
		if (!pass(r, m, first)) {
			/* --follow outlives a database or store outage. */
			if (!r->follow || adm_stopping)
				return r->follow && adm_stopping;
			adm_log(a, 0, "%s: pass failed, trying again in %g s",
			    r->file, r->interval);
			imp_reset(m);
			sleep_for(r->interval);
			if (adm_stopping)
				return 1;
			if (adm_reconnect(a) && !imp_setup(m))
				adm_log(a, 0, "staging tables: not yet");
			continue;
		}
		(*passes)++;
		first = 0;
		if (!r->follow || adm_stopping)
			return !adm_stopping || r->follow;
		sleep_for(r->interval);
		if (adm_stopping)
			return 1;
	}
}

/*
 * import FILE / sync FILE [--follow [--interval S]] [--mirror]; common
 * options --report FILE, --source NAME, --batch N, --progress S.
 * Returns the exit status.
 */
int
adm_import(struct adm *a, int argc, char **argv, int sync)
{
	struct run	 r;
	struct imp	 m;
	double		 t0 = adm_now();
	int		 ok = 0, passes = 0, rc;
	const char	*what = sync ? "sync" : "import";
	char		 err[PATH_MAX + 200];

	memset(&r, 0, sizeof(r));
	memset(&m, 0, sizeof(m));
	r.interval = 2;
	r.progress = 5;
	m.batch_tasks = 2000;
	m.batch_bytes = 32u << 20;
	if ((rc = options(a, &r, &m, argc, argv, sync)) >= 0)
		return rc;
	r.tty = isatty(2);
	m.a = a;
	m.use_known = sync;
	buf_init(&m.ct);
	buf_init(&m.cs);
	buf_init(&m.tmp);
	if ((m.st = store_open(r.file, 5000, err, sizeof(err))) == NULL) {
		adm_log(a, 0, "%s", err);
		return ADM_EXIT_FAIL;
	}
	if (adm_connect(a) && source_id(&r, &m) && imp_setup(&m)) {
		ok = passes_run(a, &r, &m, &passes);
		if (adm_stopping && !r.follow)
			adm_log(a, 0, "interrupted: whole batches are in, the "
			    "rest is not");
	}
	if (!a->quiet || !ok)
		fprintf(stderr, "taskgate-admin: %s %s: %s, %lld tasks read, "
		    "%lld new, %lld updated, %lld moved, %lld unchanged, "
		    "%lld shards sent, %lld deleted, %ld reported, %d pass%s, "
		    "%.1f s\n", what, r.file, ok ? "ok" : "FAILED",
		    (long long)m.scanned, (long long)(m.inserted - m.moved),
		    (long long)m.updated, (long long)m.moved,
		    (long long)m.unchanged, (long long)m.shards,
		    (long long)m.deleted, a->reported, passes,
		    passes == 1 ? "" : "es", adm_now() - t0);
	imp_free(&m);
	store_close(m.st);
	if (!ok)
		return ADM_EXIT_FAIL;
	return a->reported > 0 ? ADM_EXIT_ROWS : ADM_EXIT_OK;
}
