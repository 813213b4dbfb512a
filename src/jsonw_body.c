/*
 * jsonw_body.c: bulk bodies (task_ids), checked with Python's grammar
 * (jsonw_py.c) and walked in place; the 422 bodies pydantic gives them.
 * The by-filter form is in jsonw_filter.c.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "buf.h"
#include "req.h"
#include "jsonw.h"

#include "jsonw_int.h"

void
jsonw_berr_open(struct buf *b, const char *type)
{
	if (b->len == 0)
		buf_adds(b, "{\"detail\":[");
	else
		buf_addc(b, ',');
	buf_adds(b, "{\"type\":\"");
	buf_adds(b, type);
	buf_adds(b, "\",\"loc\":[\"body\"");
}

void
jsonw_berr_close(struct buf *b, const char *msg)
{
	buf_adds(b, "],\"msg\":");
	jsonw_strz(b, msg);
	buf_adds(b, ",\"input\":");
}

void
jsonw_ids_free(struct jsonw_ids *ids)
{
	size_t	 i;

	if (ids == NULL)
		return;
	for (i = 0; i < ids->n; i++)
		req_str_free(&ids->ids[i]);
	free(ids->ids);
	ids->ids = NULL;
	ids->n = 0;
}

/* ------------------------------------- bulk bodies, scanned in place */

/*
 * A bulk body is checked with Python's grammar first (no tree: nothing
 * is allocated per value), then walked in place; the values that a 422
 * echoes are written from the text the way json.dumps writes what
 * json.loads made of them.  So memory stays a small multiple of the
 * body whatever it holds (a tree of json-c objects was about 300 times
 * the body for {"task_ids":[{},{},...]}).  The echoes are written here,
 * not by json-c: json-c writes only a tree, and building one is what
 * this avoids (strings in them are still escaped by json-c).
 */

/* At most this many string_type errors are listed in one 422 (README). */
#define JSONW_MAX_ITEM_ERRORS	1000

/* The end of the (valid) value at s[i]. */
static size_t
skip_value(struct pj *p, size_t i)
{
	int	 err = 0;

	(void)jsonw_pj_value(p, &i, &err);
	return i;
}

/* The end of the (valid) string at s[i]; its text unescaped into t. */
static size_t
string_text(struct pj *p, size_t i, struct buf *t, int *lone)
{
	size_t	 end = i;

	(void)jsonw_pj_string_check(p, i, &end);
	buf_add(t, "", 0);
	jsonw_unescape(t, p->s + i + 1, end - i - 2, lone);
	return end;
}

static size_t echo_value(struct pj *, size_t, struct buf *);

/* An object member while echoing: key text, value offset. */
struct member {
	const char	*k;
	size_t		 klen;
	size_t		 koff;		/* in the key arena, when escaped */
	size_t		 val;		/* SIZE_MAX: a later duplicate */
};

