/*
 * jsonw_py.c: the Python-grammar JSON scanner (pj_*) behind every body and
 * JSON query parameter, and the json-c tree it builds (written by json-c).
 *
 * Why a parser of our own instead of json_tokener (with a Python pass
 * only on failure): FastAPI reports invalid JSON with Python's message
 * and character offset ("Expecting ',' delimiter" at 17), and the
 * tokener's grammar and values are not Python's.  json-c 0.16's strict
 * tokener (JSON_TOKENER_STRICT, tried on each case) accepts what Python
 * refuses (a raw control character inside a string), cuts a key at "\u0000"
 * ({"a\u0000b":1} becomes {"a":1}: another key), turns a lone surrogate
 * into U+FFFD without a trace (such a value must match nothing), does
 * not keep a 30-digit integer's digits for an echo, and nests 32 deep by
 * default.  So every body would need this scan anyway to be judged as
 * Python judges it, and the tree the tokener built would then be wrong
 * in those cases: the scan builds the tree itself, in one pass.
 *
 * A bulk body of ids is walked in place, with no tree (jsonw_body.c):
 * a json-c tree of a 1 MiB body of [{},{},...] took 315 MB (issue 13,
 * t/084-body-memory.t).  The scanner builds a tree (build) only for what
 * needs the values: a by-filter bulk body of at most 64 KiB
 * (jsonw_filter.c) and the metadata= query parameter.
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

#include "jsonw_int.h"

#define MAX_DEPTH 512

static json_object_to_json_string_fn ser_nul_key_object;

/* ------------------------------------------------- Python-style parsing */

size_t
jsonw_pj_ws(const struct pj *p, size_t i)
{
	while (i < p->n && (p->s[i] == ' ' || p->s[i] == '\t' ||
	    p->s[i] == '\n' || p->s[i] == '\r'))
		i++;
	return i;
}

static int
pj_fail(struct pj *p, const char *msg, size_t pos)
{
	p->errmsg = msg;
	p->errpos = pos;
	return 0;
}

/*
 * Checks the string whose opening quote is at s[q]; sets *end past the
 * closing quote.  Mirrors CPython's scanstring_unicode (strict).
 */
int
jsonw_pj_string_check(struct pj *p, size_t q, size_t *end)
{
	size_t		 i = q + 1, e;
	unsigned char	 c;

	for (;;) {
		while (i < p->n) {
			c = (unsigned char)p->s[i];
			if (c == '"' || c == '\\')
				break;
			if (c <= 0x1f)
				return pj_fail(p, "Invalid control character at", i);
			i++;
		}
		if (i >= p->n)
			return pj_fail(p, "Unterminated string starting at", q);
		if (p->s[i] == '"') {
			*end = i + 1;
			return 1;
		}
		i++;			/* past the backslash */
		if (i == p->n)
			return pj_fail(p, "Unterminated string starting at", q);
		c = (unsigned char)p->s[i];
		if (c != 'u') {
			if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return pj_fail(p, "Invalid \\escape", i - 1);
			i++;
			continue;
		}
		i++;
		e = i + 4;
		if (e >= p->n)
			return pj_fail(p, "Invalid \\uXXXX escape", i - 1);
		if (jsonw_hex4(p->s + i) < 0)
			return pj_fail(p, "Invalid \\uXXXX escape", i - 1);
		i = e;
	}
}

static json_object *
pj_string(struct pj *p, size_t *idx, int *err)
{
	size_t		 end;
	struct buf	 b;
	json_object	*o;
	int		 lone = 0;

	if (!jsonw_pj_string_check(p, *idx, &end)) {
		*err = 1;
		return NULL;
	}
	o = NULL;
	if (p->build) {
		buf_init(&b);
		buf_add(&b, "", 0);
		jsonw_unescape(&b, p->s + *idx + 1, end - *idx - 2, &lone);
		if (b.oom || (o = json_object_new_string_len(b.p, (int)b.len)) == NULL) {
			buf_free(&b);
			*err = 2;
			return NULL;
		}
		/* Lone surrogates cannot be stored: mark the string. */
		if (lone)
			json_object_set_userdata(o, (void *)1, NULL);
		buf_free(&b);
	}
	*idx = end;
	return o;
}

