/*
 * unit-auth.c: networks, bearer parsing, constant-time comparison and
 * the access decision of src/auth.c, trusted proxies' forwarded host,
 * and the CORS answers of auth_cors().
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "auth.h"
#include "cfg.h"
#include "req.h"
#include "resp.h"

static struct auth	 A;
static struct req	 R;
static struct auth_verdict V;

static int
setup(const char *conf)
{
	struct cfg	 c;
	char		 err[256];
	int		 okk;

	auth_free(&A);
	cfg_defaults(&c);
	okk = cfg_parse(&c, conf, "t", err, sizeof(err)) &&
	    auth_init(&A, &c, err, sizeof(err));
	if (!okk)
		printf("# %s\n", err);
	cfg_free(&c);
	return okk;
}

static enum app_err
chk(const char *addr, const char *authz, const char *user,
    const char *origin, int write)
{
	memset(&R, 0, sizeof(R));
	R.remote_addr = (char *)addr;
	R.authorization = (char *)authz;
	R.remote_user = (char *)user;
	R.origin = (char *)origin;
	R.scheme = (char *)"http";
	R.host = (char *)"api.example:8080";
	auth_check(&A, &R, write, &V);
	return V.rc;
}

/* A write as a browser behind a proxy sends it (fwd: X-Forwarded-*). */
static enum app_err
chk_fwd(const char *addr, const char *origin, const char *fhost,
    const char *fproto)
{
	memset(&R, 0, sizeof(R));
	R.remote_addr = (char *)addr;
	R.origin = (char *)origin;
	R.scheme = (char *)"http";
	R.host = (char *)"127.0.0.1:9000";
	R.fwd_host = (char *)fhost;
	R.fwd_proto = (char *)fproto;
	auth_check(&A, &R, 1, &V);
	return V.rc;
}

static int
nowrite(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	(void)s;
	(void)n;
	return 0;
}

static struct resp	 W;

/* auth_cors() for one request; W holds what it prepared. */
static int
cors(const char *method, const char *origin, const char *acrm,
    const char *acrh, const char *pna)
{
	resp_free(&W);
	resp_init(&W, nowrite, NULL, 1 << 20);
	memset(&R, 0, sizeof(R));
	R.method = (char *)method;
	R.origin = (char *)origin;
	R.acr_method = (char *)acrm;
	R.acr_headers = (char *)acrh;
	R.acr_pna = (char *)pna;
	return auth_cors(&A, &R, &W);
}

static const char *
hdrs(void)
{
	return W.hdrs.p != NULL ? W.hdrs.p : "";
}

static const char *
body(void)
{
	return W.body.p != NULL ? W.body.p : "";
}

#define PRE_HEAD	"Vary: Origin\r\n" \
	"Access-Control-Allow-Methods: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT\r\n" \
	"Access-Control-Max-Age: 600\r\n" \
	"Access-Control-Allow-Credentials: true\r\n"

#define TOKR "read-token-0123456789"
#define TOKW "write-token-0123456789"

