/*
 * filter_sql.c: the statements of the SPEC 4.1 filters (see filter.c):
 * the list, its count, the groups of the counts, a dry run's sample and
 * the bulk statements, composed of sql.c's fragments (db_frag).  Every
 * value is a $n parameter, each sent once however often the statement
 * names it (f->slot), times in binary.
 *
 * A list is one SELECT that reads an index in list order as far as the
 * page needs; when no one index can, a UNION ALL of such SELECTs
 * ("branches"), each LIMITed to what the page needs, merged in list
 * order:
 *  - status_in of a few values: a branch per value, on its (status,
 *    submit_time, seq) index.  status = ANY (...) would read the order
 *    index past every row of the other statuses, or all rows of the
 *    given ones and sort them.
 *  - updated_before T (on the archive also archived_before): a row
 *    updated (archived) before T was, as a rule, submitted before T too,
 *    but the planner cannot know that: it walks the order index from
 *    the newest row and filters, past every row newer than T -- at
 *    1 000 000 tasks nearly all of them.  One branch adds the redundant
 *    submit_time < T, so the walk starts at T (sql.c's
 *    DB_F_UPDATED_SPLIT says why its time is "+ interval '0'"); the rows that break the
 *    rule (updated before they were submitted: imported data, skewed
 *    clocks) are the rows of a partial index (sql/006), which a second
 *    branch reads (those submitted at or after T).  The two are
 *    disjoint and together hold every match.
 *  - updated_after T: the planner walks the order index and filters;
 *    in ascending order the matches (recent updates) sit at the far
 *    end, past nearly every row.  One branch reads the rows submitted
 *    after T, a range of the order index from T (each updated after T
 *    as a rule; a row updated before it was submitted fails the
 *    filter, which costs a row read); the other the rows submitted at
 *    or before T and updated after it -- tasks running across T, few
 *    -- whose [submitted, updated) range holds T, from a GiST index of
 *    those ranges (sql/007).  Disjoint by submit_time, together every
 *    match.
 * With both, a branch per (value, part).
 *
 * metadata: containment (004's GIN index, not in list order), and for
 * a key with an index of sql/008 (f->mkey, filter_meta_index) the value
 * at that key too, which is the same test for a scalar value: the
 * planner then reads the page from that index, in list order.  When
 * that pair is the whole filter the containment test is left out: with
 * both, the planner takes the two as independent, expects a hundredth
 * of the rows, and reads every match through the GIN index to sort
 * them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "req.h"
#include "db.h"
#include "filter.h"
#include "jsonw.h"

/* What a $n stands for (f->slot). */
enum slot {
	S_STATUS, S_BACKEND, S_STATUS_IN, S_BACKEND_IN, S_HAS_RESULT, S_META,
	S_MKEY,
	S_CUR_TIME,
	S_CUR_SEQ,		/* the four numbers, in f->num[] */
	S_BRANCH_LIMIT, S_LIMIT, S_OFFSET,
	S_TIME,			/* + the index of the time filter */
	S_ITEM = S_TIME + FILTER_NTIME,	/* + the index of the status_in value */
	S__MAX = S_ITEM + FILTER_MERGE
};
typedef char slots_fit[S__MAX <= NELEM(((struct filter *)0)->slot) ? 1 : -1];

static const enum db_frag tfrag[FILTER_NTIME] = {
	DB_F_SUBMITTED_AFTER, DB_F_SUBMITTED_BEFORE, DB_F_UPDATED_AFTER,
	DB_F_UPDATED_BEFORE, DB_F_ARCHIVED_AFTER, DB_F_ARCHIVED_BEFORE
};
#define T_SUBMITTED_AFTER	0
#define T_SUBMITTED_BEFORE	1
#define T_UPDATED_AFTER		2
#define T_UPDATED_BEFORE	3
#define T_ARCHIVED_BEFORE	5

/* The two parts of a list split at time filter t (see the top). */
static const enum db_frag split_frag[FILTER_NTIME][2] = {
	[T_UPDATED_AFTER] = { DB_F_UPDATED_LATE, DB_F_UPDATED_SPAN },
	[T_UPDATED_BEFORE] = { DB_F_UPDATED_SPLIT, DB_F_UPDATED_ODD },
	[T_ARCHIVED_BEFORE] = { DB_F_ARCHIVED_SPLIT, DB_F_ARCHIVED_ODD },
};

