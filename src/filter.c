/*
 * filter.c: SPEC 4.1 filters, order and cursor paging for the lists
 * (and the counts that follow the same filters).
 *
 *  - Parsing: each parameter in declaration order; a bad value adds one
 *    422 item in FastAPI's shape.  A value holding NUL or invalid UTF-8
 *    (or, for metadata, what jsonb cannot store) names nothing stored:
 *    the answer is empty without asking the database, as for status=.
 *  - SQL: composed of the fixed fragments of sql.c (db_frag); every
 *    value travels as a $n parameter, times in binary (PostgreSQL's
 *    int64 microseconds, exact for every timestamptz), so nothing from
 *    a request is ever part of the SQL text.  The statement runs
 *    unnamed (db_dyn): each combination plans with its values, using
 *    the indexes of sql/001-004.
 *  - Cursor: base64url of version, flags (order, position present),
 *    submit_time and seq of the last row shown, and a 64-bit check
 *    (FNV-1a over those bytes and the digest of the filters and order).
 *    A cursor given with other filters, another order or mangled fails
 *    the check: 400 "Invalid cursor".  It is not a secret: it only
 *    keeps a client from continuing one walk with other filters.
 *    Paging is keyset ((submit_time, seq) past the last row shown), so
 *    rows inserted, archived or deleted meanwhile never make another
 *    row skip or repeat.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "req.h"
#include "db.h"
#include "jsonw.h"
#include "filter.h"

/* PostgreSQL's epoch (2000-01-01) in unix microseconds. */
#define PG_EPOCH_US	946684800000000LL

static const char *const tnames[FILTER_NTIME] = {
	"submitted_after", "submitted_before", "updated_after",
	"updated_before", "archived_after", "archived_before"
};
static const enum db_frag tfrag[FILTER_NTIME] = {
	DB_F_SUBMITTED_AFTER, DB_F_SUBMITTED_BEFORE, DB_F_UPDATED_AFTER,
	DB_F_UPDATED_BEFORE, DB_F_ARCHIVED_AFTER, DB_F_ARCHIVED_BEFORE
};

void
filter_init(struct filter *f, int archived)
{
	memset(f, 0, sizeof(*f));
	f->archived = archived;
	f->has_result = -1;
	buf_init(&f->status_in);
	buf_init(&f->backend_in);
	buf_init(&f->meta);
	buf_init(&f->sql);
	buf_init(&f->where);
	buf_init(&f->lock);
	buf_init(&f->sin);
}

void
filter_free(struct filter *f)
{
	if (f == NULL)
		return;
	buf_free(&f->status_in);
	buf_free(&f->backend_in);
	buf_free(&f->meta);
	buf_free(&f->sql);
	buf_free(&f->where);
	buf_free(&f->lock);
	buf_free(&f->sin);
}

/* Adds name=value (with its length) to the digest. */
static void
dig(struct filter *f, const char *name, const void *v, size_t n)
{
	uint64_t	 len = n;

	f->digest = filter_fnv(f->digest, name, strlen(name) + 1);
	f->digest = filter_fnv(f->digest, &len, sizeof(len));
	f->digest = filter_fnv(f->digest, v, n);
}

static void
qerr(struct buf *err, const char *type, const char *name, const char *msg,
    const struct str *in)
{
	if (err->len == 0)
		jsonw_qerr_open(err);
	jsonw_qerr(err, type, name, msg, in);
}

/* 1 when s[0..n) holds U+FFFD (what replaced invalid UTF-8). */
static int
has_fffd(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i + 3 <= n; i++)
		if (memcmp(s + i, "\xEF\xBF\xBD", 3) == 0)
			return 1;
	return 0;
}

/* Keeps one status_in value for the merged list (see filter_sql). */
static void
keep_value(struct filter *f, const char *p, size_t n)
{
	if (f->nsin < 0)
		return;
	if (f->nsin == FILTER_MERGE) {
		f->nsin = -1;
		return;
	}
	f->sin_off[f->nsin++] = f->sin.len;
	buf_add(&f->sin, p, n);
	buf_addc(&f->sin, '\0');
}

