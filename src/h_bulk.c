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

/* The dry run: {"dry_run":true,"matched":n,"sample":[first 20 ids]}. */
static enum app_err
dry_run(struct resp *w, struct db *db, struct filter *f)
{
	struct db_query	 q;
	struct db_res	*res = NULL, *cnt = NULL;
	enum app_err	 rc = APP_OK;
	int64_t		 matched = 0;
	size_t		 n;
	struct rtext	*sel;
	struct jsonw_idlist sample;
	struct buf	*b = &w->body;

	if (!f->nomatch) {
		if ((rc = filter_sql(f, FILTER_COUNT, 0, 0, &q)) != APP_OK)
			return rc;
		db_dyn(db, &q);
		if ((rc = db_exec(db, DB_DYN, f->pv, &cnt)) != APP_OK)
			return rc;
		if ((rc = db_count(cnt, &matched)) != APP_OK ||
		    (rc = filter_sql(f, FILTER_SAMPLE, 0, 0, &q)) != APP_OK)
			goto out;
		db_dyn(db, &q);
		if ((rc = db_exec(db, DB_DYN, f->pv, &res)) != APP_OK)
			goto out;
	}
	/* The sample's rows are ids: outcome rows of kind 0. */
	n = res != NULL ? db_nrows(res) : 0;
	if ((sel = calloc(n + 1, sizeof(*sel))) == NULL) {
		rc = APP_NOMEM;
		goto out;
	}
	if ((rc = h_outcome_list(res, 0, sel, &sample)) == APP_OK)
		jsonw_dry_run(b, matched, &sample);
	free(sel);
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
	struct outcome_row first;
	enum app_err	 rc;
	int64_t		 matched = 0;
	size_t		 n;
	struct rtext	*sel;
	struct jsonw_idlist l[3];
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
		/* The first row: kind '0', the number matched. */
		if (db_nrows(res) > 0 &&
		    (rc = db_outcome_row(res, 0, &first)) != APP_OK)
			goto out;
		if (db_nrows(res) > 0 && first.kind == '0')
			matched = first.n;
	}
	if (matched > jf->max_affected) {
		snprintf(msg, sizeof(msg), "Filter matches %lld tasks, more "
		    "than max_affected %lld", (long long)matched,
		    (long long)jf->max_affected);
		resp_set_detail(w, msg, NULL, "");
		rc = APP_CONFLICT;
		goto out;
	}
	n = res != NULL ? db_nrows(res) : 0;
	if ((sel = calloc(2 * (n + 1), sizeof(*sel))) == NULL) {
		rc = APP_NOMEM;
		goto out;
	}
	l[1].v = NULL;
	l[1].n = 0;
	if ((rc = h_outcome_list(res, '1', sel, &l[0])) == APP_OK &&
	    (rc = h_outcome_list(archive ? res : NULL, '2', sel + n + 1,
	    &l[2])) == APP_OK)
		jsonw_moved(b, archive ? "archived" : "deleted", &l[0], &l[1],
		    &l[2]);
	free(sel);
	if (rc != APP_OK)
		goto out;
	rc = b->oom ? APP_NOMEM : APP_OK;
out:
	db_res_free(res);
	filter_free(&f);
	return rc;
}
