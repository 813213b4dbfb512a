/*
 * jsonw.c: JSON writing: Python-compatible escaping, ISO times, stored
 * JSON passed through minified, the 422s of query parameters, and the
 * content-type test.  The Python-grammar scanner is in jsonw_py.c, bulk
 * bodies in jsonw_body.c and jsonw_filter.c; those four files are the
 * only ones that include json-c (jsonw_int.h holds what they share).
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
#include "rows.h"

#include "jsonw_int.h"

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
				jsonw_unescape(&tmp, s + start, j - start, &lone);
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

/* A string, or null for SQL NULL. */
static void
text_or_null(struct buf *b, const struct rtext *t)
{
	if (t->p == NULL)
		buf_adds(b, "null");
	else
		jsonw_str(b, t->p, t->len);
}

/*
 * One task object in the key order of SPEC 2; detail selects "result"
 * (stored JSON, null when absent) over "has_result".
 */
void
jsonw_task(struct buf *b, const struct task_row *t, int detail)
{
	buf_adds(b, "{\"task_id\":");
	jsonw_str(b, t->task_id.p ? t->task_id.p : "", t->task_id.len);
	buf_adds(b, ",\"backend\":");
	jsonw_str(b, t->backend.p ? t->backend.p : "", t->backend.len);
	buf_adds(b, ",\"status\":");
	jsonw_str(b, t->status.p ? t->status.p : "", t->status.len);
	buf_adds(b, ",\"shots\":");
	buf_addi(b, (long long)t->shots);
	buf_adds(b, ",\"submit_time\":");
	jsonw_time_pg(b, t->submit_time);
	buf_adds(b, ",\"update_time\":");
	jsonw_time_pg(b, t->update_time);
	if (detail) {
		buf_adds(b, ",\"result\":");
		if (t->result.p == NULL ||
		    !jsonw_stored(b, t->result.p, t->result.len))
			buf_adds(b, "null");
	} else {
		buf_adds(b, ",\"has_result\":");
		buf_adds(b, t->has_result ? "true" : "false");
	}
	buf_adds(b, ",\"metadata\":");
	if (t->metadata.p == NULL ||
	    !jsonw_stored(b, t->metadata.p, t->metadata.len))
		buf_adds(b, "{}");
	buf_adds(b, ",\"archived_at\":");
	if (!t->archived)
		buf_adds(b, "null");
	else
		jsonw_time_pg(b, t->archived_at);
	buf_addc(b, '}');
}

/* One shard object in the key order of SPEC 2.3. */
void
jsonw_shard(struct buf *b, const struct shard_row *s)
{
	buf_adds(b, "{\"uniqc_task_id\":");
	text_or_null(b, &s->uniqc_task_id);
	buf_adds(b, ",\"shard_index\":");
	buf_addi(b, (long long)s->shard_index);
	buf_adds(b, ",\"platform_task_id\":");
	text_or_null(b, &s->platform_task_id);
	buf_adds(b, ",\"backend\":");
	text_or_null(b, &s->backend);
	buf_adds(b, ",\"circuit_count\":");
	buf_addi(b, (long long)s->circuit_count);
	buf_adds(b, ",\"sub_index_offset\":");
	buf_addi(b, (long long)s->sub_index_offset);
	buf_adds(b, ",\"status\":");
	text_or_null(b, &s->status);
	buf_adds(b, ",\"error_message\":");
	text_or_null(b, &s->error_message);
	buf_adds(b, ",\"submit_time\":");
	jsonw_time_pg(b, s->submit_time);
	buf_adds(b, ",\"update_time\":");
	jsonw_time_pg(b, s->update_time);
	buf_addc(b, '}');
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
