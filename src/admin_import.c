/*
 * admin_import.c: applies a batch of COPY lines (admin_stage.c) to the
 * SPEC §1 tables in one transaction: a task and its shards always commit
 * together, so an interrupted import leaves whole tasks only.
 *
 * A batch is COPYed into two temporary staging tables, then applied
 * with set-based statements (apply[] below): lock the rows it touches
 * in task_id order (as src/sql.c's moves do), drop the tasks another
 * source (or another writer) owns, move tasks whose location changed
 * in the store (the delete cascades their shards, the insert gets a
 * fresh seq), upsert where the store's update_time is newer, in rowid
 * order so that seq follows uniqc's order, then record the origin.
 * The counters of sql/002_counters.sql follow through their triggers.
 *
 * A batch that fails for a row-level reason is applied again one task
 * per transaction, so the bad task is reported with PostgreSQL's reason
 * and the others go in; deadlocks and serialization failures retry.
 *
 * The batch itself (tasks and their COPY lines) is built by
 * admin_stage.c; a batch of new tasks only goes in by admin_direct.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "admin_import.h"

static const char *const setup_sql =
	/* Local buffers for the staged batch, before the first temp use. */
	"SET temp_buffers = '256MB'; "
	"CREATE TEMP TABLE IF NOT EXISTS tg_st (ord bigint, arch boolean, "
	"task_id text, backend text, status text, shots bigint, "
	"submit_time timestamptz, update_time timestamptz, result text, "
	"metadata text, error_message text, archived_at timestamptz, "
	"fp text) ON COMMIT DELETE ROWS; "
	"CREATE TEMP TABLE IF NOT EXISTS tg_ss (arch boolean, "
	"uniqc_task_id text, shard_index integer, platform_task_id text, "
	"backend text, circuit_count integer, sub_index_offset integer, "
	"status text, result text, error_message text, "
	"submit_time timestamptz, update_time timestamptz, "
	"archived_at timestamptz) ON COMMIT DELETE ROWS; "
	/* Staged values are read once: no compression. */
	"ALTER TABLE tg_st ALTER result SET STORAGE EXTERNAL, "
	"ALTER metadata SET STORAGE EXTERNAL; "
	"ALTER TABLE tg_ss ALTER result SET STORAGE EXTERNAL";

#define TC "task_id, backend, status, shots, submit_time, update_time, " \
	"result, metadata, error_message"
#define SC "uniqc_task_id, shard_index, platform_task_id, backend, " \
	"circuit_count, sub_index_offset, status, result, error_message, " \
	"submit_time, update_time"
/* Staged as text, parsed once, by these casts. */
#define TCX "task_id, backend, status, shots, submit_time, update_time, " \
	"result::json, metadata::jsonb, error_message"
#define SCX "uniqc_task_id, shard_index, platform_task_id, backend, " \
	"circuit_count, sub_index_offset, status, result::json, " \
	"error_message, submit_time, update_time"
#define TSET "backend = excluded.backend, status = excluded.status, " \
	"shots = excluded.shots, submit_time = excluded.submit_time, " \
	"update_time = excluded.update_time, result = excluded.result, " \
	"metadata = excluded.metadata, error_message = excluded.error_message"
#define SSET "platform_task_id = excluded.platform_task_id, " \
	"backend = excluded.backend, circuit_count = excluded.circuit_count, " \
	"sub_index_offset = excluded.sub_index_offset, " \
	"status = excluded.status, result = excluded.result, " \
	"error_message = excluded.error_message, " \
	"submit_time = excluded.submit_time, update_time = excluded.update_time"
#define OURS(x) "EXISTS (SELECT 1 FROM task_origin o WHERE o.task_id = " x \
	" AND o.source_id = $1::int)"

enum { AP_CONFLICT, AP_UPSERT_T, AP_UPSERT_A, AP_MOVED = 100 };

