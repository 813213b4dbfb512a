/*
 * db.c: one persistent PostgreSQL connection per process.  The only
 * file that includes libpq.
 *
 *  - Connects lazily; a database that is down is never fatal: callers
 *    get APP_DBDOWN (503) and the next request tries again.
 *  - Before each statement it notices a connection the server has
 *    closed while we were idle (a restart sends a FATAL and closes), and
 *    reconnects; a read-only statement that still fails on a broken
 *    connection is retried once on a fresh one.
 *  - Statements are prepared once per connection (re-prepared after a
 *    reconnect), or sent unnamed when prepare is off (PgBouncer in
 *    transaction pooling mode).  A pooler hands each transaction to any
 *    server connection, so settings made once per session are lost:
 *    with prepare off every statement is preceded, in the same pipeline
 *    and so the same implicit transaction, by a set_config(..., true) of
 *    search_path and statement_timeout (transaction-local, no extra
 *    round trip).
 *  - Results come back in binary format: exact int64 microseconds for
 *    times, no number parsing.
 *  - A statement with a "pre" (lock) statement runs both in one
 *    pipeline: one round trip, one implicit transaction.  A bulk move
 *    or delete (DB_LONG) starts that pipeline with a transaction-local
 *    statement_timeout of its own (move_statement_timeout).
 *  - Deadlocks and serialization failures are retried (the transaction
 *    was rolled back, so a retry is safe).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"
#include "db.h"
#include "metrics.h"

#define JSONBOID	3802

struct db {
	PGconn		*conn;
	struct db_opts	 o;
	char		*conninfo;
	char		*schema;
	char		 timeout[24];	/* statement_timeout as text */
	char		 ltimeout[24];	/* the same for DB_LONG statements */
	unsigned char	 prepared[DB__MAX];
	int		 streaming;
	int		 have_first;	/* first holds the stream's first result */
	PGresult	*first;
	int		 connected;	/* ever: the next connect is a reconnect */
	char		 err[256];
	/* The statement built at run time (DB_DYN), while it runs. */
	struct db_stmt_def dyn, dynpre;
	const int	*dyn_len;
	const int	*dyn_fmt;
};

/* The definition of s: the table's, or the run-time one for DB_DYN. */
static const struct db_stmt_def *
def(const struct db *db, enum db_stmt s)
{
	if ((unsigned)s >= (unsigned)DB__MAX)
		return s == DB_DYN_PRE ? &db->dynpre : &db->dyn;
	return &db_stmts[s];
}

/* Keeps the last error for the log: SQLSTATE and primary message only. */
static void
set_err(struct db *db, const char *what, const PGresult *res)
{
	const char	*st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char	*msg = res ? PQresultErrorField(res,
	    PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t		 i;

	metrics_db_error();
	if (msg == NULL && db->conn != NULL)
		msg = PQerrorMessage(db->conn);
	snprintf(db->err, sizeof(db->err), "%s: %s %s", what,
	    st ? st : "-", msg ? msg : "");
	/* Keep it on one line. */
	for (i = 0; db->err[i] != '\0'; i++)
		if (db->err[i] == '\n' || db->err[i] == '\r')
			db->err[i] = ' ';
}

const char *
db_last_error(const struct db *db)
{
	return db->err;
}

/*
 * Creates the handle; does not connect.  Returns NULL on allocation
 * failure.  The caller frees with db_free().
 */
struct db *
db_new(const struct db_opts *o)
{
	struct db	*db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	db->o = *o;
	db->conninfo = strdup(o->conninfo ? o->conninfo : "");
	db->schema = strdup(o->schema ? o->schema : "public");
	if (db->conninfo == NULL || db->schema == NULL) {
		db_free(db);
		return NULL;
	}
	db->o.conninfo = db->conninfo;
	db->o.schema = db->schema;
	snprintf(db->timeout, sizeof(db->timeout), "%d",
	    o->statement_timeout_ms);
	snprintf(db->ltimeout, sizeof(db->ltimeout), "%d",
	    o->long_timeout_ms > 0 ? o->long_timeout_ms :
	    o->statement_timeout_ms);
	return db;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db->schema);
	free(db);
}

static void
disconnect(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	memset(db->prepared, 0, sizeof(db->prepared));
	db->streaming = 0;
	PQclear(db->first);
	db->first = NULL;
	db->have_first = 0;
}

