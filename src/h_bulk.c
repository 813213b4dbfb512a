/*
 * h_bulk.c: bulk-delete and bulk-archive by filter (SPEC 4.5): a dry
 * run (matched and a sample), or the real run guarded by max_affected,
 * in one statement (one transaction): the matching rows are locked in
 * task_id order, counted, and deleted or moved only when there are no
 * more than max_affected; the answer is the id form's.
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
 * The ids of kind k, in order, from the rows (kind, id) after the first
 * into sel (room for every row).
 */
static void
ids_of(const struct db_res *res, int k, struct rtext *sel,
    struct jsonw_idlist *l)
{
	size_t	 i, n = 0, kl;

	for (i = 1; res != NULL && i < db_nrows(res); i++) {
		if (db_text(res, i, 0, &kl) == NULL || db_int(res, i, 0) != k)
			continue;
		sel[n].p = db_text(res, i, 1, &sel[n].len);
		n++;
	}
	l->v = sel;
	l->n = n;
}

/* The dry run: {"dry_run":true,"matched":n,"sample":[first 20 ids]}. */
static enum app_err
dry_run(struct resp *w, struct db *db, struct filter *f)
{
	struct db_query	 q;
	struct db_res	*res = NULL, *cnt = NULL;
	enum app_err	 rc;
	size_t		 i;
	struct rtext	*sel;
	struct jsonw_idlist s;
	struct buf	*b = &w->body;

	if (!f->nomatch) {
		if ((rc = filter_sql(f, FILTER_COUNT, 0, 0, &q)) != APP_OK)
			return rc;
		db_dyn(db, &q);
		if ((rc = db_exec(db, DB_DYN, f->pv, &cnt)) != APP_OK)
			return rc;
		if ((rc = filter_sql(f, FILTER_SAMPLE, 0, 0, &q)) != APP_OK)
			goto out;
		db_dyn(db, &q);
		if ((rc = db_exec(db, DB_DYN, f->pv, &res)) != APP_OK)
			goto out;
	}
	s.n = res != NULL ? db_nrows(res) : 0;
	if ((sel = calloc(s.n + 1, sizeof(*sel))) == NULL) {
		rc = APP_NOMEM;
		goto out;
	}
	for (i = 0; i < s.n; i++)
		sel[i].p = db_text(res, i, 0, &sel[i].len);
	s.v = sel;
	jsonw_dry_run(b, cnt && db_nrows(cnt) ? db_int(cnt, 0, 0) : 0, &s);
	free(sel);
	rc = APP_OK;
out:
	db_res_free(cnt);
	db_res_free(res);
	return rc;
}

/*
 * POST bulk-delete / bulk-archive with {"filter":...}: jf parsed and
 * valid.  Returns APP_CONFLICT (409, detail set) when more tasks match
 * than max_affected allows.
 */
enum app_err
h_bulk_filter(struct resp *w, struct db *db, int archive,
    const struct jsonw_filter *jf)
{
	struct filter	 f;
	struct db_query	 q;
	struct db_res	*res = NULL;
	enum app_err	 rc;
	int64_t		 matched = 0;
	struct rtext	*sel;
	struct jsonw_idlist l[3];
	const char	*s;
	size_t		 sl;
	char		 msg[128];
	struct buf	*b = &w->body;

	buf_reset(b);
	filter_init(&f, 0);
	if ((rc = filter_from_json(&f, jf)) != APP_OK)
		goto out;
	if (jf->dry_run) {
		rc = dry_run(w, db, &f);
		goto out;
	}
	if (!f.nomatch) {
		if ((rc = filter_sql(&f, archive ? FILTER_BULK_ARCHIVE :
		    FILTER_BULK_DELETE, jf->max_affected, 0, &q)) != APP_OK)
			goto out;
		db_dyn(db, &q);
		if ((rc = db_exec(db, DB_DYN, f.pv, &res)) != APP_OK)
			goto out;
		if (db_nrows(res) > 0 && (s = db_text(res, 0, 1, &sl)) != NULL)
			matched = strtoll(s, NULL, 10);
	}
	if (matched > jf->max_affected) {
		snprintf(msg, sizeof(msg), "Filter matches %lld tasks, more "
		    "than max_affected %lld", (long long)matched,
		    (long long)jf->max_affected);
		resp_set_detail(w, msg, NULL, "");
		rc = APP_CONFLICT;
		goto out;
	}
	if ((sel = calloc(2 * (res ? db_nrows(res) : 0) + 1, sizeof(*sel))) ==
	    NULL) {
		rc = APP_NOMEM;
		goto out;
	}
	ids_of(res, 1, sel, &l[0]);
	ids_of(res, 2, sel + l[0].n, &l[2]);
	if (!archive)
		l[2].n = 0;
	l[1].v = NULL;
	l[1].n = 0;
	jsonw_moved(b, archive ? "archived" : "deleted", &l[0], &l[1], &l[2]);
	free(sel);
	rc = b->oom ? APP_NOMEM : APP_OK;
out:
	db_res_free(res);
	filter_free(&f);
	return rc;
}
