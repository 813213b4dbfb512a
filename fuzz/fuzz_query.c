/*
 * fuzz_query.c: query-string decoding and the integer/boolean grammar.
 *
 * Invariants checked (abort on violation):
 *  - req_parse_query: every key and value is NUL-terminated at len, valid
 *    UTF-8, and not marked bad only when it holds no NUL; no more pairs
 *    than '&'-separated pieces; nothing leaks (LeakSanitizer).
 *  - req_str_set: output is valid UTF-8 (req_utf8_valid and glibc's
 *    mbrtowc agree), unchanged and not bad when the input was valid UTF-8
 *    without NUL, at most 3 bytes per input byte.
 *  - req_pct_decode: never longer than its input, identity without '%'.
 *  - req_parse_int: agrees with a reference built on strtoll (same
 *    acceptance, same value), and every accepted value round-trips
 *    through snprintf("%lld"), with whitespace and ".00" around it.
 *  - req_parse_bool: agrees with strcasecmp against the word lists.
 *  - a 422 body echoing the decoded values (jsonw_qerr) is strict JSON
 *    and valid UTF-8.
 *  - the first 8 bytes as a time (unix and PostgreSQL epochs) format
 *    without UB into one JSON string.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <wchar.h>

#include "fuzz.h"
#include "buf.h"
#include "jsonw.h"
#include "req.h"

int LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
	return 0;
}

/* UTF-8 validity by glibc's decoder: the independent oracle. */
static int
libc_utf8_valid(const char *s, size_t n)
{
	mbstate_t	 st;
	size_t		 i = 0, k;
	wchar_t		 wc;

	memset(&st, 0, sizeof(st));
	while (i < n) {
		if (s[i] == '\0') {
			i++;
			continue;
		}
		k = mbrtowc(&wc, s + i, n - i, &st);
		if (k == (size_t)-1 || k == (size_t)-2)
			return 0;
		/* glibc takes the old 31-bit range: RFC 3629 does not. */
		if ((unsigned long)wc > 0x10FFFF ||
		    ((unsigned long)wc >= 0xD800 && (unsigned long)wc <= 0xDFFF))
			return 0;
		i += k;
	}
	return 1;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* The SPEC's integer grammar, written independently, range by strtoll. */
static int
ref_int(const char *s, size_t n, int64_t *out)
{
	char		 dig[64];
	size_t		 i = 0, e = n, k = 0;
	int		 prev = 0;	/* 0 start, 1 digit, 2 underscore */
	int		 nz = 0;	/* a non-zero digit was seen */
	long long	 v;
	char		*ep;

	while (i < e && is_ws((unsigned char)s[i]))
		i++;
	while (e > i && is_ws((unsigned char)s[e - 1]))
		e--;
	if (i < e && (s[i] == '+' || s[i] == '-'))
		dig[k++] = s[i++];
	for (; i < e; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			/* Leading zeros cannot change the value: drop them. */
			if (s[i] != '0' || nz) {
				if (k >= 40)
					return 0;	/* far beyond 64 bits */
				dig[k++] = s[i];
				nz = 1;
			}
			prev = 1;
		} else if (s[i] == '_') {
			if (prev != 1)
				return 0;
			prev = 2;
		} else
			break;
	}
	if (prev != 1)
		return 0;
	if (i < e) {
		if (s[i++] != '.' || i == e)
			return 0;	/* "2." is not an integer: one zero at least */
		for (; i < e; i++)
			if (s[i] != '0')
				return 0;
	}
	if (!nz)
		dig[k++] = '0';
	dig[k] = '\0';
	errno = 0;
	v = strtoll(dig, &ep, 10);
	if (errno != 0 || *ep != '\0')
		return 0;
	*out = v;
	return 1;
}

static int
ref_bool(const char *s, size_t n, int *out)
{
	static const char *const yes[] = { "1", "on", "t", "true", "y", "yes" };
	static const char *const no[] = { "0", "off", "f", "false", "n", "no" };
	size_t	 i;

	if (memchr(s, '\0', n) != NULL)
		return 0;
	for (i = 0; i < 6; i++) {
		if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0) {
			*out = 1;
			return 1;
		}
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0) {
			*out = 0;
			return 1;
		}
	}
	return 0;
}

