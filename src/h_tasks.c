/*
 * h_tasks.c: the uniqc /api/tasks router (SPEC 2.1) and the per-task
 * archive route.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "req.h"
#include "resp.h"
#include "db.h"
#include "rows.h"
#include "jsonw.h"
#include "h.h"

enum app_err
h_tasks_list(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	(void)id;
	return h_list(r, w, db, 0);
}

static enum app_err
not_found(struct resp *w, const char *what, const struct str *id)
{
	resp_set_detail(w, what, id, "' not found");
	return APP_NOTFOUND;
}

/* Shared by the active and archive detail routes. */
static enum app_err
detail(struct resp *w, struct db *db, const struct str *id, int archived)
{
	struct db_res	*res;
	struct task_row	 t;
	enum app_err	 rc;
	const char	*pv[1];
	const char	*what = archived ? "Archived task '" : "Task '";

	if (id->bad)
		return not_found(w, what, id);
	pv[0] = id->p;
	if ((rc = db_exec(db, archived ? DB_AGET : DB_GET, pv, &res)) != APP_OK)
		return rc;
	if (db_nrows(res) == 0) {
		db_res_free(res);
		return not_found(w, what, id);
	}
	if ((rc = db_task_row(res, 0, &t)) == APP_OK)
		jsonw_task(&w->body, &t, 1);
	db_res_free(res);
	return rc;
}

enum app_err
h_tasks_get(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	(void)r;
	return detail(w, db, id, 0);
}

enum app_err
h_archive_get(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	(void)r;
	return detail(w, db, id, 1);
}

enum app_err
h_tasks_shards(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	struct db_res	*res;
	enum app_err	 rc;
	const char	*pv[1];
	size_t		 i, n;
	struct buf	*b = &w->body;
	struct shard_row sr;
	int		 is_shard;

	(void)r;
	if (id->bad)
		return not_found(w, "Task '", id);
	pv[0] = id->p;
	if ((rc = db_exec(db, DB_SHARDS, pv, &res)) != APP_OK)
		return rc;
	if ((n = db_nrows(res)) == 0) {
		db_res_free(res);
		return not_found(w, "Task '", id);
	}
	/*
	 * Shards, or the task's one row without any (a LEFT JOIN, see
	 * DB_SHARDS): then the first row says so.
	 */
	if ((rc = db_shard_row(res, 0, &sr, &is_shard)) != APP_OK)
		goto out;
	jsonw_shards_open(b, id->p, id->len, is_shard ? n : 0);
	for (i = 0; i < n && is_shard; i++) {
		if (i > 0 && (rc = db_shard_row(res, i, &sr, &is_shard)) !=
		    APP_OK)
			goto out;
		jsonw_sep(b, i);
		jsonw_shard(b, &sr);
	}
	jsonw_shards_close(b);
out:
	db_res_free(res);
	return rc;
}

/*
 * Runs a bulk statement (one outcome row per given id, in order) over
 * ids; ids that cannot be stored (bad) are left out and their outcome
 * is "missing" ('m' or false).  outcome[i] receives 'a', 'c', 'm', 't'
 * (true) or 'f' (false) for each input id.
 */
static enum app_err
bulk(struct db *db, enum db_stmt s, struct str *ids, size_t n, char *outcome)
{
	const char	**v = NULL;
	size_t		 *len = NULL, i, k, good = 0;
	struct buf	 arr;
	const char	*pv[1];
	struct db_res	*res = NULL;
	struct outcome_row o;
	enum app_err	 rc = APP_OK;

	for (i = 0; i < n; i++)
		outcome[i] = 'm';
	buf_init(&arr);
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL ||
	    (len = calloc(n ? n : 1, sizeof(*len))) == NULL) {
		rc = APP_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!ids[i].bad) {
			v[good] = ids[i].p;
			len[good++] = ids[i].len;
		}
	if (good == 0)
		goto out;
	db_array(&arr, v, len, good);
	if (arr.oom) {
		rc = APP_NOMEM;
		goto out;
	}
	pv[0] = arr.p;
	if ((rc = db_exec(db, s, pv, &res)) != APP_OK)
		goto out;
	if (db_nrows(res) != good) {
		rc = APP_SYSTEM;
		goto out;
	}
	for (i = 0, k = 0; i < n; i++) {
		if (ids[i].bad)
			continue;
		if ((rc = db_outcome_row(res, k++, &o)) != APP_OK)
			goto out;
		outcome[i] = o.kind;
	}
