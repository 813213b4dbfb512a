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
#include "jsonw.h"
#include "filter.h"
#include "h.h"

/* ,"name":[ids of kind k, in order] from the rows (kind, id). */
static void
ids_of(struct buf *b, const char *name, const struct db_res *res, char k)
{
	size_t		 i, n = 0, kl, il;
	const char	*kind, *id;

	buf_adds(b, name);
	buf_addc(b, '[');
	for (i = 1; i < db_nrows(res); i++) {
		kind = db_text(res, i, 0, &kl);
		if (kind == NULL || db_int(res, i, 0) != k - '0')
			continue;
		id = db_text(res, i, 1, &il);
		if (n++ > 0)
			buf_addc(b, ',');
		jsonw_str(b, id ? id : "", il);
	}
	buf_addc(b, ']');
}

static size_t
count_of(const struct db_res *res, int k)
{
	size_t	 i, n = 0;

	for (i = 1; i < db_nrows(res); i++)
		if (db_int(res, i, 0) == k)
			n++;
	return n;
}

/* The dry run: {"dry_run":true,"matched":n,"sample":[first 20 ids]}. */
static enum app_err
dry_run(struct resp *w, struct db *db, struct filter *f)
{
	struct db_query	 q;
	struct db_res	*res = NULL, *cnt = NULL;
	enum app_err	 rc;
	size_t		 i, l;
	const char	*id;
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
	buf_adds(b, "{\"dry_run\":true,\"matched\":");
	buf_addi(b, cnt && db_nrows(cnt) ? (long long)db_int(cnt, 0, 0) : 0);
	buf_adds(b, ",\"sample\":[");
	for (i = 0; res != NULL && i < db_nrows(res); i++) {
		id = db_text(res, i, 0, &l);
		if (i > 0)
			buf_addc(b, ',');
		jsonw_str(b, id ? id : "", l);
	}
	buf_adds(b, "]}");
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
	size_t		 count;
	const char	*s;
	size_t		 l;
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
		if (db_nrows(res) > 0 && (s = db_text(res, 0, 1, &l)) != NULL)
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
	count = res ? count_of(res, 1) : 0;
	if (res != NULL)
		ids_of(b, archive ? "{\"archived\":" : "{\"deleted\":", res, '1');
	else
		buf_adds(b, archive ? "{\"archived\":[]" : "{\"deleted\":[]");
	buf_adds(b, ",\"missing\":[],\"count\":");
	buf_addu(b, count);
	if (archive && res != NULL && count_of(res, 2) > 0)
		ids_of(b, ",\"conflicts\":", res, '2');
	buf_addc(b, '}');
	rc = b->oom ? APP_NOMEM : APP_OK;
out:
	db_res_free(res);
	filter_free(&f);
	return rc;
}