/* The session settings; is_local true makes them last one transaction. */
#define SETUP(local) "SELECT pg_catalog.set_config('search_path', $1, " \
	local "), pg_catalog.set_config('statement_timeout', $2, " local ")"

/*
 * Sends the transaction-local settings ahead of a statement: with
 * prepare off because a pooler may have given us a server connection set
 * up by nobody; for a bulk move or delete (DB_LONG) to give the rest of
 * the transaction its own statement_timeout (the next statement on the
 * connection has the normal one again).  Pipeline mode only.  Returns 0
 * when sending failed.
 */
static int
send_local_setup(struct db *db, int lng)
{
	const char	*pv[2];

	pv[0] = db->o.schema;
	pv[1] = lng ? db->ltimeout : db->timeout;
	return PQsendQueryParams(db->conn, SETUP("true"), 2, NULL, pv, NULL,
	    NULL, 1);
}

/*
 * Connects and, with prepare on, sets the session up.  Returns
 * APP_DBDOWN on failure.
 */
static enum app_err
dbconnect(struct db *db)
{
	const char	*kw[6], *val[6];
	char		 ct[16];
	const char	*pv[2];
	PGresult	*res;

	snprintf(ct, sizeof(ct), "%d", db->o.connect_timeout_s);
	kw[0] = "application_name";	val[0] = "taskgate";
	kw[1] = "connect_timeout";	val[1] = ct;
	kw[2] = "client_encoding";	val[2] = "UTF8";
	kw[3] = "dbname";		val[3] = db->o.conninfo;
	kw[4] = NULL;			val[4] = NULL;
	/* Later entries override: the conninfo can change our defaults. */
	db->conn = PQconnectdbParams(kw, val, 1);
	if (db->conn == NULL) {
		snprintf(db->err, sizeof(db->err), "connect: out of memory");
		return APP_DBDOWN;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_err(db, "connect", NULL);
		disconnect(db);
		metrics_db_connect(0, 0);
		return APP_DBDOWN;
	}
	/*
	 * With prepare off (a pooler in transaction mode) nothing
	 * session-level: it would stay on a server connection the pooler
	 * then hands to other clients.  Every statement brings its own
	 * transaction-local settings instead (send_local_setup).
	 */
	if (!db->o.prepare)
		goto up;
	pv[0] = db->o.schema;
	pv[1] = db->timeout;
	res = PQexecParams(db->conn, SETUP("false"), 2, NULL, pv, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(db, "session setup", res);
		PQclear(res);
		disconnect(db);
		metrics_db_connect(0, 0);
		return APP_DBDOWN;
	}
	PQclear(res);
up:
	metrics_db_connect(1, db->connected);
	db->connected = 1;
	return APP_OK;
}

/*
 * Makes sure there is a usable connection.  A server that closed the
 * connection while we were idle left something to read on the socket:
 * consume it, and reconnect when libpq then reports the connection bad.
 */
static enum app_err
ensure(struct db *db)
{
	struct pollfd	 pfd;

	if (db->conn != NULL && db->streaming)
		disconnect(db);		/* an abandoned stream */
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0) {
			if (!PQconsumeInput(db->conn) ||
			    PQstatus(db->conn) != CONNECTION_OK)
				disconnect(db);
			else {
				PGnotify	*n;

				while ((n = PQnotifies(db->conn)) != NULL)
					PQfreemem(n);
			}
		}
	}
	if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK)
		disconnect(db);
	if (db->conn == NULL)
		return dbconnect(db);
	return APP_OK;
}

static enum app_err classify(struct db *, const PGresult *, int *);

/*
 * Prepares s once per connection.  Parsing takes the tables' locks, so
 * preparing can wait on another session's lock and hit
 * statement_timeout: the error is classified like any statement's
 * (57014 is APP_DBDOWN, a 503, not a 500); *retry is set for a
 * transient one.
 */
static enum app_err
prepare(struct db *db, enum db_stmt s, int *retry)
{
	char		 name[16];
	PGresult	*res;
	enum app_err	 rc;

	*retry = 0;
	if (!db->o.prepare || s >= DB__MAX || db->prepared[s])
		return APP_OK;
	snprintf(name, sizeof(name), "tg%d", (int)s);
	res = PQprepare(db->conn, name, db_stmts[s].sql, db_stmts[s].nparams,
	    NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_err(db, "prepare", res);
		rc = classify(db, res, retry);
		PQclear(res);
		if (PQstatus(db->conn) != CONNECTION_OK)
			disconnect(db);
		return rc;
	}
	PQclear(res);
	db->prepared[s] = 1;
	return APP_OK;
}

