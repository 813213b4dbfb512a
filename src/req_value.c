/*
 * req_value.c: the grammars of query values, as the uniqc original's
 * pydantic reads them from text: integers (lax str -> int, bounded to
 * 64 bits), booleans, and the ISO 8601 date-times of the SPEC 4.1
 * filters.  Pure functions of their bytes (no allocation, no state);
 * declared in req.h, tested by t/unit-req and fuzzed by fuzz_req.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "req.h"

static int
is_ascii_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

/*
 * The integer grammar of pydantic's lax str -> int, bounded to 64 bits:
 * optional surrounding ASCII whitespace, optional sign, ASCII digits
 * with single '_' between digits, optionally '.' followed by one or more
 * zeros ("2." is not an integer in pydantic 2, "2.0" is).
 * Returns 1 and sets *out, or 0 when the text is not such an integer.
 */
int
req_parse_int(const char *s, size_t n, int64_t *out)
{
	size_t		 i = 0, end = n;
	int		 neg = 0, digits = 0, prev_us = 0;
	uint64_t	 v = 0, lim;

	while (i < end && is_ascii_space((unsigned char)s[i]))
		i++;
	while (end > i && is_ascii_space((unsigned char)s[end - 1]))
		end--;
	if (i < end && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < end; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			unsigned d = (unsigned)(s[i] - '0');

			if (v > (lim - d) / 10)
				return 0;
			v = v * 10 + d;
			digits++;
			prev_us = 0;
		} else if (s[i] == '_') {
			if (digits == 0 || prev_us)
				return 0;
			prev_us = 1;
		} else
			break;
	}
	if (digits == 0 || prev_us)
		return 0;
	if (i < end) {
		if (s[i] != '.' || i + 1 == end)
			return 0;
		for (i++; i < end; i++)
			if (s[i] != '0')
				return 0;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 1;
}

/*
 * pydantic's str -> bool: case-insensitive, untrimmed.  Returns 1 and
 * sets *out, or 0 when the text is neither.
 */
int
req_parse_bool(const char *s, size_t n, int *out)
{
	static const char *const yes[] = { "1", "on", "t", "true", "y", "yes" };
	static const char *const no[] = { "0", "off", "f", "false", "n", "no" };
	char	 low[8];
	size_t	 i;

	if (n == 0 || n >= sizeof(low))
		return 0;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[n] = '\0';
	if (memchr(s, '\0', n) != NULL)
		return 0;
	for (i = 0; i < NELEM(yes); i++)
		if (strcmp(low, yes[i]) == 0) {
			*out = 1;
			return 1;
		}
	for (i = 0; i < NELEM(no); i++)
		if (strcmp(low, no[i]) == 0) {
			*out = 0;
			return 1;
		}
	return 0;
}

static int
digits(const char *s, size_t n, size_t i, size_t k, int *v)
{
	size_t	 j;

	*v = 0;
	if (i + k > n)
		return 0;
	for (j = i; j < i + k; j++) {
		if (s[j] < '0' || s[j] > '9')
			return 0;
		*v = *v * 10 + (s[j] - '0');
	}
	return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era;
	unsigned	 yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/*
 * An ISO 8601 date-time of the query filters (SPEC 4.1), as pydantic
 * reads one: YYYY-MM-DD, optionally followed by T (or t, or a space)
 * and HH:MM[:SS[.ffffff]] and an offset Z, z, +HH, +HHMM or +HH:MM;
 * without an offset it is UTC; a date alone is its midnight.  Years
 * 0001-9999, up to 6 fraction digits.  Returns 1 and sets *out
 * (microseconds since the unix epoch, UTC), or 0.
 */
int
req_parse_datetime(const char *s, size_t n, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int		 y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, v;
	int64_t		 us = 0, scale = 100000, t;
	size_t		 i = 10;
	int		 sign = 0;

	if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' ||
	    !digits(s, n, 5, 2, &mo) || s[7] != '-' || !digits(s, n, 8, 2, &d))
		return 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))))
		return 0;
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return 0;
		if (!digits(s, n, i + 1, 2, &h) || i + 3 >= n ||
		    s[i + 3] != ':' || !digits(s, n, i + 4, 2, &mi) ||
		    h > 23 || mi > 59)
			return 0;
		i += 6;
		if (i < n && s[i] == ':') {
			if (!digits(s, n, i + 1, 2, &sec) || sec > 59)
				return 0;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				if (++i >= n || s[i] < '0' || s[i] > '9')
					return 0;
				for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
					if (scale == 0)
						return 0;
					us += (s[i] - '0') * scale;
					scale /= 10;
				}
			}
		}
		if (i < n && (s[i] == 'Z' || s[i] == 'z'))
			i++;
		else if (i < n && (s[i] == '+' || s[i] == '-')) {
			sign = s[i] == '-' ? -1 : 1;
			if (!digits(s, n, i + 1, 2, &oh) || oh > 23)
				return 0;
			i += 3;
			/* "+08:" is no offset: after a colon, minutes. */
			if (i < n && s[i] == ':' && ++i == n)
				return 0;
			if (i < n) {
				if (!digits(s, n, i, 2, &om) || om > 59)
					return 0;
				i += 2;
			}
		}
		if (i != n)
			return 0;
	}
	v = h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + v;
	*out = t * 1000000 + us;
	return 1;
}
