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
	enum app_err	 rc;
	size_t		 i, k, nr = 0, len, blen, plen = 0;
	const char	*s, *be, *prev = NULL;
	int		 si;
	struct buf	*b = &w->body;
	struct jsonw_counts *c;

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
		s = db_text(res, i, 0, &len);
		if ((si = status_index(s, len)) >= 0)
			n[si] += db_int(res, i, 2);
	}
	c = jsonw_counts_new(names, NELEM(names), n, f->by_backend);
	if (f->by_backend) {
		for (i = 0; i < nr; i = k) {
			be = db_text(res, i, 1, &blen);
			memset(bn, 0, sizeof(bn));
			for (k = i; k < nr; k++) {
				prev = db_text(res, k, 1, &plen);
				if (plen != blen || memcmp(prev, be, blen) != 0)
					break;
				s = db_text(res, k, 0, &len);
				if ((si = status_index(s, len)) >= 0)
					bn[si] += db_int(res, k, 2);
			}
			/* Counters may hold groups that went back to 0. */
			for (si = 0; si < (int)NELEM(names) && bn[si] == 0; si++)
				continue;
			if (si == (int)NELEM(names))
				continue;
			jsonw_counts_backend(c, be, blen, bn);
		}
	}
	jsonw_counts_end(b, c);
	db_res_free(res);
	return APP_OK;
}

/* Only the five statuses uniqc writes are counted. */
enum app_err
h_tasks_counts(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	int64_t		 n[NELEM(names)] = { 0 };
	struct db_res	*res;
	enum app_err	 rc;
	size_t		 i, len;
	const char	*s;
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
	for (i = 0; i < db_nrows(res); i++) {
		s = db_text(res, i, 0, &len);
		if ((si = status_index(s, len)) >= 0)
			n[si] = db_int(res, i, 1);
	}
	db_res_free(res);
	jsonw_counts_end(&w->body, jsonw_counts_new(names, NELEM(names), n, 0));
	return APP_OK;
}

