/*
 * auth.c: access control and CORS origins.
 *
 * The rules (README, "Locking it down"):
 *  - A request with "Authorization: Bearer T" is judged by T alone: a
 *    write token gives read and write, a read token read only, anything
 *    else is a 401 (even from an address that needs no token).  Other
 *    schemes (Basic, from the web server's own auth) are not ours and
 *    are ignored.
 *  - Without a token: REMOTE_USER (when trust_remote_user is on) gives
 *    write, or read only when write_users is set and does not name the
 *    user; a REMOTE_ADDR inside write_networks (default loopback, as
 *    the uniqc original only listened there) gives write; otherwise the
 *    client may read, unless auth_reads is on.
 *  - Those two grants are "ambient": a browser attaches them to any
 *    page's requests.  So a write that carries an Origin header other
 *    than the API's own host, or one listed in cors_origins, is refused (a
 *    page elsewhere cannot make a loopback browser delete tasks).  The
 *    API's own host is Host, or X-Forwarded-Host (and -Proto) when the
 *    peer is one of trusted_proxies (a proxy that rewrites Host).
 *  - CORS (auth_cors, in auth_cors.c) follows Starlette's CORSMiddleware
 *    as the uniqc original sets it up: allow_origins = cors_origins (by
 *    default its three Vite dev-server origins), allow_credentials,
 *    allow_methods and allow_headers "*".
 *  - Refusals: 401 with WWW-Authenticate: Bearer when a token would
 *    help (tokens are configured), 403 otherwise (and for a read token
 *    on a write route: insufficient_scope).
 * Tokens are compared in constant time and never copied anywhere else.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth.h"
#include "cfg.h"
#include "req.h"

#define MIN_TOKEN_LEN	16

#define CH_REQUIRED	"Bearer realm=\"taskgate\""
#define CH_INVALID	"Bearer realm=\"taskgate\", error=\"invalid_token\""
#define CH_SCOPE	"Bearer realm=\"taskgate\", error=\"insufficient_scope\""

static void
list_free(struct auth_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Splits s on blanks and commas into l.  Returns 0 on allocation
 * failure (l is then freed).
 */
static int
list_split(struct auth_list *l, const char *s)
{
	const char	*p = s;
	size_t		 len;
	char		**nv;

	l->v = NULL;
	l->n = 0;
	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		if ((len = strcspn(p, " \t,")) == 0)
			break;
		if ((nv = reallocarray(l->v, l->n + 1, sizeof(*nv))) == NULL)
			goto fail;
		l->v = nv;
		if ((l->v[l->n] = strndup(p, len)) == NULL)
			goto fail;
		l->n++;
		p += len;
	}
	return 1;
fail:
	list_free(l);
	return 0;
}

/*
 * Compares a (from the request) with the secret b in time that depends
 * only on blen.  Returns 1 when equal.
 */
int
auth_ct_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char	 d;
	size_t			 i;

	d = (unsigned char)(alen != blen);
	for (i = 0; i < blen; i++)
		d |= (unsigned char)(b[i] ^ (i < alen ? a[i] : 0));
	return d == 0;
}

/* Whether tok matches any secret of l; every secret is compared. */
static int
list_match_ct(const struct auth_list *l, const char *tok, size_t tl)
{
	size_t	 i;
	int	 hit = 0;

	for (i = 0; i < l->n; i++)
		hit |= auth_ct_eq(tok, tl, l->v[i], strlen(l->v[i]));
	return hit;
}

static int
list_has(const struct auth_list *l, const char *s)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/*
 * Parses an address into af and 16 bytes; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, what a dual-stack socket reports) counts as IPv4 and
 * a zone ("%eth0") is dropped.  Returns 0 when s is no address.
 */