static int
send_stmt(struct db *db, enum db_stmt s, const char *const *params)
{
	char	 name[16];

	if (s >= DB__MAX)
		return PQsendQueryParams(db->conn, def(db, s)->sql,
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
static enum app_err
classify(struct db *db, const PGresult *res, int *retry)
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
static int
end_pipeline(struct db *db)
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
		set_err(db, "pipeline", NULL);
		disconnect(db);
		return 0;
	}
	return 1;
}

/*
 * Reads results until NULL; keeps the one of the last query.
 *
 * libpq quirk: single-row mode (db_stream) is cleared when the next
 * query starts outside a pipeline, or when a pipeline moves on to its
 * next query, but not for the first query of a new pipeline.  After a
 * stream that ended in an error (a timeout) nothing else ran on the
 * connection, so the lock statement of the next move comes back as
 * PGRES_SINGLE_TUPLE rows: they are discarded anyway, and must not be
 * taken for an error (that answered 500 although the move committed).
 */
static enum app_err
run_once(struct db *db, enum db_stmt s, const char *const *params,
    PGresult **out, int *retry)
{
	int		 pre = def(db, s)->pre, nq, q, pipelined, lng;
	PGresult	*res, *keep = NULL;
	ExecStatusType	 rs;
	enum app_err	 rc = APP_OK;

	*retry = 0;
	if ((rc = prepare(db, s, retry)) != APP_OK)
		return rc;
	if (pre >= 0 && (rc = prepare(db, (enum db_stmt)pre, retry)) != APP_OK)
		return rc;
	lng = (def(db, s)->flags & DB_LONG) != 0;
	nq = 1 + (pre >= 0) + (!db->o.prepare || lng);
	pipelined = nq > 1;
	if (pipelined) {
		if (!PQenterPipelineMode(db->conn) ||
		    ((!db->o.prepare || lng) && !send_local_setup(db, lng)) ||
		    (pre >= 0 && !send_stmt(db, (enum db_stmt)pre, params)) ||
		    !send_stmt(db, s, params) || !PQpipelineSync(db->conn)) {
			set_err(db, "send", NULL);
			PQexitPipelineMode(db->conn);
			disconnect(db);
			return APP_DBDOWN;
		}
	} else if (!send_stmt(db, s, params)) {
		set_err(db, "send", NULL);
		disconnect(db);
		return APP_DBDOWN;
	}
	for (q = 0; q < nq; q++) {
		while ((res = PQgetResult(db->conn)) != NULL) {
			rs = PQresultStatus(res);
			if (rs == PGRES_FATAL_ERROR && rc == APP_OK) {
				set_err(db, "exec", res);
				rc = classify(db, res, retry);
			} else if (rs != PGRES_TUPLES_OK &&
			    rs != PGRES_COMMAND_OK && rs != PGRES_PIPELINE_ABORTED &&
			    !(rs == PGRES_SINGLE_TUPLE && q < nq - 1) &&
			    rc == APP_OK) {
				set_err(db, "exec", res);
				rc = APP_SYSTEM;
			}
			if (q == nq - 1 && rs == PGRES_TUPLES_OK && keep == NULL)
				keep = res;
			else
				PQclear(res);
		}
		if (PQstatus(db->conn) != CONNECTION_OK)
			break;
	}
	if (pipelined && PQstatus(db->conn) == CONNECTION_OK &&
	    !end_pipeline(db))
		rc = APP_DBDOWN;
	if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK) {
		if (rc == APP_OK)
			set_err(db, "exec", NULL);
		rc = APP_DBDOWN;
		disconnect(db);
	}
	if (rc == APP_OK && keep == NULL) {
		snprintf(db->err, sizeof(db->err), "exec: no rows result");
		rc = APP_SYSTEM;
	}
	if (rc != APP_OK) {
		PQclear(keep);
		return rc;
	}
	*out = keep;
	return APP_OK;
}

