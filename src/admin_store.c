/*
 * admin_store.c: reads a uniqc task store (admin_store.h) with SQLite,
 * opened read-only with a busy timeout, all reads of one pass inside
 * one read transaction: in WAL mode that is one consistent snapshot
 * while uniqc processes keep writing.  Column lists are built from
 * PRAGMA table_info, so stores of schema versions 1-5 all read: a
 * missing column reads as NULL, a missing table as empty.  The SQL is
 * assembled only from the fixed names below, never from the file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "admin_store.h"
#include "buf.h"

#define UNIQC_APPID	0x554E4943u

static const char *const tcols[STC__MAX] = {
	"task_id", "backend", "status", "shots", "submit_time",
	"update_time", "result_json", "metadata_json", "error_message",
	"archived_at"
};
static const char *const scols[SSC__MAX] = {
	"uniqc_task_id", "shard_index", "platform_task_id", "backend",
	"circuit_count", "sub_index_offset", "status", "result_json",
	"error_message", "submit_time", "update_time", "archived_at"
};
static const char *const ttab[2] = { "tasks", "archived_tasks" };
static const char *const stab[2] = { "task_shards", "archived_task_shards" };

struct store {
	sqlite3		*db;
	int		 version;
	unsigned int	 appid;
	int		 has_t[2], has_s[2];
	sqlite3_stmt	*scan[2], *scanl[2], *task[2], *shards[2], *orph[2];
	sqlite3_stmt	*sscan[2];
	sqlite3_stmt	*cur;		/* the scan or orphan list running */
	sqlite3_stmt	*scur;		/* the shard list running */
	int		 intx;
	char		 err[256];
};

static void
set_err(struct store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
}

const char *
store_error(const struct store *s)
{
	return s->err;
}

int
store_version(const struct store *s)
{
	return s->version;
}

unsigned int
store_appid(const struct store *s)
{
	return s->appid;
}

int
store_has_archive(const struct store *s)
{
	return s->has_t[1];
}

/* One integer from a PRAGMA or query; -1 on error. */
static int64_t
one_int(struct store *s, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Appends "t.col" or "NULL" per name, for the columns table tab has.
 * Returns 1 if the table exists.
 */
static int
collist(struct store *s, struct buf *b, const char *tab,
    const char *const *names, size_t n)
{
	sqlite3_stmt	*st;
	char		 sql[128];
	unsigned char	 have[SSC__MAX + 1];
	size_t		 i;
	int		 any = 0;

	memset(have, 0, sizeof(have));
	snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", tab);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 1);

		any = 1;
		for (i = 0; c != NULL && i < n; i++)
			if (strcmp(c, names[i]) == 0)
				have[i] = 1;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++)
		buf_printf(b, "%s%s%s", i ? ", " : "",
		    have[i] ? "t." : "NULL", have[i] ? names[i] : "");
	return any;
}

static int
prep(struct store *s, struct buf *b, sqlite3_stmt **st)
{
	if (b->oom) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return 0;
	}
	if (sqlite3_prepare_v2(s->db, b->p, -1, st, NULL) != SQLITE_OK) {
		set_err(s, "prepare");
		return 0;
	}
	buf_reset(b);
	return 1;
}

