/*
 * admin_stage.c: the batch being built.  Each store row is read whole
 * (admin_store.c), its fields checked and converted (admin_conv.c) into
 * one COPY text line of the staging table tg_st, its shards into lines
 * of tg_ss; a field that cannot go in skips the task (or the shard) and
 * is reported with the reason.  A full batch is applied by imp_flush()
 * (admin_import.c).  No libpq here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_conv.h"
#include "admin_import.h"
#include "admin_store.h"

static void
f_sep(struct buf *b)
{
	buf_addc(b, '\t');
}

/* Text: 0 when invalid (reported by the caller with *why). */
static int
f_text(struct buf *b, const struct sval *v, int nullok, const char **why)
{
	if (v->null) {
		if (!nullok)
			return *why = "is NULL", 0;
		buf_adds(b, "\\N");
		return 1;
	}
	if (!conv_utf8_ok(v->p, v->n))
		return *why = "is not valid UTF-8 (or holds NUL)", 0;
	conv_copy_text(b, v->p, v->n);
	return 1;
}

static int
f_int(struct buf *b, const struct sval *v, int64_t def, int64_t min,
    int64_t max, const char **why)
{
	int64_t	 x = def;
	char	*ep, tmp[32];

	if (v->isint)
		x = v->i;
	else if (!v->null) {
		if (v->n == 0 || v->n >= sizeof(tmp))
			return *why = "is not an integer", 0;
		memcpy(tmp, v->p, v->n);
		tmp[v->n] = '\0';
		x = strtoll(tmp, &ep, 10);
		if (*ep != '\0' || ep == tmp)
			return *why = "is not an integer", 0;
	}
	if (x < min || x > max)
		return *why = "is out of range", 0;
	buf_addi(b, x);
	return 1;
}

static int
f_time(struct buf *b, const struct sval *v, const char *def,
    const char **why)
{
	char	 t[CONV_TIMELEN];

	if (v->null) {
		if (def == NULL)
			return *why = "is NULL", 0;
		buf_adds(b, def);
		return 1;
	}
	if (!conv_time(v->p, v->n, t, NULL))
		return *why = "is not a time", 0;
	buf_adds(b, t);
	return 1;
}

/*
 * JSON: kind 0 result (NULL, '' and null: SQL NULL), 1 metadata (NULL
 * and '': {}).  Returns 0 when invalid; *fixed counts NaN/Infinity.
 */
static int
f_json(struct imp *m, struct buf *b, const struct sval *v, int meta,
    int *fixed, char *why, size_t whylen)
{
	const char	*w;
	size_t		 pos;
	int		 isnull, n;

	if (v->null || v->n == 0) {
		buf_adds(b, meta ? "{}" : "\\N");
		return 1;
	}
	if (!conv_utf8_ok(v->p, v->n)) {
		snprintf(why, whylen, "is not valid UTF-8 (or holds NUL)");
		return 0;
	}
	buf_reset(&m->tmp);
	if ((n = conv_json(v->p, v->n, meta, &m->tmp, &isnull, &w,
	    &pos)) < 0) {
		snprintf(why, whylen, "is not valid JSON (%s at byte %zu)", w,
		    pos);
		return 0;
	}
	*fixed += n;
	if (isnull && !meta)
		buf_adds(b, "\\N");
	else
		conv_copy_text(b, m->tmp.p ? m->tmp.p : "", m->tmp.len);
	return 1;
}

static const char *const tabname[2] = { "tasks", "archived_tasks" };
static const char *const shtab[2] = { "task_shards", "archived_task_shards" };

/* Reports every shard of a task that is skipped. */
static int
skip_shards(struct imp *m, int arch, const struct sval *id)
{
	struct sval	 v[SSC__MAX];
	int		 rc;

	if (!store_shards_start(m->st, arch, id->p, id->n))
		return -1;
	while ((rc = store_shards_next(m->st, v)) == 1)
		adm_report(m->a, shtab[arch], id->p, id->n,
		    v[SSC_INDEX].isint ? v[SSC_INDEX].i : -1, -1,
		    "not imported: its task was skipped");
	return rc;
}

