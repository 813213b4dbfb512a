/* unit-req.c: integer and boolean grammar, decoding, prefixes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "req.h"

static int
pint(const char *s, long long *v)
{
	int64_t	 x = 0;
	int	 r = req_parse_int(s, strlen(s), &x);

	*v = (long long)x;
	return r;
}

static const char *
dec(const char *s, int plus)
{
	static char	 out[256];
	size_t		 n = req_pct_decode(out, s, strlen(s), plus);

	out[n] = '\0';
	return out;
}

int
main(void)
{
	long long	 v;
	int		 b;
	struct str	 s;
	struct qparam	*q;
	size_t		 nq, pl;
	static const char *const badints[] = {
		"", " ", "abc", "1e3", "1.5", "0x10", "--1", "+-1", "_1", "1_",
		"1__0", "1._0", ".0", "-", "1 2", "9223372036854775808",
		"-9223372036854775809", "99999999999999999999", "١", "1.0.0",
		"1,000", "+", "0.01",
	};
	size_t		 i;

	ok(pint("42", &v) && v == 42, "plain integer");
	ok(pint("  -7\t", &v) && v == -7, "whitespace and sign");
	ok(pint("+5", &v) && v == 5, "plus sign");
	ok(pint("1_000", &v) && v == 1000, "underscore between digits");
	ok(pint("2.0", &v) && v == 2, "fraction of zeros");
	ok(!pint("2.", &v), "empty fraction is not an integer");
	ok(!pint(" 2. ", &v), "empty fraction, whitespace around");
	ok(!pint(".0", &v), "fraction without digits");
	ok(pint("-3.000", &v) && v == -3, "negative with zeros");
	ok(pint("007", &v) && v == 7, "leading zeros");
	ok(pint("9223372036854775807", &v) && v == 9223372036854775807LL,
	    "int64 max");
	ok(pint("-9223372036854775808", &v) && v == (-9223372036854775807LL - 1),
	    "int64 min");
	ok(pint("\n\v\f\r 3", &v) && v == 3, "all ASCII whitespace");
	for (i = 0; i < sizeof(badints) / sizeof(badints[0]); i++)
		ok(!pint(badints[i], &v), "rejects '%s'", badints[i]);
	ok(!req_parse_int("1\0", 2, (int64_t *)&v), "rejects embedded NUL");

	ok(req_parse_bool("TRUE", 4, &b) && b == 1, "TRUE");
	ok(req_parse_bool("Yes", 3, &b) && b == 1, "Yes");
	ok(req_parse_bool("on", 2, &b) && b == 1, "on");
	ok(req_parse_bool("1", 1, &b) && b == 1, "1");
	ok(req_parse_bool("f", 1, &b) && b == 0, "f");
	ok(req_parse_bool("OFF", 3, &b) && b == 0, "OFF");
	ok(req_parse_bool("no", 2, &b) && b == 0, "no");
	ok(!req_parse_bool(" true", 5, &b), "untrimmed");
	ok(!req_parse_bool("2", 1, &b), "2 is not a boolean");
	ok(!req_parse_bool("", 0, &b), "empty is not a boolean");
	ok(!req_parse_bool("truee", 5, &b), "truee");

	is_str(dec("a%20b+c", 1), "a b c", "query decoding: %%20 and +");
	is_str(dec("a%20b+c", 0), "a b+c", "path decoding keeps +");
	is_str(dec("%zz%4", 0), "%zz%4", "bad escapes stay literal");
	is_str(dec("%2F%2f", 0), "//", "%%2F decodes");
	is_str(dec("100%", 0), "100%", "trailing percent");

	ok(req_str_set(&s, "ok\xc3\xa9", 4) && !s.bad && s.len == 4,
	    "valid UTF-8 kept");
	req_str_free(&s);
	ok(req_str_set(&s, "a\xffz", 3) && s.bad &&
	    strcmp(s.p, "a\xEF\xBF\xBDz") == 0, "invalid byte -> U+FFFD, bad");
	req_str_free(&s);
	ok(req_str_set(&s, "\xe2\x82", 2) && s.bad &&
	    strcmp(s.p, "\xEF\xBF\xBD") == 0, "truncated sequence -> one U+FFFD");
	req_str_free(&s);
	ok(req_str_set(&s, "\xed\xa0\x80", 3) && s.bad && s.len == 9,
	    "encoded surrogate -> three U+FFFD (Python)");
	req_str_free(&s);
	ok(req_str_set(&s, "a\0b", 3) && s.bad && s.len == 3, "NUL marks bad");
	req_str_free(&s);
	ok(req_str_set(&s, "ab\xff\xc3\xa9" "cd\xe2\x82", 9) && s.bad &&
	    strcmp(s.p, "ab\xEF\xBF\xBD\xc3\xa9" "cd\xEF\xBF\xBD") == 0,
	    "valid runs around bad bytes kept, in order");
	req_str_free(&s);
	ok(req_str_set(&s, "\xff\xffx", 3) && s.bad &&
	    strcmp(s.p, "\xEF\xBF\xBD\xEF\xBF\xBDx") == 0,
	    "bad bytes in a row: one U+FFFD each");
	req_str_free(&s);
	ok(req_str_set(&s, "", 0) && !s.bad && s.len == 0 && s.p[0] == '\0',
	    "empty string");
	req_str_free(&s);

	ok(req_parse_query("status=a&&limit=1&x&status=b&k%61y=v%41+w", &q, &nq),
	    "query parses");
	ok(nq == 5, "empty pieces skipped (%zu)", nq);
	ok(nq == 5 && strcmp(q[2].key.p, "x") == 0 && q[2].val.len == 0,
	    "key without = has empty value");
	ok(nq == 5 && strcmp(q[4].key.p, "kay") == 0 &&
	    strcmp(q[4].val.p, "vA w") == 0, "keys and values decoded");
	{
		struct req	 r;

		memset(&r, 0, sizeof(r));
		r.q = q;
		r.nq = nq;
		ok(req_query(&r, "status") && strcmp(req_query(&r, "status")->p,
		    "b") == 0, "last repeated key wins");
		ok(req_query(&r, "nope") == NULL, "absent key");
	}
	req_free_query(q, nq);

	ok(req_split_prefix("/api/tasks", NULL, &pl) && pl == 0, "root mount");
	ok(req_split_prefix("/taskgate/api/tasks", NULL, &pl) && pl == 9,
	    "prefix found");
	ok(req_split_prefix("/x/apis/api", NULL, &pl) && pl == 7,
	    "/apis is not /api");
	ok(!req_split_prefix("/foo/bar", NULL, &pl), "outside the API");
	ok(req_split_prefix("/tg/api/x", "/tg/", &pl) && pl == 3,
	    "configured base path");
	ok(!req_split_prefix("/tgx/api/x", "/tg", &pl),
	    "base path must end at a segment");

	/* SPEC 4.1 date-times (pydantic's grammar). */
	{
		int64_t	 us;
#define DT(s) req_parse_datetime(s, strlen(s), &us)
		ok(DT("2026-11-02T00:00+08:00") && us == 1793548800000000LL,
		    "offset +08:00");
		ok(DT("2026-11-02T00:00+0800") && us == 1793548800000000LL,
		    "offset +0800");
		ok(DT("2026-11-02T00:00+08") && us == 1793548800000000LL,
		    "offset +08");
		ok(!DT("2026-11-02T00:00+08:"), "offset +08: is no offset");
		ok(!DT("2026-11-02T00:00+08:0"), "offset +08:0 is no offset");
		ok(DT("2026-11-02T00:00:00Z") && us == 1793577600000000LL,
		    "Z");
#undef DT
	}
	return done_testing();
}
