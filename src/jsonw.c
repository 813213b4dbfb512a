/*
 * jsonw.c: the values of JSON output, for json-c: strings escaped by
 * json-c as Python escapes them, ISO times and stored JSON passed
 * through compact (json-c serializers), the unescaping of JSON strings,
 * and the content-type test.  The bodies are put together in
 * jsonw_out.c, the Python-grammar scanner is in jsonw_py.c, bulk bodies
 * in jsonw_body.c and jsonw_filter.c; the jsonw*.c files are the only
 * ones that include json-c (jsonw_int.h holds what they share).
 */

#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "buf.h"
#include "req.h"
#include "jsonw.h"

#include "jsonw_int.h"

/* ------------------------------------------------------------ strings */

/*
 * Strings are escaped by json-c.  With JSON_C_TO_STRING_NOSLASHESCAPE
 * its escaping is Python's json.dumps(ensure_ascii=False) byte for byte
 * (t/unit-jsonw.c checks every byte value): '"', '\\', \b \f \n \r \t by
 * name, the other control characters as \u00xx (lower-case hex), and
 * everything else, 0x7f, '/', U+2028 and bytes that are not UTF-8
 * included, copied as they are.
 *
 * The scratch string object holds the text to escape; one that held
 * more than SCRATCH_MAX bytes is given back at the next call, so a
 * process keeps no big buffer.
 */
#define SCRATCH_MAX	65536

static json_object	*scratch;
static int		 scratch_big;

/*
 * s[0..n) as a quoted JSON string, escaped by json-c; valid until the
 * next call.  NULL when memory runs out.
 */
const char *
jsonw_escape(const char *s, size_t n, size_t *len)
{
	if (scratch_big) {
		json_object_put(scratch);
		scratch = NULL;
	}
	scratch_big = n > SCRATCH_MAX;
	/* See nmember_text() in jsonw_out.c: json-c would lose a buffer. */
	if (n == 0) {
		*len = 2;
		return "\"\"";
	}
	if (scratch == NULL && (scratch = json_object_new_string("")) == NULL)
		return NULL;
	if (n > INT_MAX - 2 || !json_object_set_string_len(scratch, s, (int)n))
		return NULL;
	return json_object_to_json_string_length(scratch, JSONW_FLAGS, len);
}

/* Appends s[0..n) as a JSON string (see jsonw_escape()). */
void
jsonw_str(struct buf *b, const char *s, size_t n)
{
	const char	*o;
	size_t		 ol;

	if ((o = jsonw_escape(s, n, &ol)) == NULL)
		b->oom = 1;
	else
		buf_add(b, o, ol);
}

void
jsonw_strz(struct buf *b, const char *s)
{
	jsonw_str(b, s, strlen(s));
}

/* Appends json-c's text of o; 0 (b->oom set) when it could not. */
int
jsonw_put(struct buf *b, json_object *o)
{
	const char	*s;
	size_t		 n;

	if ((s = json_object_to_json_string_length(o, JSONW_FLAGS, &n)) ==
	    NULL) {
		b->oom = 1;
		return 0;
	}
	buf_add(b, s, n);
	return 1;
}

/* -------------------------------------------------------------- times */

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

