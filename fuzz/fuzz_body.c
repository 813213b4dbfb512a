/*
 * fuzz_body.c: validation of bulk request bodies (jsonw_parse_ids) under
 * several content types and id limits, and the Python-grammar checker
 * (jsonw_py_check) against a strict RFC 8259 validator.
 *
 * Input: byte 0 picks the content type (15: the content type is the
 * input up to the first '\n') and bit 4 clears have_body; byte 1 picks
 * max_ids; the rest is the body.
 *
 * Invariants checked (abort on violation):
 *  - the result is one of OK, INVALID, BADREQ, TOOBIG (never NOMEM here);
 *  - BADREQ exactly when a non-empty body is not valid UTF-8;
 *  - INVALID: the error body is strict JSON, valid UTF-8, FastAPI-shaped;
 *    json_invalid exactly when a JSON-typed body fails jsonw_py_check;
 *  - OK: at most max_ids ids, each NUL-terminated valid UTF-8, and the
 *    body was JSON (by jsonw_py_check);
 *  - jsonw_py_check accepts every strict-JSON text (unless nested deeper
 *    than its limit) and accepts more only for NaN/Infinity; its error
 *    offset is within the text;
 *  - no leak on any path (LeakSanitizer).
 */
#define _GNU_SOURCE	/* memmem */
#include "config.h"

#include "fuzz.h"
#include "buf.h"
#include "req.h"
#include "jsonw.h"
#include "app.h"

static const char *const ctypes[] = {
	NULL,
	"application/json",
	"application/json; charset=utf-8",
	"APPLICATION/JSON",
	"application/merge-patch+json",
	" application/ld+json ; q=1",
	"text/plain",
	"application/x-www-form-urlencoded",
	"application/+json",
	"application/jsonx",
	"application",
	"",
	"multipart/form-data; boundary=x",
	"application/vnd.api+JSON;",
	"\tapplication/json\t",
};
#define JSON_INVALID "{\"detail\":[{\"type\":\"json_invalid\""

static const size_t limits[] = { 0, 1, 2, 5, 1000 };

static size_t
nchars(const char *s, size_t n)
{
	size_t	 i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

static void
check_checker(const char *s, size_t n)
{
	size_t		 pos = (size_t)-1;
	const char	*msg = NULL;
	int		 py, strict;

	if (!req_utf8_valid(s, n))
		return;			/* its contract: valid UTF-8 */
	py = jsonw_py_check(s, n, &pos, &msg);
	strict = fz_strict_json(s, n);
	if (!py) {
		CHECK(msg != NULL);
		CHECK(pos <= nchars(s, n));
	}
	if (strict && !py)
		CHECK(strcmp(msg, "Maximum nesting depth exceeded") == 0);
	if (py && !strict)
		CHECK(memmem(s, n, "NaN", 3) != NULL ||
		    memmem(s, n, "Infinity", 8) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*ct, *body, *nl;
	char			*ctbuf = NULL, *bodycopy;
	size_t			 len, max_ids, i, off = 0, pos;
	int			 have_body, sel, isjson, utf8, py;
	const char		*msg;
	struct jsonw_ids	 ids;
	struct buf		 err;
	enum app_err		 rc;

	if (size < 2)
		return 0;
	sel = data[0] & 0x0F;
	have_body = (data[0] & 0x10) == 0;
	max_ids = limits[data[1] % NELEM(limits)];
	body = (const char *)data + 2;
	len = size - 2;
	if (sel == 15) {
		nl = memchr(body, '\n', len);
		off = nl ? (size_t)(nl - body) : len;
		ctbuf = fz_strndup((const uint8_t *)body, off);
		ct = ctbuf;
		if (nl != NULL)
			off++;
		body += off;
		len -= off;
	} else
		ct = ctypes[sel % NELEM(ctypes)];

	/* An exact-size copy: reading past the end is an ASan report. */
	bodycopy = malloc(len ? len : 1);
	CHECK(bodycopy != NULL);
	if (len > 0)
		memcpy(bodycopy, body, len);
	body = bodycopy;

	check_checker(body, len);

	isjson = ct != NULL && jsonw_is_json_type(ct);
	utf8 = req_utf8_valid(body, len);
	buf_init(&err);
	rc = jsonw_parse_ids(body, len, have_body, ct, max_ids, &ids, &err);
	CHECK(rc == APP_OK || rc == APP_INVALID || rc == APP_BADREQ ||
	    rc == APP_TOOBIG);
	CHECK((rc == APP_BADREQ) == (have_body && len > 0 && !utf8));

	py = 0;
	if (have_body && len > 0 && utf8 && isjson) {
		const char	*b = body;
		size_t		 bl = len;

		if (bl >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) {
			b += 3;
			bl -= 3;
		}
		py = jsonw_py_check(b, bl, &pos, &msg);
		if (!py) {
			CHECK(rc == APP_INVALID);
			CHECK(strncmp(err.p, JSON_INVALID, strlen(JSON_INVALID)) == 0);
		}
	}
	switch (rc) {
	case APP_INVALID:
		CHECK(err.p != NULL && !err.oom);
		CHECK(strncmp(err.p, "{\"detail\":[{\"type\":\"", 20) == 0);
		CHECK(fz_strict_json(err.p, err.len));
		CHECK(req_utf8_valid(err.p, err.len));
		if (py)
			CHECK(strncmp(err.p, JSON_INVALID, strlen(JSON_INVALID)) != 0);
		CHECK(ids.ids == NULL && ids.n == 0);
		break;
	case APP_OK:
		CHECK(have_body && len > 0 && isjson && py);
		CHECK(ids.n <= max_ids);
		for (i = 0; i < ids.n; i++) {
			CHECK(ids.ids[i].p != NULL);
			CHECK(ids.ids[i].p[ids.ids[i].len] == '\0');
			CHECK(req_utf8_valid(ids.ids[i].p, ids.ids[i].len));
		}
		break;
	case APP_TOOBIG:
		CHECK(py && max_ids < 1000000);
		CHECK(ids.ids == NULL && ids.n == 0);
		break;
	default:
		CHECK(ids.ids == NULL && ids.n == 0);
		break;
	}
	jsonw_ids_free(&ids);
	buf_free(&err);
	free(bodycopy);
	free(ctbuf);
	return 0;
}
