/*
 * auth_cors.c: CORS, the rules of Starlette's CORSMiddleware as the
 * uniqc original configures it (allow_origins = cors_origins,
 * allow_credentials, allow_methods and allow_headers "*"): which
 * origins get CORS headers (auth_origin_allowed), the headers of an
 * ordinary request, and the whole answer of a preflight (auth_cors).
 * The origin lists come from auth_init() (auth.c); auth.c's check of
 * writes with ambient authority asks auth_origin_listed() too.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "buf.h"
#include "req.h"
#include "resp.h"

/* Starlette's ALL_METHODS, what allow_methods=["*"] stands for. */
static const char *const cors_methods[] = {
	"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"
};
#define CORS_METHODS	"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"

/*
 * Whether origin is listed in cors_origins by name (case-insensitive;
 * "*" does not count: auth.c's write check relies on that).
 */
int
auth_origin_listed(const struct auth *a, const char *origin)
{
	size_t	 i;

	for (i = 0; i < a->origins.n; i++)
		if (strcasecmp(a->origins.v[i], origin) == 0)
			return 1;
	return 0;
}

/* Whether a browser page of this origin gets CORS headers. */
int
auth_origin_allowed(const struct auth *a, const char *origin)
{
	const char	*p;

	if (origin == NULL || *origin == '\0')
		return 0;
	/* It is echoed in a header: printable ASCII, no blanks, only. */
	for (p = origin; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return a->any_origin || auth_origin_listed(a, origin);
}

/* Whether s may be echoed in a header: printable ASCII and tabs. */
static int
header_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '\t' && ((unsigned char)*s < 0x20 ||
		    (unsigned char)*s >= 0x7f))
			return 0;
	return 1;
}

/* Access-Control-Request-Method is one of Starlette's ALL_METHODS. */
static int
cors_method(const char *m)
{
	size_t	 i;

	for (i = 0; i < NELEM(cors_methods); i++)
		if (strcmp(cors_methods[i], m) == 0)
			return 1;
	return 0;
}

static void
add_failure(struct buf *b, const char *what)
{
	buf_adds(b, b->len == 0 ? "Disallowed CORS " : ", ");
	buf_adds(b, what);
}

/*
 * CORS for r, as Starlette's CORSMiddleware with allow_credentials and
 * allow_methods = allow_headers = "*" (uniqc's gateway), when
 * cors_origins is not "none".  A preflight (OPTIONS with Origin and
 * Access-Control-Request-Method, whatever the path) is answered whole:
 * 200 "OK", or 400 "Disallowed CORS origin[, method][, headers]
 * [, private-network]", text/plain, and the function returns 1.  Any
 * other request from an allowed origin gets Access-Control-Allow-Origin
 * (and -Credentials for an origin listed by name, not for "*") and
 * Vary: Origin; the function returns 0 and the request is routed.  An
 * origin that is not allowed gets no CORS header (Starlette would still
 * add a lone, meaningless Access-Control-Allow-Credentials).
 */
int
auth_cors(const struct auth *a, const struct req *r, struct resp *w)
{
	struct buf	 fail;
	char		 age[24];
	int		 allowed, named;

	if (a->origins.n == 0 || r->origin == NULL)
		return 0;
	allowed = auth_origin_allowed(a, r->origin);
	named = allowed && auth_origin_listed(a, r->origin);
	if (strcmp(r->method, "OPTIONS") != 0 || r->acr_method == NULL) {
		if (allowed) {
			if (named)
				resp_header(w, "Access-Control-Allow-Credentials",
				    "true");
			resp_header(w, "Access-Control-Allow-Origin",
			    r->origin);
			resp_header(w, "Vary", "Origin");
		}
		return 0;
	}
	/* Starlette's header order: its preflight_headers, then these. */
	buf_init(&fail);
	resp_header(w, "Vary", "Origin");
	resp_header(w, "Access-Control-Allow-Methods", CORS_METHODS);
	snprintf(age, sizeof(age), "%ld", a->cors_max_age);
	resp_header(w, "Access-Control-Max-Age", age);
	if (!a->any_origin || named)
		resp_header(w, "Access-Control-Allow-Credentials", "true");
	if (allowed)
		resp_header(w, "Access-Control-Allow-Origin", r->origin);
	else
		add_failure(&fail, "origin");
	if (!cors_method(r->acr_method))
		add_failure(&fail, "method");
	/* allow_headers "*": whatever was asked for is echoed. */
	if (r->acr_headers != NULL) {
		if (header_safe(r->acr_headers))
			resp_header(w, "Access-Control-Allow-Headers",
			    r->acr_headers);
		else
			add_failure(&fail, "headers");
	}
	if (r->acr_pna != NULL)
		add_failure(&fail, "private-network");
	w->ctype = "text/plain; charset=utf-8";
	if (fail.len > 0) {
		w->status = 400;
		buf_add(&w->body, fail.p, fail.len);
	} else
		buf_adds(&w->body, "OK");
	if (fail.oom)
		w->body.oom = 1;
	buf_free(&fail);
	return 1;
}