/* Applied in order; $1 is the source id.  kind says what a row means. */
static const struct { const char *sql; int kind; } apply[] = {
	{ "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE task_id IN "
	  "(SELECT task_id FROM tg_st) ORDER BY task_id FOR UPDATE) l "
	  "WHERE $1::int IS NOT NULL", -1 },
	{ "SELECT count(*) FROM (SELECT 1 FROM archived_tasks WHERE task_id IN "
	  "(SELECT task_id FROM tg_st) ORDER BY task_id FOR UPDATE) l "
	  "WHERE $1::int IS NOT NULL", -1 },
	/* Tasks in the database that this store did not send: untouched. */
	{ "DELETE FROM tg_st s WHERE NOT " OURS("s.task_id") " AND ("
	  "EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = s.task_id) OR "
	  "EXISTS (SELECT 1 FROM archived_tasks a WHERE a.task_id = s.task_id)) "
	  "RETURNING s.task_id, s.arch, (SELECT o.source_id FROM task_origin o "
	  "WHERE o.task_id = s.task_id)", AP_CONFLICT },
	{ "DELETE FROM tg_ss x WHERE $1::int IS NOT NULL AND NOT EXISTS "
	  "(SELECT 1 FROM tg_st s WHERE s.task_id = x.uniqc_task_id)", -1 },
	/* Archived or restored in the store since: out of the other table. */
	{ "WITH d AS (DELETE FROM tasks t USING tg_st s WHERE s.arch AND "
	  "t.task_id = s.task_id AND " OURS("s.task_id") " RETURNING 1) "
	  "SELECT count(*) FROM d", AP_MOVED },
	{ "WITH d AS (DELETE FROM archived_tasks a USING tg_st s WHERE NOT "
	  "s.arch AND a.task_id = s.task_id AND " OURS("s.task_id")
	  " RETURNING 1) SELECT count(*) FROM d", AP_MOVED },
	{ "DELETE FROM archived_task_shards x USING tg_st s WHERE NOT s.arch "
	  "AND x.uniqc_task_id = s.task_id AND " OURS("s.task_id"), -1 },
	{ "WITH u AS (INSERT INTO tasks AS t (" TC ") SELECT " TCX " FROM tg_st "
	  "WHERE NOT arch AND $1::int IS NOT NULL ORDER BY ord "
	  "ON CONFLICT (task_id) DO UPDATE SET " TSET
	  " WHERE t.update_time < excluded.update_time RETURNING xmax = 0 AS i) "
	  "SELECT count(*) FILTER (WHERE i), count(*) FILTER (WHERE NOT i) "
	  "FROM u", AP_UPSERT_T },
	{ "WITH u AS (INSERT INTO archived_tasks AS t (" TC ", archived_at) "
	  "SELECT " TCX ", archived_at FROM tg_st WHERE arch AND $1::int IS NOT "
	  "NULL ORDER BY ord ON CONFLICT (task_id) DO UPDATE SET " TSET
	  ", archived_at = excluded.archived_at "
	  "WHERE t.update_time < excluded.update_time RETURNING xmax = 0 AS i) "
	  "SELECT count(*) FILTER (WHERE i), count(*) FILTER (WHERE NOT i) "
	  "FROM u", AP_UPSERT_A },
	/* The store says which shards a task has. */
	{ "DELETE FROM task_shards x USING tg_st s WHERE NOT s.arch AND "
	  "x.uniqc_task_id = s.task_id AND $1::int IS NOT NULL AND NOT EXISTS "
	  "(SELECT 1 FROM tg_ss y WHERE NOT y.arch AND y.uniqc_task_id = "
	  "x.uniqc_task_id AND y.shard_index = x.shard_index)", -1 },
	{ "INSERT INTO task_shards AS t (" SC ") SELECT " SCX " FROM tg_ss "
	  "WHERE NOT arch AND $1::int IS NOT NULL ON CONFLICT (uniqc_task_id, "
	  "shard_index) DO UPDATE SET " SSET
	  " WHERE t.update_time < excluded.update_time", -1 },
	{ "DELETE FROM archived_task_shards x USING tg_st s WHERE s.arch AND "
	  "x.uniqc_task_id = s.task_id AND $1::int IS NOT NULL AND NOT EXISTS "
	  "(SELECT 1 FROM tg_ss y WHERE y.arch AND y.uniqc_task_id = "
	  "x.uniqc_task_id AND y.shard_index = x.shard_index)", -1 },
	{ "INSERT INTO archived_task_shards AS t (" SC ", archived_at) SELECT "
	  SCX ", archived_at FROM tg_ss WHERE arch AND $1::int IS NOT NULL "
	  "ON CONFLICT (uniqc_task_id, shard_index) DO UPDATE SET " SSET
	  ", archived_at = excluded.archived_at "
	  "WHERE t.update_time < excluded.update_time", -1 },
	{ "INSERT INTO task_origin (task_id, source_id, fp) SELECT task_id, "
	  "$1::int, fp FROM tg_st ON CONFLICT (task_id) DO UPDATE SET "
	  "source_id = excluded.source_id, fp = excluded.fp "
	  "WHERE (task_origin.source_id, task_origin.fp) IS DISTINCT FROM "
	  "(excluded.source_id, excluded.fp)", -1 },
};

/* Creates the staging tables (once per session). */
int
imp_setup(struct imp *m)
{
	PGresult	*r;

	r = PQexec((PGconn *)m->a->pg, setup_sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		adm_pgerr(m->a, "staging tables", (struct pg_result *)r);
		PQclear(r);
		return 0;
	}
	PQclear(r);
	return 1;
}

