/*
 * h_common.c: what the task and archive handlers share: writing a task
 * row, the paginated list with its exact total, and reading the ids of
 * a bulk body.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "req.h"
#include "resp.h"
#include "db.h"
#include "rows.h"
#include "jsonw.h"
#include "filter.h"
#include "h.h"

/*
 * Writes one task object from a summary or detail row (see sql.c for
 * the column layout); detail selects "result" over "has_result".
 */
void
h_task_row(struct buf *b, const struct db_res *res, size_t row, int detail)
{
	struct task_row	 t;

	t.task_id.p = db_text(res, row, 0, &t.task_id.len);
	t.backend.p = db_text(res, row, 1, &t.backend.len);
	t.status.p = db_text(res, row, 2, &t.status.len);
	t.shots = db_int(res, row, 3);
	t.submit_time = db_time(res, row, 4);
	t.update_time = db_time(res, row, 5);
	t.has_result = 0;
	t.result.p = NULL;
	t.result.len = 0;
	if (detail)
		t.result.p = db_json(res, row, 6, &t.result.len);
	else
		t.has_result = db_bool(res, row, 6);
	t.metadata.p = db_json(res, row, 7, &t.metadata.len);
	t.archived = !db_isnull(res, row, 8);
	t.archived_at = t.archived ? db_time(res, row, 8) : 0;
	t.seq = 0;
	jsonw_task(b, &t, detail);
}

/* Parses an optional integer query parameter, adding a 422 item. */
static int
int_param(struct req *r, struct buf *err, const char *name, int64_t *v)
{
	const struct str	*s = req_query(r, name);

	if (s == NULL || req_parse_int(s->p, s->len, v))
		return 1;
	if (err->len == 0)
		jsonw_qerr_open(err);
	jsonw_qerr(err, "int_parsing", name, "Input should be a valid "
	    "integer, unable to parse string as an integer", s);
	return 0;
}

static enum app_err
fetch_count(struct db *db, enum db_stmt s, const char *const *pv,
    int64_t *n)
{
	struct db_res	*res;
	enum app_err	 rc;

	if ((rc = db_exec(db, s, pv, &res)) != APP_OK)
		return rc;
	*n = db_nrows(res) > 0 ? db_int(res, 0, 0) : 0;
	db_res_free(res);
	return APP_OK;
}

/*
 * What every list answer has after "total": the archive's "count" of
 * all archived tasks, then "limit" and "offset" as parsed.
 */
static enum app_err
list_end(struct jsonw_list_end *e, struct db *db, int archived,
    int64_t limit, int64_t offset)
{
	memset(e, 0, sizeof(*e));
	e->archived = archived;
	e->limit = limit;
	e->offset = offset;
	if (archived)
		return fetch_count(db, DB_ACOUNT, NULL, &e->count);
	return APP_OK;
}

/* Runs the count statement of f; 0 when nothing can match. */
static enum app_err
count_ext(struct db *db, struct filter *f, int64_t *n)
{
	struct db_query	 q;
	enum app_err	 rc;

	*n = 0;
	if (f->nomatch)
		return APP_OK;
	if ((rc = filter_sql(f, FILTER_COUNT, 0, 0, &q)) != APP_OK)
		return rc;
	db_dyn(db, &q);
	return fetch_count(db, DB_DYN, f->pv, n);
}

/*
 * The list with the 4.1 parameters (f parsed, no errors): rows by the
 * filters, order and cursor, then total (or null), the archive's count,
 * limit, offset and, when paging with a cursor, next_cursor.
 */
static enum app_err
list_ext(struct resp *w, struct db *db, struct filter *f, int64_t limit,
    int64_t offset)
{
	struct buf	*b = &w->body;
	struct db_query	 q;
	struct db_res	*row;
	enum app_err	 rc, e;
	size_t		 nrow = 0;
	int		 more = 0, r;
	int64_t		 total = 0, lt = f->cur_time, ls = f->cur_seq;
	int		 lpos = f->cur_pos;
	struct jsonw_list_end end;
	struct buf	 cur;

	buf_reset(b);
	jsonw_list_open(b);
	if (!f->nomatch && (limit != 0 || f->cursor)) {
		if ((rc = filter_sql(f, FILTER_LIST, limit, offset, &q)) !=
		    APP_OK)
			return rc;
		db_dyn(db, &q);
		if ((rc = db_stream(db, DB_DYN, f->pv)) != APP_OK)
			return rc;
		while ((r = db_stream_next(db, &row, &e)) == 1) {
			if (f->cursor && limit >= 0 && nrow == (size_t)limit) {
				more = 1;	/* the row of the next page */
				db_res_free(row);
				continue;
			}
			jsonw_sep(b, nrow++);
			h_task_row(b, row, 0, 0);
			lpos = 1;
			lt = db_time(row, 0, 4);
			ls = db_int(row, 0, 9);
			db_res_free(row);
			if ((rc = resp_stream(w)) != APP_OK) {
				db_stream_abort(db);
				return rc;
			}
		}
		if (e != APP_OK)
			return e;
	}
	if (!f->total_none && (rc = count_ext(db, f, &total)) != APP_OK)
		return rc;
	if ((rc = list_end(&end, db, f->archived, limit, offset)) != APP_OK)
		return rc;
	end.total = total;
	end.total_null = f->total_none;
	end.cursor = f->cursor;
	buf_init(&cur);
	if (f->cursor && more) {
		filter_cursor(&cur, f, lpos, lt, ls);	/* quoted */
		if (cur.oom)
			b->oom = 1;
		else {
			end.next = cur.p + 1;
			end.nextlen = cur.len - 2;
		}
	}
	jsonw_list_close(b, &end);
	buf_free(&cur);
	return APP_OK;
}