/* Match Python's NUMBER_RE; returns the end or 0 for no match. */
size_t
jsonw_pj_number(const struct pj *p, size_t i, int *isint)
{
	size_t	 j;

	*isint = 1;
	if (i < p->n && p->s[i] == '-')
		i++;
	if (i >= p->n)
		return 0;
	if (p->s[i] >= '1' && p->s[i] <= '9')
		while (i < p->n && isdigit((unsigned char)p->s[i]))
			i++;
	else if (p->s[i] == '0')
		i++;
	else
		return 0;
	if (i + 1 < p->n && p->s[i] == '.' && isdigit((unsigned char)p->s[i + 1])) {
		*isint = 0;
		for (i += 2; i < p->n && isdigit((unsigned char)p->s[i]); i++)
			continue;
	}
	if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		j = i + 1;
		if (j < p->n && (p->s[j] == '+' || p->s[j] == '-'))
			j++;
		if (j < p->n && isdigit((unsigned char)p->s[j])) {
			*isint = 0;
			while (j < p->n && isdigit((unsigned char)p->s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

int
jsonw_lit(const struct pj *p, size_t i, const char *w)
{
	size_t	 l = strlen(w);

	return p->n - i >= l && memcmp(p->s + i, w, l) == 0;
}

/*
 * A number or literal from its text; json-c serializes the text given,
 * so echoes keep it.  NaN and Infinity (which Python accepts) echo as
 * null, since JSON has no spelling for them.
 */
static json_object *
pj_number_obj(const char *s, size_t n, int isint)
{
	char		*t;
	json_object	*o;
	char		*ep;
	long long	 v;

	if ((t = strndup(s, n)) == NULL)
		return NULL;
	if (isint) {
		errno = 0;
		v = strtoll(t, &ep, 10);
		if (errno == 0 && *ep == '\0') {
			free(t);
			return json_object_new_int64(v);
		}
	}
	o = json_object_new_double_s(strtod(t, NULL), t);
	free(t);
	return o;
}

/*
 * json-c keys are C strings, and a key may hold "\u0000": cut at the
 * NUL it would become another key ("task_ids\u0000x" taken for
 * "task_ids").  Such a key is stored with each NUL as 0xFF, a byte no
 * key can otherwise hold (the body is valid UTF-8, unescaping makes
 * UTF-8), and jsonw_put_key() turns it back when the object is written
 * (ser_nul_key_object()).  Returns json-c's result.
 */
static int
add_member(json_object *o, json_object *k, json_object *v)
{
	const char	*ks = json_object_get_string(k);
	size_t		 kl = (size_t)json_object_get_string_len(k), i;
	char		*t;
	int		 rc;

	if (memchr(ks, '\0', kl) == NULL)
		return json_object_object_add(o, ks, v);
	if ((t = malloc(kl + 1)) == NULL)
		return -1;
	for (i = 0; i < kl; i++)
		t[i] = ks[i] == '\0' ? (char)0xFF : ks[i];
	t[kl] = '\0';
	rc = json_object_object_add(o, t, v);
	free(t);
	json_object_set_serializer(o, ser_nul_key_object, NULL, NULL);
	return rc;
}

/*
 * An object member's key at s[*idx] and its ':' (*idx past them and the
 * blanks after), the key in *k when building.  Returns 1, or 0 with
 * *err set (1: JSON error, p->errmsg set; 2: no memory).
 */
static int
pj_member_key(struct pj *p, size_t *idx, json_object **k, int *err)
{
	size_t	 i = *idx;
	int	 e2 = 0;

	if (i >= p->n || p->s[i] != '"') {
		*err = 1;
		return pj_fail(p, "Expecting property name enclosed in double "
		    "quotes", i);
	}
	*k = pj_string(p, &i, &e2);
	if (e2) {
		*err = e2;
		return 0;
	}
	i = jsonw_pj_ws(p, i);
	if (i >= p->n || p->s[i] != ':') {
		json_object_put(*k);
		*k = NULL;
		*err = 1;
		return pj_fail(p, "Expecting ':' delimiter", i);
	}
	*idx = jsonw_pj_ws(p, i + 1);
	return 1;
}

/*
 * When building, v added to o (under key k for an object); k is
 * dropped.  Returns 1, or 0 for no memory (v dropped too).
 */
static int
pj_add(struct pj *p, json_object *o, json_object *k, json_object *v, int obj)
{
	int	 rc;

	if (!p->build)
		return 1;
	rc = obj ? add_member(o, k, v) : json_object_array_add(o, v);
	json_object_put(k);
	if (rc != 0) {
		json_object_put(v);
		return 0;
	}
	return 1;
}

/*
 * An object (obj set) or array at s[*idx], with Python's messages for
 * each way it can be malformed; builds it when p->build.  The object and
 * the array share one loop (they differ only in the key part), as in
 * Python's scanner.
 */
static json_object *
pj_container(struct pj *p, size_t *idx, int *err, int obj)
{
	size_t		 i = *idx + 1;
	json_object	*o = NULL, *v, *k;
	int		 e2;
	char		 close = obj ? '}' : ']';

	if (++p->depth > MAX_DEPTH) {
		pj_fail(p, "Maximum nesting depth exceeded", *idx);
		*err = 1;
		return NULL;
	}
	if (p->build && (o = obj ? json_object_new_object() :
	    json_object_new_array()) == NULL) {
		*err = 2;
		return NULL;
	}
	i = jsonw_pj_ws(p, i);
	if (i < p->n && p->s[i] == close) {
		i++;
		goto done;
	}
	for (;;) {
		k = NULL;
		if (obj && !pj_member_key(p, &i, &k, err))
			goto fail;
		e2 = 0;
		v = jsonw_pj_value(p, &i, &e2);
		if (e2) {
			json_object_put(k);
			*err = e2;
			goto fail;
		}
		if (!pj_add(p, o, k, v, obj)) {
			*err = 2;
			goto fail;
		}
		i = jsonw_pj_ws(p, i);
		if (i < p->n && p->s[i] == close) {
			i++;
			break;
		}
		if (i >= p->n || p->s[i] != ',') {
			pj_fail(p, "Expecting ',' delimiter", i);
			*err = 1;
			goto fail;
		}
		i = jsonw_pj_ws(p, i + 1);
	}
done:
	p->depth--;
	*idx = i;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/*
 * One JSON value at s[*idx]; *err is 1 for a JSON error (p->errmsg set),
 * 2 for allocation failure.  Python's StopIteration is "Expecting value".
 */
json_object *
jsonw_pj_value(struct pj *p, size_t *idx, int *err)
{
	size_t		 i = *idx, e;
	int		 isint;
	json_object	*o = NULL;

	if (i >= p->n) {
		pj_fail(p, "Expecting value", i);
		*err = 1;
		return NULL;
	}
	switch (p->s[i]) {
	case '"':
		return pj_string(p, idx, err);
	case '{':
		return pj_container(p, idx, err, 1);
	case '[':
		return pj_container(p, idx, err, 0);
	}
	if (jsonw_lit(p, i, "null")) {
		*idx = i + 4;
		return NULL;
	}
	if (jsonw_lit(p, i, "true") || jsonw_lit(p, i, "false")) {
		e = p->s[i] == 't' ? 4 : 5;
		if (p->build && (o = json_object_new_boolean(e == 4)) == NULL)
			*err = 2;
		*idx = i + e;
		return o;
	}
	if (jsonw_lit(p, i, "NaN") || jsonw_lit(p, i, "Infinity") ||
	    jsonw_lit(p, i, "-Infinity")) {
		e = p->s[i] == 'N' ? 3 : p->s[i] == 'I' ? 8 : 9;
		if (p->build && (o = json_object_new_double_s(NAN, "null")) == NULL)
			*err = 2;
		*idx = i + e;
		return o;
	}
	if ((e = jsonw_pj_number(p, i, &isint)) == 0) {
		pj_fail(p, "Expecting value", i);
		*err = 1;
		return NULL;
	}
	if (p->build && (o = pj_number_obj(p->s + i, e - i, isint)) == NULL)
		*err = 2;
	*idx = e;
	return o;
}

/* Character (code point) offset of byte offset pos in valid UTF-8. */
size_t
jsonw_char_offset(const char *s, size_t pos)
{
	size_t	 i, c = 0;

	for (i = 0; i < pos; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

json_object *
jsonw_pj_parse(struct pj *p, int *err)
{
	size_t		 i;
	json_object	*o;

	i = jsonw_pj_ws(p, 0);
	o = jsonw_pj_value(p, &i, err);
	if (*err)
		return NULL;
	i = jsonw_pj_ws(p, i);
	if (i != p->n) {
		json_object_put(o);
		pj_fail(p, "Extra data", i);
		*err = 1;
		return NULL;
	}
	return o;
}

/*
 * Checks s[0..n) (valid UTF-8) with Python's json grammar.  Returns 1
 * when it is JSON; else 0 with *pos (a character offset) and *msg.
 */
int
jsonw_py_check(const char *s, size_t n, size_t *pos, const char **msg)
{
	struct pj	 p;
	int		 err = 0;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.n = n;
	jsonw_pj_parse(&p, &err);
	if (err == 0)
		return 1;
	*pos = jsonw_char_offset(s, p.errpos);
	*msg = p.errmsg;
	return 0;
}

/* Writes an object key stored by add_member(). */
void
jsonw_put_key(struct buf *b, const char *key)
{
	struct buf	 t;
	const char	*q;

	if (strchr(key, 0xFF) == NULL) {
		jsonw_strz(b, key);
		return;
	}
	buf_init(&t);
	for (q = key; *q != '\0'; q++)
		buf_addc(&t, *q == (char)0xFF ? '\0' : *q);
	if (t.oom)
		b->oom = 1;
	else
		jsonw_str(b, t.p, t.len);
	buf_free(&t);
}

/*
 * json-c serializer of an object with a key that holds NUL (stored by
 * add_member() with 0xFF for each NUL): json-c would write the 0xFF
 * bytes.  The keys are written by jsonw_put_key(), the values by
 * json-c.
 */
static int
ser_nul_key_object(json_object *o, struct printbuf *pb, int level, int flags)
{
	struct buf	 k;
	const char	*v;
	size_t		 n;
	int		 first = 1, rc = 0;

	(void)level;
	buf_init(&k);
	buf_addc(&k, '{');
	json_object_object_foreach(o, key, val) {
		if (!first)
			buf_addc(&k, ',');
		first = 0;
		jsonw_put_key(&k, key);
		buf_addc(&k, ':');
		if ((v = json_object_to_json_string_length(val, flags, &n)) ==
		    NULL) {
			rc = -1;
			break;
		}
		buf_add(&k, v, n);
	}
	buf_addc(&k, '}');
	if (k.oom || rc < 0 || printbuf_memappend(pb, k.p, (int)k.len) < 0)
		rc = -1;
	buf_free(&k);
	return rc;
}

/* Writes a json-c value (NULL is null) compactly: json-c's text. */
void
jsonw_put_value(struct buf *b, json_object *o)
{
	(void)jsonw_put(b, o);
}

/* 1 when o holds nothing jsonb can store (NaN, NUL, lone surrogates). */
int
jsonw_unstorable(json_object *o)
{
	size_t	 i, n;

	switch (json_object_get_type(o)) {
	case json_type_double:
		/* NaN and Infinity were given the text null (pj_value). */
		return strcmp(json_object_to_json_string(o), "null") == 0;
	case json_type_string:
		return json_object_get_userdata(o) != NULL ||
		    memchr(json_object_get_string(o), '\0',
		    (size_t)json_object_get_string_len(o)) != NULL;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (jsonw_unstorable(json_object_array_get_idx(o, i)))
				return 1;
		return 0;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			if (strchr(key, 0xFF) != NULL || jsonw_unstorable(val))
				return 1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/*
 * A JSON query parameter (the metadata filter of SPEC 4.1): checks
 * s[0..n) with Python's grammar and writes it compactly to out, for a
 * jsonb parameter.  Returns 1 when it is JSON (*nomatch set when it
 * holds what jsonb cannot store, so it contains nothing stored), else
 * 0 with the 422 message in msg ("Invalid JSON: <reason> at character
 * <offset>").  APP_NOMEM shows as out->oom.
 */
int
jsonw_query_json(const char *s, size_t n, struct buf *out, int *nomatch,
    struct buf *msg)
{
	struct pj	 p;
	json_object	*root;
	int		 perr = 0;

	*nomatch = 0;
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.n = n;
	p.build = 1;
	root = jsonw_pj_parse(&p, &perr);
	if (perr == 2) {
		out->oom = 1;
		return 1;
	}
	if (perr == 1) {
		buf_printf(msg, "Invalid JSON: %s at character %zu", p.errmsg,
		    jsonw_char_offset(s, p.errpos));
		return 0;
	}
	*nomatch = jsonw_unstorable(root);
	jsonw_put_value(out, root);
	json_object_put(root);
	return 1;
}