/* Appends the storable ones of v[0..n) to a text[] literal in arr. */
static int
add_items(struct filter *f, struct buf *arr, const struct str *v, size_t n)
{
	size_t	 i;
	int	 k = 0;
	const char *p[1];
	size_t	 l[1];
	struct buf item;

	buf_addc(arr, '{');
	for (i = 0; i < n; i++) {
		if (v[i].bad)
			continue;
		buf_init(&item);
		p[0] = v[i].p;
		l[0] = v[i].len;
		db_array(&item, p, l, 1);
		if (arr == &f->status_in)
			keep_value(f, v[i].p, v[i].len);
		if (k++ > 0)
			buf_addc(arr, ',');
		if (item.len >= 2)
			buf_add(arr, item.p + 1, item.len - 2);
		if (item.oom)
			arr->oom = 1;
		buf_free(&item);
	}
	buf_addc(arr, '}');
	return k;
}

/*
 * The filters of a bulk body (SPEC 4.5) into f (for tasks); f points
 * into jf, which must outlive it.  Returns APP_NOMEM or APP_OK.
 */
enum app_err
filter_from_json(struct filter *f, const struct jsonw_filter *jf)
{
	int	 i;

	f->status = jf->has_status ? &jf->status : NULL;
	f->backend = jf->has_backend ? &jf->backend : NULL;
	if ((f->status && f->status->bad) || (f->backend && f->backend->bad))
		f->nomatch = 1;
	if ((f->has_status_in = jf->has_status_in) &&
	    add_items(f, &f->status_in, jf->status_in, jf->nstatus_in) == 0)
		f->nomatch = 1;
	if ((f->has_backend_in = jf->has_backend_in) &&
	    add_items(f, &f->backend_in, jf->backend_in, jf->nbackend_in) == 0)
		f->nomatch = 1;
	f->has_result = jf->has_result;
	for (i = 0; i < 4; i++)
		if ((f->tset[i] = jf->tset[i]))
			f->t[i] = jf->t[i] - PG_EPOCH_US;
	if ((f->has_meta = jf->has_meta)) {
		buf_add(&f->meta, jf->meta.p ? jf->meta.p : "", jf->meta.len);
		if (jf->meta_nomatch)
			f->nomatch = 1;
	}
	f->extended = 1;
	if (f->status_in.oom || f->backend_in.oom || f->meta.oom)
		return APP_NOMEM;
	return APP_OK;
}

/*
 * a,b,c -> a text[] literal of the values; a value that cannot be
 * stored (bad) is left out, and when all are, nothing matches.
 */
static void
split_list(struct filter *f, const struct str *s, struct buf *arr)
{
	const char	*p = s->p, *end = s->p + s->len, *c;
	const char	*v[1];
	size_t		 l[1];
	int		 n = 0;
	struct str	 one;

	buf_addc(arr, '{');
	for (;;) {
		c = memchr(p, ',', (size_t)(end - p));
		if (c == NULL)
			c = end;
		/* The whole value is valid UTF-8 (with U+FFFD for bad). */
		one.p = (char *)p;
		one.len = (size_t)(c - p);
		if (memchr(p, '\0', one.len) == NULL &&
		    (!s->bad || !has_fffd(p, one.len))) {
			struct buf	 item;

			buf_init(&item);
			v[0] = p;
			l[0] = one.len;
			db_array(&item, v, l, 1);
			if (arr == &f->status_in)
				keep_value(f, p, one.len);
			/* db_array wrote {"..."}: keep the inside. */
			if (n++ > 0)
				buf_addc(arr, ',');
			if (item.len >= 2)
				buf_add(arr, item.p + 1, item.len - 2);
			if (item.oom)
				arr->oom = 1;
			buf_free(&item);
		}
		if (c == end)
			break;
		p = c + 1;
	}
	buf_addc(arr, '}');
	if (n == 0)
		f->nomatch = 1;
}

/*
 * Reads the 4.1 parameters of r.  Returns APP_OK; APP_INVALID with the
 * 422 items appended to err (opened when empty, closed by the caller);
 * APP_BADREQ for a cursor that is not these filters' (the caller sets
 * the detail); APP_NOMEM.
 */