out:
	db_res_free(res);
	buf_free(&arr);
	free(v);
	free(len);
	return rc;
}

static void
free_ids(struct str *ids, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		req_str_free(&ids[i]);
	free(ids);
}

/* Collects the ids whose outcome is one of set, in order, into l. */
static void
pick(struct str *ids, const char *outcome, size_t n, const char *set,
    struct rtext *sel, struct jsonw_idlist *l)
{
	size_t	 i, k = 0;

	for (i = 0; i < n; i++)
		if (strchr(set, outcome[i]) != NULL) {
			sel[k].p = ids[i].p;
			sel[k++].len = ids[i].len;
		}
	l->v = sel;
	l->n = k;
}

static enum app_err
bulk_route(struct req *r, struct resp *w, struct db *db, int archive)
{
	struct str	 *ids = NULL;
	struct rtext	 *sel = NULL;
	struct jsonw_idlist l[3];
	struct jsonw_filter jf;
	char		 *outcome = NULL;
	size_t		  n = 0;
	enum app_err	  rc;
	struct buf	 *b = &w->body;

	memset(&jf, 0, sizeof(jf));
	rc = h_bulk_ids(r, w, &ids, &n, &jf);
	if (rc == APP_OK && jf.given)
		rc = h_bulk_filter(w, db, archive, &jf);
	if (rc != APP_OK || jf.given) {
		jsonw_filter_free(&jf);
		free_ids(ids, n);
		return rc;
	}
	if ((outcome = malloc(n + 1)) == NULL ||
	    (sel = calloc(3 * (n + 1), sizeof(*sel))) == NULL) {
		rc = APP_NOMEM;
		goto out;
	}
	rc = bulk(db, archive ? DB_BULK_ARCHIVE : DB_BULK_DELETE, ids, n,
	    outcome);
	if (rc != APP_OK)
		goto out;
	pick(ids, outcome, n, archive ? "a" : "t", sel, &l[0]);
	/* Ids never sent (they cannot be stored) stay 'm'. */
	pick(ids, outcome, n, archive ? "m" : "fm", sel + n + 1, &l[1]);
	pick(ids, outcome, n, archive ? "c" : "", sel + 2 * (n + 1), &l[2]);
	jsonw_moved(b, archive ? "archived" : "deleted", &l[0], &l[1], &l[2]);
out:
	free(sel);
	free(outcome);
	free_ids(ids, n);
	return rc;
}

enum app_err
h_tasks_bulk_delete(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	(void)id;
	return bulk_route(r, w, db, 0);
}

enum app_err
h_tasks_bulk_archive(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	(void)id;
	return bulk_route(r, w, db, 1);
}

/* DELETE /api/tasks/{id}: the bulk statement with one id. */
enum app_err
h_tasks_delete(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	char		 outcome;
	enum app_err	 rc;

	(void)r;
	if ((rc = bulk(db, DB_BULK_DELETE, (struct str *)id, 1, &outcome)) !=
	    APP_OK)
		return rc;
	if (outcome != 't')
		return not_found(w, "Task '", id);
	jsonw_one(&w->body, "deleted", id->p, id->len);
	return APP_OK;
}

/* POST /api/tasks/{id}/archive */
enum app_err
h_tasks_archive_one(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	char		 outcome;
	enum app_err	 rc;

	(void)r;
	if ((rc = bulk(db, DB_BULK_ARCHIVE, (struct str *)id, 1, &outcome)) !=
	    APP_OK)
		return rc;
	if (outcome == 'c') {
		resp_set_detail(w, "Task '", id, "' is already archived");
		return APP_CONFLICT;
	}
	if (outcome != 'a')
		return not_found(w, "Task '", id);
	jsonw_one(&w->body, "archived", id->p, id->len);
	return APP_OK;
}