static void
check_str(const struct str *v)
{
	CHECK(v->p != NULL);
	CHECK(v->p[v->len] == '\0');
	CHECK(req_utf8_valid(v->p, v->len));
	CHECK(libc_utf8_valid(v->p, v->len));
	if (!v->bad)
		CHECK(memchr(v->p, '\0', v->len) == NULL);
}

static void
check_int(const char *s, size_t n)
{
	int64_t	 v = 0, r = 0, v2 = 0;
	int	 ok, rok;
	char	 t[64];

	ok = req_parse_int(s, n, &v);
	rok = ref_int(s, n, &r);
	CHECK(ok == rok);
	if (!ok)
		return;
	CHECK(v == r);
	snprintf(t, sizeof(t), "%lld", (long long)v);
	CHECK(req_parse_int(t, strlen(t), &v2) && v2 == v);
	snprintf(t, sizeof(t), " \t%lld.00\n", (long long)v);
	CHECK(req_parse_int(t, strlen(t), &v2) && v2 == v);
}

static void
check_bool(const char *s, size_t n)
{
	int	 b = -1, rb = -1, ok, rok;

	ok = req_parse_bool(s, n, &b);
	rok = ref_bool(s, n, &rb);
	CHECK(ok == rok);
	if (ok)
		CHECK(b == rb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	char		*qs, *dec;
	struct qparam	*q;
	struct str	 v;
	size_t		 nq, i, pieces, dn;

	if (size >= 8) {
		struct buf	 t;
		int64_t		 us;

		memcpy(&us, data, sizeof(us));
		buf_init(&t);
		jsonw_time(&t, us);
		CHECK(!t.oom && t.p[0] == '"' && fz_strict_json(t.p, t.len));
		buf_reset(&t);
		jsonw_time_pg(&t, us);
		CHECK(!t.oom && t.p[0] == '"' && fz_strict_json(t.p, t.len));
		buf_free(&t);
	}

	/* The whole input, NUL bytes included, through the scalar parsers. */
	check_int(s, size);
	check_bool(s, size);

	if (req_str_set(&v, s, size)) {
		check_str(&v);
		CHECK(v.len <= 3 * size);
		if (req_utf8_valid(s, size) && memchr(s, '\0', size) == NULL) {
			CHECK(!v.bad);
			CHECK(v.len == size && memcmp(v.p, s, size) == 0);
		} else
			CHECK(v.bad);
		CHECK(req_utf8_valid(s, size) == libc_utf8_valid(s, size) ||
		    memchr(s, '\0', size) != NULL);
		req_str_free(&v);
	}

	/* Percent-decoding: a buffer of exactly size bytes (ASan checks). */
	dec = malloc(size ? size : 1);
	CHECK(dec != NULL);
	dn = req_pct_decode(dec, s, size, 1);
	CHECK(dn <= size);
	if (memchr(s, '%', size) == NULL) {
		CHECK(dn == size);
		for (i = 0; i < size; i++)
			CHECK(dec[i] == (s[i] == '+' ? ' ' : s[i]));
	}
	free(dec);

	/* A query string is a C string: up to the first NUL. */
	qs = fz_strndup(data, size);
	for (pieces = 1, i = 0; qs[i] != '\0'; i++)
		if (qs[i] == '&')
			pieces++;
	if (req_parse_query(qs, &q, &nq)) {
		struct buf	 e;

		CHECK(nq <= pieces);
		buf_init(&e);
		jsonw_qerr_open(&e);
		for (i = 0; i < nq; i++) {
			check_str(&q[i].key);
			check_str(&q[i].val);
			/* Every decoded value goes through the grammar too. */
			check_int(q[i].val.p, q[i].val.len);
			check_bool(q[i].val.p, q[i].val.len);
			jsonw_qerr(&e, "int_parsing", "limit", "Input should be "
			    "a valid integer", &q[i].val);
		}
		jsonw_qerr_close(&e);
		CHECK(!e.oom);
		CHECK(fz_strict_json(e.p, e.len));
		CHECK(req_utf8_valid(e.p, e.len));
		buf_free(&e);
		req_free_query(q, nq);
	}
	free(qs);
	return 0;
}
