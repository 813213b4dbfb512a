/*
 * fuzz_route.c: routing of raw request paths, the way serve.c does it:
 * req_split_prefix (with and without a configured base_path),
 * req_pct_decode of the rest, route_match, and route_strip_slashes for
 * the Location of a 307.
 *
 * Input: byte 0 picks the method, byte 1 the base_path; the rest is the
 * raw path (a C string, as REQUEST_URI is).
 *
 * Invariants checked (abort on violation):
 *  - the prefix is a prefix: within the path, and (without base_path)
 *    followed by an "/api" segment;
 *  - decoding writes within a buffer of exactly the raw length;
 *  - FOUND: the route's method is the request's, its pattern matches the
 *    path by an independent matcher, no earlier route matches both, and
 *    the {} parameter is a non-empty '/'-free slice of the decoded path;
 *  - METHOD: some route matches the path, none with this method, and the
 *    Allow route is the first path match;
 *  - NOTFOUND/REDIRECT: no route matches the path at all; REDIRECT only
 *    for a path ending in '/' whose stripped form matches a route;
 *  - route_strip_slashes never grows the path and leaves no trailing
 *    '/' or "%2F";
 *  - the parameter goes through req_str_set into valid UTF-8, and the
 *    404 body naming it (jsonw_detail) is strict JSON.
 */
#include "config.h"

#include "fuzz.h"
#include "buf.h"
#include "jsonw.h"
#include "req.h"
#include "route.h"

static const char *const methods[] = {
	"GET", "POST", "DELETE", "PUT", "HEAD", "PATCH", "OPTIONS", "get", ""
};
static const char *const bases[] = {
	NULL, "", "/taskgate", "/taskgate/", "/a/api", "/", "/api"
};

/* Independent pattern matcher: "{}" is one non-empty segment. */
static int
ref_match(const char *pat, const char *p, size_t n)
{
	size_t	 i = 0, j = 0, pl = strlen(pat), st;

	while (j < pl) {
		if (pat[j] == '{') {
			st = i;
			while (i < n && p[i] != '/')
				i++;
			if (i == st)
				return 0;
			j += 2;
		} else {
			if (i >= n || p[i] != pat[j])
				return 0;
			i++;
			j++;
		}
	}
	return i == n;
}

static const struct route *
ref_first(const char *p, size_t n, const char *method, int need_method)
{
	size_t	 i;

	for (i = 0; i < route_count; i++)
		if (ref_match(route_table[i].pattern, p, n) &&
		    (!need_method || strcmp(route_table[i].method, method) == 0))
			return &route_table[i];
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*method, *base;
	char			*path, *raw, *dec;
	size_t			 pfx = 0, plen, rlen, dlen, n, i;
	struct route_result	 rr;
	struct str		 param;

	if (size < 2)
		return 0;
	method = methods[data[0] % NELEM(methods)];
	base = bases[data[1] % NELEM(bases)];
	path = fz_strndup(data + 2, size - 2);
	plen = strlen(path);

	if (req_split_prefix(path, base, &pfx)) {
		CHECK(pfx <= plen);
		if (base == NULL || *base == '\0')
			CHECK(strncmp(path + pfx, "/api", 4) == 0 &&
			    (path[pfx + 4] == '/' || path[pfx + 4] == '\0'));
		else
			CHECK(path[pfx] == '/' || path[pfx] == '\0');
	} else
		pfx = 0;
	raw = path + pfx;
	rlen = plen - pfx;

	/* Exactly rlen bytes: an overrun is an ASan report. */
	dec = malloc(rlen ? rlen : 1);
	CHECK(dec != NULL);
	dlen = req_pct_decode(dec, raw, rlen, 0);
	CHECK(dlen <= rlen);

	route_match(method, dec, dlen, &rr);
	CHECK(rr.kind < ROUTE__MAX);
	switch (rr.kind) {
	case ROUTE_FOUND:
		CHECK(rr.route != NULL);
		CHECK(strcmp(rr.route->method, method) == 0);
		CHECK(ref_match(rr.route->pattern, dec, dlen));
		CHECK(rr.route == ref_first(dec, dlen, method, 1));
		if (strstr(rr.route->pattern, "{}") != NULL) {
			CHECK(rr.param != NULL && rr.paramlen > 0);
			CHECK(rr.param >= dec &&
			    rr.param + rr.paramlen <= dec + dlen);
			CHECK(memchr(rr.param, '/', rr.paramlen) == NULL);
			if (req_str_set(&param, rr.param, rr.paramlen)) {
				struct buf	 d;

				CHECK(req_utf8_valid(param.p, param.len));
				CHECK(param.p[param.len] == '\0');
				buf_init(&d);
				jsonw_detail(&d, "Task '", &param, "' not found");
				CHECK(!d.oom && fz_strict_json(d.p, d.len));
				CHECK(req_utf8_valid(d.p, d.len));
				buf_free(&d);
				req_str_free(&param);
			}
		} else
			CHECK(rr.param == NULL);
		break;
	case ROUTE_METHOD:
		CHECK(rr.route != NULL);
		CHECK(ref_first(dec, dlen, method, 1) == NULL);
		CHECK(rr.route == ref_first(dec, dlen, method, 0));
		break;
	case ROUTE_REDIRECT:
		CHECK(dlen > 1 && dec[dlen - 1] == '/');
		for (n = dlen; n > 0 && dec[n - 1] == '/'; n--)
			continue;
		CHECK(ref_first(dec, n, method, 0) != NULL);
		/* FALLTHROUGH */
	case ROUTE_NOTFOUND:
		CHECK(ref_first(dec, dlen, method, 0) == NULL);
		break;
	default:
		CHECK(0);
	}

	n = route_strip_slashes(raw, rlen);
	CHECK(n <= rlen);
	CHECK(n == 0 || raw[n - 1] != '/');
	CHECK(n < 3 || !(raw[n - 3] == '%' && raw[n - 2] == '2' &&
	    (raw[n - 1] == 'F' || raw[n - 1] == 'f')));
	/* Stripping is idempotent. */
	CHECK(route_strip_slashes(raw, n) == n);
	for (i = n; i < rlen; i++)
		CHECK(raw[i] == '/' || raw[i] == '%' || raw[i] == '2' ||
		    raw[i] == 'F' || raw[i] == 'f');

	free(dec);
	free(path);
	return 0;
}