/* Drops the batch being built (after a failed pass, or once applied). */
void
imp_reset(struct imp *m)
{
	size_t	 i;

	for (i = 0; i < m->bn; i++) {
		free(m->bt[i].id);
		free(m->bt[i].fp);
	}
	m->bn = 0;
	buf_reset(&m->ct);
	buf_reset(&m->cs);
}

void
imp_free(struct imp *m)
{
	size_t	 i;

	imp_reset(m);
	free(m->bt);
	buf_free(&m->ct);
	buf_free(&m->cs);
	buf_free(&m->tmp);
	for (i = 0; i < NELEM(m->d); i++)
		buf_free(&m->d[i]);
	known_free(&m->known);
}

/* ---- Applying a batch. ---------------------------------------------- */


/* What a failed statement means for the batch. */
int
imp_classify(struct pg_conn *pc, const struct pg_result *pr)
{
	PGconn		*c = (PGconn *)pc;
	const PGresult	*r = (const PGresult *)pr;
	const char	*st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(c) != CONNECTION_OK || st == NULL)
		return AT_FATAL;
	if (strncmp(st, "40", 2) == 0)
		return AT_RETRY;
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "53", 2) == 0 ||
	    strncmp(st, "42", 2) == 0 || strncmp(st, "57P", 3) == 0 ||
	    strncmp(st, "25", 2) == 0)
		return AT_FATAL;
	return AT_ROW;
}

void
imp_keep_err(struct attempt *t, struct pg_conn *pc, const char *what,
    const struct pg_result *pr)
{
	PGconn		*c = (PGconn *)pc;
	const PGresult	*r = (const PGresult *)pr;
	const char	*msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
	    : NULL;
	const char	*st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	size_t		 i;

	snprintf(t->err, sizeof(t->err), "%s: %s %s", what, st ? st : "-",
	    msg ? msg : PQerrorMessage(c));
	for (i = 0; t->err[i] != '\0'; i++)
		if (t->err[i] == '\n')
			t->err[i] = ' ';
}

/* COPY table FROM STDIN with n bytes of text-format lines. */
int
imp_copy_in(struct pg_conn *pc, struct attempt *t, const char *sql,
    const char *p, size_t n, int *how)
{
	PGconn		*c = (PGconn *)pc;
	PGresult	*r;
	size_t		 k;
	int		 ok;

	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		imp_keep_err(t, (struct pg_conn *)c, "COPY", (struct pg_result *)r);
		*how = imp_classify((struct pg_conn *)c, (struct pg_result *)r);
		PQclear(r);
		return 0;
	}
	PQclear(r);
	for (ok = 1; n > 0 && ok; p += k, n -= k) {
		k = n > (1u << 20) ? (1u << 20) : n;
		ok = PQputCopyData(c, p, (int)k) == 1;
	}
	if (PQputCopyEnd(c, ok ? NULL : "send failed") != 1)
		ok = 0;
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		imp_keep_err(t, (struct pg_conn *)c, "COPY", (struct pg_result *)r);
		*how = imp_classify((struct pg_conn *)c, (struct pg_result *)r);
		ok = 0;
	}
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	return ok;
}

static void
rollback(PGconn *c)
{
	PGresult	*r;

	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, "ROLLBACK");
		PQclear(r);
	}
}

/* COMMIT: 1, or 0 with t->err and *how set. */
static int
commit(PGconn *c, struct attempt *t, int *how)
{
	PGresult	*r;
	int		 ok;

	r = PQexec(c, "COMMIT");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok) {
		imp_keep_err(t, (struct pg_conn *)c, "COMMIT", (struct pg_result *)r);
		*how = imp_classify((struct pg_conn *)c, (struct pg_result *)r);
	}
	PQclear(r);
	return ok;
}

/*
 * The staged lines of tasks [from, to) into tg_st and tg_ss, then the
 * apply[] statements, counting into t (t->conf keeps the conflicts).
 * Returns 1, or 0 with t->err and *how set.
 */
static int
stage_apply(struct imp *m, PGconn *c, size_t from, size_t to,
    struct attempt *t, int *how)
{
	PGresult	*r;
	const char	*pv[1] = { m->source };
	size_t		 i, tb, te, sb, se;

	tb = m->bt[from].toff;
	te = m->bt[to - 1].toff + m->bt[to - 1].tlen;
	sb = m->bt[from].soff;
	se = m->bt[to - 1].soff + m->bt[to - 1].slen;
	if (!imp_copy_in((struct pg_conn *)c, t, "COPY tg_st FROM STDIN",
	    m->ct.p + tb, te - tb, how))
		return 0;
	if (se > sb && !imp_copy_in((struct pg_conn *)c, t,
	    "COPY tg_ss FROM STDIN", m->cs.p + sb, se - sb, how))
		return 0;
	for (i = 0; i < NELEM(apply); i++) {
		r = PQexecParams(c, apply[i].sql, 1, NULL, pv, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK &&
		    PQresultStatus(r) != PGRES_COMMAND_OK) {
			imp_keep_err(t, (struct pg_conn *)c, "apply", (struct pg_result *)r);
			*how = imp_classify((struct pg_conn *)c, (struct pg_result *)r);
			PQclear(r);
			return 0;
		}
		if (apply[i].kind == AP_CONFLICT) {
			t->conf = r;
			continue;
		}
		if (apply[i].kind == AP_MOVED)
			t->moved += strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else if (apply[i].kind == AP_UPSERT_T ||
		    apply[i].kind == AP_UPSERT_A) {
			t->ins += strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			t->upd += strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		}
		PQclear(r);
	}
	return 1;
}

