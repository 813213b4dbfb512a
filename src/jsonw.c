/*
 * jsonw.c: JSON writing (Python-compatible escaping, ISO times, stored
 * JSON passed through minified) and bulk-body parsing, with no JSON
 * library.
 *
 * Why a parser of our own rather than json-c's: FastAPI reports invalid
 * JSON with Python's message and character offset ("Expecting ','
 * delimiter" at 17), and echoes bad values in the "input" of a 422
 * with their text (a 30-digit integer stays 30 digits).  json_tokener
 * reports neither the same way and clamps big integers, so this file
 * checks with Python's rules, then walks a bulk body in place, with no
 * tree (see "bulk bodies, scanned in place").
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "req.h"
#include "jsonw.h"

#define MAX_DEPTH 512

/* ---------------------------------------------------------------- output */

static const char hexd[] = "0123456789abcdef";

/*
 * Appends s[0..n) as a JSON string the way Python's encoder does with
 * ensure_ascii=False: '"', '\\' and control characters are escaped,
 * everything else (valid UTF-8 assumed) is copied.
 */
void
jsonw_str(struct buf *b, const char *s, size_t n)
{
	size_t		 i, run = 0;
	unsigned char	 c;
	char		 esc[6];

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':  buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		case '\b': buf_add(b, "\\b", 2); break;
		case '\f': buf_add(b, "\\f", 2); break;
		default:
			esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 15];
			buf_add(b, esc, 6);
		}
	}
	buf_add(b, s + run, n - run);
	buf_addc(b, '"');
}

void
jsonw_strz(struct buf *b, const char *s)
{
	jsonw_str(b, s, strlen(s));
}

/* Days since 1970-01-01 -> civil date (proleptic Gregorian). */
static void
civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t		 era, yy;
	unsigned	 doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/*
 * Appends a quoted time as Python's datetime.isoformat() of the UTC
 * instant: 2026-11-28T16:44:43.120500+00:00, without the fraction when
 * the microseconds are 0.  us counts microseconds from the day that is
 * day0 days after 1970-01-01; days and seconds are split off before the
 * epochs are reconciled, so no int64 value overflows.  INT64_MAX and
 * INT64_MIN (PostgreSQL's infinities) come out as "infinity" and
 * "-infinity" (Python has no such datetime).
 */
static void
put_time(struct buf *b, int64_t us, int64_t day0)
{
	int64_t		 days, secs, y;
	unsigned	 m, d;
	long		 frac;

	if (us == INT64_MAX) {
		buf_adds(b, "\"infinity\"");
		return;
	}
	if (us == INT64_MIN) {
		buf_adds(b, "\"-infinity\"");
		return;
	}
	frac = (long)(us % 1000000);
	secs = us / 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	days = secs / 86400;
	secs %= 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil(days + day0, &y, &m, &d);
	buf_printf(b, "\"%04lld-%02u-%02uT%02lld:%02lld:%02lld", (long long)y,
	    m, d, (long long)(secs / 3600), (long long)(secs / 60 % 60),
	    (long long)(secs % 60));
	if (frac != 0)
		buf_printf(b, ".%06ld", frac);
	buf_adds(b, "+00:00\"");
}

/* A time in microseconds since the unix epoch; see put_time(). */
void
jsonw_time(struct buf *b, int64_t us)
{
	put_time(b, us, 0);
}

/*
 * A time in PostgreSQL's own microseconds since 2000-01-01 (what a
 * binary timestamptz holds).  Converting those to unix microseconds
 * first would overflow for the last 29 years PostgreSQL allows
 * (294247..294276 AD): signed overflow, a garbage date.
 */