/* The cutoff must stay within Python's datetime years 1..9999. */
#define MIN_UNIX_S	(-62135596800LL)	/* 0001-01-01T00:00:00Z */
#define MAX_UNIX_S	253402300799LL		/* 9999-12-31T23:59:59Z */

static int
cutoff_ok(int64_t hours)
{
	int64_t	 now = (int64_t)time(NULL), cut;

	if (hours > 4000000000LL || hours < -4000000000LL)
		return 0;
	cut = now - hours * 3600;
	return cut >= MIN_UNIX_S && cut <= MAX_UNIX_S;
}

/*
 * POST /api/tasks/archive-expired?hours=72&terminal_only=true
 */
enum app_err
h_tasks_archive_expired(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	const struct str *hs = req_query(r, "hours");
	const struct str *ts = req_query(r, "terminal_only");
	int64_t		 hours = 72;
	int		 term = 1, bad = 0;
	char		 hbuf[24];
	const char	*pv[2];
	struct db_res	*res;
	enum app_err	 rc;
	size_t		 n;
	struct buf	*b = &w->body;
	struct rtext	*sel;
	struct jsonw_idlist l[3];

	(void)id;
	if (hs != NULL && !req_parse_int(hs->p, hs->len, &hours)) {
		jsonw_qerr_open(b);
		jsonw_qerr(b, "int_parsing", "hours", "Input should be a valid "
		    "integer, unable to parse string as an integer", hs);
		bad = 1;
	} else if (hs != NULL && !cutoff_ok(hours)) {
		jsonw_qerr_open(b);
		jsonw_qerr(b, "value_error", "hours", "Value error, hours "
		    "puts the cutoff outside the representable date range", hs);
		bad = 1;
	}
	if (ts != NULL && !req_parse_bool(ts->p, ts->len, &term)) {
		if (!bad)
			jsonw_qerr_open(b);
		jsonw_qerr(b, "bool_parsing", "terminal_only", "Input should "
		    "be a valid boolean, unable to interpret input", ts);
		bad = 1;
	}
	if (bad) {
		jsonw_qerr_close(b);
		return APP_INVALID;
	}
	snprintf(hbuf, sizeof(hbuf), "%lld", (long long)hours);
	pv[0] = hbuf;
	pv[1] = term ? "true" : "false";
	if ((rc = db_exec(db, DB_EXPIRE, pv, &res)) != APP_OK)
		return rc;
	n = db_nrows(res);
	if ((sel = calloc(3 * (n + 1), sizeof(*sel))) == NULL) {
		db_res_free(res);
		return APP_NOMEM;
	}
	/* Rows (kind, id): 'a'rchived, 's'kipped, 'c'onflict. */
	if ((rc = h_outcome_list(res, 'a', sel, &l[0])) == APP_OK &&
	    (rc = h_outcome_list(res, 's', sel + n + 1, &l[1])) == APP_OK &&
	    (rc = h_outcome_list(res, 'c', sel + 2 * (n + 1), &l[2])) ==
	    APP_OK)
		jsonw_expired(b, &l[0], hours, term, &l[1], &l[2]);
	free(sel);
	db_res_free(res);
	return rc;
}

static const struct str *const *cmp_base;