/* The shard lines of a staged task; bad shards are reported, skipped. */
static int
stage_shards(struct imp *m, int arch, const struct sval *id,
    const char *arch_at)
{
	struct sval	 v[SSC__MAX];
	struct buf	*b = &m->cs;
	const char	*w = NULL, *field = NULL;
	char		 why[160], msg[256];
	size_t		 start;
	int		 rc, fixed;

	if (!store_shards_start(m->st, arch, id->p, id->n))
		return -1;
	while ((rc = store_shards_next(m->st, v)) == 1) {
		start = b->len;
		fixed = 0;
		why[0] = '\0';
		buf_adds(b, arch ? "t\t" : "f\t");
		conv_copy_text(b, id->p, id->n);
#define CK(e, name) do { if (!(e)) { field = name; goto bad; } } while (0)
		f_sep(b);
		CK(f_int(b, &v[SSC_INDEX], 0, INT32_MIN, INT32_MAX, &w) &&
		    !v[SSC_INDEX].null, "shard_index");
		f_sep(b);
		CK(f_text(b, &v[SSC_PLATFORM], 0, &w), "platform_task_id");
		f_sep(b);
		CK(f_text(b, &v[SSC_BACKEND], 0, &w), "backend");
		f_sep(b);
		CK(f_int(b, &v[SSC_COUNT], 1, INT32_MIN, INT32_MAX, &w),
		    "circuit_count");
		f_sep(b);
		CK(f_int(b, &v[SSC_OFFSET], 0, INT32_MIN, INT32_MAX, &w),
		    "sub_index_offset");
		f_sep(b);
		CK(f_text(b, &v[SSC_STATUS], 0, &w), "status");
		f_sep(b);
		if (!f_json(m, b, &v[SSC_RESULT], 0, &fixed, why, sizeof(why)))
			CK(0, "result_json");
		f_sep(b);
		CK(f_text(b, &v[SSC_ERROR], 1, &w), "error_message");
		f_sep(b);
		CK(f_time(b, &v[SSC_SUBMIT], NULL, &w), "submit_time");
		f_sep(b);
		CK(f_time(b, &v[SSC_UPDATE], NULL, &w), "update_time");
		f_sep(b);
		if (arch)
			CK(f_time(b, &v[SSC_ARCHIVED_AT], arch_at, &w),
			    "archived_at");
		else
			buf_adds(b, "\\N");
#undef CK
		buf_addc(b, '\n');
		m->shards++;
		if (fixed > 0) {
			snprintf(msg, sizeof(msg), "result_json: %d NaN/Infinity "
			    "token(s) imported as null", fixed);
			adm_report(m->a, shtab[arch], id->p, id->n,
			    v[SSC_INDEX].i, -1, msg);
		}
		continue;
bad:
		b->len = start;
		snprintf(msg, sizeof(msg), "shard skipped: %s %s", field,
		    why[0] ? why : (w ? w : "is invalid"));
		adm_report(m->a, shtab[arch], id->p, id->n,
		    v[SSC_INDEX].isint ? v[SSC_INDEX].i : -1, -1, msg);
		m->skipped++;
	}
	return rc < 0 ? -1 : 1;
}

static int
grow(struct imp *m)
{
	struct imp_task	*n;
	size_t		 cap;

	if (m->bn < m->bcap)
		return 1;
	cap = m->bcap ? m->bcap * 2 : 256;
	if ((n = realloc(m->bt, cap * sizeof(*n))) == NULL)
		return 0;
	m->bt = n;
	m->bcap = cap;
	return 1;
}

/*
 * The COPY fields of a task after its task_id, each preceded by its tab
 * (backend ... error_message, archived_at or \N), appended to b.  Returns
 * NULL, or the name of the first invalid field with the reason in *w or
 * why (the caller then cuts b back); *fixed counts NaN/Infinity tokens.
 */
static const char *
task_fields(struct imp *m, struct buf *b, const struct sval *v, int arch,
    int *fixed, const char **w, char *why, size_t whylen)
{
#define CK(e, name) do { if (!(e)) return name; } while (0)
	f_sep(b);
	CK(f_text(b, &v[STC_BACKEND], 0, w), "backend");
	f_sep(b);
	CK(f_text(b, &v[STC_STATUS], 0, w), "status");
	f_sep(b);
	CK(f_int(b, &v[STC_SHOTS], 0, INT64_MIN, INT64_MAX, w), "shots");
	f_sep(b);
	CK(f_time(b, &v[STC_SUBMIT], NULL, w), "submit_time");
	f_sep(b);
	CK(f_time(b, &v[STC_UPDATE], NULL, w), "update_time");
	f_sep(b);
	CK(f_json(m, b, &v[STC_RESULT], 0, fixed, why, whylen), "result_json");
	f_sep(b);
	CK(f_json(m, b, &v[STC_METADATA], 1, fixed, why, whylen),
	    "metadata_json");
	f_sep(b);
	CK(f_text(b, &v[STC_ERROR], 1, w), "error_message");
	f_sep(b);
	if (arch)
		CK(f_time(b, &v[STC_ARCHIVED_AT], NULL, w), "archived_at");
	else
		buf_adds(b, "\\N");
#undef CK
	return NULL;
}