static int
member_cmp(const void *a, const void *b)
{
	const struct member *x = *(struct member *const *)a;
	const struct member *y = *(struct member *const *)b;
	size_t		 n = x->klen < y->klen ? x->klen : y->klen;
	int		 c = n > 0 ? memcmp(x->k, y->k, n) : 0;

	if (c != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x < y ? -1 : x > y;	/* the order given */
}

/*
 * Echoes the object at s[i] as a Python dict: keys in first-seen order,
 * a duplicate key keeping its first place with its last value.
 */
static size_t
echo_object(struct pj *p, size_t i, struct buf *b)
{
	struct member	*m = NULL, **ix = NULL, *t;
	struct buf	 keys;
	size_t		 nm = 0, cap = 0, j, r, e;
	int		 lone = 0;

	buf_init(&keys);
	i = jsonw_pj_ws(p, i + 1);
	while (p->s[i] != '}') {
		if (nm == cap) {
			cap = cap ? cap * 2 : 16;
			if ((t = reallocarray(m, cap, sizeof(*m))) == NULL) {
				b->oom = 1;
				goto out;
			}
			m = t;
		}
		e = i;
		(void)jsonw_pj_string_check(p, i, &e);
		if (memchr(p->s + i + 1, '\\', e - i - 2) == NULL) {
			m[nm].k = p->s + i + 1;
			m[nm].klen = e - i - 2;
		} else {
			m[nm].k = NULL;
			m[nm].koff = keys.len;
			jsonw_unescape(&keys, p->s + i + 1, e - i - 2, &lone);
			m[nm].klen = keys.len - m[nm].koff;
		}
		i = jsonw_pj_ws(p, jsonw_pj_ws(p, e) + 1);	/* past ':' */
		m[nm++].val = i;
		i = jsonw_pj_ws(p, skip_value(p, i));
		if (p->s[i] == ',')
			i = jsonw_pj_ws(p, i + 1);
	}
	i++;
	if (keys.oom) {
		b->oom = 1;
		goto out;
	}
	for (j = 0; j < nm; j++)
		if (m[j].k == NULL)
			m[j].k = keys.p + m[j].koff;
	if (nm > 1) {
		if ((ix = reallocarray(NULL, nm, sizeof(*ix))) == NULL) {
			b->oom = 1;
			goto out;
		}
		for (j = 0; j < nm; j++)
			ix[j] = &m[j];
		qsort(ix, nm, sizeof(*ix), member_cmp);
		for (j = 0; j < nm; j = r) {
			for (r = j + 1; r < nm && ix[r]->klen == ix[j]->klen &&
			    memcmp(ix[r]->k, ix[j]->k, ix[j]->klen) == 0; r++)
				continue;
			if (r - 1 == j)
				continue;
			ix[j]->val = ix[r - 1]->val;
			for (e = j + 1; e < r; e++)
				ix[e]->val = SIZE_MAX;
		}
	}
	buf_addc(b, '{');
	for (j = 0, r = 0; j < nm; j++) {
		if (m[j].val == SIZE_MAX)
			continue;
		if (r++ > 0)
			buf_addc(b, ',');
		jsonw_str(b, m[j].k, m[j].klen);
		buf_addc(b, ':');
		(void)echo_value(p, m[j].val, b);
	}
	buf_addc(b, '}');
out:
	free(ix);
	free(m);
	buf_free(&keys);
	return i;
}

/*
 * Writes the (valid) value at s[i] as json.dumps writes json.loads' idea
 * of it: strings re-escaped, integers within 64 bits normalized ("-0" is
 * 0), other numbers as written, NaN and Infinity as null (JSON has no
 * spelling for them).  Returns the end of the value.
 */
static size_t
echo_value(struct pj *p, size_t i, struct buf *b)
{
	struct buf	 t;
	size_t		 e;
	int		 isint, lone = 0, first = 1;

	switch (p->s[i]) {
	case '"':
		buf_init(&t);
		e = string_text(p, i, &t, &lone);
		if (t.oom)
			b->oom = 1;
		else
			jsonw_str(b, t.p, t.len);
		buf_free(&t);
		return e;
	case '{':
		return echo_object(p, i, b);
	case '[':
		buf_addc(b, '[');
		i = jsonw_pj_ws(p, i + 1);
		while (p->s[i] != ']') {
			if (!first)
				buf_addc(b, ',');
			first = 0;
			i = jsonw_pj_ws(p, echo_value(p, i, b));
			if (p->s[i] == ',')
				i = jsonw_pj_ws(p, i + 1);
		}
		buf_addc(b, ']');
		return i + 1;
	}
	if (jsonw_lit(p, i, "null") || jsonw_lit(p, i, "true")) {
		buf_add(b, p->s + i, 4);
		return i + 4;
	}
	if (jsonw_lit(p, i, "false")) {
		buf_adds(b, "false");
		return i + 5;
	}
	if (jsonw_lit(p, i, "NaN") || jsonw_lit(p, i, "Infinity") ||
	    jsonw_lit(p, i, "-Infinity")) {
		buf_adds(b, "null");
		return i + (p->s[i] == 'N' ? 3 : p->s[i] == 'I' ? 8 : 9);
	}
	e = jsonw_pj_number(p, i, &isint);
	if (isint && e - i < 24) {
		char		 d[24], *ep;
		long long	 v;

		memcpy(d, p->s + i, e - i);
		d[e - i] = '\0';
		errno = 0;
		v = strtoll(d, &ep, 10);
		if (errno == 0 && *ep == '\0') {
			buf_addi(b, v);
			return e;
		}
	}
	buf_add(b, p->s + i, e - i);
	return e;
}

/*
 * Validates a bulk body as FastAPI + pydantic do for a model with
 * task_ids: list[str] = [].  Returns APP_OK with the ids (caller frees
 * with jsonw_ids_free), APP_INVALID with the 422 body in err, APP_BADREQ
 * for a body that is not UTF-8, APP_TOOBIG as soon as the list holds
 * more than max_ids items, or APP_NOMEM.  A 422 lists at most
 * JSONW_MAX_ITEM_ERRORS string_type errors.
 */
enum app_err
jsonw_parse_ids(const char *body, size_t len, int have_body,
    const char *ctype, size_t max_ids, struct jsonw_ids *out, struct buf *err)
{
	return jsonw_parse_bulk(body, len, have_body, ctype, max_ids, out,
	    NULL, err);
}

/* Ends a 422 of one item: returns APP_INVALID, or APP_NOMEM if err ran out. */
static enum app_err
one_item_end(struct buf *err)
{
	buf_adds(err, "}]}");
	return err->oom ? APP_NOMEM : APP_INVALID;
}

/* The 422 of a body that is not given (or is null): returns as one_item_end. */
static enum app_err
body_missing(struct buf *err)
{
	jsonw_berr_open(err, "missing");
	jsonw_berr_close(err, "Field required");
	buf_adds(err, "null");
	return one_item_end(err);
}

/* Opens the 422 item of a body that is not an object (its input follows). */
static void
not_object_open(struct buf *err)
{
	jsonw_berr_open(err, "model_attributes_type");
	jsonw_berr_close(err, "Input should be a valid dictionary or "
	    "object to extract fields from");
}

/*
 * The checks before the JSON: a body given, UTF-8, a JSON content type.
 * Returns APP_OK, APP_INVALID with the 422 in err, APP_BADREQ (not
 * UTF-8) or APP_NOMEM.
 */
static enum app_err
check_raw(const char *body, size_t len, int have_body, const char *ctype,
    struct buf *err)
{
	if (!have_body || len == 0)
		return body_missing(err);
	if (!req_utf8_valid(body, len))
		return APP_BADREQ;
	if (ctype == NULL || !jsonw_is_json_type(ctype)) {
		/*
		 * Not JSON: pydantic sees the raw text.  No Content-Type at
		 * all is not JSON either (FastAPI since 0.132; before, it
		 * parsed such a body as JSON).
		 */
		not_object_open(err);
		jsonw_str(err, body, len);
		return one_item_end(err);
	}
	return APP_OK;
}

/*
 * Checks body[0..len) with Python's grammar (p set over it, a byte order
 * mark dropped) and that it is an object, at *obj.  Returns APP_OK,
 * APP_INVALID with the 422 in err, or APP_NOMEM.
 */
static enum app_err
check_json(struct pj *p, const char *body, size_t len, size_t *obj,
    struct buf *err)
{
	size_t	 i;
	int	 perr = 0;

	/* Python's json.loads(bytes) drops a UTF-8 byte order mark. */
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
		body += 3;
		len -= 3;
	}
	memset(p, 0, sizeof(*p));
	p->s = body;
	p->n = len;
	(void)jsonw_pj_parse(p, &perr);
	if (perr != 0) {
		jsonw_berr_open(err, "json_invalid");
		buf_addc(err, ',');
		buf_addu(err, jsonw_char_offset(body, p->errpos));
		jsonw_berr_close(err, "JSON decode error");
		buf_adds(err, "{},\"ctx\":{\"error\":");
		jsonw_strz(err, p->errmsg);
		buf_addc(err, '}');
		return one_item_end(err);
	}
	/* Valid JSON from here on: the walks need no checks. */
	i = jsonw_pj_ws(p, 0);
	if (jsonw_lit(p, i, "null"))
		return body_missing(err);
	if (body[i] != '{') {
		not_object_open(err);
		(void)echo_value(p, i, err);
		return one_item_end(err);
	}
	*obj = i;
	return APP_OK;
}