/* Builds the four statements of table arch.  Returns 0 on error. */
static int
build(struct store *s, int a)
{
	struct buf	 cl, sl, q;
	int		 ok = 0;

	buf_init(&cl);
	buf_init(&sl);
	buf_init(&q);
	s->has_t[a] = collist(s, &cl, ttab[a], tcols, a ? STC__MAX :
	    STC__MAX - 1);
	if (!a)
		buf_adds(&cl, ", NULL");
	s->has_s[a] = collist(s, &sl, stab[a], scols, a ? SSC__MAX :
	    SSC__MAX - 1);
	if (!a)
		buf_adds(&sl, ", NULL");
	if (s->has_t[a]) {
		buf_printf(&q, "SELECT t.rowid, t.task_id, '%c|' || "
		    "ifnull(t.update_time, '') || '|' || %s || '|' || ",
		    a ? 'R' : 'A', a ? "ifnull(t.archived_at, '')" : "''");
		if (s->has_s[a])
			buf_printf(&q, "(SELECT count(*) || '|' || "
			    "ifnull(max(x.update_time), '') FROM %s x WHERE "
			    "x.uniqc_task_id = t.task_id)", stab[a]);
		else
			buf_adds(&q, "'0|'");
		if (a && s->has_t[0])
			buf_adds(&q, ", EXISTS (SELECT 1 FROM tasks y WHERE "
			    "y.task_id = t.task_id)");
		else
			buf_adds(&q, ", 0");
		buf_printf(&q, " FROM %s t ORDER BY t.rowid", ttab[a]);
		if (!prep(s, &q, &s->scan[a]))
			goto fail;
		/* The same without the shard part (the caller adds it). */
		buf_printf(&q, "SELECT t.rowid, t.task_id, '%c|' || "
		    "ifnull(t.update_time, '') || '|' || %s || '|', %s FROM %s t "
		    "ORDER BY t.rowid", a ? 'R' : 'A',
		    a ? "ifnull(t.archived_at, '')" : "''", a && s->has_t[0] ?
		    "EXISTS (SELECT 1 FROM tasks y WHERE y.task_id = t.task_id)" :
		    "0", ttab[a]);
		if (!prep(s, &q, &s->scanl[a]))
			goto fail;
		buf_printf(&q, "SELECT %s FROM %s t WHERE t.rowid = ?", cl.p,
		    ttab[a]);
		if (!prep(s, &q, &s->task[a]))
			goto fail;
	}
	if (s->has_s[a]) {
		buf_printf(&q, "SELECT %s FROM %s t WHERE t.uniqc_task_id = ? "
		    "ORDER BY t.shard_index", sl.p, stab[a]);
		if (!prep(s, &q, &s->shards[a]))
			goto fail;
		buf_printf(&q, "SELECT t.uniqc_task_id, t.shard_index FROM %s t",
		    stab[a]);
		if (s->has_t[a])
			buf_printf(&q, " WHERE NOT EXISTS (SELECT 1 FROM %s y "
			    "WHERE y.task_id = t.uniqc_task_id)", ttab[a]);
		if (s->has_t[a] && a && s->has_t[0])
			buf_adds(&q, " OR EXISTS (SELECT 1 FROM tasks z WHERE "
			    "z.task_id = t.uniqc_task_id)");
		buf_adds(&q, " ORDER BY t.rowid");
		if (!prep(s, &q, &s->orph[a]))
			goto fail;
		buf_printf(&q, "SELECT t.uniqc_task_id, ifnull(t.update_time, '') "
		    "FROM %s t", stab[a]);
		if (!prep(s, &q, &s->sscan[a]))
			goto fail;
	}
	ok = 1;
fail:
	buf_free(&cl);
	buf_free(&sl);
	buf_free(&q);
	return ok;
}

/*
 * Opens path read-only and checks that it is a uniqc store.  Returns
 * NULL with the reason in err.  The caller frees with store_close().
 */
struct store *
store_open(const char *path, int busy_ms, char *err, size_t errlen)
{
	struct store	*s;
	int64_t		 v;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ?
		    sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, busy_ms);
	if ((v = one_int(s, "PRAGMA application_id")) < 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	s->appid = (unsigned int)v;
	if (s->appid != UNIQC_APPID && s->appid != 0) {
		snprintf(err, errlen, "%s: not a uniqc store (application_id "
		    "0x%08X)", path, s->appid);
		goto fail;
	}
	s->version = (int)one_int(s, "PRAGMA user_version");
	if (!build(s, 0) || !build(s, 1)) {
		snprintf(err, errlen, "%s: %s", path, s->err);
		goto fail;
	}
	if (!s->has_t[0]) {
		snprintf(err, errlen, "%s: no tasks table: not a uniqc store",
		    path);
		goto fail;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	int	 a;

	if (s == NULL)
		return;
	store_end(s);
	for (a = 0; a < 2; a++) {
		sqlite3_finalize(s->scan[a]);
		sqlite3_finalize(s->scanl[a]);
		sqlite3_finalize(s->sscan[a]);
		sqlite3_finalize(s->task[a]);
		sqlite3_finalize(s->shards[a]);
		sqlite3_finalize(s->orph[a]);
	}
	sqlite3_close(s->db);
	free(s);
}

/* Starts the read transaction; the snapshot is taken by the first read
 * (store_count), and every later read of the pass sees it. */
int
store_begin(struct store *s, char *err, size_t errlen)
{
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "BEGIN: %s", sqlite3_errmsg(s->db));
		return 0;
	}
	s->intx = 1;
	return 1;
}

