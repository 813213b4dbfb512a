/*
 * jsonw.c: JSON writing (Python-compatible escaping, ISO times, stored
 * JSON passed through minified) and bulk-body parsing.  The only file
 * that includes json-c.
 *
 * Why a parser of our own in front of json-c: FastAPI reports invalid
 * JSON with Python's message and character offset ("Expecting ','
 * delimiter" at 17), and echoes bad values in the "input" of a 422
 * with their text (a 30-digit integer stays 30 digits).  json_tokener
 * reports neither the same way and clamps big integers, so this file
 * scans with Python's rules.  A bulk body is then walked in place, with
 * no tree (see "bulk bodies, scanned in place"); the pj scanner can
 * still build a json-c tree (build), which nothing uses any more.
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
	int		 build;		/* build json-c objects */
};

static json_object *pj_value(struct pj *, size_t *, int *);
static int unstorable(json_object *);

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

static json_object *
pj_string(struct pj *p, size_t *idx, int *err)
{
	size_t		 end;
	struct buf	 b;
	json_object	*o;
	int		 lone = 0;

	if (!pj_string_check(p, *idx, &end)) {
		*err = 1;
		return NULL;
	}
	o = NULL;
	if (p->build) {
		buf_init(&b);
		buf_add(&b, "", 0);
		unescape(&b, p->s + *idx + 1, end - *idx - 2, &lone);
		if (b.oom || (o = json_object_new_string_len(b.p, (int)b.len)) == NULL) {
			buf_free(&b);
			*err = 2;
			return NULL;
		}
		/* Lone surrogates cannot be stored: mark the string. */
		if (lone)
			json_object_set_userdata(o, (void *)1, NULL);
		buf_free(&b);
	}
	*idx = end;
	return o;
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

/*
 * A number or literal from its text; json-c serializes the text given,
 * so echoes keep it.  NaN and Infinity (which Python accepts) echo as
 * null, since JSON has no spelling for them.
 */
static json_object *
pj_number_obj(const char *s, size_t n, int isint)
{
	char		*t;
	json_object	*o;
	char		*ep;
	long long	 v;

	if ((t = strndup(s, n)) == NULL)
		return NULL;
	if (isint) {
		errno = 0;
		v = strtoll(t, &ep, 10);
		if (errno == 0 && *ep == '\0') {
			free(t);
			return json_object_new_int64(v);
		}
	}
	o = json_object_new_double_s(strtod(t, NULL), t);
	free(t);
	return o;
}

/*
 * json-c keys are C strings, and a key may hold "\u0000": cut at the
 * NUL it would become another key ("task_ids\u0000x" taken for
 * "task_ids").  Such a key is stored with each NUL as 0xFF, a byte no
 * key can otherwise hold (the body is valid UTF-8, unescaping makes
 * UTF-8), and put_key() turns it back.  Returns json-c's result.
 */
static int
add_member(json_object *o, json_object *k, json_object *v)
{
	const char	*ks = json_object_get_string(k);
	size_t		 kl = (size_t)json_object_get_string_len(k), i;
	char		*t;
	int		 rc;

	if (memchr(ks, '\0', kl) == NULL)
		return json_object_object_add(o, ks, v);
	if ((t = malloc(kl + 1)) == NULL)
		return -1;
	for (i = 0; i < kl; i++)
		t[i] = ks[i] == '\0' ? (char)0xFF : ks[i];
	t[kl] = '\0';
	rc = json_object_object_add(o, t, v);
	free(t);
	return rc;
}

static json_object *
pj_container(struct pj *p, size_t *idx, int *err, int obj)
{
	size_t		 i = *idx + 1;
	json_object	*o = NULL, *v, *k;
	int		 e2;
	char		 close = obj ? '}' : ']';

	if (++p->depth > MAX_DEPTH) {
		pj_fail(p, "Maximum nesting depth exceeded", *idx);
		*err = 1;
		return NULL;
	}
	if (p->build && (o = obj ? json_object_new_object() :
	    json_object_new_array()) == NULL) {
		*err = 2;
		return NULL;
	}
	i = pj_ws(p, i);
	if (i < p->n && p->s[i] == close) {
		i++;
		goto done;
	}
	for (;;) {
		k = NULL;
		if (obj) {
			if (i >= p->n || p->s[i] != '"') {
				pj_fail(p, "Expecting property name enclosed "
				    "in double quotes", i);
				goto fail1;
			}
			e2 = 0;
			k = pj_string(p, &i, &e2);
			if (e2) {
				*err = e2;
				goto fail;
			}
			i = pj_ws(p, i);
			if (i >= p->n || p->s[i] != ':') {
				json_object_put(k);
				pj_fail(p, "Expecting ':' delimiter", i);
				goto fail1;
			}
			i = pj_ws(p, i + 1);
		}
		e2 = 0;
		v = pj_value(p, &i, &e2);
		if (e2) {
			json_object_put(k);
			*err = e2;
			goto fail;
		}
		if (p->build) {
			int	 rc;

			if (obj)
				rc = add_member(o, k, v);
			else
				rc = json_object_array_add(o, v);
			json_object_put(k);
			if (rc != 0) {
				json_object_put(v);
				*err = 2;
				goto fail;
			}
		}
		i = pj_ws(p, i);
		if (i < p->n && p->s[i] == close) {
			i++;
			break;
		}
		if (i >= p->n || p->s[i] != ',') {
			pj_fail(p, "Expecting ',' delimiter", i);
			goto fail1;
		}
		i = pj_ws(p, i + 1);
	}
done:
	p->depth--;
	*idx = i;
	return o;
fail1:
	*err = 1;
fail:
	json_object_put(o);
	return NULL;
}

/*
 * One JSON value at s[*idx]; *err is 1 for a JSON error (p->errmsg set),
 * 2 for allocation failure.  Python's StopIteration is "Expecting value".
 */
static json_object *
pj_value(struct pj *p, size_t *idx, int *err)
{
	size_t		 i = *idx, e;
	int		 isint;
	json_object	*o = NULL;

	if (i >= p->n) {
		pj_fail(p, "Expecting value", i);
		*err = 1;
		return NULL;
	}
	switch (p->s[i]) {
	case '"':
		return pj_string(p, idx, err);
	case '{':
		return pj_container(p, idx, err, 1);
	case '[':
		return pj_container(p, idx, err, 0);
	}
	if (lit(p, i, "null")) {
		*idx = i + 4;
		return NULL;
	}
	if (lit(p, i, "true") || lit(p, i, "false")) {
		e = p->s[i] == 't' ? 4 : 5;
		if (p->build && (o = json_object_new_boolean(e == 4)) == NULL)
			*err = 2;
		*idx = i + e;
		return o;
	}
	if (lit(p, i, "NaN") || lit(p, i, "Infinity") || lit(p, i, "-Infinity")) {
		e = p->s[i] == 'N' ? 3 : p->s[i] == 'I' ? 8 : 9;
		if (p->build && (o = json_object_new_double_s(NAN, "null")) == NULL)
			*err = 2;
		*idx = i + e;
		return o;
	}
	if ((e = pj_number(p, i, &isint)) == 0) {
		pj_fail(p, "Expecting value", i);
		*err = 1;
		return NULL;
	}
	if (p->build && (o = pj_number_obj(p->s + i, e - i, isint)) == NULL)
		*err = 2;
	*idx = e;
	return o;
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

static json_object *
pj_parse(struct pj *p, int *err)
{
	size_t		 i;
	json_object	*o;

	i = pj_ws(p, 0);
	o = pj_value(p, &i, err);
	if (*err)
		return NULL;
	i = pj_ws(p, i);
	if (i != p->n) {
		json_object_put(o);
		pj_fail(p, "Extra data", i);
		*err = 1;
		return NULL;
	}
	return o;
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

/* Writes an object key stored by add_member(). */
static void
put_key(struct buf *b, const char *key)
{
	struct buf	 t;
	const char	*q;

	if (strchr(key, 0xFF) == NULL) {
		jsonw_strz(b, key);
		return;
	}
	buf_init(&t);
	for (q = key; *q != '\0'; q++)
		buf_addc(&t, *q == (char)0xFF ? '\0' : *q);
	if (t.oom)
		b->oom = 1;
	else
		jsonw_str(b, t.p, t.len);
	buf_free(&t);
}

/* Writes a json-c value (NULL is null) compactly, Python-style. */
static void
put_value(struct buf *b, json_object *o)
{
	size_t	 i, n;

	switch (json_object_get_type(o)) {
	case json_type_null:
		buf_adds(b, "null");
		break;
	case json_type_boolean:
		buf_adds(b, json_object_get_boolean(o) ? "true" : "false");
		break;
	case json_type_int:
		buf_addi(b, (long long)json_object_get_int64(o));
		break;
	case json_type_double:
		buf_adds(b, json_object_to_json_string(o));
		break;
	case json_type_string:
		jsonw_str(b, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		buf_addc(b, '[');
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(b, ',');
			put_value(b, json_object_array_get_idx(o, i));
		}
		buf_addc(b, ']');
		break;
	case json_type_object: {
		int	 first = 1;

		buf_addc(b, '{');
		json_object_object_foreach(o, key, val) {
			if (!first)
				buf_addc(b, ',');
			first = 0;
			put_key(b, key);
			buf_addc(b, ':');
			put_value(b, val);
		}
		buf_addc(b, '}');
		break;
	}
	}
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
/* A by-filter bulk body (SPEC 4.5) is built as a tree: its size bound. */
#define JSONW_MAX_FILTER_BODY	65536

/* The end of the (valid) value at s[i]. */
static size_t
skip_value(struct pj *p, size_t i)
{
	int	 err = 0;

	(void)pj_value(p, &i, &err);
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
	return jsonw_parse_bulk(body, len, have_body, ctype, max_ids, out,
	    NULL, err);
}

static const char *const fkeys[] = {
	"status", "backend", "status_in", "backend_in", "has_result",
	"submitted_after", "submitted_before", "updated_after",
	"updated_before", "metadata"
};

/* A string into s (a lone surrogate marks it bad); 0 on no memory. */
static int
take_str(struct str *s, json_object *o)
{
	if (!req_str_set(s, json_object_get_string(o),
	    (size_t)json_object_get_string_len(o)))
		return 0;
	if (json_object_get_userdata(o) != NULL)
		s->bad = 1;
	return 1;
}

/* One 422 item at ["body",<loc...>] with the value as input. */
static void
berr(struct buf *err, const char *type, const char *loc, const char *msg,
    json_object *in)
{
	berr_open(err, type);
	buf_adds(err, loc);
	berr_close(err, msg);
	put_value(err, in);
	buf_addc(err, '}');
}

/*
 * The by-filter form of a bulk body (SPEC 4.5): "filter" (an object of
 * the 4.1 filters, unknown keys refused), "dry_run", "max_affected".
 * Returns APP_OK, APP_INVALID with the items in err (unclosed), or
 * APP_NOMEM.
 */
static enum app_err
parse_filter(json_object *root, json_object *flt, struct jsonw_filter *f,
    struct buf *err)
{
	json_object	*v;
	struct buf	 loc;
	size_t		 i, k, n;
	int		 bad = 0, b;
	int64_t		 us;

	f->given = 1;
	f->has_result = -1;
	buf_init(&loc);
	if (json_object_object_get_ex(root, "task_ids", &v)) {
		berr_open(err, "value_error");
		berr_close(err, "Value error, give task_ids or filter, not both");
		put_value(err, root);
		buf_addc(err, '}');
		bad = 1;
	}
	if (!json_object_is_type(flt, json_type_object)) {
		berr(err, "model_attributes_type", ",\"filter\"", "Input should "
		    "be a valid dictionary or object to extract fields from", flt);
		bad = 1;
	} else {
		json_object_object_foreach(flt, key, val) {
			for (k = 0; k < NELEM(fkeys); k++)
				if (strcmp(key, fkeys[k]) == 0)
					break;
			buf_reset(&loc);
			buf_adds(&loc, ",\"filter\",");
			if (k == NELEM(fkeys)) {
				put_key(&loc, key);
				berr(err, "extra_forbidden", loc.p, "Extra inputs "
				    "are not permitted", val);
				bad = 1;
				continue;
			}
			jsonw_strz(&loc, key);
			if (val == NULL)
				continue;	/* null: not given */
			if (k < 2) {
				if (!json_object_is_type(val, json_type_string)) {
					berr(err, "string_type", loc.p, "Input "
					    "should be a valid string", val);
					bad = 1;
				} else if (!take_str(k == 0 ? &f->status :
				    &f->backend, val))
					goto nomem;
				else if (k == 0)
					f->has_status = 1;
				else
					f->has_backend = 1;
			} else if (k < 4) {
				struct str	**list = k == 2 ? &f->status_in :
				    &f->backend_in;
				size_t		 *nl = k == 2 ? &f->nstatus_in :
				    &f->nbackend_in;

				if (!json_object_is_type(val, json_type_array)) {
					berr(err, "list_type", loc.p, "Input "
					    "should be a valid list", val);
					bad = 1;
					continue;
				}
				n = json_object_array_length(val);
				if ((*list = calloc(n + 1, sizeof(**list))) == NULL)
					goto nomem;
				if (k == 2)
					f->has_status_in = 1;
				else
					f->has_backend_in = 1;
				for (i = 0; i < n; i++) {
					json_object *it =
					    json_object_array_get_idx(val, i);

					if (!json_object_is_type(it,
					    json_type_string)) {
						size_t	 l0 = loc.len;

						buf_addc(&loc, ',');
						buf_addu(&loc, i);
						berr(err, "string_type", loc.p,
						    "Input should be a valid "
						    "string", it);
						loc.len = l0;
						loc.p[l0] = '\0';
						bad = 1;
						continue;
					}
					if (!take_str(&(*list)[(*nl)++], it))
						goto nomem;
				}
			} else if (k == 4) {
				if (!json_object_is_type(val, json_type_boolean)) {
					berr(err, "bool_type", loc.p, "Input "
					    "should be a valid boolean", val);
					bad = 1;
				} else
					f->has_result = json_object_get_boolean(val);
			} else if (k < 9) {
				if (!json_object_is_type(val, json_type_string)) {
					berr(err, "datetime_type", loc.p, "Input "
					    "should be a valid datetime", val);
					bad = 1;
				} else if (!req_parse_datetime(
				    json_object_get_string(val),
				    (size_t)json_object_get_string_len(val), &us)) {
					berr(err, "datetime_from_date_parsing",
					    loc.p, "Input should be a valid "
					    "datetime or date, invalid date-time "
					    "format", val);
					bad = 1;
				} else {
					f->tset[k - 5] = 1;
					f->t[k - 5] = us;
				}
			} else {
				buf_init(&f->meta);
				put_value(&f->meta, val);
				f->has_meta = 1;
				f->meta_nomatch = unstorable(val);
			}
		}
	}
	if (json_object_object_get_ex(root, "dry_run", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean)) {
			berr(err, "bool_type", ",\"dry_run\"", "Input should be "
			    "a valid boolean", v);
			bad = 1;
		} else
			f->dry_run = json_object_get_boolean(v);
	}
	b = json_object_object_get_ex(root, "max_affected", &v) && v != NULL;
	if (b && (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)) {
		berr(err, "int_type", ",\"max_affected\"", "Input should be a "
		    "valid integer greater than or equal to 0", v);
		bad = 1;
	} else if (b) {
		f->has_max = 1;
		f->max_affected = json_object_get_int64(v);
	} else if (!f->dry_run) {
		berr(err, "missing", ",\"max_affected\"", "Field required",
		    root);
		bad = 1;
	}
	buf_free(&loc);
	if (f->meta.oom)
		return APP_NOMEM;
	return bad ? APP_INVALID : APP_OK;
nomem:
	buf_free(&loc);
	return APP_NOMEM;
}

void
jsonw_filter_free(struct jsonw_filter *f)
{
	size_t	 i;

	if (f == NULL)
		return;
	req_str_free(&f->status);
	req_str_free(&f->backend);
	for (i = 0; i < f->nstatus_in; i++)
		req_str_free(&f->status_in[i]);
	for (i = 0; i < f->nbackend_in; i++)
		req_str_free(&f->backend_in[i]);
	free(f->status_in);
	free(f->backend_in);
	buf_free(&f->meta);
	memset(f, 0, sizeof(*f));
}

/*
 * The by-filter form, on a body already checked with Python's grammar:
 * the filter needs the values themselves, so the body is built as a
 * json-c tree here -- only here, and only for a body of at most
 * JSONW_MAX_FILTER_BODY bytes (a larger one is 413): a tree costs tens
 * of bytes per value, and a filter is a few hundred bytes.  Returns as
 * jsonw_parse_bulk.
 */
static enum app_err
bulk_filter(struct pj *chk, struct jsonw_filter *bk, struct buf *err)
{
	struct pj	 p;
	json_object	*root, *flt = NULL;
	int		 perr = 0;
	enum app_err	 rc;

	if (chk->n > JSONW_MAX_FILTER_BODY)
		return APP_TOOBIG;
	memset(&p, 0, sizeof(p));
	p.s = chk->s;
	p.n = chk->n;
	p.build = 1;
	root = pj_parse(&p, &perr);
	if (perr != 0 || root == NULL) {
		json_object_put(root);
		return APP_NOMEM;	/* checked before: only memory fails */
	}
	(void)json_object_object_get_ex(root, "filter", &flt);
	if ((rc = parse_filter(root, flt, bk, err)) == APP_INVALID)
		buf_adds(err, "]}");
	json_object_put(root);
	if (err->oom)
		rc = APP_NOMEM;
	return rc;
}

/*
 * jsonw_parse_ids, and with bk set the by-filter form of SPEC 4.5: a
 * body with "filter" fills bk (bk->given set; free with
 * jsonw_filter_free whatever this returns) instead of the ids.
 */
enum app_err
jsonw_parse_bulk(const char *body, size_t len, int have_body,
    const char *ctype, size_t max_ids, struct jsonw_ids *out,
    struct jsonw_filter *bk, struct buf *err)
{
	struct pj	 p;
	struct buf	 t;
	struct str	*ids;
	size_t		 i, e, n = 0, cap = 0, nbad = 0, tv = SIZE_MAX;
	size_t		 fv = SIZE_MAX;
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
	(void)pj_parse(&p, &perr);
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
	/*
	 * The last "task_ids" (and "filter") member wins, as in a Python
	 * dict.
	 */
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
		else if (t.len == 6 && memcmp(t.p, "filter", 6) == 0)
			fv = lit(&p, i, "null") ? SIZE_MAX : i;
		buf_free(&t);
		i = pj_ws(&p, skip_value(&p, i));
		if (body[i] == ',')
			i = pj_ws(&p, i + 1);
	}
	if (bk != NULL && fv != SIZE_MAX)
		return bulk_filter(&p, bk, err);
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

/* 1 when o holds nothing jsonb can store (NaN, NUL, lone surrogates). */
static int
unstorable(json_object *o)
{
	size_t	 i, n;

	switch (json_object_get_type(o)) {
	case json_type_double:
		/* NaN and Infinity were given the text null (pj_value). */
		return strcmp(json_object_to_json_string(o), "null") == 0;
	case json_type_string:
		return json_object_get_userdata(o) != NULL ||
		    memchr(json_object_get_string(o), '\0',
		    (size_t)json_object_get_string_len(o)) != NULL;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (unstorable(json_object_array_get_idx(o, i)))
				return 1;
		return 0;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			if (strchr(key, 0xFF) != NULL || unstorable(val))
				return 1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/*
 * A JSON query parameter (the metadata filter of SPEC 4.1): checks
 * s[0..n) with Python's grammar and writes it compactly to out, for a
 * jsonb parameter.  Returns 1 when it is JSON (*nomatch set when it
 * holds what jsonb cannot store, so it contains nothing stored), else
 * 0 with the 422 message in msg ("Invalid JSON: <reason> at character
 * <offset>").  APP_NOMEM shows as out->oom.
 */
int
jsonw_query_json(const char *s, size_t n, struct buf *out, int *nomatch,
    struct buf *msg)
{
	struct pj	 p;
	json_object	*root;
	int		 perr = 0;

	*nomatch = 0;
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.n = n;
	p.build = 1;
	root = pj_parse(&p, &perr);
	if (perr == 2) {
		out->oom = 1;
		return 1;
	}
	if (perr == 1) {
		buf_printf(msg, "Invalid JSON: %s at character %zu", p.errmsg,
		    char_offset(s, p.errpos));
		return 0;
	}
	*nomatch = unstorable(root);
	put_value(out, root);
	json_object_put(root);
	return 1;
}
