/*
 * db.c: the statements on the connection (db_conn.c): prepare (with the
 * column check), send, the pipeline, db_exec, the error classes.  With
 * db_conn.c, db_stream.c (rows one at a time) and db_rows.c (the column
 * check and the row decoders) the only files that include libpq
 * (db_int.h).
 *
 *  - Statements are prepared once per connection (re-prepared after a
 *    reconnect), or sent unnamed when prepare is off (PgBouncer in
 *    transaction pooling mode); then every statement is preceded, in
 *    the same pipeline and so the same implicit transaction, by the
 *    transaction-local settings (db_send_local_setup).
 *  - Results come back in binary format: exact int64 microseconds for
 *    times, no number parsing.  Which columns a statement's rows have is
 *    checked once per connection against its layout (sql.c): when it is
 *    prepared, from PostgreSQL's description of it (in the same round
 *    trip as the prepare, before it ever runs); when sent unnamed
 *    (prepare off, the statements built at run time) on its first
 *    result: for a write that is after it ran (its transaction is
 *    committed), and the answer is still the 500.  A mismatch is
 *    APP_SYSTEM, never rows decoded as zeros.
 *  - A read-only statement that fails on a broken connection is retried
 *    once on a fresh one.
 *  - A statement with a "pre" (lock) statement runs both in one
 *    pipeline: one round trip, one implicit transaction.  A bulk move
 *    or delete (DB_LONG) starts that pipeline with a transaction-local
 *    statement_timeout of its own (move_statement_timeout).
 *  - Deadlocks and serialization failures are retried (the transaction
 *    was rolled back, so a retry is safe).
 *  - Asked for (db_etag_ask: a GET without If-None-Match), DB_ETAG
 *    rides ahead of the next statement in its pipeline: the change
 *    counter costs no round trip of its own.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db_int.h"

_Static_assert(DB__MAX < 100, "statement names tgNN fit their buffers");

/* The definition of s: the table's, or the run-time one for DB_DYN. */
const struct db_stmt_def *
db_def(const struct db *db, enum db_stmt s)
{
	if ((unsigned)s >= (unsigned)DB__MAX)
		return s == DB_DYN_PRE ? &db->dynpre : &db->dyn;
	return &db_stmts[s];
}

/*
 * The checked columns of s on this connection: a fixed statement's own,
 * a run-time one's those of the fragment it starts with.
 */
struct db_colmap *
db_colmap(struct db *db, enum db_stmt s)
{
	if ((unsigned)s >= (unsigned)DB__MAX)
		return &db->cols[DB__MAX + db->dyn_rows];
	return &db->cols[s];
}

/*
 * After the results of a statement or (pipelined) a pipeline: leaves the
 * pipeline, and makes a connection lost meanwhile APP_DBDOWN (what names
 * it in the error when nothing else went wrong before).  Returns rc or
 * APP_DBDOWN.
 */
static enum app_err
settle(struct db *db, int pipelined, const char *what, enum app_err rc)
{
	if (pipelined && PQstatus(db->conn) == CONNECTION_OK &&
	    !db_end_pipeline(db))
		rc = APP_DBDOWN;
	if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK) {
		if (rc == APP_OK)
			db_set_err(db, what, NULL);
		rc = APP_DBDOWN;
		db_disconnect(db);
	}
	return rc;
}

/*
 * Sends the prepare of s and, when its rows are read, the describe of
 * it, in one pipeline (one round trip, as a plain PQprepare).  On
 * APP_OK *desc holds the description (or NULL when not asked for); free
 * it with PQclear.
 */
static enum app_err
prepare_describe(struct db *db, enum db_stmt s, const char *name,
    PGresult **desc, int *retry)
{
	int		 nq = 1 + (db_stmts[s].rows != DB_L_NONE), q;
	PGresult	*res;
	ExecStatusType	 rs;
	enum app_err	 rc = APP_OK;

	*desc = NULL;
	if (!PQenterPipelineMode(db->conn) ||
	    !PQsendPrepare(db->conn, name, db_stmts[s].sql,
	    db_stmts[s].nparams, NULL) ||
	    (nq > 1 && !PQsendDescribePrepared(db->conn, name)) ||
	    !PQpipelineSync(db->conn)) {
		db_set_err(db, "send", NULL);
		PQexitPipelineMode(db->conn);
		db_disconnect(db);
		return APP_DBDOWN;
	}
	for (q = 0; q < nq && PQstatus(db->conn) == CONNECTION_OK; q++)
		while ((res = PQgetResult(db->conn)) != NULL) {
			rs = PQresultStatus(res);
			if (rs != PGRES_COMMAND_OK && rc == APP_OK) {
				db_set_err(db, "prepare", res);
				rc = db_classify(db, res, retry);
			} else if (rs == PGRES_COMMAND_OK && q == 1 &&
			    *desc == NULL) {
				*desc = res;
				continue;
			}
			PQclear(res);
		}
	if ((rc = settle(db, 1, "prepare", rc)) != APP_OK) {
		PQclear(*desc);
		*desc = NULL;
	}
	return rc;
}