/* The $n of what s stands for: v (len, fmt) the first time. */
static int
param(struct filter *f, enum slot s, const char *v, int len, int fmt)
{
	if (f->slot[s] == 0) {
		f->pv[f->np] = v;
		f->len[f->np] = len;
		f->fmt[f->np] = fmt;
		f->slot[s] = ++f->np;
	}
	return f->slot[s];
}

static int
tparam(struct filter *f, enum slot s, int64_t us)
{
	if (f->slot[s] == 0)
		filter_put64((unsigned char *)f->bin[f->np], (uint64_t)us);
	return param(f, s, f->bin[f->np], 8, 1);
}

/* A number as text; v < 0 is NULL (LIMIT NULL: no limit). */
static int
nparam(struct filter *f, enum slot s, int64_t v)
{
	char	*p = f->num[s - S_CUR_SEQ];

	if (f->slot[s] == 0)
		snprintf(p, sizeof(f->num[0]), "%lld", (long long)v);
	return param(f, s, v < 0 ? NULL : p, 0, 0);
}

/*
 * Appends fragment k to to, with its "%d"s replaced by a and b and its
 * "%w" by the conditions built so far (f->where); with first set, as a
 * condition (" WHERE " or " AND " before it).
 */
static void
frag(struct filter *f, struct buf *to, int *first, enum db_frag k, int a,
    int b)
{
	const char	*p = db_frag[k], *pc;
	int		 n = 0;

	if (first != NULL) {
		buf_adds(to, *first ? " WHERE " : " AND ");
		*first = 0;
	}
	while ((pc = strchr(p, '%')) != NULL) {
		buf_add(to, p, (size_t)(pc - p));
		if (pc[1] == 'd')
			buf_addi(to, n++ == 0 ? a : b);
		else if (pc[1] == 'w')
			buf_add(to, f->where.p ? f->where.p : "", f->where.len);
		else
			buf_add(to, pc, 2);
		p = pc + 2;
	}
	buf_adds(to, p);
}

/*
 * The filters' conditions into f->where; status_in as its value item
 * alone when item >= 0; time filter skip (-1: none) left out.
 */
static void
conditions(struct filter *f, int *first, int item, int skip)
{
	struct buf	*w = &f->where;
	int		 i;

	if (f->status != NULL)
		frag(f, w, first, DB_F_STATUS,
		    param(f, S_STATUS, f->status->p, 0, 0), 0);
	if (f->backend != NULL)
		frag(f, w, first, DB_F_BACKEND,
		    param(f, S_BACKEND, f->backend->p, 0, 0), 0);
	if (f->has_status_in && item >= 0)
		frag(f, w, first, DB_F_STATUS, param(f, S_ITEM + item,
		    f->sin.p + f->sin_off[item], 0, 0), 0);
	else if (f->has_status_in)
		frag(f, w, first, DB_F_STATUS_IN,
		    param(f, S_STATUS_IN, f->status_in.p, 0, 0), 0);
	if (f->has_backend_in)
		frag(f, w, first, DB_F_BACKEND_IN,
		    param(f, S_BACKEND_IN, f->backend_in.p, 0, 0), 0);
	if (f->has_result >= 0)
		frag(f, w, first, DB_F_HAS_RESULT, param(f, S_HAS_RESULT,
		    f->has_result ? "true" : "false", 0, 0), 0);
	for (i = 0; i < FILTER_NTIME; i++)
		if (f->tset[i] && i != skip)
			frag(f, w, first, tfrag[i],
			    tparam(f, S_TIME + i, f->t[i]), 0);
	if (f->has_meta && f->mkey != NULL)
		frag(f, w, first, DB_F_META_KEY,
		    param(f, S_META, f->meta.p, 0, 0),
		    param(f, S_MKEY, f->mkey, 0, 0));
	if (f->has_meta && (f->mkey == NULL || f->mpairs != 1))
		frag(f, w, first, DB_F_METADATA,
		    param(f, S_META, f->meta.p, 0, 0), 0);
}

/*
 * The first key of the metadata filter whose value an index of sql/008
 * answers on f's table, into f->mkey (see the top); none when the
 * filter has no scalar value or no key such an index.
 */