int
main(void)
{
	struct auth_net	 n[2];
	size_t		 l;
	const char	*t;

	ok(auth_parse_net("10.1.0.0/16", &n[0]) && n[0].bits == 16, "v4 net");
	ok(auth_parse_net("fd00::/8", &n[1]) && n[1].bits == 8, "v6 net");
	ok(auth_addr_in(n, 2, "10.1.255.3"), "inside v4");
	ok(!auth_addr_in(n, 2, "10.2.0.1"), "outside v4");
	ok(auth_addr_in(n, 2, "fdab::1"), "inside v6");
	ok(auth_addr_in(n, 2, "::ffff:10.1.0.9"), "v4-mapped counts as v4");
	ok(!auth_addr_in(n, 2, "garbage") && !auth_addr_in(n, 2, NULL),
	    "no address, no match");
	ok(!auth_parse_net("10.0.0.0/33", &n[0]) &&
	    !auth_parse_net("10.0.0.0/", &n[0]) &&
	    !auth_parse_net("x", &n[0]) &&
	    !auth_parse_net("10.0.0.0/-1", &n[0]), "bad networks refused");
	ok(auth_parse_net("::1", &n[0]) && n[0].bits == 128, "bare v6");
	ok(auth_parse_net("1.2.3.4/30", &n[0]) && auth_addr_in(n, 1, "1.2.3.7") &&
	    !auth_addr_in(n, 1, "1.2.3.8"), "odd prefix length");

	ok(auth_ct_eq("abc", 3, "abc", 3) && !auth_ct_eq("abd", 3, "abc", 3) &&
	    !auth_ct_eq("ab", 2, "abc", 3) && !auth_ct_eq("abcd", 4, "abc", 3) &&
	    !auth_ct_eq("", 0, "abc", 3), "constant-time compare");
	t = auth_bearer("Bearer  tok ", &l);
	ok(t != NULL && l == 3 && strncmp(t, "tok", 3) == 0, "bearer token");
	t = auth_bearer("bearer x", &l);
	ok(t != NULL && l == 1, "scheme is case-insensitive");
	ok(auth_bearer("Basic dXNlcjpw", &l) == NULL, "Basic is not ours");
	ok(auth_bearer("Bearerx", &l) == NULL, "scheme must end");
	t = auth_bearer("Bearer", &l);
	ok(t != NULL && l == 0, "empty token is present, and invalid");

	/* Defaults: loopback writes, everyone reads. */
	ok(setup(""), "defaults");
	ok(chk("127.0.0.1", NULL, NULL, NULL, 1) == APP_OK, "loopback writes");
	ok(chk("127.9.9.9", NULL, NULL, NULL, 1) == APP_OK, "all of 127/8");
	ok(chk("::1", NULL, NULL, NULL, 1) == APP_OK, "::1 writes");
	ok(chk("::ffff:127.0.0.1", NULL, NULL, NULL, 1) == APP_OK, "mapped loopback");
	ok(chk("192.0.2.1", NULL, NULL, NULL, 1) == APP_FORBIDDEN &&
	    V.challenge == NULL, "others: 403, no challenge without tokens");
	ok(chk("192.0.2.1", NULL, NULL, NULL, 0) == APP_OK, "others read");
	ok(chk(NULL, NULL, NULL, NULL, 1) == APP_FORBIDDEN, "no address: 403");
	ok(chk("192.0.2.1", NULL, "alice", NULL, 1) == APP_FORBIDDEN,
	    "REMOTE_USER ignored unless trusted");
	ok(chk("127.0.0.1", "Bearer nope-nope-nope-nope", NULL, NULL, 0) ==
	    APP_UNAUTH && strstr(V.challenge, "invalid_token") != NULL,
	    "a wrong token is 401 even from loopback");
	ok(chk("127.0.0.1", "Basic dXNlcjpw", NULL, NULL, 1) == APP_OK,
	    "Basic credentials are not ours");
	/* Cross-site writes on ambient rights. */
	ok(chk("127.0.0.1", NULL, NULL, "http://evil.example", 1) ==
	    APP_FORBIDDEN, "foreign Origin cannot use loopback rights");
	ok(chk("127.0.0.1", NULL, NULL, "http://api.example:8080", 1) ==
	    APP_OK, "same origin can");
	ok(chk("127.0.0.1", NULL, NULL, "https://API.example:8080", 1) ==
	    APP_OK, "same host through a TLS proxy can");
	ok(chk("127.0.0.1", NULL, NULL, "http://api.example:8081", 1) ==
	    APP_FORBIDDEN, "another port cannot");
	ok(chk("127.0.0.1", NULL, NULL, "http://api.example:8080.evil", 1) ==
	    APP_FORBIDDEN, "a longer host cannot");
	ok(chk("127.0.0.1", NULL, NULL, "null", 1) == APP_FORBIDDEN,
	    "Origin: null cannot");
	ok(chk("127.0.0.1", NULL, NULL, "http://evil.example", 0) == APP_OK,
	    "foreign Origin may read");

	/* Tokens. */
	ok(!setup("write_tokens = short\n"), "short tokens refused");
	ok(setup("read_tokens = " TOKR "\nwrite_tokens = x-" TOKW ", " TOKW "\n"),
	    "tokens");
	ok(chk("192.0.2.1", NULL, NULL, NULL, 1) == APP_UNAUTH &&
	    strcmp(V.challenge, "Bearer realm=\"taskgate\"") == 0,
	    "no token, tokens configured: 401 challenge");
	ok(chk("192.0.2.1", "Bearer " TOKW, NULL, NULL, 1) == APP_OK,
	    "second write token");
	ok(chk("192.0.2.1", "Bearer " TOKR, NULL, NULL, 0) == APP_OK,
	    "read token reads");
	ok(chk("192.0.2.1", "Bearer " TOKR, NULL, NULL, 1) == APP_FORBIDDEN &&
	    strstr(V.challenge, "insufficient_scope") != NULL,
	    "read token cannot write: 403 insufficient_scope");
	ok(chk("192.0.2.1", "Bearer " TOKW "x", NULL, NULL, 1) == APP_UNAUTH,
	    "token with a suffix is wrong");
	ok(chk("192.0.2.1", "Bearer " TOKW, NULL, "http://evil.example", 1) ==
	    APP_OK, "a token is no ambient right: any origin");
	ok(chk("192.0.2.1", "Bearer ", NULL, NULL, 0) == APP_UNAUTH,
	    "empty token");

	/* Reads need a token too. */
	ok(setup("auth_reads = on\nread_tokens = " TOKR "\nwrite_networks = none\n"),
	    "auth_reads");
	ok(chk("127.0.0.1", NULL, NULL, NULL, 0) == APP_UNAUTH,
	    "write_networks none: loopback needs a token");
	ok(chk("10.0.0.1", "Bearer " TOKR, NULL, NULL, 0) == APP_OK, "token reads");

	/* REMOTE_USER. */
	ok(setup("trust_remote_user = on\nwrite_users = alice\n"
	    "write_networks = 10.0.0.0/8\ncors_origins = https://ui.example *\n"),
	    "remote user");
	ok(chk("192.0.2.1", NULL, "alice", NULL, 1) == APP_OK, "alice writes");
	ok(chk("192.0.2.1", NULL, "bob", NULL, 1) == APP_FORBIDDEN,
	    "bob only reads");
	ok(chk("192.0.2.1", NULL, "bob", NULL, 0) == APP_OK, "bob reads");
	ok(chk("10.0.0.1", NULL, "bob", NULL, 1) == APP_OK,
	    "network still grants");
	ok(chk("127.0.0.1", NULL, NULL, NULL, 1) == APP_FORBIDDEN,
	    "loopback no longer listed");
	ok(chk("192.0.2.1", NULL, "alice", "https://ui.example", 1) == APP_OK,
	    "listed origin may use ambient rights");
	ok(chk("192.0.2.1", NULL, "alice", "https://other.example", 1) ==
	    APP_FORBIDDEN, "\"*\" is not enough for ambient writes");
	ok(auth_origin_allowed(&A, "https://other.example"), "* allows any origin");
	ok(!auth_origin_allowed(&A, "https://x\r\nSet-Cookie: a"),
	    "origins with control bytes never echoed");
	ok(setup("cors_origins = https://ui.example\n") &&
	    auth_origin_allowed(&A, "https://UI.example") &&
	    !auth_origin_allowed(&A, "https://ui.example.evil") &&
	    !auth_origin_allowed(&A, NULL), "exact origins");
	ok(setup("cors_origins = https://ui.example/\n") &&
	    auth_origin_allowed(&A, "https://ui.example"), "trailing slash ignored");
	ok(!setup("write_networks = 10.0.0.0/8 nonsense\n"), "bad network");
	ok(!setup("trusted_proxies = 127.0.0.1/40\n"), "bad trusted proxy");

	/* Defaults: the original's three Vite dev-server origins. */
	ok(setup(""), "defaults");
	ok(auth_origin_allowed(&A, "http://localhost:5173") &&
	    auth_origin_allowed(&A, "http://127.0.0.1:5173") &&
	    auth_origin_allowed(&A, "http://[::1]:5173") &&
	    !auth_origin_allowed(&A, "http://localhost:5174") &&
	    !auth_origin_allowed(&A, "https://localhost:5173"),
	    "default cors_origins");
	ok(chk("127.0.0.1", NULL, NULL, "http://localhost:5173", 1) == APP_OK,
	    "Vite dev server (changeOrigin: Host is the API's) may write");
	ok(chk("127.0.0.1", NULL, NULL, "http://localhost:5174", 1) ==
	    APP_FORBIDDEN, "another origin may not");
	ok(chk("192.0.2.1", NULL, NULL, "http://localhost:5173", 1) ==
	    APP_FORBIDDEN, "a listed origin does not replace write_networks");

	/* Preflight from an allowed origin: Starlette's answer. */
	ok(cors("OPTIONS", "http://localhost:5173", "DELETE",
	    "content-type,x-foo", NULL) == 1 && W.status == 200 &&
	    strcmp(body(), "OK") == 0 &&
	    strcmp(W.ctype, "text/plain; charset=utf-8") == 0 &&
	    strcmp(hdrs(), PRE_HEAD
	    "Access-Control-Allow-Origin: http://localhost:5173\r\n"
	    "Access-Control-Allow-Headers: content-type,x-foo\r\n") == 0,
	    "preflight: 200 OK, headers in Starlette's order");
	ok(cors("OPTIONS", "http://evil.example", "GET", NULL, NULL) == 1 &&
	    W.status == 400 && strcmp(body(), "Disallowed CORS origin") == 0 &&
	    strcmp(hdrs(), PRE_HEAD) == 0,
	    "preflight from another origin: 400, no Allow-Origin");
	ok(cors("OPTIONS", "http://evil.example", "get", NULL, "true") == 1 &&
	    W.status == 400 && strcmp(body(),
	    "Disallowed CORS origin, method, private-network") == 0,
	    "every failure named, in Starlette's order");
	ok(cors("OPTIONS", "http://localhost:5173", "PATCH", "a\001b", NULL) ==
	    1 && W.status == 400 && strcmp(body(), "Disallowed CORS headers") ==
	    0 && strstr(hdrs(), "Allow-Headers") == NULL,
	    "requested headers with control bytes are not echoed");
	ok(cors("OPTIONS", "", "GET", NULL, NULL) == 1 && W.status == 400,
	    "empty Origin: a disallowed preflight");
	ok(cors("OPTIONS", "http://localhost:5173", NULL, NULL, NULL) == 0 &&
	    strcmp(hdrs(), "Access-Control-Allow-Credentials: true\r\n"
	    "Access-Control-Allow-Origin: http://localhost:5173\r\n"
	    "Vary: Origin\r\n") == 0,
	    "OPTIONS without Access-Control-Request-Method: routed, simple headers");
	ok(cors("GET", "http://evil.example", NULL, NULL, NULL) == 0 &&
	    W.hdrs.len == 0, "simple request from another origin: no header");
	ok(cors("OPTIONS", NULL, "GET", NULL, NULL) == 0 && W.hdrs.len == 0,
	    "no Origin: not CORS");
	ok(setup("cors_origins = none\n") && cors("OPTIONS",
	    "http://localhost:5173", "GET", NULL, NULL) == 0 &&
	    W.hdrs.len == 0 && !auth_origin_allowed(&A, "http://localhost:5173"),
	    "cors_origins = none: off");
	ok(chk("127.0.0.1", NULL, NULL, "http://localhost:5173", 1) ==
	    APP_FORBIDDEN, "... and the dev origin is foreign again");
	ok(setup("cors_origins = *\ncors_max_age = 5\n") && cors("OPTIONS",
	    "http://any.example", "GET", NULL, NULL) == 1 && W.status == 200 &&
	    strstr(hdrs(), "Credentials") == NULL &&
	    strstr(hdrs(), "Access-Control-Max-Age: 5\r\n") != NULL &&
	    cors("GET", "http://any.example", NULL, NULL, NULL) == 0 &&
	    strcmp(hdrs(), "Access-Control-Allow-Origin: http://any.example\r\n"
	    "Vary: Origin\r\n") == 0, "\"*\": echoed without credentials");

	/* Behind a proxy that rewrites Host. */
	ok(setup("trusted_proxies = 127.0.0.1/32\ncors_origins = none\n"),
	    "trusted proxy");
	ok(chk_fwd("127.0.0.1", "https://tasks.example", "tasks.example",
	    "https") == APP_OK, "forwarded host and proto of the page: write");
	ok(chk_fwd("127.0.0.1", "https://tasks.example", "tasks.example:443",
	    NULL) == APP_OK && chk_fwd("127.0.0.1", "https://tasks.example",
	    "x, tasks.example:443 ", NULL) == APP_OK &&
	    chk_fwd("127.0.0.1", "https://tasks.example", "tasks.example:80",
	    NULL) == APP_FORBIDDEN, "default port written out by the proxy");
	ok(chk_fwd("127.0.0.1", "http://tasks.example", "tasks.example",
	    "https") == APP_FORBIDDEN, "scheme differs from X-Forwarded-Proto");
	ok(chk_fwd("127.0.0.1", "https://evil.example", "tasks.example",
	    "https") == APP_FORBIDDEN, "foreign origin still refused");
	ok(chk_fwd("127.0.0.1", "https://tasks.example",
	    "evil.example, tasks.example", NULL) == APP_OK &&
	    chk_fwd("127.0.0.1", "https://evil.example",
	    "evil.example, tasks.example", NULL) == APP_FORBIDDEN,
	    "the proxy's own (last) value counts, not what a client prepended");
	ok(chk_fwd("127.0.0.1", "http://127.0.0.1:9000", "tasks.example",
	    NULL) == APP_FORBIDDEN, "the rewritten Host no longer counts");
	ok(chk_fwd("127.0.0.1", "http://127.0.0.1:9000", NULL, NULL) == APP_OK,
	    "no X-Forwarded-Host: Host counts");
	ok(setup("trusted_proxies = 10.9.9.9\nwrite_networks = 127.0.0.1 "
	    "10.0.0.0/8\ncors_origins = none\n") &&
	    chk_fwd("127.0.0.1", "https://tasks.example", "tasks.example",
	    "https") == APP_FORBIDDEN &&
	    chk_fwd("10.9.9.9", "https://tasks.example", "tasks.example",
	    "https") == APP_OK,
	    "X-Forwarded-Host from an untrusted peer is ignored");
	resp_free(&W);
	auth_free(&A);
	return done_testing();
}
