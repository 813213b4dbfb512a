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
 *  - no leak, no out-of-bounds read (the input is an exact-size copy).
 */
#include "config.h"

#include <json-c/json.h>

#include "fuzz.h"
#include "buf.h"
#include "req.h"
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

	/* Same meaning: json-c reads both (as text: no raw NUL in strict JSON). */
	if (memchr(in, '\0', size) == NULL) {
		char	*z = fz_strndup(data, size);

		a = jc_parse(z, &oka);
		b = jc_parse(out.p, &okb);
		if (oka) {
			CHECK(okb);
			CHECK(json_object_equal(a, b));
		}
		json_object_put(a);
		json_object_put(b);
		free(z);
	}
	buf_free(&out);
	free(in);
	return 0;
}