/*
 * Stages the task at rowid of table arch (with its shards) into the
 * batch, flushing when the batch is full.  A row that cannot go in is
 * reported.  Returns 1, or 0 on a failure that ends the run.
 */
int
imp_stage(struct imp *m, int arch, int64_t rowid, const char *fp,
    size_t fplen)
{
	struct sval	 v[STC__MAX];
	struct buf	*b = &m->ct;
	struct imp_task	*t;
	const char	*w = NULL, *field = NULL;
	char		 why[160], msg[256], at[CONV_TIMELEN];
	size_t		 start = b->len, sstart = m->cs.len;
	int		 rc, fixed = 0;

	why[0] = '\0';
	if ((rc = store_task(m->st, arch, rowid, v)) <= 0)
		return rc == 0;		/* gone: cannot be, same snapshot */
	if (v[STC_ID].null || !conv_utf8_ok(v[STC_ID].p, v[STC_ID].n)) {
		adm_report(m->a, tabname[arch], v[STC_ID].p, v[STC_ID].n, -1,
		    rowid, v[STC_ID].null ? "skipped: task_id is NULL" :
		    "skipped: task_id is not valid UTF-8 (or holds NUL)");
		m->skipped++;
		return 1;
	}
	if (!grow(m))
		goto nomem;
	buf_printf(b, "%lld\t%c\t", (long long)m->ord++, arch ? 't' : 'f');
	conv_copy_text(b, v[STC_ID].p, v[STC_ID].n);
	if ((field = task_fields(m, b, v, arch, &fixed, &w, why,
	    sizeof(why))) != NULL)
		goto bad;
	if (arch && !conv_time(v[STC_ARCHIVED_AT].p, v[STC_ARCHIVED_AT].n, at,
	    NULL))
		at[0] = '\0';
	f_sep(b);
	t = &m->bt[m->bn];
	conv_copy_text(b, fp, fplen);
	buf_addc(b, '\n');
	if (stage_shards(m, arch, &v[STC_ID], arch ? at : NULL) < 0)
		return 0;
	if (b->oom || m->cs.oom)
		goto nomem;
	if ((t->id = malloc(v[STC_ID].n + 1)) == NULL ||
	    (t->fp = malloc(fplen + 1)) == NULL) {
		free(t->id);
		goto nomem;
	}
	memcpy(t->fp, fp, fplen);
	t->fp[fplen] = '\0';
	memcpy(t->id, v[STC_ID].p, v[STC_ID].n);
	t->id[v[STC_ID].n] = '\0';
	t->idlen = v[STC_ID].n;
	t->toff = start;
	t->tlen = b->len - start;
	t->soff = sstart;
	t->slen = m->cs.len - sstart;
	m->bn++;
	m->staged++;
	if (fixed > 0) {
		snprintf(msg, sizeof(msg), "%d NaN/Infinity token(s) imported "
		    "as null", fixed);
		adm_report(m->a, tabname[arch], v[STC_ID].p, v[STC_ID].n, -1,
		    -1, msg);
	}
	if (m->bn >= m->batch_tasks || b->len + m->cs.len >= m->batch_bytes)
		return imp_flush(m);
	return 1;
bad:
	b->len = start;
	m->cs.len = sstart;
	snprintf(msg, sizeof(msg), "skipped: %s %s", field,
	    why[0] ? why : (w ? w : "is invalid"));
	adm_report(m->a, tabname[arch], v[STC_ID].p, v[STC_ID].n, -1, -1, msg);
	m->skipped++;
	return skip_shards(m, arch, &v[STC_ID]) >= 0;
nomem:
	adm_log(m->a, 0, "out of memory");
	return 0;
}
