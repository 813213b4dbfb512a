/*
 * admin_conv.c: conversions of uniqc store values (see admin_conv.h).
 * Everything here is a pure function of its input: what PostgreSQL
 * would refuse (invalid UTF-8, NUL, bad JSON, a time that is none) is
 * caught before a row is sent, so one bad row never fails a batch.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin_conv.h"
#include "buf.h"

int
conv_utf8_ok(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s, *e = p + n;
	unsigned int		 c, need, min;

	while (p < e) {
		c = *p++;
		if (c == 0)
			return 0;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; min = 0x80; c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; min = 0x800; c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; min = 0x10000; c &= 0x07;
		} else
			return 0;
		if ((size_t)(e - p) < need)
			return 0;
		while (need-- > 0) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (*p++ & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

/* n ASCII digits at s[*i] as a number; advances *i.  -1 if not digits. */
static long
digits(const char *s, size_t n, size_t *i, int count)
{
	long	 v = 0;
	int	 k;

	for (k = 0; k < count; k++) {
		if (*i >= n || s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[(*i)++] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
mdays(long y, long m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* ".ffffff" (1-9 digits, kept to microseconds) at s[*i], or nothing. */
static long
fraction(const char *s, size_t n, size_t *i, int *bad)
{
	long	 us = 0;
	int	 k = 0;

	if (*i >= n || (s[*i] != '.' && s[*i] != ','))
		return 0;
	(*i)++;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (k < 6)
			us = us * 10 + (s[*i] - '0');
		k++;
		(*i)++;
	}
	if (k == 0 || k > 9)
		*bad = 1;
	for (; k < 6; k++)
		us *= 10;
	return us;
}

int
conv_time(const char *s, size_t n, char *out, int64_t *usp)
{
	size_t	 i = 0;
	long	 y, mo, d, h = 0, mi = 0, se = 0, us = 0, oh, om = 0, os = 0;
	long	 ous = 0;
	int64_t	 t, days, yy;
	int	 sign, bad = 0, m2, d2;

	if ((y = digits(s, n, &i, 4)) < 1 || i >= n || s[i++] != '-' ||
	    (mo = digits(s, n, &i, 2)) < 1 || mo > 12 || i >= n ||
	    s[i++] != '-' || (d = digits(s, n, &i, 2)) < 1 ||
	    d > mdays(y, mo))
		return 0;
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return 0;
		i++;
		if ((h = digits(s, n, &i, 2)) < 0 || h > 23)
			return 0;
		if (i < n && s[i] == ':') {
			i++;
			if ((mi = digits(s, n, &i, 2)) < 0 || mi > 59)
				return 0;
			if (i < n && s[i] == ':') {
				i++;
				if ((se = digits(s, n, &i, 2)) < 0 || se > 59)
					return 0;
				us = fraction(s, n, &i, &bad);
			}
		}
		if (bad)
			return 0;
		if (i < n && (s[i] == 'Z' || s[i] == 'z'))
			i++;
		else if (i < n && (s[i] == '+' || s[i] == '-')) {
			sign = s[i++] == '-' ? -1 : 1;
			if ((oh = digits(s, n, &i, 2)) < 0 || oh > 23)
				return 0;
			if (i < n && s[i] == ':')
				i++;
			if (i < n) {
				if ((om = digits(s, n, &i, 2)) < 0 || om > 59)
					return 0;
				if (i < n && s[i] == ':')
					i++;
				if (i < n) {
					if ((os = digits(s, n, &i, 2)) < 0 ||
					    os > 59)
						return 0;
					ous = fraction(s, n, &i, &bad);
				}
			}
			if (bad)
				return 0;
			ous += (oh * 3600 + om * 60 + os) * 1000000L;
			ous *= sign;
		}
	}
	if (i != n)
		return 0;
	t = days_from_civil(y, mo, d) * 86400LL * 1000000LL +
	    ((int64_t)h * 3600 + mi * 60 + se) * 1000000LL + us - ous;
	days = t >= 0 ? t / 86400000000LL : -((-t + 86399999999LL) /
	    86400000000LL);
	civil_from_days(days, &yy, &m2, &d2);
	if (yy < 1 || yy > 9999)
		return 0;
	t -= days * 86400000000LL;
	snprintf(out, CONV_TIMELEN, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
	    (int)yy, m2, d2, (int)(t / 3600000000LL),
	    (int)(t / 60000000LL % 60), (int)(t / 1000000LL % 60),
	    (int)(t % 1000000LL));
	if (usp != NULL)
		*usp = days * 86400000000LL + t;
	return 1;
}

struct js {
	const char	*s;
	size_t		 n, i;
	int		 jsonb, fixed;
	const char	*why;
	struct buf	*out;
	size_t		 last;		/* bytes of s copied to out so far */
};

static void
skip_ws(struct js *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

static int
lit(struct js *j, const char *w)
{
	size_t	 l = strlen(w);

	if (j->n - j->i < l || memcmp(j->s + j->i, w, l) != 0)
		return 0;
	j->i += l;
	return 1;
}

/* Replaces s[from..j->i) with null in the output. */
static void
nullify(struct js *j, size_t from)
{
	buf_add(j->out, j->s + j->last, from - j->last);
	buf_adds(j->out, "null");
	j->last = j->i;
	j->fixed++;
}

static int
hex4(struct js *j, unsigned int *v)
{
	int	 k;
	char	 c;

	*v = 0;
	for (k = 0; k < 4; k++) {
		if (j->i >= j->n)
			return 0;
		c = j->s[j->i++];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

/* A string at j->i (the opening quote); PostgreSQL's escape rules. */
static int
string(struct js *j)
{
	unsigned int	 u, lo;
	unsigned char	 c;

	j->i++;
	for (;;) {
		if (j->i >= j->n)
			return j->why = "unterminated string", 0;
		c = (unsigned char)j->s[j->i++];
		if (c == '"')
			return 1;
		if (c < 0x20)
			return j->why = "control character in string", 0;
		if (c != '\\')
			continue;
		if (j->i >= j->n)
			return j->why = "unterminated string", 0;
		c = (unsigned char)j->s[j->i++];
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
			continue;
		if (c != 'u' || !hex4(j, &u))
			return j->why = "invalid escape in string", 0;
		if (u == 0 && j->jsonb)
			return j->why = "\\u0000 in jsonb", 0;
		if (u >= 0xdc00 && u <= 0xdfff)
			return j->why = "lone low surrogate escape", 0;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (j->n - j->i < 6 || j->s[j->i] != '\\' ||
			    j->s[j->i + 1] != 'u')
				return j->why = "lone high surrogate escape", 0;
			j->i += 2;
			if (!hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff)
				return j->why = "lone high surrogate escape", 0;
		}
	}
}

static int
number(struct js *j)
{
	size_t	 st;

	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i >= j->n)
		return j->why = "invalid number", 0;
	if (j->s[j->i] == '0')
		j->i++;
	else if (j->s[j->i] >= '1' && j->s[j->i] <= '9')
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
	else
		return j->why = "invalid number", 0;
	if (j->i < j->n && j->s[j->i] == '.') {
		st = ++j->i;
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
		if (j->i == st)
			return j->why = "invalid number", 0;
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		st = j->i;
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
		if (j->i == st)
			return j->why = "invalid number", 0;
	}
	return 1;
}

#define JS_MAXDEPTH	4096

/*
 * One value, iteratively: stack holds '{' or '[' per open container.
 * Returns 1, or 0 with j->why set.
 */
static int
value(struct js *j)
{
	char	 stack[JS_MAXDEPTH];
	int	 depth = 0;
	size_t	 from;
	char	 c;

	for (;;) {
		/* A value is expected here. */
		skip_ws(j);
		if (j->i >= j->n)
			return j->why = "unexpected end", 0;
		c = j->s[j->i];
		from = j->i;
		if (c == '{' || c == '[') {
			if (depth == JS_MAXDEPTH)
				return j->why = "nested too deep", 0;
			stack[depth++] = c;
			j->i++;
			skip_ws(j);
			if (j->i < j->n && j->s[j->i] == (c == '{' ? '}' : ']')) {
				j->i++;
				depth--;
				goto after;
			}
			if (c == '{')
				goto key;
			continue;
		}
		if (c == '"') {
			if (!string(j))
				return 0;
		} else if (lit(j, "true") || lit(j, "false") || lit(j, "null"))
			;
		else if (lit(j, "NaN") || lit(j, "Infinity") ||
		    lit(j, "-Infinity"))
			nullify(j, from);
		else if (c == '-' || (c >= '0' && c <= '9')) {
			if (!number(j))
				return 0;
		} else
			return j->why = "expecting value", 0;
after:
		/* After a value: a separator, a close, or the end. */
		for (;;) {
			skip_ws(j);
			if (depth == 0)
				return 1;
			if (j->i >= j->n)
				return j->why = "unexpected end", 0;
			c = j->s[j->i++];
			if (c == ',') {
				if (stack[depth - 1] == '[')
					break;
				goto key;
			}
			if (c == (stack[depth - 1] == '{' ? '}' : ']')) {
				depth--;
				continue;
			}
			return j->why = "expecting ',' or close", 0;
		}
		continue;
key:
		skip_ws(j);
		if (j->i >= j->n || j->s[j->i] != '"')
			return j->why = "expecting property name", 0;
		if (!string(j))
			return 0;
		skip_ws(j);
		if (j->i >= j->n || j->s[j->i++] != ':')
			return j->why = "expecting ':'", 0;
	}
}

int
conv_json(const char *s, size_t n, int jsonb, struct buf *out, int *isnull,
    const char **why, size_t *pos)
{
	struct js	 j;
	size_t		 start = out->len, b, e;

	memset(&j, 0, sizeof(j));
	j.s = s;
	j.n = n;
	j.jsonb = jsonb;
	j.out = out;
	if (!value(&j) || j.i != n) {
		*why = j.why ? j.why : "extra data after the value";
		*pos = j.i;
		out->len = start;
		if (out->p != NULL)
			out->p[start] = '\0';
		return -1;
	}
	buf_add(out, s + j.last, n - j.last);
	/* The literal null (maybe a replaced NaN), spaces around it. */
	for (b = start; b < out->len && strchr(" \t\r\n", out->p[b]) &&
	    out->p[b] != '\0'; b++)
		;
	for (e = out->len; e > b && strchr(" \t\r\n", out->p[e - 1]) &&
	    out->p[e - 1] != '\0'; e--)
		;
	*isnull = e - b == 4 && memcmp(out->p + b, "null", 4) == 0;
	return j.fixed;
}

void
conv_copy_text(struct buf *b, const char *s, size_t n)
{
	size_t	 i, st = 0;

	for (i = 0; i < n; i++) {
		const char	*r;

		switch (s[i]) {
		case '\\': r = "\\\\"; break;
		case '\n': r = "\\n"; break;
		case '\r': r = "\\r"; break;
		case '\t': r = "\\t"; break;
		default: continue;
		}
		buf_add(b, s + st, i - st);
		buf_adds(b, r);
		st = i + 1;
	}
	buf_add(b, s + st, n - st);
}