void
filter_meta_index(struct filter *f, struct db *db)
{
	const char	*p, *end;

	f->mkey = NULL;
	if (!f->has_meta || f->meta.p == NULL)
		return;
	f->mpairs = jsonw_meta_keys(f->meta.p, f->meta.len, &f->mkeys);
	if (f->mpairs <= 0 || f->mkeys.p == NULL)
		return;
	end = f->mkeys.p + f->mkeys.len;
	for (p = f->mkeys.p; p < end; p += strlen(p) + 1)
		switch (db_meta_indexed(db, f->archived, p)) {
		case 1:
			f->mkey = p;
			return;
		case -1:		/* the statement will say */
			return;
		}
}

/*
 * The time filter whose bound T splits the list (see the top):
 * updated_before, on the archive archived_before too (the lower of the
 * two), -1 when submitted_before bounds as tightly; else updated_after,
 * -1 when submitted_after bounds as tightly (no row submitted at or
 * before T is left); -1 when none.
 */
static int
split_at(const struct filter *f)
{
	int	 t = -1;

	if (f->tset[T_UPDATED_BEFORE])
		t = T_UPDATED_BEFORE;
	if (f->archived && f->tset[T_ARCHIVED_BEFORE] && (t < 0 ||
	    f->t[T_ARCHIVED_BEFORE] < f->t[T_UPDATED_BEFORE]))
		t = T_ARCHIVED_BEFORE;
	if (t >= 0)
		return f->tset[T_SUBMITTED_BEFORE] &&
		    f->t[T_SUBMITTED_BEFORE] <= f->t[t] ? -1 : t;
	if (f->tset[T_UPDATED_AFTER] && !(f->tset[T_SUBMITTED_AFTER] &&
	    f->t[T_SUBMITTED_AFTER] >= f->t[T_UPDATED_AFTER]))
		t = T_UPDATED_AFTER;
	return t;
}

/*
 * One SELECT of a list into sql: head, the conditions (status_in as
 * value item, -1: all), part 0 or 1 of the split at time filter t (-1:
 * no split), the cursor's position, the order and, when lim > 0,
 * LIMIT $lim.
 */
static void
branch(struct filter *f, struct buf *sql, enum db_frag head, int item,
    int t, int part, int lim)
{
	int	 first = 1, a, b;

	buf_reset(&f->where);
	conditions(f, &first, item, t);	/* t: in the split's fragment */
	if (t >= 0) {
		a = tparam(f, S_TIME + t, f->t[t]);
		frag(f, &f->where, &first, split_frag[t][part], a, a);
	}
	if (f->cursor && f->cur_pos) {
		a = tparam(f, S_CUR_TIME, f->cur_time);
		b = nparam(f, S_CUR_SEQ, f->cur_seq);
		frag(f, &f->where, &first, f->asc ? DB_F_AFTER_ASC :
		    DB_F_AFTER_DESC, a, b);
	}
	frag(f, sql, NULL, head, 0, 0);
	buf_add(sql, f->where.p ? f->where.p : "", f->where.len);
	frag(f, sql, NULL, f->asc ? DB_F_ORDER_ASC : DB_F_ORDER_DESC, 0, 0);
	if (lim > 0) {
		buf_adds(sql, " LIMIT $");
		buf_addi(sql, lim);
	}
}

/*
 * The page of a list (rows of head, limit < 0: all) into f->sql: one
 * branch or the merge of several (see the top), the outer SELECT of
 * the merge being "SELECT <cols> FROM (".  Returns 0 when it is one
 * branch and cols was given (the caller has its own statement then).
 */