/*
 * GET /api/tasks and /api/archive: filters, limit/offset (echoed as
 * parsed; a negative limit is no limit, a negative offset is 0), the
 * rows streamed, then the exact total (and for the archive the count of
 * all archived tasks).
 */
enum app_err
h_list(struct req *r, struct resp *w, struct db *db, int archived)
{
	const struct str *st = req_query(r, "status");
	const struct str *be = req_query(r, "backend");
	int64_t		 limit = 100, offset = 0, total = 0;
	char		 ls[24], os[24];
	struct jsonw_list_end end;
	const char	*pv[4];
	int		 np = 0, which = 0, ok, nomatch;
	struct db_res	*row;
	enum db_stmt	 ls_stmt, cs_stmt;
	enum app_err	 rc, e;
	size_t		 nrow = 0;
	struct buf	*b = &w->body;
	struct filter	 f;

	ok = int_param(r, b, "limit", &limit);
	ok &= int_param(r, b, "offset", &offset);
	filter_init(&f, archived);
	rc = filter_parse(&f, r, b);
	if (rc == APP_OK && f.extended) {
		rc = list_ext(w, db, &f, limit, offset);
		filter_free(&f);
		return rc;
	}
	filter_free(&f);
	if (!ok || rc == APP_INVALID) {
		jsonw_qerr_close(b);
		return APP_INVALID;
	}
	if (rc == APP_BADREQ)
		resp_set_detail(w, "Invalid cursor", NULL, "");
	if (rc != APP_OK)
		return rc;
	buf_reset(b);
	/* A filter holding NUL or invalid UTF-8 names nothing stored. */
	nomatch = (st != NULL && st->bad) || (be != NULL && be->bad);
	if (st != NULL) {
		pv[np++] = st->p;
		which |= 1;
	}
	if (be != NULL) {
		pv[np++] = be->p;
		which |= 2;
	}
	ls_stmt = (archived ? DB_ALIST : DB_LIST) + which;
	cs_stmt = (archived ? DB_ACOUNT : DB_COUNT) + which;
	snprintf(ls, sizeof(ls), "%lld", (long long)limit);
	snprintf(os, sizeof(os), "%lld", (long long)(offset < 0 ? 0 : offset));
	pv[np] = limit < 0 ? NULL : ls;
	pv[np + 1] = os;

	jsonw_list_open(b);
	if (!nomatch && limit != 0) {
		if ((rc = db_stream(db, ls_stmt, pv)) != APP_OK)
			return rc;
		while (db_stream_next(db, &row, &e) == 1) {
			jsonw_sep(b, nrow++);
			h_task_row(b, row, 0, 0);
			db_res_free(row);
			if ((rc = resp_stream(w)) != APP_OK) {
				db_stream_abort(db);
				return rc;
			}
		}
		if (e != APP_OK)
			return e;
	}
	if (!nomatch && (rc = fetch_count(db, cs_stmt, pv, &total)) != APP_OK)
		return rc;
	if ((rc = list_end(&end, db, archived, limit, offset)) != APP_OK)
		return rc;
	end.total = total;
	jsonw_list_close(b, &end);
	return APP_OK;
}

/*
 * Reads and validates the body of a bulk request.  On APP_OK *ids holds
 * the ids in order (free each with req_str_free, then the array).  On
 * APP_INVALID the 422 body is in the response.
 */
enum app_err
h_ids(struct req *r, struct resp *w, struct str **ids, size_t *n)
{
	return h_bulk_ids(r, w, ids, n, NULL);
}

/*
 * h_ids, and with jf set the by-filter form (SPEC 4.5): when the body
 * has "filter", jf->given is set and *ids is empty.  jf must be zeroed
 * by the caller, and freed with jsonw_filter_free whatever this
 * returns.
 */
enum app_err
h_bulk_ids(struct req *r, struct resp *w, struct str **ids, size_t *n,
    struct jsonw_filter *jf)
{
	struct jsonw_ids	 j;
	enum app_err		 rc;
	size_t			 i;

	*ids = NULL;
	*n = 0;
	if ((rc = req_body(r, r->max_body)) != APP_OK) {
		if (rc == APP_BADREQ && r->content_length >= 0)
			resp_set_detail(w, "Request body incomplete: fewer "
			    "bytes than Content-Length", NULL, "");
		return rc;
	}
	rc = jsonw_parse_bulk(r->body, r->bodylen,
	    r->content_length != 0 && r->bodylen > 0, r->content_type,
	    r->max_ids, &j, jf, &w->body);
	if (rc == APP_TOOBIG && jf != NULL && jf->given)
		resp_set_detail(w, "Request body too large: a body with a "
		    "filter is at most 64 KiB", NULL, "");
	else if (rc == APP_TOOBIG) {
		char	 msg[96];

		snprintf(msg, sizeof(msg), "Too many task ids (at most %zu)",
		    r->max_ids);
		resp_set_detail(w, msg, NULL, "");
	}
	if (rc != APP_OK)
		return rc;
	/* An id over max_id_length names no stored task: "missing". */
	for (i = 0; i < j.n; i++)
		if (r->max_id_len > 0 && j.ids[i].len > r->max_id_len)
			j.ids[i].bad = 1;
	*ids = j.ids;
	*n = j.n;
	return APP_OK;
}