/*
 * Prepares s once per connection and checks its columns against its
 * layout from PostgreSQL's description, before it ever runs.  Parsing
 * takes the tables' locks, so preparing can wait on another session's
 * lock and hit statement_timeout: the error is classified like any
 * statement's (57014 is APP_DBDOWN, a 503, not a 500); *retry is set
 * for a transient one.  Columns that disagree are APP_SYSTEM (the
 * error says which); the statement is then deallocated, so that a
 * schema put right is seen by the next request.
 */
enum app_err
db_prepare(struct db *db, enum db_stmt s, int *retry)
{
	char		 name[16];
	PGresult	*desc;
	enum app_err	 rc;

	*retry = 0;
	if (!db->o.prepare || s >= DB__MAX || db->prepared[s])
		return APP_OK;
	snprintf(name, sizeof(name), "tg%d", (int)s);
	if ((rc = prepare_describe(db, s, name, &desc, retry)) != APP_OK)
		return rc;
	if (desc != NULL) {
		rc = db_cols_check(db, s, desc);
		PQclear(desc);
		if (rc != APP_OK) {
			char	 sql[32];

			/* A fixed name, not input. */
			snprintf(sql, sizeof(sql), "DEALLOCATE %s", name);
			PQclear(PQexec(db->conn, sql));
			return rc;
		}
	}
	db->prepared[s] = 1;
	return APP_OK;
}

int
db_send_stmt(struct db *db, enum db_stmt s, const char *const *params)
{
	char	 name[16];

	if (s >= DB__MAX)
		return PQsendQueryParams(db->conn, db_def(db, s)->sql,
		    db->dyn.nparams, NULL, params, db->dyn_len, db->dyn_fmt, 1);
	if (db->o.prepare) {
		snprintf(name, sizeof(name), "tg%d", (int)s);
		return PQsendQueryPrepared(db->conn, name, db_stmts[s].nparams,
		    params, NULL, NULL, 1);
	}
	return PQsendQueryParams(db->conn, db_stmts[s].sql, db_stmts[s].nparams,
	    NULL, params, NULL, NULL, 1);
}

/* Maps a failed result to an error; sets *retry for transient ones. */
enum app_err
db_classify(struct db *db, const PGresult *res, int *retry)
{
	const char	*st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	*retry = 0;
	if (PQstatus(db->conn) != CONNECTION_OK)
		return APP_DBDOWN;
	if (st == NULL)
		return APP_SYSTEM;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) {
		*retry = 1;
		return APP_CONFLICT;
	}
	if (strcmp(st, "23505") == 0 || strcmp(st, "23503") == 0) {
		*retry = 1;	/* a concurrent writer: try again */
		return APP_CONFLICT;
	}
	if (strcmp(st, "57014") == 0 || strncmp(st, "08", 2) == 0 ||
	    strncmp(st, "57P", 3) == 0 || strncmp(st, "53", 2) == 0 ||
	    strcmp(st, "55P03") == 0 || strcmp(st, "25006") == 0)
		return APP_DBDOWN;
	return APP_SYSTEM;
}

/*
 * Reads up to the pipeline's sync point and leaves pipeline mode.
 * Returns 0 (connection dropped, error kept) when libpq refuses.
 */
int
db_end_pipeline(struct db *db)
{
	PGresult	*res;
	ExecStatusType	 rs;

	while ((res = PQgetResult(db->conn)) != NULL) {
		rs = PQresultStatus(res);
		PQclear(res);
		if (rs == PGRES_PIPELINE_SYNC)
			break;
	}
	if (!PQexitPipelineMode(db->conn)) {
		db_set_err(db, "pipeline", NULL);
		db_disconnect(db);
		return 0;
	}
	return 1;
}

void
db_etag_ask(struct db *db, db_etag_fn fn, void *ctx)
{
	db->etag_fn = fn;
	db->etag_ctx = ctx;
	db->etag_failed = 0;
	PQclear(db->etag_res);
	db->etag_res = NULL;
}

int
db_etag_failed(const struct db *db)
{
	return db->etag_failed;
}

/*
 * Keeps res when it is DB_ETAG's rows (sent ahead of a statement) and
 * none is kept yet: as rows, or as one row when single-row mode carried
 * over from a stream (see run_once).  Returns 1 when it kept it.
 */