/*
 * Runs statement s with text parameters (NULL entries are SQL NULL).
 * On APP_OK *out holds the rows; free with db_res_free().  Returns
 * APP_DBDOWN when the database is unreachable or timed out,
 * APP_CONFLICT on a persisting unique/deadlock conflict, APP_SYSTEM for
 * anything else (db_last_error() says what).
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
		if ((rc = ensure(db)) != APP_OK)
			return rc;
		rc = run_once(db, s, params, &res, &retry);
		if (rc == APP_OK) {
			*out = (struct db_res *)res;
			return APP_OK;
		}
		/* A read that met a dead connection: once more, fresh. */
		if (rc == APP_DBDOWN && db->conn == NULL &&
		    (def(db, s)->flags & DB_READ) && tries == 0)
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
	db->dyn.sql = q->sql;
	db->dyn.nparams = q->nparams;
	db->dyn.flags = q->flags;
	db->dyn.pre = q->pre_sql != NULL ? DB_DYN_PRE : -1;
	db->dynpre.sql = q->pre_sql;
	db->dynpre.nparams = q->nparams;
	db->dynpre.flags = 0;
	db->dynpre.pre = -1;
	db->dyn_len = q->lengths;
	db->dyn_fmt = q->formats;
}

void
db_res_free(struct db_res *r)
{
	PQclear((PGresult *)r);
}

size_t
db_nrows(const struct db_res *r)
{
	return (size_t)PQntuples((const PGresult *)r);
}

int
db_isnull(const struct db_res *r, size_t row, int col)
{
	return PQgetisnull((const PGresult *)r, (int)row, col);
}

/* Text (binary format is the raw bytes).  NULL for SQL NULL. */
const char *
db_text(const struct db_res *r, size_t row, int col, size_t *len)
{
	const PGresult	*res = (const PGresult *)r;

	if (PQgetisnull(res, (int)row, col)) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)PQgetlength(res, (int)row, col);
	return PQgetvalue(res, (int)row, col);
}

/* int2, int4 or int8 in network order; 0 for NULL. */
int64_t
db_int(const struct db_res *r, size_t row, int col)
{
	const PGresult		*res = (const PGresult *)r;
	const unsigned char	*p;
	int			 n, i;
	uint64_t		 v = 0;

	if (PQgetisnull(res, (int)row, col))
		return 0;
	p = (const unsigned char *)PQgetvalue(res, (int)row, col);
	n = PQgetlength(res, (int)row, col);
	if (n != 2 && n != 4 && n != 8)
		return 0;
	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	if (n == 2)
		return (int16_t)v;
	if (n == 4)
		return (int32_t)v;
	return (int64_t)v;
}

int
db_bool(const struct db_res *r, size_t row, int col)
{
	const PGresult	*res = (const PGresult *)r;

	if (PQgetisnull(res, (int)row, col))
		return 0;
	return PQgetlength(res, (int)row, col) == 1 &&
	    PQgetvalue(res, (int)row, col)[0] != 0;
}

/*
 * timestamptz as PostgreSQL holds it: microseconds since 2000-01-01 UTC
 * (infinities are INT64_MAX/INT64_MIN); write it with jsonw_time_pg().
 * Not converted to the unix epoch here: that overflows int64 for the
 * latest dates PostgreSQL accepts.
 */
int64_t
db_time(const struct db_res *r, size_t row, int col)
{
	return db_int(r, row, col);
}

/* json or jsonb text (jsonb's version byte dropped).  NULL for NULL. */
const char *
db_json(const struct db_res *r, size_t row, int col, size_t *len)
{
	const PGresult	*res = (const PGresult *)r;
	const char	*p = db_text(r, row, col, len);

	if (p != NULL && PQftype(res, col) == JSONBOID && *len > 0) {
		p++;
		(*len)--;
	}
	return p;
}