static int
cmp_idx(const void *a, const void *b)
{
	const struct str	*x = cmp_base[*(const size_t *)a];
	const struct str	*y = cmp_base[*(const size_t *)b];
	size_t			 n = x->len < y->len ? x->len : y->len;
	int			 c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	/* Equal ids: the earlier first. */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/*
 * Marks in first[] the first occurrence of each distinct id (by its
 * bytes as written out).  Returns 0 on allocation failure.
 */
static int
first_occurrences(struct str *ids, size_t n, char *first)
{
	size_t			 *ix, i;
	const struct str	**v;

	if ((ix = calloc(n ? n : 1, sizeof(*ix))) == NULL)
		return 0;
	if ((v = calloc(n ? n : 1, sizeof(*v))) == NULL) {
		free(ix);
		return 0;
	}
	for (i = 0; i < n; i++) {
		ix[i] = i;
		v[i] = &ids[i];
	}
	cmp_base = v;
	qsort(ix, n, sizeof(*ix), cmp_idx);
	for (i = 0; i < n; i++)
		first[ix[i]] = i == 0 ||
		    cmp_base[ix[i]]->len != cmp_base[ix[i - 1]]->len ||
		    memcmp(cmp_base[ix[i]]->p, cmp_base[ix[i - 1]]->p,
		    cmp_base[ix[i]]->len) != 0;
	cmp_base = NULL;
	free(v);
	free(ix);
	return 1;
}

/*
 * POST /api/tasks/lookup {"task_ids":[...]} (SPEC 4.4): the summary of
 * each id (archived ones with archived_at), null for an unknown one, in
 * the order given, each id once; one statement.  A read: it runs on
 * read_database when one is set.  Its rows are read as they come
 * (db_stream), so that the answer is written while PostgreSQL is still
 * finding the later ids: the two work at once instead of in turn.  The
 * answer is kept whole until the last row, so an error midway (a
 * timeout) still answers its status alone.
 */
enum app_err
h_tasks_lookup(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	struct str	 *ids = NULL;
	char		 *first = NULL;
	const char	**v = NULL;
	size_t		 *len = NULL, n = 0, i, good = 0, out = 0;
	struct buf	  arr;
	struct db_res	 *row = NULL;
	struct lookup_row lr;
	const char	 *pv[1];
	enum app_err	  rc, e;
	int		  ask, have, more = 0;
	struct buf	 *b = &w->body;

	(void)id;
	buf_init(&arr);
	if ((rc = h_ids(r, w, &ids, &n)) != APP_OK)
		return rc;
	if ((first = calloc(n + 1, 1)) == NULL ||
	    (v = calloc(n + 1, sizeof(*v))) == NULL ||
	    (len = calloc(n + 1, sizeof(*len))) == NULL ||
	    !first_occurrences(ids, n, first)) {
		rc = APP_NOMEM;
		goto out;
	}
	/* Each distinct id once: the statement answers a row per id. */
	for (i = 0; i < n; i++)
		if (!ids[i].bad && first[i]) {
			v[good] = ids[i].p;
			len[good++] = ids[i].len;
		}
	if (good > 0) {
		db_array(&arr, v, len, good);
		if (arr.oom) {
			rc = APP_NOMEM;
			goto out;
		}
		pv[0] = arr.p;
		if ((rc = db_stream(db, DB_LOOKUP, pv)) != APP_OK)
			goto out;
		more = 1;
	}
	jsonw_lookup_open(b);
	for (i = 0; i < n; i++) {
		have = 0;
		/* The rows come in the order of the good ids' first use. */
		ask = !ids[i].bad && first[i];
		if (ask && more && row == NULL) {
			switch (db_stream_next(db, &row, &e)) {
			case 1:
				if ((rc = db_lookup_row(row, 0, &lr)) != APP_OK)
					goto out;
				break;
			case 0:
				more = 0;
				break;
			default:
				more = 0;
				rc = e;
				goto out;
			}
		}
		if (ask && row != NULL && lr.id.p != NULL &&
		    lr.id.len == ids[i].len && memcmp(lr.id.p, ids[i].p, lr.id.len) == 0)
			have = lr.found ? 1 : 2;
		if (first[i]) {
			jsonw_lookup_key(b, out++, ids[i].p, ids[i].len);
			if (have == 1)
				jsonw_task(b, &lr.task, 0);
			else
				jsonw_null(b);
		}
		/* (lr points into row: freed once written) */
		if (have) {
			db_res_free(row);
			row = NULL;
		}
	}
	jsonw_lookup_close(b);
	rc = b->oom ? APP_NOMEM : APP_OK;
out:
	db_res_free(row);
	if (more) {
		/* The end of the stream (or its error), or give it up. */
		if (rc == APP_OK) {
			while (db_stream_next(db, &row, &e) == 1) {
				db_res_free(row);
				row = NULL;
			}
			rc = e;
		} else
			db_stream_abort(db);
	}
	buf_free(&arr);
	free(len);
	free(v);
	free(first);
	free_ids(ids, n);
	return rc;
}