int
db_etag_keep(struct db *db, PGresult *res)
{
	ExecStatusType	 rs = PQresultStatus(res);

	if (db->etag_res != NULL ||
	    (rs != PGRES_TUPLES_OK && rs != PGRES_SINGLE_TUPLE))
		return 0;
	db->etag_res = res;
	return 1;
}

/*
 * The pipeline that carried DB_ETAG went through: checks its columns
 * when not yet (prepare off) and gives its row to the one who asked;
 * the ask is then over.  Returns the check's or the callback's error.
 */
enum app_err
db_etag_give(struct db *db)
{
	struct db_res	 r;
	db_etag_fn	 fn = db->etag_fn;
	enum app_err	 rc = APP_OK;

	if (db->etag_res == NULL) {
		snprintf(db->err, sizeof(db->err), "exec: DB_ETAG: no rows");
		db->etag_failed = 1;
		return APP_SYSTEM;
	}
	if (!db->cols[DB_ETAG].ok)
		rc = db_cols_check(db, DB_ETAG, db->etag_res);
	if (rc == APP_OK) {
		db->etag_fn = NULL;
		db_res_init(&r, db, DB_ETAG, db->etag_res);
		rc = fn(db->etag_ctx, &r);
	}
	if (rc != APP_OK)
		db->etag_failed = 1;
	PQclear(db->etag_res);
	db->etag_res = NULL;
	return rc;
}

/*
 * Sends s (after its transaction-local settings, DB_ETAG when et, and
 * its lock statement when it has them: nq > 1, one pipeline).  Returns
 * APP_DBDOWN, the connection dropped, when libpq refuses.
 */
static enum app_err
send_run(struct db *db, enum db_stmt s, const char *const *params, int nq,
    int pre, int lng, int et)
{
	if (nq > 1) {
		if (!PQenterPipelineMode(db->conn) ||
		    ((!db->o.prepare || lng) && !db_send_local_setup(db, lng)) ||
		    (et && !db_send_stmt(db, DB_ETAG, NULL)) ||
		    (pre >= 0 && !db_send_stmt(db, (enum db_stmt)pre, params)) ||
		    !db_send_stmt(db, s, params) || !PQpipelineSync(db->conn)) {
			db_set_err(db, "send", NULL);
			PQexitPipelineMode(db->conn);
			db_disconnect(db);
			return APP_DBDOWN;
		}
	} else if (!db_send_stmt(db, s, params)) {
		db_set_err(db, "send", NULL);
		db_disconnect(db);
		return APP_DBDOWN;
	}
	return APP_OK;
}

/*
 * Runs s once: prepared (and so checked) first when prepare is on, the
 * rows of an unnamed statement checked on its first result.  Reads
 * results until NULL; keeps the one of the last query.
 *
 * libpq quirk: single-row mode (db_stream) is cleared when the next
 * query starts outside a pipeline, or when a pipeline moves on to its
 * next query, but not for the first query of a new pipeline.  After a
 * stream that ended in an error (a timeout) nothing else ran on the
 * connection, so the lock statement of the next move comes back as
 * PGRES_SINGLE_TUPLE rows: they are discarded anyway, and must not be
 * taken for an error (that answered 500 although the move committed).
 * The same holds for DB_ETAG sent first (db_etag_keep takes its row).
 */
static enum app_err
run_once(struct db *db, enum db_stmt s, const char *const *params,
    PGresult **out, int *retry)
{
	int		 pre = db_def(db, s)->pre, nq, q, lng, eq;
	int		 et = db->etag_fn != NULL;
	PGresult	*res, *keep = NULL;
	ExecStatusType	 rs;
	enum app_err	 rc = APP_OK;

	*retry = 0;
	if ((rc = db_prepare(db, s, retry)) != APP_OK)
		return rc;
	if (pre >= 0 && (rc = db_prepare(db, (enum db_stmt)pre, retry)) != APP_OK)
		return rc;
	if (et && (rc = db_prepare(db, DB_ETAG, retry)) != APP_OK) {
		db->etag_failed = 1;
		return rc;
	}
	lng = (db_def(db, s)->flags & DB_LONG) != 0;
	eq = et ? (!db->o.prepare || lng) : -1;	/* DB_ETAG's place */
	nq = 1 + (pre >= 0) + (!db->o.prepare || lng) + et;
	if ((rc = send_run(db, s, params, nq, pre, lng, et)) != APP_OK)
		return rc;
	for (q = 0; q < nq; q++) {
		while ((res = PQgetResult(db->conn)) != NULL) {
			rs = PQresultStatus(res);
			if (rs == PGRES_FATAL_ERROR && rc == APP_OK) {
				db_set_err(db, "exec", res);
				rc = db_classify(db, res, retry);
				db->etag_failed = q == eq;
			} else if (rs != PGRES_TUPLES_OK &&
			    rs != PGRES_COMMAND_OK && rs != PGRES_PIPELINE_ABORTED &&
			    !(rs == PGRES_SINGLE_TUPLE && q < nq - 1) &&
			    rc == APP_OK) {
				db_set_err(db, "exec", res);
				rc = APP_SYSTEM;
			}
			if (q == nq - 1 && rs == PGRES_TUPLES_OK && keep == NULL)
				keep = res;
			else if (q != eq || !db_etag_keep(db, res))
				PQclear(res);
		}
		if (PQstatus(db->conn) != CONNECTION_OK)
			break;
	}
	rc = settle(db, nq > 1, "exec", rc);
	if (rc == APP_OK && keep == NULL) {
		snprintf(db->err, sizeof(db->err), "exec: no rows result");
		rc = APP_SYSTEM;
	}
	if (rc == APP_OK && !db_colmap(db, s)->ok)
		rc = db_cols_check(db, s, keep);
	if (rc == APP_OK && et)
		rc = db_etag_give(db);
	if (rc != APP_OK) {
		PQclear(keep);
		PQclear(db->etag_res);	/* asked again by the retry */
		db->etag_res = NULL;
		return rc;
	}
	*out = keep;
	return APP_OK;
}

