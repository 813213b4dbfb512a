/*
 * h_counts.c: GET /api/tasks/counts (SPEC 2.1), with the filters and
 * by=backend of SPEC 4.2.  Every answer comes from grouped sums: over
 * the counters (task_counts) when only status and backend filters are
 * given, which costs the same whatever the size of the table, else
 * count(*) over the filters' index.
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

static const char *const names[] = {
	"pending", "running", "success", "failed", "cancelled"
};

/* The index of status s[0..len) among names, or -1. */
static int
status_index(const char *s, size_t len)
{
	size_t	 k;

	for (k = 0; s != NULL && k < NELEM(names); k++)
		if (strlen(names[k]) == len && memcmp(names[k], s, len) == 0)
			return (int)k;
	return -1;
}

/*
 * With 4.2 parameters: rows (status, backend, n) ordered by backend
 * (bytes); the totals of each status, then by_backend when asked.
 */
static enum app_err
counts_ext(struct resp *w, struct db *db, struct filter *f)
{
	int64_t		 n[NELEM(names)] = { 0 }, bn[NELEM(names)];
	struct db_res	*res = NULL;
	struct db_query	 q;
	struct count_row cr, g;
	enum app_err	 rc = APP_OK;
	size_t		 i, k, nr = 0;
	int		 si;
	struct buf	*b = &w->body;
	struct jsonw_counts *c = NULL;

	buf_reset(b);
	if (!f->nomatch) {
		if ((rc = filter_sql(f, FILTER_GROUP, 0, 0, &q)) != APP_OK)
			return rc;
		db_dyn(db, &q);
		if ((rc = db_exec(db, DB_DYN, f->pv, &res)) != APP_OK)
			return rc;
		nr = db_nrows(res);
	}
	for (i = 0; i < nr; i++) {
		if ((rc = db_count_row(res, i, &cr)) != APP_OK)
			goto out;
		if ((si = status_index(cr.status.p, cr.status.len)) >= 0)
			n[si] += cr.n;
	}
	c = jsonw_counts_new(names, NELEM(names), n, f->by_backend);
	if (f->by_backend) {
		/* The rows come ordered by backend: one group each. */
		for (i = 0; i < nr; i = k) {
			if ((rc = db_count_row(res, i, &cr)) != APP_OK)
				goto out;
			memset(bn, 0, sizeof(bn));
			for (k = i; k < nr; k++) {
				if ((rc = db_count_row(res, k, &g)) != APP_OK)
					goto out;
				if (g.backend.len != cr.backend.len ||
				    memcmp(g.backend.p, cr.backend.p,
				    cr.backend.len) != 0)
					break;
				if ((si = status_index(g.status.p,
				    g.status.len)) >= 0)
					bn[si] += g.n;
			}
			/* Counters may hold groups that went back to 0. */
			for (si = 0; si < (int)NELEM(names) && bn[si] == 0; si++)
				continue;
			if (si == (int)NELEM(names))
				continue;
			jsonw_counts_backend(c, cr.backend.p, cr.backend.len, bn);
		}
	}
out:
	/* Written also on an error (it frees c): the error's body replaces it. */
	if (c != NULL || rc == APP_OK)
		jsonw_counts_end(b, c);
	db_res_free(res);
	return rc;
}

/* Only the five statuses uniqc writes are counted. */
enum app_err
h_tasks_counts(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	int64_t		 n[NELEM(names)] = { 0 };
	struct db_res	*res;
	struct count_row c;
	enum app_err	 rc;
	size_t		 i;
	struct filter	 f;
	int		 si, ext;

	(void)id;
	filter_init(&f, 0);
	f.counts = 1;
	rc = filter_parse(&f, r, &w->body);
	if (rc == APP_OK && f.extended)
		rc = counts_ext(w, db, &f);
	ext = f.extended;
	filter_free(&f);
	if (rc != APP_OK || ext) {
		if (rc == APP_INVALID)
			jsonw_qerr_close(&w->body);
		return rc;
	}
	if ((rc = db_exec(db, DB_COUNTS, NULL, &res)) != APP_OK)
		return rc;
	for (i = 0; i < db_nrows(res) && rc == APP_OK; i++)
		if ((rc = db_count_row(res, i, &c)) == APP_OK &&
		    (si = status_index(c.status.p, c.status.len)) >= 0)
			n[si] = c.n;
	db_res_free(res);
	if (rc == APP_OK)
		jsonw_counts_end(&w->body, jsonw_counts_new(names,
		    NELEM(names), n, 0));
	return rc;
}

