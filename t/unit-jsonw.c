/* unit-jsonw.c: JSON output, times, stored JSON and bulk bodies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "buf.h"
#include "req.h"
#include "rows.h"
#include "jsonw.h"

static struct buf b;

static const char *
str(const char *s, size_t n)
{
	buf_reset(&b);
	jsonw_str(&b, s, n);
	return b.p;
}

static const char *
tm(long long us)
{
	buf_reset(&b);
	jsonw_time(&b, us);
	return b.p;
}

static const char *
tmpg(long long us)
{
	buf_reset(&b);
	jsonw_time_pg(&b, us);
	return b.p;
}

static const char *
stored(const char *s)
{
	buf_reset(&b);
	if (!jsonw_stored(&b, s, strlen(s)))
		return "(invalid)";
	return b.p;
}

/*
 * Python's json.dumps(s, ensure_ascii=False) of one byte, written from
 * its documented rule (json/encoder.py: ESCAPE and ESCAPE_DCT), not
 * from json-c: the oracle the json-c escaping is held to.
 */
static const char *
py_escape_byte(unsigned c, char *o)
{
	switch (c) {
	case '"':  return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case '\b': return "\\b";
	case '\f': return "\\f";
	}
	if (c < 0x20)
		snprintf(o, 8, "\\u%04x", c);
	else {
		o[0] = (char)c;
		o[1] = '\0';
	}
	return o;
}

/* Every byte value escaped alone and amid text, against the oracle. */
static void
escaping_is_pythons(void)
{
	char		 in[3], want[16], one[8];
	unsigned	 c;
	int		 bad = 0;

	for (c = 0; c < 256; c++) {
		in[0] = 'x';
		in[1] = (char)c;
		in[2] = '/';
		snprintf(want, sizeof(want), "\"x%s/\"", py_escape_byte(c, one));
		if (strcmp(str(in, 3), want) != 0) {
			printf("# byte 0x%02x: got %s, want %s\n", c, b.p, want);
			bad++;
		}
	}
	ok(bad == 0, "json-c escapes each of the 256 bytes as Python does");
}

