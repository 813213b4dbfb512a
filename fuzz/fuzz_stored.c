/*
 * fuzz_stored.c: stored JSON out (jsonw_stored), i.e. what taskgate does
 * with the text of a result (json) or metadata (jsonb) column.
 *
 * Only inputs PostgreSQL could have stored are used: valid UTF-8 that is
 * strict JSON (RFC 8259: no NaN/Infinity), which jsonw_py_check accepts.
 * Invariants checked (abort on violation):
 *  - jsonw_stored accepts it, and its output is valid UTF-8, strict JSON
 *    and accepted by jsonw_py_check;
 *  - the output is compact and stable: feeding it back gives it again;
 *  - the output means the same as the input (json-c parses both to equal
 *    trees; a lone surrogate is U+FFFD on both sides);
 *  - as the result and metadata of a task object (and its id's text),
 *    jsonw_task's output (json-c's) is valid UTF-8 and strict JSON and
 *    holds jsonw_stored's output;
 *  - no leak, no out-of-bounds read (the input is an exact-size copy).
 *
 * json-c 0.16 itself is wrong for one case, so the oracle is given a copy
 * with every escaped surrogate pair written as raw UTF-8 first
 * (oracle_text()): it tests the combined code point with
 * IS_HIGH_SURROGATE/IS_LOW_SURROGATE, which mask with 0xFC00, so
 * "\ud837\udc00" (U+1DC00, and any code point whose low 16 bits fall in
 * D800-DFFF) becomes U+FFFD.  Python, PostgreSQL and taskgate give U+1DC00.
 */
#include "config.h"

#include <json-c/json.h>

#include "fuzz.h"
#include "buf.h"
#include "req.h"
#include "rows.h"
#include "jsonw.h"

static json_object *
jc_parse(const char *s, int *ok)
{
	struct json_tokener	*t;
	json_object		*o;

	t = json_tokener_new_ex(4096);
	CHECK(t != NULL);
	o = json_tokener_parse_ex(t, s, -1);
	*ok = json_tokener_get_error(t) == json_tokener_success;
	json_tokener_free(t);
	return o;
}

static int
hex4(const char *s, size_t n, size_t i, unsigned *v)
{
	size_t	k;
	int	c;

	*v = 0;
	if (i + 4 > n)
		return 0;
	for (k = i; k < i + 4; k++) {
		c = (unsigned char)s[k];
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

/*
 * A NUL-terminated copy of strict JSON s[0..n) in which each escaped
 * surrogate pair "\uD8xx\uDCxx" is the code point's raw UTF-8 (4 bytes,
 * shorter than the 12 of the escapes).  Other escapes are copied whole,
 * so "\\ud83d" stays an escaped backslash and the letters after it.
 */
static char *
oracle_text(const char *s, size_t n)
{
	char		*o;
	size_t		 i, j;
	unsigned	 hi, lo, cp;

	o = malloc(n + 1);
	CHECK(o != NULL);
	for (i = j = 0; i < n; ) {
		if (s[i] != '\\' || i + 1 >= n) {
			o[j++] = s[i++];
			continue;
		}
		if (s[i + 1] == 'u' && hex4(s, n, i + 2, &hi) &&
		    hi >= 0xD800 && hi <= 0xDBFF && i + 7 < n &&
		    s[i + 6] == '\\' && s[i + 7] == 'u' &&
		    hex4(s, n, i + 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
			cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
			o[j++] = (char)(0xF0 | (cp >> 18));
			o[j++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			o[j++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			o[j++] = (char)(0x80 | (cp & 0x3F));
			i += 12;
			continue;
		}
		o[j++] = s[i++];	/* the backslash and the escaped char */
		o[j++] = s[i++];
	}
	o[j] = '\0';
	return o;
}

static int
contains(const char *h, size_t hn, const char *x, size_t xn)
{
	size_t	 i;

	for (i = 0; i + xn <= hn; i++)
		if (memcmp(h + i, x, xn) == 0)
			return 1;
	return 0;
}

/* in[0..n) (strict JSON) as a task's result, metadata and id. */
static void
as_task(const char *in, size_t n, const struct buf *stored)
{
	struct task_row	 t;
	struct buf	 b;

	memset(&t, 0, sizeof(t));
	t.task_id.p = in;
	t.task_id.len = n;
	t.status.p = "success";
	t.status.len = 7;
	t.result.p = t.metadata.p = in;
	t.result.len = t.metadata.len = n;
	t.archived = 1;
	t.archived_at = (int64_t)n * 1000003;
	buf_init(&b);
	jsonw_task(&b, &t, 1);
	CHECK(!b.oom);
	CHECK(req_utf8_valid(b.p, b.len));
	CHECK(fz_strict_json(b.p, b.len));
	CHECK(contains(b.p, b.len, stored->p, stored->len));
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*in;
	struct buf	 out, again;
	size_t		 pos;
	const char	*msg;
	json_object	*a, *b;
	int		 oka, okb;

	in = malloc(size ? size : 1);
	CHECK(in != NULL);
	if (size > 0)
		memcpy(in, data, size);
	if (!req_utf8_valid(in, size) || !fz_strict_json(in, size) ||
	    !jsonw_py_check(in, size, &pos, &msg)) {
		free(in);
		return 0;
	}
	buf_init(&out);
	buf_add(&out, "", 0);
	CHECK(jsonw_stored(&out, in, size));
	CHECK(!out.oom);
	CHECK(req_utf8_valid(out.p, out.len));
	CHECK(fz_strict_json(out.p, out.len));
	CHECK(jsonw_py_check(out.p, out.len, &pos, &msg));

	buf_init(&again);
	buf_add(&again, "", 0);
	CHECK(jsonw_stored(&again, out.p, out.len));
	CHECK(again.len == out.len && memcmp(again.p, out.p, out.len) == 0);
	buf_free(&again);
	as_task(in, size, &out);

	/* Same meaning: json-c reads both (as text: no raw NUL in strict JSON). */
	if (memchr(in, '\0', size) == NULL) {
		char	*z = oracle_text(in, size);
		char	*y = oracle_text(out.p, out.len);

		a = jc_parse(z, &oka);
		b = jc_parse(y, &okb);
		if (oka) {
			CHECK(okb);
			CHECK(json_object_equal(a, b));
		}
		json_object_put(a);
		json_object_put(b);
		free(z);
		free(y);
	}
	buf_free(&out);
	free(in);
	return 0;
}