/*
 * Runs statement s with text parameters (NULL entries are SQL NULL).
 * On APP_OK *out holds the rows, read with the decoder of its layout
 * (db_task_row, ...); free with db_res_free().  Returns APP_DBDOWN when
 * the database is unreachable or timed out, APP_CONFLICT on a
 * persisting unique/deadlock conflict, APP_NOMEM, APP_SYSTEM for
 * anything else, columns that disagree with the layout included
 * (db_last_error() says what).
 */
enum app_err
db_exec(struct db *db, enum db_stmt s, const char *const *params,
    struct db_res **out)
{
	PGresult	*res = NULL;
	enum app_err	 rc;
	int		 retry, tries;

	*out = NULL;
	for (tries = 0; tries < 4; tries++) {
		if ((rc = db_ensure(db)) != APP_OK)
			return rc;
		rc = run_once(db, s, params, &res, &retry);
		if (rc == APP_OK) {
			if ((*out = malloc(sizeof(**out))) == NULL) {
				PQclear(res);
				snprintf(db->err, sizeof(db->err),
				    "exec: out of memory");
				return APP_NOMEM;
			}
			db_res_init(*out, db, s, res);
			return APP_OK;
		}
		/* A read that met a dead connection: once more, fresh. */
		if (rc == APP_DBDOWN && db->conn == NULL &&
		    (db_def(db, s)->flags & DB_READ) && tries == 0)
			continue;
		if (!retry)
			return rc;
	}
	return rc;
}

/*
 * Sets up the statement built at run time that db_exec(db, DB_DYN, ...)
 * or db_stream(db, DB_DYN, ...) then runs unnamed (not prepared): q's
 * SQL text (fixed fragments only: every value is a $n parameter) and,
 * for binary parameters, their lengths and formats (NULL: all text).
 * q and the arrays must live until the statement has run.
 */
void
db_dyn(struct db *db, const struct db_query *q)
{
	db->dyn_rows = q->rows;
	db->dyn.name = db_frag_rows[db->dyn_rows].name;
	db->dyn.rows = db_frag_rows[db->dyn_rows].rows;
	db->dyn.sql = q->sql;
	db->dyn.nparams = q->nparams;
	db->dyn.flags = q->flags;
	db->dyn.pre = q->pre_sql != NULL ? DB_DYN_PRE : -1;
	db->dynpre.name = "lock";
	db->dynpre.rows = DB_L_NONE;
	db->dynpre.sql = q->pre_sql;
	db->dynpre.nparams = q->nparams;
	db->dynpre.flags = 0;
	db->dynpre.pre = -1;
	db->dyn_len = q->lengths;
	db->dyn_fmt = q->formats;
}

/*
 * Appends a PostgreSQL array literal of the given strings, each quoted
 * and escaped, for a text[] parameter.  This builds a parameter value,
 * not SQL.  The strings must not hold NUL bytes.
 */
void
db_array(struct buf *b, const char *const *v, const size_t *len, size_t n)
{
	size_t	 i, j;

	buf_addc(b, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, ',');
		buf_addc(b, '"');
		for (j = 0; j < len[i]; j++) {
			if (v[i][j] == '"' || v[i][j] == '\\')
				buf_addc(b, '\\');
			buf_addc(b, v[i][j]);
		}
		buf_addc(b, '"');
	}
	buf_addc(b, '}');
}