void
store_end(struct store *s)
{
	int	 a;

	for (a = 0; a < 2; a++) {
		if (s->scan[a]) sqlite3_reset(s->scan[a]);
		if (s->scanl[a]) sqlite3_reset(s->scanl[a]);
		if (s->sscan[a]) sqlite3_reset(s->sscan[a]);
		if (s->task[a]) sqlite3_reset(s->task[a]);
		if (s->shards[a]) sqlite3_reset(s->shards[a]);
		if (s->orph[a]) sqlite3_reset(s->orph[a]);
	}
	if (s->intx)
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	s->intx = 0;
}

int
store_count(struct store *s, int64_t *active, int64_t *arch)
{
	*active = one_int(s, "SELECT count(*) FROM tasks");
	*arch = s->has_t[1] ? one_int(s, "SELECT count(*) FROM archived_tasks")
	    : 0;
	if (*active < 0 || *arch < 0) {
		set_err(s, "count");
		return 0;
	}
	return 1;
}

static void
col(sqlite3_stmt *st, int i, struct sval *v)
{
	memset(v, 0, sizeof(*v));
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		v->null = 1;
		v->p = "";
		return;
	case SQLITE_INTEGER:
		v->isint = 1;
		v->i = sqlite3_column_int64(st, i);
		break;
	default:
		break;
	}
	v->p = (const char *)sqlite3_column_text(st, i);
	v->n = (size_t)sqlite3_column_bytes(st, i);
	if (v->p == NULL) {
		v->p = "";
		v->n = 0;
	}
}

/* Columns 0..n-1 of st's row into v[0..n). */
static void
cols(sqlite3_stmt *st, int n, struct sval *v)
{
	int	 i;

	for (i = 0; i < n; i++)
		col(st, i, &v[i]);
}

static int
step(struct store *s, sqlite3_stmt *st)
{
	int	 rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	set_err(s, "read");
	return -1;
}

/* Makes st (NULL: a table the store lacks, read as empty) the running
 * list, from its start.  Always 1. */
static int
cur_start(struct store *s, sqlite3_stmt *st)
{
	s->cur = st;
	if (st != NULL)
		sqlite3_reset(st);
	return 1;
}

/* The next row of the running list: 1, 0 at its end (or none), -1. */
static int
cur_step(struct store *s)
{
	return s->cur == NULL ? 0 : step(s, s->cur);
}

int
store_scan_start(struct store *s, int arch, int light)
{
	return cur_start(s, light ? s->scanl[arch] : s->scan[arch]);
}

int
store_scan_next(struct store *s, int64_t *rowid, struct sval *id,
    struct sval *fp, int *dup)
{
	int	 rc;

	if ((rc = cur_step(s)) != 1)
		return rc;
	*rowid = sqlite3_column_int64(s->cur, 0);
	col(s->cur, 1, id);
	col(s->cur, 2, fp);
	*dup = sqlite3_column_int(s->cur, 3);
	return 1;
}

int
store_task(struct store *s, int arch, int64_t rowid, struct sval *v)
{
	sqlite3_stmt	*st = s->task[arch];
	int		 rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, rowid);
	if ((rc = step(s, st)) != 1)
		return rc;
	cols(st, STC__MAX, v);
	return 1;
}

int
store_shards_start(struct store *s, int arch, const char *id, size_t idlen)
{
	sqlite3_stmt	*st = s->shards[arch];

	s->scur = st;
	if (st == NULL)
		return 1;
	sqlite3_reset(st);
	if (sqlite3_bind_text(st, 1, id, (int)idlen, SQLITE_TRANSIENT) !=
	    SQLITE_OK) {
		set_err(s, "bind");
		return 0;
	}
	return 1;
}

int
store_shards_next(struct store *s, struct sval *v)
{
	int	 rc;

	if (s->scur == NULL)
		return 0;
	if ((rc = step(s, s->scur)) != 1) {
		sqlite3_reset(s->scur);
		s->scur = NULL;
		return rc;
	}
	cols(s->scur, SSC__MAX, v);
	return 1;
}

int
store_orphans_start(struct store *s, int arch)
{
	return cur_start(s, s->orph[arch]);
}

int
store_orphans_next(struct store *s, struct sval *id, int64_t *idx)
{
	int	 rc;

	if ((rc = cur_step(s)) != 1)
		return rc;
	col(s->cur, 0, id);
	*idx = sqlite3_column_int64(s->cur, 1);
	return 1;
}

int
store_sscan_start(struct store *s, int arch)
{
	return cur_start(s, s->sscan[arch]);
}

int
store_sscan_next(struct store *s, struct sval *id, struct sval *upd)
{
	int	 rc;

	if ((rc = cur_step(s)) != 1)
		return rc;
	col(s->cur, 0, id);
	col(s->cur, 1, upd);
	return 1;
}