/* The task and shard templates, set row after row. */
static void
templates(void)
{
	struct task_row	 t;
	struct shard_row sh;
	static const char *const names[] = { "pending", "running" };
	int64_t		 n[2] = { 3, 4 };
	struct jsonw_counts *c;
	struct rtext	 ids[2] = { { "a/b", 3 }, { "c\"", 2 } };
	struct jsonw_idlist ok1 = { ids, 2 }, none = { NULL, 0 };
	struct jsonw_list_end e;

	memset(&t, 0, sizeof(t));
	t.task_id.p = "a-long-task-id-with-text";
	t.task_id.len = strlen(t.task_id.p);
	t.backend.p = "b";
	t.backend.len = 1;
	t.status.p = "success";
	t.status.len = 7;
	t.shots = 1000;
	t.submit_time = 0;
	t.update_time = 1;
	t.has_result = 1;
	t.metadata.p = "{\"k\": [1, 2.50]}";
	t.metadata.len = strlen(t.metadata.p);
	buf_reset(&b);
	jsonw_task(&b, &t, 0);
	is_str(b.p, "{\"task_id\":\"a-long-task-id-with-text\",\"backend\":\"b\","
	    "\"status\":\"success\",\"shots\":1000,\"submit_time\":"
	    "\"2000-01-01T00:00:00+00:00\",\"update_time\":"
	    "\"2000-01-01T00:00:00.000001+00:00\",\"has_result\":true,"
	    "\"metadata\":{\"k\":[1,2.50]},\"archived_at\":null}", "summary task");
	t.task_id.p = "x";
	t.task_id.len = 1;
	t.metadata.p = NULL;
	t.archived = 1;
	t.archived_at = INT64_MAX;
	t.result.p = "[1, \"\\u00e9\"]";
	t.result.len = strlen(t.result.p);
	buf_reset(&b);
	jsonw_task(&b, &t, 1);
	jsonw_sep(&b, 1);
	t.archived = 0;
	t.result.p = NULL;
	jsonw_task(&b, &t, 1);
	is_str(b.p, "{\"task_id\":\"x\",\"backend\":\"b\",\"status\":\"success\","
	    "\"shots\":1000,\"submit_time\":\"2000-01-01T00:00:00+00:00\","
	    "\"update_time\":\"2000-01-01T00:00:00.000001+00:00\",\"result\":"
	    "[1,\"\xc3\xa9\"],\"metadata\":{},\"archived_at\":\"infinity\"},"
	    "{\"task_id\":\"x\",\"backend\":\"b\",\"status\":\"success\","
	    "\"shots\":1000,\"submit_time\":\"2000-01-01T00:00:00+00:00\","
	    "\"update_time\":\"2000-01-01T00:00:00.000001+00:00\",\"result\":"
	    "null,\"metadata\":{},\"archived_at\":null}",
	    "detail tasks: shorter id, archived_at set then null again");

	/* A text that grew, then "" (json-c 0.16 would lose its buffer). */
	t.task_id.p = "";
	t.task_id.len = 0;
	t.backend.p = NULL;
	buf_reset(&b);
	jsonw_task(&b, &t, 0);
	ok(strncmp(b.p, "{\"task_id\":\"\",\"backend\":\"\",", 27) == 0,
	    "empty texts after longer ones");
	is_str(str("", 0), "\"\"", "empty string");

	memset(&sh, 0, sizeof(sh));
	sh.uniqc_task_id.p = "u";
	sh.uniqc_task_id.len = 1;
	sh.error_message.p = "e\n";
	sh.error_message.len = 2;
	sh.shard_index = 2;
	buf_reset(&b);
	jsonw_shards_open(&b, "u", 1, 1);
	jsonw_shard(&b, &sh);
	jsonw_shards_close(&b);
	is_str(b.p, "{\"task_id\":\"u\",\"shard_count\":1,\"shards\":["
	    "{\"uniqc_task_id\":\"u\",\"shard_index\":2,\"platform_task_id\":null,"
	    "\"backend\":null,\"circuit_count\":0,\"sub_index_offset\":0,"
	    "\"status\":null,\"error_message\":\"e\\n\",\"submit_time\":"
	    "\"2000-01-01T00:00:00+00:00\",\"update_time\":"
	    "\"2000-01-01T00:00:00+00:00\"}]}", "shards, null texts");

	buf_reset(&b);
	jsonw_list_open(&b);
	memset(&e, 0, sizeof(e));
	e.total_null = e.archived = e.cursor = 1;
	e.count = 7;
	e.limit = -1;
	jsonw_list_close(&b, &e);
	is_str(b.p, "{\"tasks\":[],\"total\":null,\"count\":7,\"limit\":-1,"
	    "\"offset\":0,\"next_cursor\":null}", "empty list, all members");

	buf_reset(&b);
	c = jsonw_counts_new(names, 2, n, 1);
	jsonw_counts_backend(c, "be\"x", 4, n);
	jsonw_counts_end(&b, c);
	is_str(b.p, "{\"pending\":3,\"running\":4,\"total\":7,\"by_backend\":"
	    "{\"be\\\"x\":{\"pending\":3,\"running\":4,\"total\":7}}}", "counts");

	buf_reset(&b);
	jsonw_moved(&b, "archived", &ok1, &none, &ok1);
	is_str(b.p, "{\"archived\":[\"a/b\",\"c\\\"\"],\"missing\":[],\"count\":2,"
	    "\"conflicts\":[\"a/b\",\"c\\\"\"]}", "bulk answer");
	buf_reset(&b);
	jsonw_lookup_open(&b);
	jsonw_lookup_key(&b, 0, "a\0b", 3);
	jsonw_null(&b);
	jsonw_lookup_close(&b);
	is_str(b.p, "{\"tasks\":{\"a\\u0000b\":null}}", "lookup key with NUL");
}

static char pyerr[128];

static const char *
py(const char *s)
{
	size_t		 pos;
	const char	*msg;

	if (jsonw_py_check(s, strlen(s), &pos, &msg))
		return "ok";
	snprintf(pyerr, sizeof(pyerr), "%s@%zu", msg, pos);
	return pyerr;
}

static struct buf err;
static struct jsonw_ids ids;

static enum app_err
ids_of(const char *body, const char *ctype)
{
	return jsonw_parse_ids(body, strlen(body), 1, ctype, 1000, &ids, &err);
}

