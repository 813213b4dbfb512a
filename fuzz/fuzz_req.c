/*
 * fuzz_req.c: a whole request as main.c and serve.c build it: req_init() from CGI
 * variables (REQUEST_URI or SCRIPT_NAME + PATH_INFO, QUERY_STRING,
 * HTTP_HOST / SERVER_NAME / SERVER_PORT, HTTPS, CONTENT_TYPE,
 * CONTENT_LENGTH) with a configured base_path or none, route_match() on
 * the decoded path, then req_body() from a reader that returns the body
 * in fuzzed chunk sizes, under a fuzzed limit.
 *
 * Input: fields separated by NUL bytes, in the order of vars[] below,
 * then the body (the rest, NULs and all).  A field that is "-" is unset.
 *
 * Invariants checked (abort on violation):
 *  - req_init succeeds (no allocation fails here) and everything it
 *    fills is a NUL-terminated string; prefix + rawpath is the raw path;
 *    host holds only host characters; every decoded query pair is valid
 *    UTF-8;
 *  - req_body: APP_OK only with a body of at most the limit and, when
 *    CONTENT_LENGTH was given, exactly that long and equal to the input
 *    bytes; APP_TOOBIG only over the limit; APP_BADREQ only for an
 *    unparseable CONTENT_LENGTH or fewer bytes than it declared;
 *  - req_free leaves nothing behind (LeakSanitizer).
 */
#include "config.h"

#include "fuzz.h"
#include "req.h"
#include "route.h"

static const char *const vars[] = {
	"REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO",
	"QUERY_STRING", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "HTTPS",
	"REQUEST_SCHEME", "CONTENT_TYPE", "CONTENT_LENGTH", "BASE_PATH",
	"LIMIT", "CHUNK",
};
#define NVARS	(sizeof(vars) / sizeof(vars[0]))

struct env {
	const char	*v[NVARS];
};

static const char *
get(void *ctx, const char *name)
{
	struct env	*e = ctx;
	size_t		 i;

	for (i = 0; i < NVARS; i++)
		if (strcmp(vars[i], name) == 0)
			return e->v[i];
	return NULL;
}

struct rd {
	const char	*p;
	size_t		 n, off, chunk;
};

static long
rd(void *ctx, char *buf, size_t n)
{
	struct rd	*r = ctx;
	size_t		 k = r->n - r->off;

	if (k > n)
		k = n;
	if (k > r->chunk)
		k = r->chunk;
	memcpy(buf, r->p + r->off, k);
	r->off += k;
	return (long)k;
}

static int
host_chars(const char *h)
{
	for (; *h != '\0'; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		    (*h >= '0' && *h <= '9') || strchr(".-_:[]", *h) != NULL))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct env		 e;
	struct rd		 r;
	struct req		 q;
	struct route_result	 rr;
	char			*copy, *p, *end, *lim_end;
	size_t			 i, limit, len;
	enum app_err		 rc;
	const char		*base;

	copy = malloc(size + 1);
	CHECK(copy != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	end = copy + size;
	for (i = 0; i < NVARS; i++) {
		e.v[i] = p < end ? p : NULL;
		if (e.v[i] != NULL && strcmp(e.v[i], "-") == 0)
			e.v[i] = NULL;
		p = p < end ? p + strlen(p) + 1 : end;
	}
	base = e.v[12];
	limit = e.v[13] ? (size_t)strtoul(e.v[13], &lim_end, 10) % 100000 : 1000;
	r.p = p < end ? p : end;
	r.n = (size_t)(end - r.p);
	r.off = 0;
	r.chunk = e.v[14] ? 1 + (size_t)strtoul(e.v[14], &lim_end, 10) % 64 : 7;

	rc = req_init(&q, get, &e, rd, &r, base);
	CHECK(rc == APP_OK);
	CHECK(q.method && q.uri_path && q.prefix && q.rawpath && q.dpath &&
	    q.query && q.scheme && q.host);
	len = strlen(q.prefix);
	CHECK(strncmp(q.uri_path, q.prefix, len) == 0 &&
	    strcmp(q.uri_path + len, q.rawpath) == 0);
	CHECK(q.dpath[q.dpathlen] == '\0' && q.dpathlen <= strlen(q.rawpath));
	CHECK(host_chars(q.host));
	CHECK(strcmp(q.scheme, "http") == 0 || strcmp(q.scheme, "https") == 0);
	CHECK(q.content_length >= -2);
	for (i = 0; i < q.nq; i++)
		CHECK(req_utf8_valid(q.q[i].key.p, q.q[i].key.len) &&
		    req_utf8_valid(q.q[i].val.p, q.q[i].val.len));

	route_match(q.method, q.dpath, q.dpathlen, &rr);
	CHECK(rr.kind < ROUTE__MAX);

	rc = req_body(&q, limit);
	switch (rc) {
	case APP_OK:
		CHECK(q.body != NULL && q.body[q.bodylen] == '\0');
		CHECK(q.bodylen <= limit);
		if (q.content_length >= 0)
			CHECK(q.bodylen == (size_t)q.content_length);
		CHECK(q.bodylen <= r.n &&
		    memcmp(q.body, r.p, q.bodylen) == 0);
		/* A second call is a no-op. */
		CHECK(req_body(&q, limit) == APP_OK);
		break;
	case APP_TOOBIG:
		CHECK((q.content_length >= 0 &&
		    (unsigned long long)q.content_length > limit) || r.n > limit);
		CHECK(q.body == NULL);
		break;
	case APP_BADREQ:
		CHECK(q.content_length == -2 ||
		    (q.content_length >= 0 && (size_t)q.content_length > r.n));
		CHECK(q.body == NULL);
		break;
	default:
		CHECK(0);
	}
	req_free(&q);
	free(copy);
	return 0;
}