static int
parse_addr(const char *s, int *af, unsigned char *out)
{
	char		 tmp[INET6_ADDRSTRLEN + 1];
	size_t		 n = strcspn(s, "%");
	unsigned char	 a6[16];
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(out, 0, 16);
	if (inet_pton(AF_INET, tmp, out) == 1) {
		*af = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, tmp, a6) != 1)
		return 0;
	if (memcmp(a6, mapped, sizeof(mapped)) == 0) {
		*af = AF_INET;
		memcpy(out, a6 + 12, 4);
	} else {
		*af = AF_INET6;
		memcpy(out, a6, 16);
	}
	return 1;
}

/* "a.b.c.d[/n]" or "v6[/n]".  Returns 0 when malformed. */
int
auth_parse_net(const char *s, struct auth_net *net)
{
	char		 tmp[INET6_ADDRSTRLEN + 8], *slash, *ep;
	long		 bits;
	int		 max;

	if (strlen(s) >= sizeof(tmp) || strchr(s, '%') != NULL)
		return 0;
	strcpy(tmp, s);
	if ((slash = strchr(tmp, '/')) != NULL)
		*slash++ = '\0';
	if (!parse_addr(tmp, &net->af, net->addr))
		return 0;
	max = net->af == AF_INET ? 32 : 128;
	/* A mapped address written as v6 keeps its v6 prefix length. */
	if (slash != NULL && net->af == AF_INET && strchr(tmp, ':') != NULL)
		return 0;
	if (slash == NULL)
		bits = max;
	else {
		if (*slash < '0' || *slash > '9')
			return 0;
		bits = strtol(slash, &ep, 10);
		if (*ep != '\0' || bits < 0 || bits > max)
			return 0;
	}
	net->bits = (int)bits;
	return 1;
}

static int
net_has(const struct auth_net *net, int af, const unsigned char *a)
{
	int	 full = net->bits / 8, rest = net->bits % 8;
	unsigned char mask;

	if (net->af != af)
		return 0;
	if (memcmp(net->addr, a, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (a[full] & mask);
}

/* Whether addr (REMOTE_ADDR text) lies in one of the n networks. */
int
auth_addr_in(const struct auth_net *nets, size_t n, const char *addr)
{
	unsigned char	 a[16];
	int		 af;
	size_t		 i;

	if (addr == NULL || !parse_addr(addr, &af, a))
		return 0;
	for (i = 0; i < n; i++)
		if (net_has(&nets[i], af, a))
			return 1;
	return 0;
}

/*
 * The token of an "Authorization: Bearer <token>" value (scheme
 * case-insensitive), borrowed from the argument, with *len set; an
 * empty token is returned as "" (it is invalid, not absent).  NULL when
 * there is no such header or it uses another scheme.
 */
const char *
auth_bearer(const char *h, size_t *len)
{
	const char	*p;
	size_t		 n;

	*len = 0;
	if (h == NULL)
		return NULL;
	h += strspn(h, " \t");
	if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t' &&
	    h[6] != '\0'))
		return NULL;
	p = h + 6;
	p += strspn(p, " \t");
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*len = n;
	return p;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	free(a->nets);
	a->nets = NULL;
	a->nnets = 0;
	free(a->proxies);
	a->proxies = NULL;
	a->nproxies = 0;
	list_free(&a->rtok);
	list_free(&a->wtok);
	list_free(&a->users);
	list_free(&a->origins);
}

/*
 * Parses the networks of config key name from s into *out (allocated,
 * *n set; "none" alone is no network).  Returns 0 with the reason in
 * err.
 */
