/* unit-conv.c: taskgate-admin's conversions of uniqc store values. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "admin_conv.h"
#include "buf.h"

static const char *
tm(const char *s)
{
	static char	 out[CONV_TIMELEN];

	if (!conv_time(s, strlen(s), out, NULL))
		return "bad";
	return out;
}

static const char *
js(const char *s, int jsonb, int *fixed, int *isnull)
{
	static char	 out[512];
	struct buf	 b;
	const char	*why;
	size_t		 pos;
	int		 n;

	buf_init(&b);
	n = conv_json(s, strlen(s), jsonb, &b, isnull, &why, &pos);
	*fixed = n;
	if (n < 0)
		snprintf(out, sizeof(out), "bad: %s", why);
	else
		snprintf(out, sizeof(out), "%s", b.p ? b.p : "");
	buf_free(&b);
	return out;
}

int
main(void)
{
	int		 f, nul;
	struct buf	 b;

	is_str(tm("2026-05-01T12:00:00.123456+00:00"),
	    "2026-05-01 12:00:00.123456+00", "isoformat with fraction");
	is_str(tm("2026-05-01T12:00:00+00:00"), "2026-05-01 12:00:00.000000+00",
	    "isoformat without fraction");
	is_str(tm("2026-05-01T00:00:00"), "2026-05-01 00:00:00.000000+00",
	    "naive is UTC");
	is_str(tm("2026-05-01T00:30:00Z"), "2026-05-01 00:30:00.000000+00", "Z");
	is_str(tm("2026-05-01T01:00:00+08:00"), "2026-04-30 17:00:00.000000+00",
	    "+08:00 crosses the day");
	is_str(tm("2024-12-31T23:30:00-01:00"), "2025-01-01 00:30:00.000000+00",
	    "-01:00 crosses the year");
	is_str(tm("2026-05-01 12:00:00.5"), "2026-05-01 12:00:00.500000+00",
	    "space separator, short fraction");
	is_str(tm("2026-05-01"), "2026-05-01 00:00:00.000000+00", "date only");
	is_str(tm("2026-05-01T12:00"), "2026-05-01 12:00:00.000000+00", "HH:MM");
	is_str(tm("2026-05-01T12:00:00+0530"), "2026-05-01 06:30:00.000000+00",
	    "+HHMM");
	is_str(tm("2024-02-29T00:00:00"), "2024-02-29 00:00:00.000000+00",
	    "leap day");
	is_str(tm("2025-02-29T00:00:00"), "bad", "no leap day in 2025");
	is_str(tm("yesterday"), "bad", "a word");
	is_str(tm(""), "bad", "empty");
	is_str(tm("2026-05-01T25:00:00"), "bad", "hour 25");
	is_str(tm("2026-05-01T12:00:00+00:00 "), "bad", "trailing space");
	is_str(tm("0001-01-01T00:00:00+01:00"), "bad", "before year 1 in UTC");

	is_str(js("{\"b\": 1.50, \"a\": [1e3, -0]}", 0, &f, &nul),
	    "{\"b\": 1.50, \"a\": [1e3, -0]}", "kept byte for byte");
	ok(f == 0 && !nul, "nothing replaced");
	is_str(js("[NaN, Infinity, -Infinity, \"NaN\"]", 0, &f, &nul),
	    "[null, null, null, \"NaN\"]", "non-standard tokens, not in strings");
	ok(f == 3, "three replaced");
	is_str(js("{\"x\": NaN}", 0, &f, &nul), "{\"x\": null}", "in an object");
	is_str(js(" null ", 0, &f, &nul), " null ", "null");
	ok(nul, "null seen");
	js("NaN", 0, &f, &nul);
	ok(nul && f == 1, "NaN alone is null");
	is_str(js("{\"a\": 1", 0, &f, &nul), "bad: unexpected end", "truncated");
	is_str(js("{'a': 1}", 0, &f, &nul), "bad: expecting property name",
	    "single quotes");
	is_str(js("[1,]", 0, &f, &nul), "bad: expecting value", "trailing comma");
	is_str(js("01", 0, &f, &nul), "bad: extra data after the value",
	    "leading zero");
	is_str(js("\"\\ud800\"", 0, &f, &nul), "bad: lone high surrogate escape",
	    "lone surrogate");
	is_str(js("\"\\ud83d\\ude00\"", 0, &f, &nul), "\"\\ud83d\\ude00\"",
	    "surrogate pair");
	is_str(js("\"\\u0000\"", 1, &f, &nul), "bad: \\u0000 in jsonb",
	    "\\u0000 refused for jsonb");
	is_str(js("\"\\u0000\"", 0, &f, &nul), "\"\\u0000\"", "... kept for json");
	is_str(js("nan", 0, &f, &nul), "bad: expecting value", "lowercase nan");
	is_str(js("[1] [2]", 0, &f, &nul), "bad: extra data after the value",
	    "two values");

	ok(conv_utf8_ok("h\xc3\xa9", 3), "UTF-8");
	ok(!conv_utf8_ok("\xc3", 1), "truncated UTF-8");
	ok(!conv_utf8_ok("a\0b", 3), "NUL");
	ok(!conv_utf8_ok("\xed\xa0\x80", 3), "surrogate in UTF-8");
	ok(!conv_utf8_ok("\xc0\xaf", 2), "overlong");

	buf_init(&b);
	conv_copy_text(&b, "a\tb\\c\nd\re", 10);
	is_str(b.p, "a\\tb\\\\c\\nd\\re", "COPY escaping");
	buf_free(&b);
	return done_testing();
}