/* Sends a streamed statement (db_stream); APP_OK when it is on its way. */
static enum app_err
stream_send(struct db *db, enum db_stmt s, const char *const *params)
{
	enum app_err	 rc;
	int		 retry;

	if ((rc = ensure(db)) != APP_OK)
		return rc;
	if ((rc = prepare(db, s, &retry)) != APP_OK)
		return rc;
	if (!db->o.prepare) {
		/* The settings, the statement, one sync: one transaction. */
		PGresult	*res;
		int		 bad = 0;

		if (!PQenterPipelineMode(db->conn) || !send_local_setup(db, 0) ||
		    !send_stmt(db, s, params) || !PQpipelineSync(db->conn)) {
			set_err(db, "send", NULL);
			disconnect(db);
			return APP_DBDOWN;
		}
		while ((res = PQgetResult(db->conn)) != NULL) {
			if (PQresultStatus(res) != PGRES_TUPLES_OK && !bad) {
				set_err(db, "setup", res);
				rc = classify(db, res, &retry);
				bad = 1;
			}
			PQclear(res);
		}
		if (bad || PQstatus(db->conn) != CONNECTION_OK) {
			/* Aborted statement, sync: then out of the pipeline. */
			disconnect(db);
			return bad && rc != APP_OK ? rc : APP_DBDOWN;
		}
		db->streaming = 2;
	} else if (!send_stmt(db, s, params)) {
		set_err(db, "send", NULL);
		disconnect(db);
		return APP_DBDOWN;
	}
	if (!PQsetSingleRowMode(db->conn)) {
		set_err(db, "single row mode", NULL);
		disconnect(db);
		return APP_SYSTEM;
	}
	if (!db->streaming)
		db->streaming = 1;
	return APP_OK;
}

/*
 * Starts a statement whose rows are read one at a time
 * (db_stream_next), so a long list never sits in memory.  Waits for the
 * first result: a connection the server closed while we were idle (a
 * restart) often shows only then, and like db_exec's reads the statement
 * is then sent once more on a fresh connection, before any row went out.
 * Returns APP_OK (rows or the error come from db_stream_next) or the
 * error of the start.
 */
enum app_err
db_stream(struct db *db, enum db_stmt s, const char *const *params)
{
	PGresult	*res;
	enum app_err	 rc;
	int		 tries;

	for (tries = 0; tries < 2; tries++) {
		rc = stream_send(db, s, params);
		if (rc == APP_DBDOWN && db->conn == NULL && tries == 0)
			continue;
		if (rc != APP_OK)
			return rc;
		res = PQgetResult(db->conn);
		if (tries == 0 && PQstatus(db->conn) != CONNECTION_OK &&
		    (res == NULL || PQresultStatus(res) != PGRES_SINGLE_TUPLE)) {
			set_err(db, "stream", res);
			PQclear(res);
			disconnect(db);
			continue;
		}
		db->first = res;
		db->have_first = 1;
		return APP_OK;
	}
	return rc;
}

/*
 * Next row of the stream: 1 with *row (one row, index 0; free it with
 * db_res_free), 0 at the end, -1 on error with *err set.  After 0 or -1
 * the stream is over.
 */
int
db_stream_next(struct db *db, struct db_res **row, enum app_err *err)
{
	PGresult	*res;
	ExecStatusType	 rs;
	int		 retry, ret = 0;

	*row = NULL;
	*err = APP_OK;
	if (!db->streaming || db->conn == NULL) {
		*err = APP_SYSTEM;
		return -1;
	}
	if (db->have_first) {
		res = db->first;
		db->first = NULL;
		db->have_first = 0;
	} else
		res = PQgetResult(db->conn);
	if (res != NULL && PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
		*row = (struct db_res *)res;
		return 1;
	}
	/* The final result (TUPLES_OK with no rows, or an error). */
	if (res == NULL) {
		set_err(db, "stream", NULL);
		*err = APP_DBDOWN;
		ret = -1;
	} else if ((rs = PQresultStatus(res)) != PGRES_TUPLES_OK) {
		set_err(db, "stream", res);
		*err = rs == PGRES_FATAL_ERROR ? classify(db, res, &retry) :
		    APP_SYSTEM;
		ret = -1;
	}
	PQclear(res);
	while ((res = PQgetResult(db->conn)) != NULL)
		PQclear(res);
	if (db->streaming == 2 && PQstatus(db->conn) == CONNECTION_OK) {
		/* Pipelined (prepare off): the sync, then leave the pipeline. */
		if (!end_pipeline(db)) {
			if (ret == 0) {
				*err = APP_DBDOWN;
				ret = -1;
			}
			return ret;
		}
	}
	db->streaming = 0;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		disconnect(db);
		if (ret == 0) {
			*err = APP_DBDOWN;
			ret = -1;
		}
	}
	return ret;
}

/* Gives up a stream midway (client gone): the connection is dropped. */
void
db_stream_abort(struct db *db)
{
	if (db->streaming)
		disconnect(db);
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