enum app_err
filter_parse(struct filter *f, const struct req *r, struct buf *err)
{
	static const char *const ext[] = {
		"status_in", "backend_in", "has_result", "metadata", "order",
		"cursor", "total"
	};
	const struct str *s, *cur = NULL, *off;
	struct buf	 msg;
	size_t		 i;
	int		 bad = 0, nm, pre = err->len > 0;
	int64_t		 us, o = 0;

	f->digest = 0xcbf29ce484222325ULL;
	dig(f, f->archived ? "archive" : "tasks", "", 0);
	/* On /api/tasks/counts status and backend stay ignored (2.1). */
	f->status = f->counts ? NULL : req_query(r, "status");
	f->backend = f->counts ? NULL : req_query(r, "backend");
	if ((f->status != NULL && f->status->bad) ||
	    (f->backend != NULL && f->backend->bad))
		f->nomatch = 1;
	if (f->status != NULL)
		dig(f, "status", f->status->p, f->status->len);
	if (f->backend != NULL)
		dig(f, "backend", f->backend->p, f->backend->len);
	for (i = 0; i < NELEM(ext); i++)
		if (req_query(r, ext[i]) != NULL && (!f->counts || i < 4))
			f->extended = 1;
	if (f->counts && req_query(r, "by") != NULL)
		f->extended = 1;
	for (i = 0; i < FILTER_NTIME; i++)
		if ((f->archived || i < 4) && req_query(r, tnames[i]) != NULL)
			f->extended = 1;
	if ((s = req_query(r, "status_in")) != NULL) {
		f->has_status_in = 1;
		split_list(f, s, &f->status_in);
		dig(f, "status_in", s->p, s->len);
	}
	if ((s = req_query(r, "backend_in")) != NULL) {
		f->has_backend_in = 1;
		split_list(f, s, &f->backend_in);
		dig(f, "backend_in", s->p, s->len);
	}
	if ((s = req_query(r, "has_result")) != NULL) {
		if (!req_parse_bool(s->p, s->len, &f->has_result)) {
			qerr(err, "bool_parsing", "has_result", "Input should be "
			    "a valid boolean, unable to interpret input", s);
			bad = 1;
		} else
			dig(f, "has_result", f->has_result ? "1" : "0", 1);
	}
	for (i = 0; i < FILTER_NTIME; i++) {
		if ((!f->archived && i >= 4) ||
		    (s = req_query(r, tnames[i])) == NULL)
			continue;
		if (s->bad || !req_parse_datetime(s->p, s->len, &us)) {
			qerr(err, "datetime_from_date_parsing", tnames[i],
			    "Input should be a valid datetime or date, invalid "
			    "date-time format", s);
			bad = 1;
			continue;
		}
		f->tset[i] = 1;
		f->t[i] = us - PG_EPOCH_US;
		dig(f, tnames[i], &f->t[i], sizeof(f->t[i]));
	}
	if ((s = req_query(r, "metadata")) != NULL) {
		buf_init(&msg);
		if (!jsonw_query_json(s->p, s->len, &f->meta, &nm, &msg)) {
			qerr(err, "json_invalid", "metadata",
			    msg.p ? msg.p : "Invalid JSON", s);
			bad = 1;
		} else {
			f->has_meta = 1;
			if (nm || s->bad)
				f->nomatch = 1;
			dig(f, "metadata", f->meta.p ? f->meta.p : "",
			    f->meta.len);
		}
		buf_free(&msg);
	}
	if (f->counts) {
		if ((s = req_query(r, "by")) != NULL) {
			if (s->len == 7 && memcmp(s->p, "backend", 7) == 0)
				f->by_backend = 1;
			else {
				qerr(err, "literal_error", "by",
				    "Input should be 'backend'", s);
				bad = 1;
			}
		}
		goto done;
	}
	if ((s = req_query(r, "order")) != NULL) {
		if (s->len == 3 && memcmp(s->p, "asc", 3) == 0)
			f->asc = 1;
		else if (!(s->len == 4 && memcmp(s->p, "desc", 4) == 0)) {
			qerr(err, "literal_error", "order",
			    "Input should be 'desc' or 'asc'", s);
			bad = 1;
		}
	}
	dig(f, "order", f->asc ? "a" : "d", 1);
	cur = req_query(r, "cursor");
	off = req_query(r, "offset");

	if (cur != NULL && off != NULL && req_parse_int(off->p, off->len, &o) &&
	    o != 0) {
		qerr(err, "value_error", "cursor", "Value error, cursor cannot "
		    "be combined with a non-zero offset", cur);
		bad = 1;
	}
	if ((s = req_query(r, "total")) != NULL) {
		if (s->len == 4 && memcmp(s->p, "none", 4) == 0)
			f->total_none = 1;
		else if (!(s->len == 5 && memcmp(s->p, "exact", 5) == 0)) {
			qerr(err, "literal_error", "total",
			    "Input should be 'exact' or 'none'", s);
			bad = 1;
		}
	}
done:
	if (f->status_in.oom || f->backend_in.oom || f->meta.oom || err->oom)
		return APP_NOMEM;
	if (bad || pre)
		return APP_INVALID;
	if (!f->counts && cur != NULL) {
		f->cursor = 1;
		if (cur->len > 0 && !filter_cursor_read(f, cur))
			return APP_BADREQ;
	}
	return APP_OK;
}

