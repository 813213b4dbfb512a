/*
 * db_conn.c: the one persistent PostgreSQL connection of a process.
 *
 *  - Connects lazily; a database that is down is never fatal: callers
 *    get APP_DBDOWN (503) and the next request tries again.
 *  - Before each statement (db_ensure) it notices a connection the
 *    server has closed while we were idle (a restart sends a FATAL and
 *    closes), and reconnects; what was set up on the old one (prepared
 *    statements, checked columns) is forgotten with it.
 *  - With prepare on, the session gets search_path and
 *    statement_timeout once.  With prepare off (PgBouncer in
 *    transaction pooling mode) nothing is set per session: a pooler
 *    hands each transaction to any server connection, so every
 *    statement brings its own transaction-local settings instead
 *    (db_send_local_setup: set_config(..., true) in the same pipeline,
 *    no extra round trip).
 *  - At the first metadata-filtered list on a connection it reads which
 *    metadata keys have an index of sql/008's taskgate_index_metadata()
 *    (db_meta_indexed), and again at a use DB_META_REFRESH_S later: a
 *    new index is used within a minute, a dropped one is no longer
 *    named.  Not at connect: a CGI process connects for every request.
 *  - The last error is kept for the log line: SQLSTATE and message.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "metrics.h"

/* Keeps the last error for the log: SQLSTATE and primary message only. */
void
db_set_err(struct db *db, const char *what, const PGresult *res)
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
	buf_free(&db->mkeys[0]);
	buf_free(&db->mkeys[1]);
	free(db);
}

/* Drops the connection and all that was set up on it. */
void
db_disconnect(struct db *db)
{
	size_t	 i;

	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	memset(db->prepared, 0, sizeof(db->prepared));
	for (i = 0; i < NELEM(db->cols); i++)
		db->cols[i].ok = 0;
	db->streaming = 0;
	PQclear(db->first);
	db->first = NULL;
	PQclear(db->etag_res);	/* the ask stays, for the retry */
	db->etag_res = NULL;
	db->have_first = 0;
	db->mkeys_read = 0;
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
int
db_send_local_setup(struct db *db, int lng)
{
	const char	*pv[2];

	pv[0] = db->o.schema;
	pv[1] = lng ? db->ltimeout : db->timeout;
	return PQsendQueryParams(db->conn, SETUP("true"), 2, NULL, pv, NULL,
	    NULL, 1);
}

/*
 * The metadata keys with a sql/008 index (its comment names the key) on
 * tasks and archived_tasks, as (archived, key) rows.  The schema is this
 * statement's search_path alone (with prepare off nothing is set per
 * session); the LATERAL subquery, kept apart by OFFSET 0, looks the
 * tables up after set_config has run.
 */
#define META_KEYS "WITH s AS MATERIALIZED (SELECT " \
	"pg_catalog.set_config('search_path', $1, true) AS v) " \
	"SELECT i.indrelid = pg_catalog.to_regclass('archived_tasks'), " \
	"pg_catalog.substr(d.description, 24) FROM s CROSS JOIN LATERAL " \
	"(SELECT x.indexrelid, x.indrelid FROM pg_catalog.pg_index x " \
	"WHERE s.v IS NOT NULL AND x.indisvalid AND x.indrelid IN " \
	"(pg_catalog.to_regclass('tasks'), " \
	"pg_catalog.to_regclass('archived_tasks')) OFFSET 0) i " \
	"JOIN pg_catalog.pg_description d ON d.objoid = i.indexrelid " \
	"AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass " \
	"AND d.objsubid = 0 AND pg_catalog.starts_with(d.description, " \
	"'taskgate metadata key: ')"

/*
 * Reads the keys into db->mkeys.  A failure leaves none: the filters
 * then read the GIN index, which answers the same.
 */
static void
meta_keys(struct db *db)
{
	const char	*pv[1];
	PGresult	*res;
	int		 i, n;
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	db->mkeys_at = ts.tv_sec;
	db->mkeys_read = 1;
	buf_reset(&db->mkeys[0]);
	buf_reset(&db->mkeys[1]);
	pv[0] = db->o.schema;
	res = PQexecParams(db->conn, META_KEYS, 1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) == 2)
		for (i = 0, n = PQntuples(res); i < n; i++)
			buf_add(&db->mkeys[PQgetvalue(res, i, 0)[0] == 't'],
			    PQgetvalue(res, i, 1),
			    (size_t)PQgetlength(res, i, 1) + 1);
	PQclear(res);
}

/*
 * 1 when key has a sql/008 index on tasks (archived: on archived_tasks),
 * connecting and reading the keys first when needed; 0 when not; -1 when the database cannot be reached
 * (the statement that follows says so).
 */
int
db_meta_indexed(struct db *db, int archived, const char *key)
{
	const struct buf *b = &db->mkeys[archived != 0];
	const char	*p;
	struct timespec	 ts;

	if (db_ensure(db) != APP_OK)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!db->mkeys_read || ts.tv_sec - db->mkeys_at >= DB_META_REFRESH_S)
		meta_keys(db);
	if (b->oom || b->p == NULL)
		return 0;
	for (p = b->p; p < b->p + b->len; p += strlen(p) + 1)
		if (strcmp(p, key) == 0)
			return 1;
	return 0;
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
		db_set_err(db, "connect", NULL);
		db_disconnect(db);
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
		db_set_err(db, "session setup", res);
		PQclear(res);
		db_disconnect(db);
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
enum app_err
db_ensure(struct db *db)
{
	struct pollfd	 pfd;

	if (db->conn != NULL && db->streaming)
		db_disconnect(db);		/* an abandoned stream */
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0) {
			if (!PQconsumeInput(db->conn) ||
			    PQstatus(db->conn) != CONNECTION_OK)
				db_disconnect(db);
			else {
				PGnotify	*n;

				while ((n = PQnotifies(db->conn)) != NULL)
					PQfreemem(n);
			}
		}
	}
	if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK)
		db_disconnect(db);
	if (db->conn == NULL)
		return dbconnect(db);
	return APP_OK;
}