/*
 * Tasks [from, to) of the batch in one transaction: straight in when
 * they are all new (imp_direct), else through the staging tables.
 * AT_OK once committed, else what failed (AT_*; rolled back).
 */
static int
attempt(struct imp *m, size_t from, size_t to, struct attempt *t)
{
	PGconn		*c = (PGconn *)m->a->pg;
	PGresult	*r;
	int		 how = AT_FATAL, ok;

	memset(t, 0, sizeof(*t));
	r = PQexec(c, "BEGIN");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		imp_keep_err(t, (struct pg_conn *)c, "BEGIN", (struct pg_result *)r);
	PQclear(r);
	if (!ok)
		return AT_FATAL;
	/* New tasks only: straight into the tables, as COPY alone would. */
	if ((how = imp_direct(m, from, to, t)) == AT_OK) {
		if (commit(c, t, &how))
			return AT_OK;
		goto fail;
	}
	if (how != AT_NONE)
		goto fail;
	if (stage_apply(m, c, from, to, t, &how) && commit(c, t, &how))
		return AT_OK;
fail:
	PQclear(t->conf);
	t->conf = NULL;
	rollback(c);
	return how;
}

/* After a commit: figures, conflicts reported, what we now know. */
static int
committed(struct imp *m, size_t from, size_t to, struct attempt *t)
{
	int	 i, n;
	size_t	 k;
	char	 why[160];

	m->inserted += t->ins;
	m->updated += t->upd;
	m->moved += t->moved;
	n = t->conf ? PQntuples(t->conf) : 0;
	for (i = 0; i < n; i++) {
		if (PQgetisnull(t->conf, i, 2))
			snprintf(why, sizeof(why), "left alone: the database "
			    "has this id, not from this store");
		else
			snprintf(why, sizeof(why), "left alone: the database "
			    "has this id from source %s",
			    PQgetvalue(t->conf, i, 2));
		adm_report(m->a, PQgetvalue(t->conf, i, 1)[0] == 't' ?
		    "archived_tasks" : "tasks", PQgetvalue(t->conf, i, 0),
		    (size_t)PQgetlength(t->conf, i, 0), -1, -1, why);
		m->conflicts++;
	}
	PQclear(t->conf);
	t->conf = NULL;
	if (!m->use_known)
		return 1;
	for (k = from; k < to; k++)
		if (!known_put(&m->known, m->bt[k].id, m->bt[k].idlen,
		    m->bt[k].fp))
			return 0;
	return 1;
}

/* Runs [from, to) with retries of deadlocks.  AT_* */
static int
run(struct imp *m, size_t from, size_t to, struct attempt *t)
{
	int	 rc, tries;

	for (tries = 0; ; tries++) {
		rc = attempt(m, from, to, t);
		if (rc != AT_RETRY)
			return rc;
		if (tries == 5)
			return AT_ROW;
		adm_log(m->a, 2, "retrying a batch: %s", t->err);
	}
}

/*
 * Applies the batch built so far and empties it.  Rows PostgreSQL
 * refuses are reported one by one.  Returns 0 when the run must stop
 * (connection lost, schema missing).
 */
int
imp_flush(struct imp *m)
{
	struct attempt	 t;
	size_t		 i;
	int		 rc, ok = 1;

	if (m->bn == 0)
		return 1;
	rc = run(m, 0, m->bn, &t);
	if (rc == AT_OK)
		ok = committed(m, 0, m->bn, &t);
	else if (rc == AT_FATAL) {
		adm_log(m->a, 0, "%s", t.err);
		ok = 0;
	} else {
		adm_log(m->a, 2, "batch refused (%s): one task at a time",
		    t.err);
		for (i = 0; i < m->bn && ok; i++) {
			rc = run(m, i, i + 1, &t);
			if (rc == AT_OK)
				ok = committed(m, i, i + 1, &t);
			else if (rc == AT_FATAL) {
				adm_log(m->a, 0, "%s", t.err);
				ok = 0;
			} else {
				adm_report(m->a, "tasks", m->bt[i].id,
				    m->bt[i].idlen, -1, -1, t.err);
				m->skipped++;
			}
		}
	}
	imp_reset(m);
	return ok;
}