void
jsonw_time_pg(struct buf *b, int64_t us)
{
	put_time(b, us, 10957);		/* 1970-01-01 .. 2000-01-01 */
}

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static long
hex4(const char *s)
{
	long	 v = 0;
	int	 i, h;

	for (i = 0; i < 4; i++) {
		if ((h = hexv((unsigned char)s[i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static void
put_utf8(struct buf *b, unsigned long cp)
{
	char	 o[4];

	if (cp < 0x80) {
		o[0] = (char)cp;
		buf_add(b, o, 1);
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, o, 3);
	} else {
		o[0] = (char)(0xF0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, o, 4);
	}
}

/*
 * Decodes the body of a JSON string (between the quotes, escapes
 * checked beforehand) into UTF-8.  A lone surrogate becomes U+FFFD and
 * sets *lone.
 */
static void
unescape(struct buf *b, const char *s, size_t n, int *lone)
{
	size_t		 i = 0, run = 0;
	long		 cp, lo;

	while (i < n) {
		if (s[i] != '\\') {
			i++;
			continue;
		}
		buf_add(b, s + run, i - run);
		switch (s[i + 1]) {
		case 'b': buf_addc(b, '\b'); i += 2; break;
		case 'f': buf_addc(b, '\f'); i += 2; break;
		case 'n': buf_addc(b, '\n'); i += 2; break;
		case 'r': buf_addc(b, '\r'); i += 2; break;
		case 't': buf_addc(b, '\t'); i += 2; break;
		case 'u':
			cp = hex4(s + i + 2);
			i += 6;
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n &&
			    s[i] == '\\' && s[i + 1] == 'u' &&
			    (lo = hex4(s + i + 2)) >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			} else if (cp >= 0xD800 && cp <= 0xDFFF) {
				cp = 0xFFFD;
				*lone = 1;
			}
			put_utf8(b, (unsigned long)cp);
			break;
		default:	/* '"', '\\', '/' */
			buf_addc(b, s[i + 1]);
			i += 2;
		}
		run = i;
	}
	buf_add(b, s + run, n - run);
}

/*
 * Appends stored JSON text (PostgreSQL json or jsonb output, so valid)
 * as compact JSON: whitespace between tokens goes, strings are
 * re-escaped as Python would, numbers and key order stay as written.
 * Returns 0 (and writes nothing usable) only if the text is not JSON.
 */
int
jsonw_stored(struct buf *b, const char *s, size_t n)
{
	size_t	 i = 0, j, start;
	int	 esc, lone;
	struct buf tmp;

	while (i < n) {
		switch (s[i]) {
		case ' ': case '\t': case '\n': case '\r':
			i++;
			break;
		case '"':
			start = ++i;
			esc = 0;
			for (j = i; j < n && s[j] != '"'; j++) {
				if (s[j] == '\\') {
					esc = 1;
					j++;
				} else if ((unsigned char)s[j] < 0x20)
					esc = 1;
			}
			if (j >= n)
				return 0;
			if (!esc) {
				buf_addc(b, '"');
				buf_add(b, s + start, j - start);
				buf_addc(b, '"');
			} else {
				buf_init(&tmp);
				lone = 0;
				unescape(&tmp, s + start, j - start, &lone);
				if (tmp.oom) {
					b->oom = 1;
					buf_free(&tmp);
					return 0;
				}
				jsonw_str(b, tmp.p ? tmp.p : "", tmp.len);
				buf_free(&tmp);
			}
			i = j + 1;
			break;
		default:
			start = i;
			while (i < n && s[i] != '"' && s[i] != ' ' &&
			    s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
				i++;
			buf_add(b, s + start, i - start);
		}
	}
	return 1;
}

/* {"detail":"<pre><id><post>"} */
void
jsonw_detail(struct buf *b, const char *pre, const struct str *id,
    const char *post)
{
	struct buf	 t;

	buf_init(&t);
	buf_adds(&t, pre);
	if (id != NULL)
		buf_add(&t, id->p, id->len);
	buf_adds(&t, post);
	if (t.oom)
		b->oom = 1;
	buf_adds(b, "{\"detail\":");
	jsonw_str(b, t.p ? t.p : "", t.len);
	buf_addc(b, '}');
	buf_free(&t);
}

void
jsonw_qerr_open(struct buf *b)
{
	buf_reset(b);
	buf_adds(b, "{\"detail\":[");
}

/* One {"type","loc":["query",param],"msg","input"} item. */
void
jsonw_qerr(struct buf *b, const char *type, const char *param,
    const char *msg, const struct str *input)
{
	if (b->len > 0 && b->p[b->len - 1] == '}')
		buf_addc(b, ',');
	buf_adds(b, "{\"type\":");
	jsonw_strz(b, type);
	buf_adds(b, ",\"loc\":[\"query\",");
	jsonw_strz(b, param);
	buf_adds(b, "],\"msg\":");
	jsonw_strz(b, msg);
	buf_adds(b, ",\"input\":");
	jsonw_str(b, input->p, input->len);
	buf_addc(b, '}');
}

void
jsonw_qerr_close(struct buf *b)
{
	buf_adds(b, "]}");
}

/* ------------------------------------------------- Python-style parsing */

struct pj {
	const char	*s;
	size_t		 n;
	size_t		 errpos;	/* byte offset */
	const char	*errmsg;
	int		 depth;
};

static void pj_value(struct pj *, size_t *, int *);

static size_t
pj_ws(const struct pj *p, size_t i)
{
	while (i < p->n && (p->s[i] == ' ' || p->s[i] == '\t' ||
	    p->s[i] == '\n' || p->s[i] == '\r'))
		i++;
	return i;
}

static int
pj_fail(struct pj *p, const char *msg, size_t pos)
{
	p->errmsg = msg;
	p->errpos = pos;
	return 0;
}

/*
 * Checks the string whose opening quote is at s[q]; sets *end past the
 * closing quote.  Mirrors CPython's scanstring_unicode (strict).
 */
static int
pj_string_check(struct pj *p, size_t q, size_t *end)
{
	size_t		 i = q + 1, e;
	unsigned char	 c;

	for (;;) {
		while (i < p->n) {
			c = (unsigned char)p->s[i];
			if (c == '"' || c == '\\')
				break;
			if (c <= 0x1f)
				return pj_fail(p, "Invalid control character at", i);
			i++;
		}
		if (i >= p->n)
			return pj_fail(p, "Unterminated string starting at", q);
		if (p->s[i] == '"') {
			*end = i + 1;
			return 1;
		}
		i++;			/* past the backslash */
		if (i == p->n)
			return pj_fail(p, "Unterminated string starting at", q);
		c = (unsigned char)p->s[i];
		if (c != 'u') {
			if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return pj_fail(p, "Invalid \\escape", i - 1);
			i++;
			continue;
		}
		i++;
		e = i + 4;
		if (e >= p->n)
			return pj_fail(p, "Invalid \\uXXXX escape", i - 1);
		if (hex4(p->s + i) < 0)
			return pj_fail(p, "Invalid \\uXXXX escape", i - 1);
		i = e;
	}
}

/* Skips the string at s[*idx]; *err is 1 when it is not valid. */
static void
pj_string(struct pj *p, size_t *idx, int *err)
{
	size_t	 end;

	if (!pj_string_check(p, *idx, &end)) {
		*err = 1;
		return;
	}
	*idx = end;
}

/* Match Python's NUMBER_RE; returns the end or 0 for no match. */
static size_t
pj_number(const struct pj *p, size_t i, int *isint)
{
	size_t	 j;

	*isint = 1;
	if (i < p->n && p->s[i] == '-')
		i++;
	if (i >= p->n)
		return 0;
	if (p->s[i] >= '1' && p->s[i] <= '9')
		while (i < p->n && isdigit((unsigned char)p->s[i]))
			i++;
	else if (p->s[i] == '0')
		i++;
	else
		return 0;
	if (i + 1 < p->n && p->s[i] == '.' && isdigit((unsigned char)p->s[i + 1])) {
		*isint = 0;
		for (i += 2; i < p->n && isdigit((unsigned char)p->s[i]); i++)
			continue;
	}
	if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		j = i + 1;
		if (j < p->n && (p->s[j] == '+' || p->s[j] == '-'))
			j++;
		if (j < p->n && isdigit((unsigned char)p->s[j])) {
			*isint = 0;
			while (j < p->n && isdigit((unsigned char)p->s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

static int
lit(const struct pj *p, size_t i, const char *w)
{
	size_t	 l = strlen(w);

	return p->n - i >= l && memcmp(p->s + i, w, l) == 0;
}

static void
pj_container(struct pj *p, size_t *idx, int *err, int obj)
{
	size_t		 i = *idx + 1;
	char		 close = obj ? '}' : ']';

	if (++p->depth > MAX_DEPTH) {
		pj_fail(p, "Maximum nesting depth exceeded", *idx);
		*err = 1;
		return;
	}
	i = pj_ws(p, i);
	if (i < p->n && p->s[i] == close) {
		i++;
		goto done;
	}
	for (;;) {
		if (obj) {
			if (i >= p->n || p->s[i] != '"') {
				pj_fail(p, "Expecting property name enclosed "
				    "in double quotes", i);
				goto fail;
			}
			pj_string(p, &i, err);
			if (*err)
				return;
			i = pj_ws(p, i);
			if (i >= p->n || p->s[i] != ':') {
				pj_fail(p, "Expecting ':' delimiter", i);
				goto fail;
			}
			i = pj_ws(p, i + 1);
		}
		pj_value(p, &i, err);
		if (*err)
			return;
		i = pj_ws(p, i);
		if (i < p->n && p->s[i] == close) {
			i++;
			break;
		}
		if (i >= p->n || p->s[i] != ',') {
			pj_fail(p, "Expecting ',' delimiter", i);
			goto fail;
		}
		i = pj_ws(p, i + 1);
	}
done:
	p->depth--;
	*idx = i;
	return;
fail:
	*err = 1;
}

/*
 * Skips one JSON value at s[*idx]; *err is 1 for a JSON error (p->errmsg
 * set).  Python's StopIteration is "Expecting value".
 */
static void
pj_value(struct pj *p, size_t *idx, int *err)
{
	size_t		 i = *idx, e;
	int		 isint;

	if (i >= p->n) {
		pj_fail(p, "Expecting value", i);
		*err = 1;
		return;
	}
	switch (p->s[i]) {
	case '"':
		pj_string(p, idx, err);
		return;
	case '{':
		pj_container(p, idx, err, 1);
		return;
	case '[':
		pj_container(p, idx, err, 0);
		return;
	}
	if (lit(p, i, "null") || lit(p, i, "true")) {
		*idx = i + 4;
		return;
	}
	if (lit(p, i, "false")) {
		*idx = i + 5;
		return;
	}
	if (lit(p, i, "NaN") || lit(p, i, "Infinity") || lit(p, i, "-Infinity")) {
		*idx = i + (p->s[i] == 'N' ? 3 : p->s[i] == 'I' ? 8 : 9);
		return;
	}
	if ((e = pj_number(p, i, &isint)) == 0) {
		pj_fail(p, "Expecting value", i);
		*err = 1;
		return;
	}
	*idx = e;
}

/* Character (code point) offset of byte offset pos in valid UTF-8. */
static size_t
char_offset(const char *s, size_t pos)
{
	size_t	 i, c = 0;

	for (i = 0; i < pos; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* Checks the whole text: one value, then only whitespace. */
static void
pj_parse(struct pj *p, int *err)
{
	size_t	 i;

	i = pj_ws(p, 0);
	pj_value(p, &i, err);
	if (*err)
		return;
	i = pj_ws(p, i);
	if (i != p->n) {
		pj_fail(p, "Extra data", i);
		*err = 1;
	}
}

/*
 * Checks s[0..n) (valid UTF-8) with Python's json grammar.  Returns 1
 * when it is JSON; else 0 with *pos (a character offset) and *msg.
 */
int
jsonw_py_check(const char *s, size_t n, size_t *pos, const char **msg)
{
	struct pj	 p;
	int		 err = 0;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.n = n;
	pj_parse(&p, &err);
	if (err == 0)
		return 1;
	*pos = char_offset(s, p.errpos);
	*msg = p.errmsg;
	return 0;
}

/*
 * Python's email.message content type test that FastAPI applies:
 * maintype "application" and subtype "json" or "*+json", case-blind,
 * parameters ignored.
 */
int
jsonw_is_json_type(const char *ct)
{
	const char	*slash, *end, *sub;
	size_t		 sl;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if ((slash = strchr(ct, '/')) == NULL)
		return 0;
	if ((size_t)(slash - ct) != 11 || strncasecmp(ct, "application", 11) != 0)
		return 0;
	sub = slash + 1;
	end = sub + strcspn(sub, ";");
	while (end > sub && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	sl = (size_t)(end - sub);
	if (sl == 4 && strncasecmp(sub, "json", 4) == 0)
		return 1;
	return sl > 5 && strncasecmp(end - 5, "+json", 5) == 0;
}

static void
berr_open(struct buf *b, const char *type)
{
	if (b->len == 0)
		buf_adds(b, "{\"detail\":[");
	else
		buf_addc(b, ',');
	buf_adds(b, "{\"type\":\"");
	buf_adds(b, type);
	buf_adds(b, "\",\"loc\":[\"body\"");
}

static void
berr_close(struct buf *b, const char *msg)
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
 * the body for {"task_ids":[{},{},...]}).
 */

/* At most this many string_type errors are listed in one 422 (README). */
#define JSONW_MAX_ITEM_ERRORS	1000

/* The end of the (valid) value at s[i]. */
static size_t
skip_value(struct pj *p, size_t i)
{
	int	 err = 0;

	pj_value(p, &i, &err);
	return i;
}

/* The end of the (valid) string at s[i]; its text unescaped into t. */
static size_t
string_text(struct pj *p, size_t i, struct buf *t, int *lone)
{
	size_t	 end = i;

	(void)pj_string_check(p, i, &end);
	buf_add(t, "", 0);
	unescape(t, p->s + i + 1, end - i - 2, lone);
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
	i = pj_ws(p, i + 1);
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
		(void)pj_string_check(p, i, &e);
		if (memchr(p->s + i + 1, '\\', e - i - 2) == NULL) {
			m[nm].k = p->s + i + 1;
			m[nm].klen = e - i - 2;
		} else {
			m[nm].k = NULL;
			m[nm].koff = keys.len;
			unescape(&keys, p->s + i + 1, e - i - 2, &lone);
			m[nm].klen = keys.len - m[nm].koff;
		}
		i = pj_ws(p, pj_ws(p, e) + 1);	/* past ':' */
		m[nm++].val = i;
		i = pj_ws(p, skip_value(p, i));
		if (p->s[i] == ',')
			i = pj_ws(p, i + 1);
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
		i = pj_ws(p, i + 1);
		while (p->s[i] != ']') {
			if (!first)
				buf_addc(b, ',');
			first = 0;
			i = pj_ws(p, echo_value(p, i, b));
			if (p->s[i] == ',')
				i = pj_ws(p, i + 1);
		}
		buf_addc(b, ']');
		return i + 1;
	}
	if (lit(p, i, "null") || lit(p, i, "true")) {
		buf_add(b, p->s + i, 4);
		return i + 4;
	}
	if (lit(p, i, "false")) {
		buf_adds(b, "false");
		return i + 5;
	}
	if (lit(p, i, "NaN") || lit(p, i, "Infinity") || lit(p, i, "-Infinity")) {
		buf_adds(b, "null");
		return i + (p->s[i] == 'N' ? 3 : p->s[i] == 'I' ? 8 : 9);
	}
	e = pj_number(p, i, &isint);
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
	struct pj	 p;
	struct buf	 t;
	struct str	*ids;
	size_t		 i, e, n = 0, cap = 0, nbad = 0, tv = SIZE_MAX;
	int		 perr = 0, lone;
	enum app_err	 rc = APP_OK;

	out->ids = NULL;
	out->n = 0;
	buf_reset(err);
	if (!have_body || len == 0) {
		berr_open(err, "missing");
		berr_close(err, "Field required");
		buf_adds(err, "null}]}");
		return err->oom ? APP_NOMEM : APP_INVALID;
	}
	if (!req_utf8_valid(body, len))
		return APP_BADREQ;
	if (ctype == NULL || !jsonw_is_json_type(ctype)) {
		/*
		 * Not JSON: pydantic sees the raw text.  No Content-Type at
		 * all is not JSON either (FastAPI since 0.132; before, it
		 * parsed such a body as JSON).
		 */
		berr_open(err, "model_attributes_type");
		berr_close(err, "Input should be a valid dictionary or "
		    "object to extract fields from");
		jsonw_str(err, body, len);
		buf_adds(err, "}]}");
		return err->oom ? APP_NOMEM : APP_INVALID;
	}
	/* Python's json.loads(bytes) drops a UTF-8 byte order mark. */
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
		body += 3;
		len -= 3;
	}
	memset(&p, 0, sizeof(p));
	p.s = body;
	p.n = len;
	pj_parse(&p, &perr);
	if (perr != 0) {
		berr_open(err, "json_invalid");
		buf_addc(err, ',');
		buf_addu(err, char_offset(body, p.errpos));
		berr_close(err, "JSON decode error");
		buf_adds(err, "{},\"ctx\":{\"error\":");
		jsonw_strz(err, p.errmsg);
		buf_adds(err, "}}]}");
		return err->oom ? APP_NOMEM : APP_INVALID;
	}
	/* Valid JSON from here on: the walk below needs no checks. */
	i = pj_ws(&p, 0);
	if (lit(&p, i, "null")) {
		berr_open(err, "missing");
		berr_close(err, "Field required");
		buf_adds(err, "null}]}");
		return err->oom ? APP_NOMEM : APP_INVALID;
	}
	if (body[i] != '{') {
		berr_open(err, "model_attributes_type");
		berr_close(err, "Input should be a valid dictionary or "
		    "object to extract fields from");
		(void)echo_value(&p, i, err);
		buf_adds(err, "}]}");
		return err->oom ? APP_NOMEM : APP_INVALID;
	}
	/* The last "task_ids" member wins, as in a Python dict. */
	i = pj_ws(&p, i + 1);
	while (body[i] != '}') {
		lone = 0;
		buf_init(&t);
		e = string_text(&p, i, &t, &lone);
		if (t.oom) {
			buf_free(&t);
			return APP_NOMEM;
		}
		i = pj_ws(&p, pj_ws(&p, e) + 1);
		if (t.len == 8 && memcmp(t.p, "task_ids", 8) == 0)
			tv = i;
		buf_free(&t);
		i = pj_ws(&p, skip_value(&p, i));
		if (body[i] == ',')
			i = pj_ws(&p, i + 1);
	}
	if (tv == SIZE_MAX)
		return APP_OK;		/* defaults to [] */
	if (body[tv] != '[') {
		berr_open(err, "list_type");
		buf_adds(err, ",\"task_ids\"");
		berr_close(err, "Input should be a valid list");
		(void)echo_value(&p, tv, err);
		buf_adds(err, "}]}");
		return err->oom ? APP_NOMEM : APP_INVALID;
	}
	for (i = pj_ws(&p, tv + 1); body[i] != ']'; n++) {
		if (n == max_ids) {
			rc = APP_TOOBIG;	/* before reading any further */
			goto out;
		}
		if (body[i] != '"') {
			if (++nbad <= JSONW_MAX_ITEM_ERRORS) {
				berr_open(err, "string_type");
				buf_adds(err, ",\"task_ids\",");
				buf_addu(err, n);
				berr_close(err, "Input should be a valid string");
				e = echo_value(&p, i, err);
				buf_addc(err, '}');
			} else
				e = skip_value(&p, i);
		} else if (nbad > 0)
			e = skip_value(&p, i);
		else {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 16;
				if ((ids = reallocarray(out->ids, cap,
				    sizeof(*ids))) == NULL) {
					rc = APP_NOMEM;
					goto out;
				}
				out->ids = ids;
			}
			lone = 0;
			buf_init(&t);
			e = string_text(&p, i, &t, &lone);
			if (t.oom || !req_str_set(&out->ids[out->n], t.p,
			    t.len)) {
				buf_free(&t);
				rc = APP_NOMEM;
				goto out;
			}
			buf_free(&t);
			/* Lone surrogates cannot be stored: no such id. */
			if (lone)
				out->ids[out->n].bad = 1;
			out->n++;
		}
		i = pj_ws(&p, e);
		if (body[i] == ',')
			i = pj_ws(&p, i + 1);
		if (err->oom) {
			rc = APP_NOMEM;
			goto out;
		}
	}
	if (nbad > 0) {
		buf_adds(err, "]}");
		rc = APP_INVALID;
	}
out:
	if (rc != APP_OK)
		jsonw_ids_free(out);
	if (rc == APP_TOOBIG)
		buf_reset(err);
	if (err->oom)
		rc = APP_NOMEM;
	return rc;
}
