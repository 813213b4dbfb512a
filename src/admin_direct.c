/*
 * admin_direct.c: the fast path of a batch whose tasks the database
 * does not hold yet (a first import): the staged lines, cut down to the
 * tables' columns, are COPYed straight into tasks, archived_tasks, their
 * shard tables and task_origin, in rowid order (so seq follows uniqc's
 * order), inside the caller's transaction.  That is the cost of a plain
 * COPY of the same rows.  A batch with any id already present takes the
 * staging path (admin_import.c); a row PostgreSQL refuses fails the
 * COPY, and the caller then retries task by task.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "admin_import.h"
#include "db.h"

/* Appends line [p, e) (no newline) without its first skip fields and,
 * when drop_last, its last drop_last fields. */
static void
cut(struct buf *b, const char *p, const char *e, int skip, int drop_last)
{
	const char	*q;

	for (; skip > 0 && p < e; skip--) {
		q = memchr(p, '\t', (size_t)(e - p));
		p = q ? q + 1 : e;
	}
	for (; drop_last > 0 && e > p; drop_last--) {
		for (q = e - 1; q > p && *q != '\t'; q--)
			;
		e = q;
	}
	buf_add(b, p, (size_t)(e - p));
	buf_addc(b, '\n');
}

static const char *const copies[5] = {
	"COPY tasks (task_id, backend, status, shots, submit_time, "
	"update_time, result, metadata, error_message) FROM STDIN",
	"COPY archived_tasks (task_id, backend, status, shots, submit_time, "
	"update_time, result, metadata, error_message, archived_at) FROM STDIN",
	"COPY task_shards (uniqc_task_id, shard_index, platform_task_id, "
	"backend, circuit_count, sub_index_offset, status, result, "
	"error_message, submit_time, update_time) FROM STDIN",
	"COPY archived_task_shards (uniqc_task_id, shard_index, "
	"platform_task_id, backend, circuit_count, sub_index_offset, status, "
	"result, error_message, submit_time, update_time, archived_at) "
	"FROM STDIN",
	"COPY task_origin (task_id, source_id, fp) FROM STDIN",
};

/*
 * Whether tasks [from, to) are all new to the database: AT_OK, AT_NONE
 * when one of the ids is there already (or there is no memory to ask:
 * the staging path then), or the failure (t->err set).
 */
static int
all_new(struct imp *m, size_t from, size_t to, struct attempt *t)
{
	PGconn		*c = (PGconn *)m->a->pg;
	PGresult	*r;
	const char	**ids, *pv[1];
	size_t		*lens, i;
	struct buf	 arr;
	int		 how;
	static const char *const exists_sql =
	    "SELECT EXISTS (SELECT 1 FROM tasks WHERE task_id = ANY ($1::text[])) "
	    "OR EXISTS (SELECT 1 FROM archived_tasks WHERE task_id = "
	    "ANY ($1::text[]))";

	if ((ids = calloc(to - from, sizeof(*ids))) == NULL ||
	    (lens = calloc(to - from, sizeof(*lens))) == NULL) {
		free(ids);
		return AT_NONE;
	}
	for (i = from; i < to; i++) {
		ids[i - from] = m->bt[i].id;
		lens[i - from] = m->bt[i].idlen;
	}
	buf_init(&arr);
	db_array(&arr, ids, lens, to - from);
	free(ids);
	free(lens);
	if (arr.oom) {
		buf_free(&arr);
		return AT_NONE;
	}
	pv[0] = arr.p;
	r = PQexecParams(c, exists_sql, 1, NULL, pv, NULL, NULL, 0);
	buf_free(&arr);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		imp_keep_err(t, m->a->pg, "apply", r);
		how = imp_classify(m->a->pg, r);
		PQclear(r);
		return how;
	}
	how = PQgetvalue(r, 0, 0)[0] == 't' ? AT_NONE : AT_OK;
	PQclear(r);
	return how;
}

/*
 * Returns AT_OK when the tasks went in, AT_NONE when the batch must take
 * the staging path (nothing written), or the failure (t->err set).
 */
int
imp_direct(struct imp *m, size_t from, size_t to, struct attempt *t)
{
	const char	*p, *e, *nl, *q, *qe;
	size_t		 i, k;
	int		 how, arch;

	if ((how = all_new(m, from, to, t)) != AT_OK)
		return how;
	how = AT_NONE;
	for (k = 0; k < 5; k++)
		buf_reset(&m->d[k]);
	for (i = from; i < to; i++) {
		p = m->ct.p + m->bt[i].toff;
		e = p + m->bt[i].tlen - 1;		/* without its newline */
		arch = ((const char *)memchr(p, '\t', (size_t)(e - p)))[1] == 't';
		cut(&m->d[arch], p, e, 2, arch ? 1 : 2);
		/* task_origin: the id (field 3, escaped), source, fp (last). */
		q = memchr(p, '\t', (size_t)(e - p)) + 1;
		q = memchr(q, '\t', (size_t)(e - q)) + 1;
		qe = memchr(q, '\t', (size_t)(e - q));
		buf_add(&m->d[4], q, (size_t)(qe - q));
		buf_printf(&m->d[4], "\t%s\t", m->source);
		for (q = e; q > p && q[-1] != '\t'; q--)
			;
		buf_add(&m->d[4], q, (size_t)(e - q));
		buf_addc(&m->d[4], '\n');
		/* No shards: cs may hold nothing at all (NULL + 0 is UB). */
		if (m->bt[i].slen == 0)
			continue;
		p = m->cs.p + m->bt[i].soff;
		e = p + m->bt[i].slen;
		for (; p < e; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(e - p));
			arch = p[0] == 't';
			cut(&m->d[2 + arch], p, nl, 1, arch ? 0 : 1);
		}
	}
	for (k = 0; k < 5; k++)
		if (m->d[k].oom)
			return AT_NONE;
	for (k = 0; k < 5; k++)
		if (m->d[k].len > 0 && !imp_copy_in(m->a->pg, t, copies[k],
		    m->d[k].p, m->d[k].len, &how))
			return how;
	t->ins = (int64_t)(to - from);
	return AT_OK;
}