/*
 * Walks the members of the object at s[i]: *tv and *fv are the offsets
 * of the last "task_ids" and "filter" values, as in a Python dict
 * (SIZE_MAX: not given; a null filter is not given).  Returns APP_OK or
 * APP_NOMEM.
 */
static enum app_err
find_members(struct pj *p, size_t i, size_t *tv, size_t *fv)
{
	struct buf	 t;
	size_t		 e;
	int		 lone;

	i = jsonw_pj_ws(p, i + 1);
	while (p->s[i] != '}') {
		lone = 0;
		buf_init(&t);
		e = string_text(p, i, &t, &lone);
		if (t.oom) {
			buf_free(&t);
			return APP_NOMEM;
		}
		i = jsonw_pj_ws(p, jsonw_pj_ws(p, e) + 1);
		if (t.len == 8 && memcmp(t.p, "task_ids", 8) == 0)
			*tv = i;
		else if (t.len == 6 && memcmp(t.p, "filter", 6) == 0)
			*fv = jsonw_lit(p, i, "null") ? SIZE_MAX : i;
		buf_free(&t);
		i = jsonw_pj_ws(p, skip_value(p, i));
		if (p->s[i] == ',')
			i = jsonw_pj_ws(p, i + 1);
	}
	return APP_OK;
}

