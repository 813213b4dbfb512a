/*
 * unit-auth.c: networks, bearer parsing, constant-time comparison and
 * the access decision of src/auth.c.
 */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "auth.h"
#include "cfg.h"
#include "req.h"

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
	auth_free(&A);
	return done_testing();
}