static int
nets_parse(const char *name, const char *s, struct auth_net **out,
    size_t *n, char *err, size_t errlen)
{
	struct auth_list	 nl;
	size_t			 i;
	int			 ok = 0;

	*out = NULL;
	*n = 0;
	if (!list_split(&nl, s)) {
		snprintf(err, errlen, "out of memory");
		return 0;
	}
	if (nl.n > 0 && (*out = calloc(nl.n, sizeof(**out))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < nl.n; i++) {
		if (nl.n == 1 && strcmp(nl.v[i], "none") == 0)
			break;
		if (!auth_parse_net(nl.v[i], &(*out)[*n])) {
			snprintf(err, errlen, "%s: \"%.64s\" is not an "
			    "address or network", name, nl.v[i]);
			goto done;
		}
		(*n)++;
	}
	ok = 1;
done:
	list_free(&nl);
	return ok;
}

/*
 * Builds a from the configuration.  Returns 1, or 0 with the reason in
 * err (a malformed network or a token shorter than 16 bytes, or no
 * memory); a is then freed.  Free with auth_free().
 */
int
auth_init(struct auth *a, const struct cfg *c, char *err, size_t errlen)
{
	size_t			 i;

	memset(a, 0, sizeof(*a));
	if (!list_split(&a->rtok, c->read_tokens) ||
	    !list_split(&a->wtok, c->write_tokens) ||
	    !list_split(&a->users, c->write_users) ||
	    !list_split(&a->origins, c->cors_origins)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!nets_parse("write_networks", c->write_networks, &a->nets,
	    &a->nnets, err, errlen) ||
	    !nets_parse("trusted_proxies", c->trusted_proxies, &a->proxies,
	    &a->nproxies, err, errlen))
		goto fail;
	for (i = 0; i < a->rtok.n + a->wtok.n; i++) {
		const char *t = i < a->rtok.n ? a->rtok.v[i] :
		    a->wtok.v[i - a->rtok.n];

		/* Never echo a secret: say which list, not the value. */
		if (strlen(t) < MIN_TOKEN_LEN) {
			snprintf(err, errlen, "%s: every token must be at "
			    "least %d bytes", i < a->rtok.n ? "read_tokens" :
			    "write_tokens", MIN_TOKEN_LEN);
			goto fail;
		}
	}
	/* "none" alone: CORS off (the default lists uniqc's dev origins). */
	if (a->origins.n == 1 && strcmp(a->origins.v[0], "none") == 0)
		list_free(&a->origins);
	for (i = 0; i < a->origins.n; i++) {
		char	*o = a->origins.v[i];
		size_t	 ol = strlen(o);

		/* Browsers send no path: "https://ui.example/" means the same. */
		while (ol > 1 && o[ol - 1] == '/')
			o[--ol] = '\0';
		if (strcmp(o, "*") == 0)
			a->any_origin = 1;
	}
	a->auth_reads = (int)c->auth_reads;
	a->trust_remote_user = (int)c->trust_remote_user;
	a->cors_max_age = c->cors_max_age;
	return 1;
fail:
	auth_free(a);
	return 0;
}

/*
 * The last item of a comma-separated header value, blanks trimmed: what
 * the trusted proxy in front of us wrote (a proxy that appends keeps
 * what the client sent before it).  Sets *len, returns its start,
 * borrowed from h.
 */
static const char *
last_item(const char *h, size_t *len)
{
	const char	*p;
	size_t		 n;

	if ((p = strrchr(h, ',')) != NULL)
		h = p + 1;
	h += strspn(h, " \t");
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	*len = n;
	return h;
}

/*
 * Whether host[0..hl) names the origin's host[:port] ohost: equal, or
 * equal once the default port of the origin's scheme is dropped (a
 * proxy may write "example.org:443" where the browser omits it).
 */
static int
host_is(const char *ohost, const char *scheme, size_t sl, const char *host,
    size_t hl)
{
	size_t	 ol = strlen(ohost);
	const char *dflt = NULL;

	if (hl == ol && strncasecmp(host, ohost, hl) == 0)
		return 1;
	if (sl == 5 && strncasecmp(scheme, "https", 5) == 0)
		dflt = ":443";
	else if (sl == 4 && strncasecmp(scheme, "http", 4) == 0)
		dflt = ":80";
	return dflt != NULL && hl == ol + strlen(dflt) &&
	    strncasecmp(host, ohost, ol) == 0 &&
	    memcmp(host + ol, dflt, strlen(dflt)) == 0;
}

/*
 * Whether a write with ambient authority may come from this origin:
 * the API's own host or one listed by name.  The API's host is Host
 * (Origin's host[:port] equal to it, whatever the scheme: behind a
 * TLS-terminating proxy the page is https and the request reaches us as
 * http), or, when the peer is in trusted_proxies and sends them,
 * X-Forwarded-Host and X-Forwarded-Proto (then the scheme must match
 * too): a proxy that rewrites Host (nginx's default proxy_set_header
 * Host $proxy_host, Vite's changeOrigin) says there what the browser
 * saw.  From any other peer those headers are ignored.  "*" lets any
 * page read and use tokens, never a loopback user's ambient rights.
 */
static int
same_or_listed(const struct auth *a, const struct req *r)
{
	const char	*h, *host = r->host, *proto = NULL;
	size_t		 hl, pl = 0, sl;
	int		 fwd;

	if (r->origin == NULL)
		return 1;	/* not a browser, or a same-origin GET */
	if (auth_origin_listed(a, r->origin))
		return 1;
	if ((h = strstr(r->origin, "://")) == NULL)
		return 0;
	sl = (size_t)(h - r->origin);
	h += 3;
	hl = host != NULL ? strlen(host) : 0;
	fwd = a->nproxies > 0 && auth_addr_in(a->proxies, a->nproxies,
	    r->remote_addr);
	if (fwd && r->fwd_host != NULL)
		host = last_item(r->fwd_host, &hl);
	if (fwd && r->fwd_proto != NULL)
		proto = last_item(r->fwd_proto, &pl);
	if (host == NULL || hl == 0)
		return 0;
	if (proto != NULL && (pl != sl || strncasecmp(proto, r->origin,
	    sl) != 0))
		return 0;
	return host_is(h, r->origin, sl, host, hl);
}

/*
 * Decides whether r may run a route (write: a ROUTE_WRITE one).  Fills
 * v: rc APP_OK, or APP_UNAUTH / APP_FORBIDDEN with the challenge for a
 * WWW-Authenticate header and a detail (NULL: the default message).
 */
void
auth_check(const struct auth *a, const struct req *r, int write,
    struct auth_verdict *v)
{
	const char	*tok;
	size_t		 tl;
	int		 scope = 0, ambient = 0, need = write ? 2 : 1;

	v->rc = APP_OK;
	v->challenge = NULL;
	v->detail = NULL;
	if ((tok = auth_bearer(r->authorization, &tl)) != NULL) {
		if (tl > 0 && list_match_ct(&a->wtok, tok, tl))
			scope = 2;
		else if (tl > 0 && list_match_ct(&a->rtok, tok, tl))
			scope = 1;
		else {
			v->rc = APP_UNAUTH;
			v->challenge = CH_INVALID;
			v->detail = "Invalid token";
			return;
		}
	} else {
		if (a->trust_remote_user && r->remote_user != NULL &&
		    *r->remote_user != '\0') {
			scope = a->users.n == 0 ||
			    list_has(&a->users, r->remote_user) ? 2 : 1;
			ambient = 1;
		}
		if (scope < 2 && auth_addr_in(a->nets, a->nnets,
		    r->remote_addr)) {
			scope = 2;
			ambient = 1;
		}
		if (scope == 0 && !a->auth_reads)
			scope = 1;
	}
	if (scope >= need) {
		if (write && ambient && !same_or_listed(a, r))
			v->rc = APP_FORBIDDEN;
		return;
	}
	if (tok != NULL) {
		v->rc = APP_FORBIDDEN;
		v->challenge = CH_SCOPE;
	} else if (a->rtok.n + a->wtok.n > 0) {
		v->rc = APP_UNAUTH;
		v->challenge = CH_REQUIRED;
	} else
		v->rc = APP_FORBIDDEN;
}