/*
 * The by-filter form (bk->given set): built as a tree by
 * jsonw_bulk_filter when the body is small enough; have_ids when
 * "task_ids" is given too.  Returns as jsonw_parse_bulk.
 */
static enum app_err
by_filter(struct pj *p, int have_ids, struct jsonw_filter *bk,
    struct buf *err)
{
	bk->given = 1;
	if (p->n <= JSONW_MAX_FILTER_BODY)
		return jsonw_bulk_filter(p, bk, err);
	if (!have_ids)
		return APP_TOOBIG;	/* the caller says why */
	/* Both forms: the 422 needs no tree (as in parse_filter). */
	jsonw_berr_open(err, "value_error");
	jsonw_berr_close(err, "Value error, give task_ids or filter, "
	    "not both");
	(void)echo_value(p, jsonw_pj_ws(p, 0), err);
	return one_item_end(err);
}

/*
 * The string at s[i] appended to out (*cap its room; a lone surrogate
 * marks it bad), *end past it.  Returns APP_OK or APP_NOMEM.
 */
static enum app_err
add_id(struct pj *p, size_t i, struct jsonw_ids *out, size_t *cap,
    size_t *end)
{
	struct buf	 t;
	struct str	*ids;
	int		 lone = 0;

	if (out->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((ids = reallocarray(out->ids, *cap, sizeof(*ids))) == NULL)
			return APP_NOMEM;
		out->ids = ids;
	}
	buf_init(&t);
	*end = string_text(p, i, &t, &lone);
	if (t.oom || !req_str_set(&out->ids[out->n], t.p, t.len)) {
		buf_free(&t);
		return APP_NOMEM;
	}
	buf_free(&t);
	/* Lone surrogates cannot be stored: no such id. */
	if (lone)
		out->ids[out->n].bad = 1;
	out->n++;
	return APP_OK;
}

