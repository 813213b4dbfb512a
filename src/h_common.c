/*
 * h_common.c: what the task and archive handlers share: the paginated
 * list with its exact total, and reading the ids of a bulk body.
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
#include "count_cache.h"
#include "h.h"

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
	rc = db_count(res, n);
	db_res_free(res);
	return rc;
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

/* What stream_tasks wrote: rows, the last one's keys, one more. */
struct page {
	size_t		 n;
	int64_t		 last_time, last_seq;
	int		 more;
};

/*
 * Writes the rows of the stream db_stream() started as task summaries,
 * comma-separated, flushing as the body grows.  With max >= 0, a row
 * past the first max is not written but sets pg->more (a cursor asks for
 * one row more than the page).  On an error the stream is given up.
 */
static enum app_err
stream_tasks(struct resp *w, struct db *db, int64_t max, struct page *pg)
{
	struct db_res	*row;
	struct task_row	 t;
	enum app_err	 rc, e;

	memset(pg, 0, sizeof(*pg));
	while (db_stream_next(db, &row, &e) == 1) {
		if (max >= 0 && pg->n == (size_t)max) {
			pg->more = 1;	/* the row of the next page */
			db_res_free(row);
			continue;
		}
		/* (t points into row: written before it is freed) */
		if ((rc = db_task_row(row, 0, &t)) == APP_OK) {
			jsonw_sep(&w->body, pg->n++);
			jsonw_task(&w->body, &t, 0);
			pg->last_time = t.submit_time;
			pg->last_seq = t.seq;
		}
		db_res_free(row);
		if (rc == APP_OK)
			rc = resp_stream(w);
		if (rc != APP_OK) {
			db_stream_abort(db);
			return rc;
		}
	}
	return e;
}

/* The change counter this request's tag was read at, in t; or NULL. */
static const struct cc_tag *
tag_of(const struct resp *w, struct cc_tag *t)
{
	if (!w->tag_read)
		return NULL;
	t->changes = w->tag_changes;
	t->salt = w->tag_salt;
	return t;
}

/*
 * Runs the count statement of f; 0 when nothing can match.  A count
 * the counters cannot answer is kept for the change counter this
 * request's tag was read at, and taken from there while it holds
 * (count_cache.c); the counters' own sums are cheaper than a look-up.
 */
static enum app_err
count_ext(struct resp *w, struct db *db, struct filter *f, int64_t *n)
{
	struct db_query	 q;
	struct cc_tag	 t;
	enum app_err	 rc;
	int		 keep;

	*n = 0;
	if (f->nomatch)
		return APP_OK;
	if ((rc = filter_sql(f, FILTER_COUNT, 0, 0, &q)) != APP_OK)
		return rc;
	keep = !filter_counted(f);
	if (keep && cc_get(tag_of(w, &t), &q, f->pv, n))
		return APP_OK;
	db_dyn(db, &q);
	if ((rc = fetch_count(db, DB_DYN, f->pv, n)) != APP_OK)
		return rc;
	/* (a tag read in this statement's pipeline was read ahead of it) */
	if (keep)
		cc_put(tag_of(w, &t), &q, f->pv, *n);
	return APP_OK;
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
	struct page	 pg;
	enum app_err	 rc;
	int64_t		 total = 0;
	struct jsonw_list_end end;
	struct buf	 cur;

	memset(&pg, 0, sizeof(pg));
	buf_reset(b);
	jsonw_list_open(b);
	if (!f->nomatch && (limit != 0 || f->cursor)) {
		filter_meta_index(f, db);
		if ((rc = filter_sql(f, FILTER_LIST, limit, offset, &q)) !=
		    APP_OK)
			return rc;
		db_dyn(db, &q);
		if ((rc = db_stream(db, DB_DYN, f->pv)) != APP_OK)
			return rc;
		if ((rc = stream_tasks(w, db, f->cursor ? limit : -1, &pg)) !=
		    APP_OK)
			return rc;
	}
	if (!f->total_none && (rc = count_ext(w, db, f, &total)) != APP_OK)
		return rc;
	if ((rc = list_end(&end, db, f->archived, limit, offset)) != APP_OK)
		return rc;
	end.total = total;
	end.total_null = f->total_none;
	end.cursor = f->cursor;
	buf_init(&cur);
	if (f->cursor && pg.more) {
		/* filter_cursor() writes the cursor quoted */
		if (pg.n > 0)
			filter_cursor(&cur, f, 1, pg.last_time, pg.last_seq);
		else
			filter_cursor(&cur, f, f->cur_pos, f->cur_time,
			    f->cur_seq);
		if (cur.oom || cur.len < 2)
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
	const char	*pv[4];
	int		 np = 0, which = 0, ok, nomatch;
	enum db_stmt	 ls_stmt, cs_stmt;
	enum app_err	 rc;
	struct page	 pg;
	struct jsonw_list_end end;
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
		if ((rc = db_stream(db, ls_stmt, pv)) != APP_OK ||
		    (rc = stream_tasks(w, db, -1, &pg)) != APP_OK)
			return rc;
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

/*
 * The ids of res's outcome rows of kind k, in the rows' order, as *l;
 * sel has room for every row of res (res may be NULL: none).
 */
enum app_err
h_outcome_list(const struct db_res *res, char k, struct rtext *sel,
    struct jsonw_idlist *l)
{
	struct outcome_row	 o;
	size_t			 i;
	enum app_err		 rc;

	l->v = sel;
	l->n = 0;
	for (i = 0; res != NULL && i < db_nrows(res); i++) {
		if ((rc = db_outcome_row(res, i, &o)) != APP_OK)
			return rc;
		if (o.kind == k)
			sel[l->n++] = o.id;
	}
	return APP_OK;
}