/* Writes v (< 10^w) as w digits at o. */
static void
digits(char *o, unsigned long v, int w)
{
	while (w-- > 0) {
		o[w] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * Writes a quoted time to o (TIME_MAX bytes) as Python's
 * datetime.isoformat() of the UTC instant:
 * "2026-11-28T16:44:43.120500+00:00", without the fraction when the
 * microseconds are 0; returns its length.  us counts microseconds from
 * the day that is day0 days after 1970-01-01; days and seconds are
 * split off before the epochs are reconciled, so no int64 value
 * overflows.  INT64_MAX and INT64_MIN (PostgreSQL's infinities) come
 * out as "infinity" and "-infinity" (Python has no such datetime).
 */
#define TIME_MAX	48

static size_t
fmt_time(char *o, int64_t us, int64_t day0)
{
	int64_t		 days, secs, y;
	unsigned	 m, d;
	long		 frac;
	size_t		 n;

	if (us == INT64_MAX || us == INT64_MIN) {
		n = us == INT64_MAX ? 10 : 11;
		memcpy(o, us == INT64_MAX ? "\"infinity\"" : "\"-infinity\"", n);
		return n;
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
	if (y >= 0 && y <= 9999) {
		o[0] = '"';
		digits(o + 1, (unsigned long)y, 4);
		o[5] = '-';
		n = 6;
	} else		/* as Python never would: PostgreSQL's range */
		n = (size_t)snprintf(o, TIME_MAX, "\"%04lld-", (long long)y);
	digits(o + n, m, 2);
	o[n + 2] = '-';
	digits(o + n + 3, d, 2);
	o[n + 5] = 'T';
	digits(o + n + 6, (unsigned long)(secs / 3600), 2);
	o[n + 8] = ':';
	digits(o + n + 9, (unsigned long)(secs / 60 % 60), 2);
	o[n + 11] = ':';
	digits(o + n + 12, (unsigned long)(secs % 60), 2);
	n += 14;
	if (frac != 0) {
		o[n] = '.';
		digits(o + n + 1, (unsigned long)frac, 6);
		n += 7;
	}
	memcpy(o + n, "+00:00\"", 7);
	return n + 7;
}

/* A time in microseconds since the unix epoch; see fmt_time(). */
void
jsonw_time(struct buf *b, int64_t us)
{
	char	 t[TIME_MAX];

	buf_add(b, t, fmt_time(t, us, 0));
}

/*
 * A time in PostgreSQL's own microseconds since 2000-01-01 (what a
 * binary timestamptz holds).  Converting those to unix microseconds
 * first would overflow for the last 29 years PostgreSQL allows
 * (294247..294276 AD): signed overflow, a garbage date.
 */
#define PG_DAY0	10957		/* 1970-01-01 .. 2000-01-01 */

void
jsonw_time_pg(struct buf *b, int64_t us)
{
	char	 t[TIME_MAX];

	buf_add(b, t, fmt_time(t, us, PG_DAY0));
}

/*
 * json-c serializer of a time: an int object holding PostgreSQL
 * microseconds (json-c would write the number).
 */
int
jsonw_ser_time(json_object *o, struct printbuf *pb, int level, int flags)
{
	char	 t[TIME_MAX];

	(void)level;
	(void)flags;
	return printbuf_memappend(pb, t,
	    (int)fmt_time(t, json_object_get_int64(o), PG_DAY0)) < 0 ? -1 : 0;
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

long
jsonw_hex4(const char *s)
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
void
jsonw_unescape(struct buf *b, const char *s, size_t n, int *lone)
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
			cp = jsonw_hex4(s + i + 2);
			i += 6;
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n &&
			    s[i] == '\\' && s[i + 1] == 'u' &&
			    (lo = jsonw_hex4(s + i + 2)) >= 0xDC00 && lo <= 0xDFFF) {
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

/* -------------------------------------------------------- stored JSON */

/* Appends an escaped stored string (between its quotes) re-escaped. */
static int
stored_string(struct printbuf *pb, const char *s, size_t n)
{
	struct buf	 tmp;
	const char	*o;
	size_t		 ol;
	int		 lone = 0, rc = -1;

	buf_init(&tmp);
	jsonw_unescape(&tmp, s, n, &lone);
	if (!tmp.oom && (o = jsonw_escape(tmp.p ? tmp.p : "", tmp.len,
	    &ol)) != NULL)
		rc = printbuf_memappend(pb, o, (int)ol) < 0 ? -1 : 0;
	buf_free(&tmp);
	return rc;
}

/*
 * Appends stored JSON text (PostgreSQL json or jsonb output, so valid)
 * as compact JSON: whitespace between tokens goes, strings are
 * re-escaped as Python would, numbers and key order stay as written.
 * Returns 1, 0 when the text is not JSON (an unterminated string), -1
 * when memory ran out.
 *
 * Why not json_tokener_parse() and json-c's writer: a parse builds a
 * tree per value (a 20 KB result is thousands of objects) and loses
 * what Python keeps: the digits of a number as written (json-c
 * re-prints doubles and clamps big integers) and duplicate keys.  This
 * copies the text once, a run between two dropped blanks at a time;
 * strings without escapes go as they are (json-c would write them the
 * same), others through json-c.
 */
static int
stored_pb(struct printbuf *pb, const char *s, size_t n)
{
	size_t	 i = 0, run = 0, j;
	int	 esc;

	/* PostgreSQL's `{"k": "v", "n": 1}` goes as `{"k":`, `"v",` ... */
#define FLUSH(to) do {							\
	if ((to) > run && printbuf_memappend(pb, s + run,		\
	    (int)((to) - run)) < 0)					\
		return -1;						\
} while (0)
	while (i < n) {
		switch (s[i]) {
		case ' ': case '\t': case '\n': case '\r':
			FLUSH(i);
			run = ++i;
			break;
		case '"':
			esc = 0;
			for (j = i + 1; j < n && s[j] != '"'; j++) {
				if (s[j] == '\\') {
					esc = 1;
					j++;
				} else if ((unsigned char)s[j] < 0x20)
					esc = 1;
			}
			if (j >= n)
				return 0;
			if (esc) {
				FLUSH(i);
				if (stored_string(pb, s + i + 1, j - i - 1) < 0)
					return -1;
				run = j + 1;
			}
			i = j + 1;
			break;
		default:
			i++;
		}
	}
	FLUSH(n);
#undef FLUSH
	return 1;
}

/*
 * Appends stored JSON compactly (see stored_pb()).  Returns 0 (and
 * writes nothing) only if the text is not JSON.
 */
int
jsonw_stored(struct buf *b, const char *s, size_t n)
{
	struct printbuf	*pb;
	int		 rc;

	if ((pb = printbuf_new()) == NULL) {
		b->oom = 1;
		return 1;
	}
	if ((rc = stored_pb(pb, s, n)) < 0)
		b->oom = 1;
	else if (rc > 0)
		buf_add(b, pb->buf, (size_t)pb->bpos);
	printbuf_free(pb);
	return rc != 0;
}

/*
 * json-c serializer of stored JSON passed through (no re-parse): the
 * object's userdata is a struct jsonw_slot; absent or not JSON, its
 * default is written.
 */
int
jsonw_ser_stored(json_object *o, struct printbuf *pb, int level, int flags)
{
	const struct jsonw_slot	*sl = json_object_get_userdata(o);
	int			 start = pb->bpos, rc;

	(void)level;
	(void)flags;
	if (sl->p != NULL) {
		if ((rc = stored_pb(pb, sl->p, sl->len)) != 0)
			return rc > 0 ? 0 : -1;
		pb->bpos = start;
		pb->buf[start] = '\0';
	}
	return printbuf_memappend(pb, sl->dflt, (int)strlen(sl->dflt)) < 0 ?
	    -1 : 0;
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