int
main(void)
{
	enum app_err	 rc;

	buf_init(&b);
	buf_init(&err);
	is_str(str("a\"b\\c/d", 7), "\"a\\\"b\\\\c/d\"", "quote, backslash; / kept");
	is_str(str("\n\r\t\b\f\x01\x1f\x7f", 8),
	    "\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"", "control characters");
	is_str(str("\xc3\xa9\xe2\x80\xa8", 5), "\"\xc3\xa9\xe2\x80\xa8\"",
	    "non-ASCII as UTF-8");
	is_str(str("a\0b", 3), "\"a\\u0000b\"", "NUL escaped");
	is_str(str("\xff\xc3(", 3), "\"\xff\xc3(\"", "bytes not UTF-8 copied");
	escaping_is_pythons();
	templates();

	is_str(tm(0), "\"1970-01-01T00:00:00+00:00\"", "epoch, no fraction");
	is_str(tm(1795884283120500LL), "\"2026-11-28T16:44:43.120500+00:00\"",
	    "SPEC example with fraction");
	is_str(tm(1795884283000000LL), "\"2026-11-28T16:44:43+00:00\"",
	    "SPEC example without fraction");
	is_str(tm(1LL), "\"1970-01-01T00:00:00.000001+00:00\"", "one microsecond");
	is_str(tm(-1LL), "\"1969-12-31T23:59:59.999999+00:00\"", "before epoch");
	is_str(tm(951782400000000LL), "\"2000-02-29T00:00:00+00:00\"", "leap day");
	is_str(tm(-62135596800000000LL), "\"0001-01-01T00:00:00+00:00\"",
	    "year 1 padded");
	is_str(tm(253402300799999999LL), "\"9999-12-31T23:59:59.999999+00:00\"",
	    "year 9999");
	is_str(tm(INT64_MAX), "\"infinity\"", "infinity");

	is_str(stored("{\"b\": 1, \"a\": [0.1, 1e5, 1.50]}"),
	    "{\"b\":1,\"a\":[0.1,1e5,1.50]}", "minified, order and numbers kept");
	is_str(stored(" \"x y\" "), "\"x y\"", "spaces inside strings kept");
	is_str(stored("{\"k\":\"\\u00e9\\/\\n\"}"), "{\"k\":\"\xc3\xa9/\\n\"}",
	    "escapes re-encoded as Python does");
	is_str(stored("\"\\ud83d\\ude00\""), "\"\xf0\x9f\x98\x80\"",
	    "surrogate pair");
	is_str(stored("null"), "null", "JSON null");
	is_str(stored("12345678901234567890123"), "12345678901234567890123",
	    "big integer text");

	is_str(py("{}"), "ok", "{}");
	is_str(py(" [1, 2.5e3, \"x\", null, true, NaN, -Infinity] "), "ok",
	    "Python extensions accepted");
	is_str(py(""), "Expecting value@0", "empty");
	is_str(py("{"), "Expecting property name enclosed in double quotes@1",
	    "open brace");
	is_str(py("{\"a\""), "Expecting ':' delimiter@4", "missing colon");
	is_str(py("{\"a\":"), "Expecting value@5", "missing value");
	is_str(py("{\"a\":1"), "Expecting ',' delimiter@6", "missing comma");
	is_str(py("{\"a\":1,"), "Expecting property name enclosed in double "
	    "quotes@7", "trailing comma object");
	is_str(py("[1,]"), "Expecting value@3", "trailing comma array");
	is_str(py("{\"a\":1}x"), "Extra data@7", "extra data");
	is_str(py("{} {}"), "Extra data@3", "extra data after space");
	is_str(py("\"abc"), "Unterminated string starting at@0", "unterminated");
	is_str(py("[\"a\x01\"]"), "Invalid control character at@3", "control char");
	is_str(py("\"\\x\""), "Invalid \\escape@1", "bad escape");
	is_str(py("\"\xc3\xa9\xc3\xa9\" x"), "Extra data@5",
	    "offsets count characters, not bytes");
	is_str(py("01"), "Extra data@1", "leading zero");
	is_str(py("-"), "Expecting value@0", "lone minus");
	is_str(py("{'a':1}"), "Expecting property name enclosed in double "
	    "quotes@1", "single quotes");

	rc = ids_of("{\"task_ids\":[\"a\",\"b\",\"a\"],\"x\":1}",
	    "application/json");
	ok(rc == APP_OK && ids.n == 3 && strcmp(ids.ids[2].p, "a") == 0,
	    "ids in order, extra keys ignored");
	jsonw_ids_free(&ids);
	rc = ids_of("{\"task_ids\":[\"a\"]}", NULL);
	is_str(err.p, "{\"detail\":[{\"type\":\"model_attributes_type\",\"loc\":"
	    "[\"body\"],\"msg\":\"Input should be a valid dictionary or object "
	    "to extract fields from\",\"input\":\"{\\\"task_ids\\\":[\\\"a\\\"]}\"}]}",
	    "no content type at all is not JSON (FastAPI >= 0.132)");
	rc = ids_of("{}", "application/json");
	ok(rc == APP_OK && ids.n == 0, "{} defaults to []");
	rc = ids_of("null", "application/json");
	ok(rc == APP_INVALID, "null is missing");
	is_str(err.p, "{\"detail\":[{\"type\":\"missing\",\"loc\":[\"body\"],"
	    "\"msg\":\"Field required\",\"input\":null}]}", "missing body");
	rc = ids_of("[1]", "application/vnd.x+json; charset=utf-8");
	is_str(err.p, "{\"detail\":[{\"type\":\"model_attributes_type\",\"loc\":"
	    "[\"body\"],\"msg\":\"Input should be a valid dictionary or object "
	    "to extract fields from\",\"input\":[1]}]}", "not an object");
	rc = ids_of("{\"task_ids\":[]}", "text/plain");
	is_str(err.p, "{\"detail\":[{\"type\":\"model_attributes_type\",\"loc\":"
	    "[\"body\"],\"msg\":\"Input should be a valid dictionary or object "
	    "to extract fields from\",\"input\":\"{\\\"task_ids\\\":[]}\"}]}",
	    "not a JSON content type: raw text");
	rc = ids_of("{\"task_ids\":\"abc\"}", "application/json");
	is_str(err.p, "{\"detail\":[{\"type\":\"list_type\",\"loc\":[\"body\","
	    "\"task_ids\"],\"msg\":\"Input should be a valid list\",\"input\":"
	    "\"abc\"}]}", "not a list");
	rc = ids_of("{\"task_ids\":[\"a\",1,{\"k\":[2.50]},123456789012345678901234]}",
	    "application/json");
	is_str(err.p, "{\"detail\":[{\"type\":\"string_type\",\"loc\":[\"body\","
	    "\"task_ids\",1],\"msg\":\"Input should be a valid string\","
	    "\"input\":1},{\"type\":\"string_type\",\"loc\":[\"body\",\"task_ids\","
	    "2],\"msg\":\"Input should be a valid string\",\"input\":{\"k\":"
	    "[2.50]}},{\"type\":\"string_type\",\"loc\":[\"body\",\"task_ids\",3],"
	    "\"msg\":\"Input should be a valid string\",\"input\":"
	    "123456789012345678901234}]}", "every bad item, values as written");
	rc = ids_of("{\"task_ids\": [\"a\" \"b\"]}", "application/json");
	is_str(err.p, "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\","
	    "18],\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":"
	    "\"Expecting ',' delimiter\"}}]}", "invalid JSON with offset");
	rc = ids_of("{\"task_ids\":[\"\xff\"]}", "application/json");
	ok(rc == APP_BADREQ, "invalid UTF-8 body is 400");
	rc = ids_of("{\"task_ids\":[\"\\u0000\",\"\\ud800\",\"ok\"]}",
	    "application/json");
	ok(rc == APP_OK && ids.n == 3 && ids.ids[0].bad && ids.ids[1].bad &&
	    !ids.ids[2].bad, "NUL and lone surrogate ids cannot match");
	jsonw_ids_free(&ids);
	rc = ids_of("\xEF\xBB\xBF{\"task_ids\":[\"z\"]}", "application/json");
	ok(rc == APP_OK && ids.n == 1, "UTF-8 BOM skipped");
	jsonw_ids_free(&ids);
	rc = jsonw_parse_ids("", 0, 0, "application/json", 10, &ids, &err);
	ok(rc == APP_INVALID && strstr(err.p, "\"missing\"") != NULL,
	    "no body is missing");
	ok(jsonw_is_json_type("Application/JSON ; charset=x"), "case-blind type");
	ok(!jsonw_is_json_type("application/jsonx"), "jsonx is not json");
	ok(!jsonw_is_json_type("text/json"), "text/json is not json");
	ok(jsonw_is_json_type("application/problem+json"), "+json");
	{
		char	 deep[2000];

		memset(deep, '[', sizeof(deep) - 1);
		deep[sizeof(deep) - 1] = '\0';
		ok(strncmp(py(deep), "Maximum nesting depth exceeded", 30) == 0,
		    "deep nesting is bounded");
	}
	/* PostgreSQL's epoch; its whole range without int64 overflow (the
	 * latest dates used to overflow on the way to unix time: UBSan). */
	is_str(tmpg(0), "\"2000-01-01T00:00:00+00:00\"", "pg epoch");
	is_str(tmpg(-946684800000000LL), "\"1970-01-01T00:00:00+00:00\"",
	    "pg: unix epoch");
	is_str(tmpg(9223371331199999999LL),
	    "\"294276-12-31T23:59:59.999999+00:00\"", "pg: latest timestamptz");
	is_str(tmpg(-211813488000000000LL), "\"-4713-11-24T00:00:00+00:00\"",
	    "pg: earliest timestamptz (4714 BC)");
	is_str(tmpg(INT64_MAX), "\"infinity\"", "pg: infinity");
	/* A key with a NUL is not "task_ids" (json-c keys are C strings:
	 * it used to be cut at the NUL and taken for it). */
	rc = ids_of("{\"task_ids\\u0000x\":[\"victim\"]}", "application/json");
	ok(rc == APP_OK && ids.n == 0, "task_ids\\u0000x is another key");
	jsonw_ids_free(&ids);
	rc = ids_of("{\"task_ids\":{\"a\\u0000b\":1,\"a\":2,\"a\\u0000b\":3}}",
	    "application/json");
	is_str(err.p, "{\"detail\":[{\"type\":\"list_type\",\"loc\":[\"body\","
	    "\"task_ids\"],\"msg\":\"Input should be a valid list\",\"input\":"
	    "{\"a\\u0000b\":3,\"a\":2}}]}", "NUL in a key echoes as \\u0000");
	/* The keys of a metadata filter a sql/008 index may answer. */
	{
		struct buf	 k;
		char		 m[700];
		int		 n;

		buf_init(&k);
		n = snprintf(m, sizeof(m), "%s", "{\"a\":\"x\",\"b\":[1],"
		    "\"c\":{},\"d\":1.5,\"e\":7,\"f\":null,\"g\":false}");
		n = jsonw_meta_keys(m, (size_t)n, &k);
		ok(n == 7 && k.len == 8 && memcmp(k.p, "a\0e\0f\0g\0", 8) == 0,
		    "meta keys: scalars but floats, in order; all pairs counted");
		ok(jsonw_meta_keys("[\"a\"]", 5, &k) == -1 && k.len == 0,
		    "meta keys: an array filter has none");
		ok(jsonw_meta_keys("{}", 2, &k) == 0 && k.len == 0,
		    "meta keys: {} has none");
		ok(jsonw_meta_keys("{\"a\":", 5, &k) == -1,
		    "meta keys: not JSON: none");
		/* 256 bytes once decoded (escapes count as what they stand for). */
		n = snprintf(m, sizeof(m), "{\"s\":\"\\u00e9%254s\"}", "");
		ok(jsonw_meta_keys(m, (size_t)n, &k) == 1 && k.len == 2,
		    "meta keys: a string of 256 bytes");
		n = snprintf(m, sizeof(m), "{\"s\":\"\\u00e9%255s\"}", "");
		ok(jsonw_meta_keys(m, (size_t)n, &k) == 1 && k.len == 0,
		    "meta keys: 257 bytes: too long");
		n = snprintf(m, sizeof(m), "{\"%128s\":1,\"%129s\":2}", "", "");
		ok(jsonw_meta_keys(m, (size_t)n, &k) == 2 && k.len == 129,
		    "meta keys: a key of 128 bytes, not of 129");
		buf_free(&k);
	}
	buf_free(&b);
	buf_free(&err);
	return done_testing();
}
