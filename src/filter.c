/*
 * filter.c: SPEC 4.1 filters, order and cursor paging for the lists
 * (and the counts that follow the same filters).
 *
 *  - Parsing: each parameter in declaration order; a bad value adds one
 *    422 item in FastAPI's shape.  A value holding NUL or invalid UTF-8
 *    (or, for metadata, what jsonb cannot store) names nothing stored:
 *    the answer is empty without asking the database, as for status=.
 *  - SQL (filter_sql.c): composed of the fixed fragments of sql.c
 *    (db_frag); every value travels as a $n parameter, times in binary
 *    (PostgreSQL's int64 microseconds, exact for every timestamptz), so
 *    nothing from a request is ever part of the SQL text.  The
 *    statement runs unnamed (db_dyn): each combination plans with its
 *    values, using the indexes of sql/001-006.
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

/* Calls fn on each buffer of f. */
static void
each_buf(struct filter *f, void (*fn)(struct buf *))
{
	struct buf	*const v[] = { &f->status_in, &f->backend_in, &f->meta,
	    &f->mkeys, &f->sql, &f->where, &f->lock, &f->sin };
	size_t		 i;

	for (i = 0; i < NELEM(v); i++)
		fn(v[i]);
}

void
filter_init(struct filter *f, int archived)
{
	memset(f, 0, sizeof(*f));
	f->archived = archived;
	f->has_result = -1;
	each_buf(f, buf_init);
}

void
filter_free(struct filter *f)
{
	if (f != NULL)
		each_buf(f, buf_free);
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

/* Appends p[0..n) to the items of the text[] literal arr (*k of them). */
static void
add_item(struct filter *f, struct buf *arr, const char *p, size_t n, int *k)
{
	struct buf	 item;

	buf_init(&item);
	db_array(&item, &p, &n, 1);
	if (arr == &f->status_in)
		keep_value(f, p, n);
	if ((*k)++ > 0)
		buf_addc(arr, ',');
	/* db_array wrote {"..."}: keep the inside. */
	if (item.len >= 2)
		buf_add(arr, item.p + 1, item.len - 2);
	if (item.oom)
		arr->oom = 1;
	buf_free(&item);
}

/* Appends the storable ones of v[0..n) to a text[] literal in arr. */
static int
add_items(struct filter *f, struct buf *arr, const struct str *v, size_t n)
{
	size_t	 i;
	int	 k = 0;

	buf_addc(arr, '{');
	for (i = 0; i < n; i++)
		if (!v[i].bad)
			add_item(f, arr, v[i].p, v[i].len, &k);
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
	int		 n = 0;

	buf_addc(arr, '{');
	for (;;) {
		c = memchr(p, ',', (size_t)(end - p));
		if (c == NULL)
			c = end;
		/* The whole value is valid UTF-8 (with U+FFFD for bad). */
		if (memchr(p, '\0', (size_t)(c - p)) == NULL &&
		    (!s->bad || !has_fffd(p, (size_t)(c - p))))
			add_item(f, arr, p, (size_t)(c - p), &n);
		if (c == end)
			break;
		p = c + 1;
	}
	buf_addc(arr, '}');
	if (n == 0)
		f->nomatch = 1;
}

/*
 * Query parameter name as literal yes or no (NULL: yes alone): 1 for
 * yes, 0 for no or when absent; any other value adds a literal_error
 * 422 item (msg) and sets *bad.
 */
static int
literal(const struct req *r, struct buf *err, const char *name,
    const char *yes, const char *no, const char *msg, int *bad)
{
	const struct str	*s = req_query(r, name);

	if (s == NULL)
		return 0;
	if (s->len == strlen(yes) && memcmp(s->p, yes, s->len) == 0)
		return 1;
	if (no == NULL || s->len != strlen(no) || memcmp(s->p, no, s->len)) {
		qerr(err, "literal_error", name, msg, s);
		*bad = 1;
	}
	return 0;
}

/*
 * status and backend (2.1: ignored on /api/tasks/counts), and whether
 * any 4.1/4.2 parameter is present (f->extended).
 */
static void
parse_plain(struct filter *f, const struct req *r)
{
	static const char *const ext[] = {
		"status_in", "backend_in", "has_result", "metadata", "order",
		"cursor", "total"
	};
	size_t		 i;

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
}

/* status_in, backend_in and has_result; sets *bad on a 422 item. */
static void
parse_sets(struct filter *f, const struct req *r, struct buf *err, int *bad)
{
	const struct str *s;

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
			*bad = 1;
		} else
			dig(f, "has_result", f->has_result ? "1" : "0", 1);
	}
}

/* The time bounds (archived_* on the archive only); *bad on a 422 item. */
static void
parse_times(struct filter *f, const struct req *r, struct buf *err, int *bad)
{
	const struct str *s;
	size_t		 i;
	int64_t		 us;

	for (i = 0; i < FILTER_NTIME; i++) {
		if ((!f->archived && i >= 4) ||
		    (s = req_query(r, tnames[i])) == NULL)
			continue;
		if (s->bad || !req_parse_datetime(s->p, s->len, &us)) {
			qerr(err, "datetime_from_date_parsing", tnames[i],
			    "Input should be a valid datetime or date, invalid "
			    "date-time format", s);
			*bad = 1;
			continue;
		}
		f->tset[i] = 1;
		f->t[i] = us - PG_EPOCH_US;
		dig(f, tnames[i], &f->t[i], sizeof(f->t[i]));
	}
}

/* metadata: JSON for containment; *bad on a 422 item. */
static void
parse_meta(struct filter *f, const struct req *r, struct buf *err, int *bad)
{
	const struct str *s;
	struct buf	 msg;
	int		 nm;

	if ((s = req_query(r, "metadata")) == NULL)
		return;
	buf_init(&msg);
	if (!jsonw_query_json(s->p, s->len, &f->meta, &nm, &msg)) {
		qerr(err, "json_invalid", "metadata",
		    msg.p ? msg.p : "Invalid JSON", s);
		*bad = 1;
	} else {
		f->has_meta = 1;
		if (nm || s->bad)
			f->nomatch = 1;
		dig(f, "metadata", f->meta.p ? f->meta.p : "", f->meta.len);
	}
	buf_free(&msg);
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
	const struct str *cur = NULL, *off;
	int		 bad = 0, pre = err->len > 0;
	int64_t		 o = 0;

	f->digest = 0xcbf29ce484222325ULL;
	dig(f, f->archived ? "archive" : "tasks", "", 0);
	parse_plain(f, r);
	parse_sets(f, r, err, &bad);
	parse_times(f, r, err, &bad);
	parse_meta(f, r, err, &bad);
	if (f->counts) {
		f->by_backend = literal(r, err, "by", "backend", NULL,
		    "Input should be 'backend'", &bad);
		goto done;
	}
	f->asc = literal(r, err, "order", "asc", "desc",
	    "Input should be 'desc' or 'asc'", &bad);
	dig(f, "order", f->asc ? "a" : "d", 1);
	cur = req_query(r, "cursor");
	off = req_query(r, "offset");
	if (cur != NULL && off != NULL && req_parse_int(off->p, off->len, &o) &&
	    o != 0) {
		qerr(err, "value_error", "cursor", "Value error, cursor cannot "
		    "be combined with a non-zero offset", cur);
		bad = 1;
	}
	f->total_none = literal(r, err, "total", "none", "exact",
	    "Input should be 'exact' or 'none'", &bad);
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
