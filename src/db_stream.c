/*
 * db_stream.c: a statement whose rows are read one at a time
 * (single-row mode), so that a long list never sits in memory: the
 * lists stream their rows to the client as they come.  Each row is a
 * result of its own, decoded like db_exec's (db_task_row); its columns
 * are checked on the first row, as db_exec checks an unnamed
 * statement's (a prepared one was checked when prepared).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db_int.h"

/*
 * Sends a streamed statement after what goes ahead of it in one
 * pipeline (one sync, one transaction): with prepare off the settings,
 * when asked DB_ETAG (db_etag_ask), whose row it gives before the
 * statement's first row is read; then reads the results of those (nq
 * queries).  Their error gives up the connection (the statement is
 * aborted) and is returned.
 */
static enum app_err
stream_ahead(struct db *db, enum db_stmt s, const char *const *params,
    int et)
{
	PGresult	*res;
	enum app_err	 rc = APP_OK;
	int		 retry, bad = 0, q, nq = !db->o.prepare + et;
	ExecStatusType	 rs;

	if (!PQenterPipelineMode(db->conn) ||
	    (!db->o.prepare && !db_send_local_setup(db, 0)) ||
	    (et && !db_send_stmt(db, DB_ETAG, NULL)) ||
	    !db_send_stmt(db, s, params) || !PQpipelineSync(db->conn)) {
		db_set_err(db, "send", NULL);
		db_disconnect(db);
		return APP_DBDOWN;
	}
	for (q = 0; q < nq && PQstatus(db->conn) == CONNECTION_OK; q++)
		while ((res = PQgetResult(db->conn)) != NULL) {
			rs = PQresultStatus(res);
			/* (single-row mode may carry over: see db.c run_once) */
			if (rs != PGRES_TUPLES_OK && rs != PGRES_SINGLE_TUPLE &&
			    !bad) {
				db_set_err(db, et && q == nq - 1 ? "exec" :
				    "setup", res);
				rc = db_classify(db, res, &retry);
				db->etag_failed = et && q == nq - 1;
				bad = 1;
			}
			if (!et || q != nq - 1 || !db_etag_keep(db, res))
				PQclear(res);
		}
	if (!bad && PQstatus(db->conn) == CONNECTION_OK && et &&
	    (rc = db_etag_give(db)) != APP_OK)
		bad = 1;
	if (bad || PQstatus(db->conn) != CONNECTION_OK) {
		/* Aborted statement, sync: then out of the pipeline. */
		db_disconnect(db);
		return bad && rc != APP_OK ? rc : APP_DBDOWN;
	}
	db->streaming = 2;
	return APP_OK;
}

/* Sends a streamed statement (db_stream); APP_OK when it is on its way. */
static enum app_err
stream_send(struct db *db, enum db_stmt s, const char *const *params)
{
	enum app_err	 rc;
	int		 retry, et = db->etag_fn != NULL;

	if ((rc = db_ensure(db)) != APP_OK)
		return rc;
	if ((rc = db_prepare(db, s, &retry)) != APP_OK)
		return rc;
	if (et && (rc = db_prepare(db, DB_ETAG, &retry)) != APP_OK) {
		db->etag_failed = 1;
		return rc;
	}
	if (!db->o.prepare || et) {
		if ((rc = stream_ahead(db, s, params, et)) != APP_OK)
			return rc;
	} else if (!db_send_stmt(db, s, params)) {
		db_set_err(db, "send", NULL);
		db_disconnect(db);
		return APP_DBDOWN;
	}
	if (!PQsetSingleRowMode(db->conn)) {
		db_set_err(db, "single row mode", NULL);
		db_disconnect(db);
		return APP_SYSTEM;
	}
	if (!db->streaming)
		db->streaming = 1;
	return APP_OK;
}

/*
 * Keeps the stream's first result for db_stream_next, after checking
 * its columns when they are not yet (a row, or the end of no rows; an
 * error is db_stream_next's to report).  Columns that disagree give up
 * the stream (the connection is dropped): APP_SYSTEM.
 */
static enum app_err
first_row(struct db *db, enum db_stmt s, PGresult *res)
{
	ExecStatusType	 rs = PQresultStatus(res);
	enum app_err	 rc;

	if ((rs == PGRES_SINGLE_TUPLE || rs == PGRES_TUPLES_OK) &&
	    !db_colmap(db, s)->ok &&
	    (rc = db_cols_check(db, s, res)) != APP_OK) {
		PQclear(res);
		db_disconnect(db);
		return rc;
	}
	db_res_init(&db->srow, db, s, NULL);
	db->srow.embedded = 1;
	db->first = res;
	db->have_first = 1;
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
			db_set_err(db, "stream", res);
			PQclear(res);
			db_disconnect(db);
			continue;
		}
		return first_row(db, s, res);
	}
	return rc;
}

/*
 * Next row of the stream: 1 with *row (one row, index 0, decoded with
 * its layout's decoder; free it with db_res_free before the next call),
 * 0 at the end, -1 on error with *err set.  After 0 or -1 the stream is
 * over.
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
		db->srow.pg = res;
		*row = &db->srow;
		return 1;
	}
	/* The final result (TUPLES_OK with no rows, or an error). */
	if (res == NULL) {
		db_set_err(db, "stream", NULL);
		*err = APP_DBDOWN;
		ret = -1;
	} else if ((rs = PQresultStatus(res)) != PGRES_TUPLES_OK) {
		db_set_err(db, "stream", res);
		*err = rs == PGRES_FATAL_ERROR ? db_classify(db, res, &retry) :
		    APP_SYSTEM;
		ret = -1;
	}
	PQclear(res);
	while ((res = PQgetResult(db->conn)) != NULL)
		PQclear(res);
	if (db->streaming == 2 && PQstatus(db->conn) == CONNECTION_OK) {
		/* Pipelined (prepare off): the sync, then leave the pipeline. */
		if (!db_end_pipeline(db)) {
			if (ret == 0) {
				*err = APP_DBDOWN;
				ret = -1;
			}
			return ret;
		}
	}
	db->streaming = 0;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		db_disconnect(db);
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
		db_disconnect(db);
}