/* Writes the string_type item of task_ids[n], at s[i]; returns its end. */
static size_t
item_error(struct pj *p, size_t i, size_t n, struct buf *err)
{
	size_t	 e;

	jsonw_berr_open(err, "string_type");
	buf_adds(err, ",\"task_ids\",");
	buf_addu(err, n);
	jsonw_berr_close(err, "Input should be a valid string");
	e = echo_value(p, i, err);
	buf_addc(err, '}');
	return e;
}

/*
 * The task_ids value at s[tv] into out: a list of at most max_ids
 * strings.  Returns APP_OK, APP_INVALID with the 422 in err (at most
 * JSONW_MAX_ITEM_ERRORS items), APP_TOOBIG as soon as the list holds
 * more, or APP_NOMEM; out holds what was taken, whatever it returns.
 */
static enum app_err
take_ids(struct pj *p, size_t tv, size_t max_ids, struct jsonw_ids *out,
    struct buf *err)
{
	size_t		 i, e, n = 0, cap = 0, nbad = 0;
	enum app_err	 rc;

	if (p->s[tv] != '[') {
		jsonw_berr_open(err, "list_type");
		buf_adds(err, ",\"task_ids\"");
		jsonw_berr_close(err, "Input should be a valid list");
		(void)echo_value(p, tv, err);
		return one_item_end(err);
	}
	for (i = jsonw_pj_ws(p, tv + 1); p->s[i] != ']'; n++) {
		if (n == max_ids)
			return APP_TOOBIG;	/* before reading any further */
		if (p->s[i] != '"') {
			if (++nbad <= JSONW_MAX_ITEM_ERRORS)
				e = item_error(p, i, n, err);
			else
				e = skip_value(p, i);
		} else if (nbad > 0)
			e = skip_value(p, i);
		else if ((rc = add_id(p, i, out, &cap, &e)) != APP_OK)
			return rc;
		i = jsonw_pj_ws(p, e);
		if (p->s[i] == ',')
			i = jsonw_pj_ws(p, i + 1);
		if (err->oom)
			return APP_NOMEM;
	}
	if (nbad > 0) {
		buf_adds(err, "]}");
		return APP_INVALID;
	}
	return APP_OK;
}

/*
 * jsonw_parse_ids, and with bk set the by-filter form of SPEC 4.5: a
 * body with "filter" fills bk (bk->given set; free with
 * jsonw_filter_free whatever this returns) instead of the ids.  The
 * steps go in the order pydantic reports: content type, JSON, object,
 * task_ids, each item.
 */
enum app_err
jsonw_parse_bulk(const char *body, size_t len, int have_body,
    const char *ctype, size_t max_ids, struct jsonw_ids *out,
    struct jsonw_filter *bk, struct buf *err)
{
	struct pj	 p;
	size_t		 i = 0, tv = SIZE_MAX, fv = SIZE_MAX;
	enum app_err	 rc;

	out->ids = NULL;
	out->n = 0;
	buf_reset(err);
	if ((rc = check_raw(body, len, have_body, ctype, err)) != APP_OK ||
	    (rc = check_json(&p, body, len, &i, err)) != APP_OK ||
	    (rc = find_members(&p, i, &tv, &fv)) != APP_OK)
		return rc;
	if (bk != NULL && fv != SIZE_MAX)
		return by_filter(&p, tv != SIZE_MAX, bk, err);
	if (tv == SIZE_MAX)
		return APP_OK;		/* defaults to [] */
	rc = take_ids(&p, tv, max_ids, out, err);
	if (rc != APP_OK)
		jsonw_ids_free(out);
	if (rc == APP_TOOBIG)
		buf_reset(err);
	if (err->oom)
		rc = APP_NOMEM;
	return rc;
}