/*
 * 1 when the count of these filters comes from the counters
 * (task_counts): status and backend filters only.
 */
int
filter_counted(const struct filter *f)
{
	int	 i;

	for (i = 0; i < FILTER_NTIME; i++)
		if (f->tset[i])
			return 0;
	return f->has_result < 0 && !f->has_meta;
}

static int
param(struct filter *f, const char *v, int len, int fmt)
{
	f->pv[f->np] = v;
	f->len[f->np] = len;
	f->fmt[f->np] = fmt;
	return ++f->np;
}

static int
tparam(struct filter *f, int64_t us)
{
	filter_put64((unsigned char *)f->bin[f->np], (uint64_t)us);
	return param(f, f->bin[f->np], 8, 1);
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

/* The filters' conditions into f->where, their values as parameters. */
static void
conditions(struct filter *f, int *first, int item)
{
	struct buf	*w = &f->where;
	int		 i;

	if (f->status != NULL)
		frag(f, w, first, DB_F_STATUS, param(f, f->status->p, 0, 0), 0);
	if (f->backend != NULL)
		frag(f, w, first, DB_F_BACKEND,
		    param(f, f->backend->p, 0, 0), 0);
	if (f->has_status_in && item >= 0)
		frag(f, w, first, DB_F_STATUS,
		    param(f, f->sin.p + f->sin_off[item], 0, 0), 0);
	else if (f->has_status_in)
		frag(f, w, first, DB_F_STATUS_IN,
		    param(f, f->status_in.p, 0, 0), 0);
	if (f->has_backend_in)
		frag(f, w, first, DB_F_BACKEND_IN,
		    param(f, f->backend_in.p, 0, 0), 0);
	if (f->has_result >= 0)
		frag(f, w, first, DB_F_HAS_RESULT,
		    param(f, f->has_result ? "true" : "false", 0, 0), 0);
	for (i = 0; i < FILTER_NTIME; i++)
		if (f->tset[i])
			frag(f, w, first, tfrag[i], tparam(f, f->t[i]), 0);
	if (f->has_meta)
		frag(f, w, first, DB_F_METADATA, param(f, f->meta.p, 0, 0), 0);
}

/*
 * The list with status_in of a few values: one branch per value, each
 * reading its (status, submit_time, seq) index in list order as far as
 * the page needs, merged.  status = ANY (...) instead would read the
 * order index past every row of the other statuses, or all rows of the
 * given ones and sort them: at 1 000 000 tasks that is the difference
 * between a page that costs what the first page costs and one that
 * costs a scan.
 */
static void
merged_list(struct filter *f, int64_t limit, int64_t offset)
{
	struct buf	*sql = &f->sql;
	int		 i, first, a, b, lim;
	int64_t		 bl = limit;

	if (f->cursor && bl >= 0 && bl < INT64_MAX)
		bl++;
	if (bl >= 0 && offset > 0)
		bl = offset > INT64_MAX - bl ? INT64_MAX : bl + offset;
	snprintf(f->num[3], sizeof(f->num[3]), "%lld", (long long)bl);
	lim = param(f, bl < 0 ? NULL : f->num[3], 0, 0);
	buf_adds(sql, "SELECT * FROM (");
	for (i = 0; i < f->nsin; i++) {
		buf_reset(&f->where);
		first = 1;
		conditions(f, &first, i);
		if (f->cursor && f->cur_pos) {
			a = tparam(f, f->cur_time);
			snprintf(f->num[2], sizeof(f->num[2]), "%lld",
			    (long long)f->cur_seq);
			b = param(f, f->num[2], 0, 0);
			frag(f, &f->where, &first, f->asc ? DB_F_AFTER_ASC :
			    DB_F_AFTER_DESC, a, b);
		}
		buf_adds(sql, i > 0 ? " UNION ALL (" : "(");
		frag(f, sql, NULL, f->archived ? DB_F_ALIST : DB_F_LIST, 0, 0);
		buf_add(sql, f->where.p ? f->where.p : "", f->where.len);
		frag(f, sql, NULL, f->asc ? DB_F_ORDER_ASC : DB_F_ORDER_DESC,
		    0, 0);
		buf_adds(sql, " LIMIT $");
		buf_addi(sql, lim);
		buf_addc(sql, ')');
	}
	buf_adds(sql, ") u");
	frag(f, sql, NULL, f->asc ? DB_F_ORDER_ASC : DB_F_ORDER_DESC, 0, 0);
	if (f->cursor && limit >= 0 && limit < INT64_MAX)
		limit++;
	snprintf(f->num[0], sizeof(f->num[0]), "%lld", (long long)limit);
	snprintf(f->num[1], sizeof(f->num[1]), "%lld",
	    (long long)(offset < 0 ? 0 : offset));
	a = param(f, limit < 0 ? NULL : f->num[0], 0, 0);
	b = param(f, f->num[1], 0, 0);
	frag(f, sql, NULL, DB_F_LIMIT, a, b);
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
	int		 first = 1, a, b;
	enum db_frag	 head;
	struct buf	*sql = &f->sql;

	buf_reset(sql);
	buf_reset(&f->where);
	f->np = 0;
	memset(q, 0, sizeof(*q));
	q->flags = DB_READ;
	switch (what) {
	case FILTER_GROUP:
		head = filter_counted(f) ? DB_F_CGROUP : DB_F_GROUP;
		first = 0;
		break;
	case FILTER_LIST:
		head = f->archived ? DB_F_ALIST : DB_F_LIST;
		break;
	case FILTER_COUNT:
		if (filter_counted(f)) {
			head = f->archived ? DB_F_ACOUNTERS : DB_F_COUNTERS;
			first = 0;
		} else
			head = f->archived ? DB_F_ACOUNT : DB_F_COUNT;
		break;
	default:	/* SAMPLE, BULK_*: the conditions go in at "%w" */
		conditions(f, &first, -1);
		if (what == FILTER_SAMPLE) {
			frag(f, sql, NULL, DB_F_SAMPLE, 0, 0);
			q->rows = DB_F_SAMPLE;
			goto done;
		}
		snprintf(f->num[0], sizeof(f->num[0]), "%lld",
		    (long long)limit);
		a = param(f, f->num[0], 0, 0);
		frag(f, sql, NULL, what == FILTER_BULK_DELETE ?
		    DB_F_BULK_DELETE : DB_F_BULK_ARCHIVE, a, 0);
		buf_reset(&f->lock);
		frag(f, &f->lock, NULL, DB_F_BULK_LOCK, a, 0);
		q->pre_sql = what == FILTER_BULK_ARCHIVE ? f->lock.p : NULL;
		q->flags = DB_LONG;
		q->rows = what == FILTER_BULK_DELETE ? DB_F_BULK_DELETE :
		    DB_F_BULK_ARCHIVE;
		goto done;
	}
	q->rows = head;		/* the layout of its rows (sql.c) */
	if (what == FILTER_LIST && f->has_status_in && f->nsin > 1 &&
	    !f->sin.oom) {
		merged_list(f, limit, offset);
		goto done;
	}
	frag(f, sql, NULL, head, 0, 0);
	conditions(f, &first, -1);
	if (what == FILTER_LIST && f->cursor && f->cur_pos) {
		a = tparam(f, f->cur_time);
		snprintf(f->num[2], sizeof(f->num[2]), "%lld",
		    (long long)f->cur_seq);
		b = param(f, f->num[2], 0, 0);
		frag(f, &f->where, &first, f->asc ? DB_F_AFTER_ASC :
		    DB_F_AFTER_DESC, a, b);
	}
	buf_add(sql, f->where.p ? f->where.p : "", f->where.len);
	if (what == FILTER_LIST) {
		frag(f, sql, NULL, f->asc ? DB_F_ORDER_ASC : DB_F_ORDER_DESC,
		    0, 0);
		if (f->cursor && limit >= 0 && limit < INT64_MAX)
			limit++;
		snprintf(f->num[0], sizeof(f->num[0]), "%lld",
		    (long long)limit);
		snprintf(f->num[1], sizeof(f->num[1]), "%lld",
		    (long long)(offset < 0 ? 0 : offset));
		a = param(f, limit < 0 ? NULL : f->num[0], 0, 0);
		b = param(f, f->num[1], 0, 0);
		frag(f, sql, NULL, DB_F_LIMIT, a, b);
	}
	if (what == FILTER_GROUP)
		frag(f, sql, NULL, DB_F_GROUP_END, 0, 0);
done:
	if (sql->oom || f->where.oom || f->lock.oom)
		return APP_NOMEM;
	q->sql = sql->p;
	q->nparams = f->np;
	q->lengths = f->len;
	q->formats = f->fmt;
	return APP_OK;
}