static int
page(struct filter *f, enum db_frag head, const char *cols, int64_t limit,
    int64_t offset)
{
	struct buf	*sql = &f->sql;
	int		 t = split_at(f), nitem, i, part, lim, k = 0;
	int64_t		 bl;

	nitem = f->has_status_in && f->nsin > 1 && !f->sin.oom ? f->nsin : 0;
	if (f->cursor && limit >= 0 && limit < INT64_MAX)
		limit++;
	if (nitem == 0 && t < 0) {
		if (cols != NULL)
			return 0;
		branch(f, sql, head, -1, -1, 0, 0);
	} else {
		bl = limit;
		if (bl >= 0 && offset > 0)
			bl = offset > INT64_MAX - bl ? INT64_MAX : bl + offset;
		lim = nparam(f, S_BRANCH_LIMIT, bl);
		buf_adds(sql, "SELECT ");
		buf_adds(sql, cols != NULL ? cols : "*");
		buf_adds(sql, " FROM (");
		for (i = 0; i < (nitem > 0 ? nitem : 1); i++)
			for (part = 0; part < (t >= 0 ? 2 : 1); part++) {
				buf_adds(sql, k++ > 0 ? " UNION ALL (" : "(");
				branch(f, sql, head, nitem > 0 ? i : -1, t,
				    part, lim);
				buf_addc(sql, ')');
			}
		buf_adds(sql, ") u");
		frag(f, sql, NULL, f->asc ? DB_F_ORDER_ASC : DB_F_ORDER_DESC,
		    0, 0);
	}
	frag(f, sql, NULL, DB_F_LIMIT, nparam(f, S_LIMIT, limit),
	    nparam(f, S_OFFSET, offset < 0 ? 0 : offset));
	return 1;
}

/*
 * The statements of a bulk request by filter and of its dry run's
 * sample (the conditions go in at the fragment's "%w").
 */
static void
bulk(struct filter *f, enum filter_what what, int64_t limit,
    struct db_query *q)
{
	struct buf	*sql = &f->sql;
	int		 first = 1, a;

	if (what == FILTER_SAMPLE) {
		/* The first 20 ids in list order: a page of 20 rows. */
		if (!page(f, DB_F_LIST, "task_id", 20, 0)) {
			conditions(f, &first, -1, -1);
			frag(f, sql, NULL, DB_F_SAMPLE, 0, 0);
		}
		q->rows = DB_F_SAMPLE;	/* task_id alone, either way */
		return;
	}
	conditions(f, &first, -1, -1);
	a = nparam(f, S_LIMIT, limit);
	frag(f, sql, NULL, what == FILTER_BULK_DELETE ? DB_F_BULK_DELETE :
	    DB_F_BULK_ARCHIVE, a, 0);
	buf_reset(&f->lock);
	frag(f, &f->lock, NULL, DB_F_BULK_LOCK, a, 0);
	q->pre_sql = what == FILTER_BULK_ARCHIVE ? f->lock.p : NULL;
	q->flags = DB_LONG;
	q->rows = what == FILTER_BULK_DELETE ? DB_F_BULK_DELETE :
	    DB_F_BULK_ARCHIVE;
}

/*
 * Builds the statement of what (rows or count) into q, which points
 * into f (valid until the next filter_sql or filter_free).  limit < 0
 * is no limit; with a cursor one row more is asked for, which tells
 * whether there is a next page.
 */
enum app_err
filter_sql(struct filter *f, enum filter_what what, int64_t limit,
    int64_t offset, struct db_query *q)
{
	int		 first = 1;
	enum db_frag	 head;
	struct buf	*sql = &f->sql;

	buf_reset(sql);
	buf_reset(&f->where);
	f->np = 0;
	memset(f->slot, 0, sizeof(f->slot));
	memset(q, 0, sizeof(*q));
	q->flags = DB_READ;
	if (what == FILTER_LIST) {
		head = f->archived ? DB_F_ALIST : DB_F_LIST;
		page(f, head, NULL, limit, offset);
		q->rows = head;		/* the layout of its rows (sql.c) */
	} else if (what == FILTER_COUNT || what == FILTER_GROUP) {
		if (what == FILTER_GROUP) {
			head = filter_counted(f) ? DB_F_CGROUP : DB_F_GROUP;
			first = 0;
		} else if (filter_counted(f)) {
			head = f->archived ? DB_F_ACOUNTERS : DB_F_COUNTERS;
			first = 0;
		} else
			head = f->archived ? DB_F_ACOUNT : DB_F_COUNT;
		frag(f, sql, NULL, head, 0, 0);
		q->rows = head;
		conditions(f, &first, -1, -1);
		buf_add(sql, f->where.p ? f->where.p : "", f->where.len);
		if (what == FILTER_GROUP)
			frag(f, sql, NULL, DB_F_GROUP_END, 0, 0);
	} else
		bulk(f, what, limit, q);
	if (sql->oom || f->where.oom || f->lock.oom)
		return APP_NOMEM;
	q->sql = sql->p;
	q->nparams = f->np;
	q->lengths = f->len;
	q->formats = f->fmt;
	return APP_OK;
}
