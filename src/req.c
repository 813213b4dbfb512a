/*
 * req.c: CGI variables -> struct req.  Everything kept is copied: the
 * FastCGI parameters are borrowed only until the next accept.
 *
 * Decoding follows what the uniqc original (uvicorn + Starlette) does, so
 * existing clients see the same behaviour:
 *  - the path is percent-decoded before routing (so %2F is a '/'), '+'
 *    stays a '+';
 *  - the query string is split on '&', empty pieces are skipped, a piece
 *    without '=' is a key with an empty value, '+' is a space, and %XX
 *    is decoded; a '%' not followed by two hex digits stays literal;
 *  - invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart, as
 *    Python's errors="replace" does.
 * The grammars of the values themselves (integers, booleans, date-times)
 * are in req_value.c.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "req.h"

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 when the bytes
 * there do not start one.  *sub receives the length of the maximal
 * subpart to replace when 0 is returned.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, size_t *sub)
{
	unsigned char	 c = s[0], lo = 0x80, hi = 0xBF;
	size_t		 need, i;

	*sub = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*sub = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

/* Returns 1 when s[0..n) is valid UTF-8. */
int
req_utf8_valid(const char *s, size_t n)
{
	size_t	 i = 0, k, sub;

	while (i < n) {
		if ((k = utf8_seq((const unsigned char *)s + i, n - i, &sub)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/*
 * Sets dst to a copy of s[0..n) with invalid UTF-8 replaced; marks it bad
 * when anything was replaced or a NUL is present.  Returns 0 on
 * allocation failure (dst is then empty and needs no free).
 */
int
req_str_set(struct str *dst, const char *s, size_t n)
{
	struct buf	 b;
	size_t		 i = 0, j, k, sub;
	int		 bad = 0;
	char		*q;

	buf_init(&b);
	buf_add(&b, "", 0);
	while (i < n) {
		/* A run of valid sequences, copied at once. */
		for (j = i; j < n; j += k) {
			k = utf8_seq((const unsigned char *)s + j, n - j, &sub);
			if (k == 0)
				break;
			if (s[j] == '\0')
				bad = 1;
		}
		buf_add(&b, s + i, j - i);
		if (j < n) {
			buf_add(&b, "\xEF\xBF\xBD", 3);
			bad = 1;
			j += sub;
		}
		i = j;
	}
	if (b.oom) {
		buf_free(&b);
		dst->p = NULL;
		dst->len = 0;
		dst->bad = 1;
		return 0;
	}
	dst->len = b.len;
	dst->p = buf_steal(&b);
	dst->bad = bad;
	/* Down to its size: a bulk body may hold 100 000 short ids. */
	if ((q = realloc(dst->p, dst->len + 1)) != NULL)
		dst->p = q;
	return 1;
}

void
req_str_free(struct str *s)
{
	if (s == NULL)
		return;
	free(s->p);
	s->p = NULL;
	s->len = 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes src[0..len) into dst (which has room for len bytes);
 * with plus set, '+' becomes a space first.  Returns the decoded length.
 */
size_t
req_pct_decode(char *dst, const char *src, size_t len, int plus)
{
	size_t	 i, o = 0;
	int	 h, l;

	for (i = 0; i < len; i++) {
		if (src[i] == '%' && i + 2 < len &&
		    (h = hexval((unsigned char)src[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)src[i + 2])) >= 0) {
			dst[o++] = (char)(h * 16 + l);
			i += 2;
			continue;
		}
		dst[o++] = (plus && src[i] == '+') ? ' ' : src[i];
	}
	return o;
}

static int
decode_part(struct str *dst, const char *s, size_t n, int plus)
{
	char	*tmp;
	size_t	 dn;
	int	 ok;

	if ((tmp = malloc(n + 1)) == NULL)
		return 0;
	dn = req_pct_decode(tmp, s, n, plus);
	ok = req_str_set(dst, tmp, dn);
	free(tmp);
	return ok;
}

void
req_free_query(struct qparam *q, size_t n)
{
	size_t	 i;

	if (q == NULL)
		return;
	for (i = 0; i < n; i++) {
		req_str_free(&q[i].key);
		req_str_free(&q[i].val);
	}
	free(q);
}

/*
 * Splits a raw query string into decoded key/value pairs, in order.
 * Returns 0 on allocation failure (nothing to free then).
 */
int
req_parse_query(const char *qs, struct qparam **out, size_t *nout)
{
	struct qparam	*q = NULL, *nq;
	size_t		 n = 0, cap = 0, plen;
	const char	*p = qs, *amp, *eq;

	*out = NULL;
	*nout = 0;
	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		plen = amp ? (size_t)(amp - p) : strlen(p);
		if (plen > 0) {
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				if ((nq = reallocarray(q, cap, sizeof(*q))) == NULL)
					goto fail;
				q = nq;
			}
			eq = memchr(p, '=', plen);
			if (!decode_part(&q[n].key, p,
			    eq ? (size_t)(eq - p) : plen, 1))
				goto fail;
			if (!decode_part(&q[n].val, eq ? eq + 1 : p + plen,
			    eq ? plen - (size_t)(eq - p) - 1 : 0, 1)) {
				req_str_free(&q[n].key);
				goto fail;
			}
			n++;
		}
		p = amp ? amp + 1 : NULL;
	}
	*out = q;
	*nout = n;
	return 1;
fail:
	req_free_query(q, n);
	return 0;
}

/* The value of the last occurrence of key, or NULL when absent. */
const struct str *
req_query(const struct req *r, const char *key)
{
	size_t	 i, kl = strlen(key);

	for (i = r->nq; i-- > 0; )
		if (r->q[i].key.len == kl && memcmp(r->q[i].key.p, key, kl) == 0)
			return &r->q[i].val;
	return NULL;
}

/*
 * Finds where the API starts in a raw path.  With base set, the path
 * must start with it.  Otherwise the prefix is everything before the
 * first "/api" segment, so the same binary works at the site root and
 * under any sub-path, whatever SCRIPT_NAME/PATH_INFO the server made.
 * Returns 1 and sets *prefixlen, or 0 when the path is outside the API.
 */
int
req_split_prefix(const char *path, const char *base, size_t *prefixlen)
{
	const char	*p;
	size_t		 bl;

	if (base != NULL && *base != '\0') {
		bl = strlen(base);
		while (bl > 0 && base[bl - 1] == '/')
			bl--;
		if (strncmp(path, base, bl) != 0 ||
		    (path[bl] != '/' && path[bl] != '\0'))
			return 0;
		*prefixlen = bl;
		return 1;
	}
	for (p = path; (p = strstr(p, "/api")) != NULL; p++)
		if (p[4] == '/' || p[4] == '\0') {
			*prefixlen = (size_t)(p - path);
			return 1;
		}
	return 0;
}

static char *
dupenv(req_getenv_fn get, void *ctx, const char *name, int *oom)
{
	const char	*v = get(ctx, name);
	char		*d;

	if (v == NULL)
		return NULL;
	if ((d = strdup(v)) == NULL)
		*oom = 1;
	return d;
}

/* A host header is used in Location only when it looks like one. */
static int
host_ok(const char *h)
{
	if (h == NULL || *h == '\0' || strlen(h) > 255)
		return 0;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && strchr(".-_:[]", *h) == NULL)
			return 0;
	return 1;
}

/*
 * The raw path (REQUEST_URI when the server gives it, else SCRIPT_NAME
 * and PATH_INFO), split at the mount prefix, and its decoded form.
 */
static enum app_err
set_path(struct req *r, req_getenv_fn get, void *ctx, const char *base)
{
	const char	*uri, *qm, *v;
	struct buf	 b;
	size_t		 plen, pfx;

	buf_init(&b);
	if ((uri = get(ctx, "REQUEST_URI")) != NULL && *uri != '\0') {
		qm = strchr(uri, '?');
		plen = qm ? (size_t)(qm - uri) : strlen(uri);
		buf_add(&b, uri, plen);
	} else {
		if ((v = get(ctx, "SCRIPT_NAME")) != NULL)
			buf_adds(&b, v);
		if ((v = get(ctx, "PATH_INFO")) != NULL)
			buf_adds(&b, v);
	}
	if (b.len == 0)
		buf_addc(&b, '/');
	if (b.oom || (r->uri_path = buf_steal(&b)) == NULL)
		return APP_NOMEM;

	if (req_split_prefix(r->uri_path, base, &pfx)) {
		r->prefix = strndup(r->uri_path, pfx);
		r->rawpath = strdup(r->uri_path + pfx);
	} else {
		r->prefix = strdup("");
		r->rawpath = strdup(r->uri_path);
	}
	if (r->prefix == NULL || r->rawpath == NULL)
		return APP_NOMEM;
	plen = strlen(r->rawpath);
	if ((r->dpath = malloc(plen + 1)) == NULL)
		return APP_NOMEM;
	r->dpathlen = req_pct_decode(r->dpath, r->rawpath, plen, 0);
	r->dpath[r->dpathlen] = '\0';
	return APP_OK;
}

/* The scheme and host[:port] of absolute URLs (a 307's Location). */
static enum app_err
set_host(struct req *r, req_getenv_fn get, void *ctx)
{
	const char	*v, *port;
	struct buf	 b;

	v = get(ctx, "HTTPS");
	if (v != NULL && (strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0))
		r->scheme = strdup("https");
	else if ((v = get(ctx, "REQUEST_SCHEME")) != NULL &&
	    strcasecmp(v, "https") == 0)
		r->scheme = strdup("https");
	else
		r->scheme = strdup("http");
	if (r->scheme == NULL)
		return APP_NOMEM;

	v = get(ctx, "HTTP_HOST");
	if (host_ok(v))
		r->host = strdup(v);
	else {
		v = get(ctx, "SERVER_NAME");
		port = get(ctx, "SERVER_PORT");
		buf_init(&b);
		buf_adds(&b, host_ok(v) ? v : "localhost");
		if (port != NULL && strspn(port, "0123456789") == strlen(port) &&
		    *port != '\0' && strcmp(port, "80") != 0 &&
		    strcmp(port, "443") != 0) {
			buf_addc(&b, ':');
			buf_adds(&b, port);
		}
		r->host = buf_steal(&b);
	}
	return r->host == NULL ? APP_NOMEM : APP_OK;
}

/* CONTENT_LENGTH: -1 when absent or empty, -2 when unparseable. */
static long long
content_length(const char *v)
{
	long long	 cl;
	const char	*errp;

	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	cl = strtoll(v, (char **)&errp, 10);
	if (errno == 0 && *errp == '\0' && cl >= 0 && isdigit((unsigned char)*v))
		return cl;
	return -2;
}

/*
 * Fills r from the CGI variables.  base is the configured mount prefix
 * (NULL to find it).  Returns APP_NOMEM on allocation failure; the
 * request must be freed with req_free() whatever this returns.
 */
enum app_err
req_init(struct req *r, req_getenv_fn get, void *ctx, req_read_fn rd,
    void *rdctx, const char *base)
{
	const char	*v;
	enum app_err	 rc;
	int		 oom = 0;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	r->rd = rd;
	r->rdctx = rdctx;

	r->method = dupenv(get, ctx, "REQUEST_METHOD", &oom);
	if (r->method == NULL && !oom && (r->method = strdup("GET")) == NULL)
		oom = 1;
	if ((rc = set_path(r, get, ctx, base)) != APP_OK)
		return rc;
	v = get(ctx, "QUERY_STRING");
	if ((r->query = strdup(v ? v : "")) == NULL)
		return APP_NOMEM;
	if (!req_parse_query(r->query, &r->q, &r->nq))
		return APP_NOMEM;
	if ((rc = set_host(r, get, ctx)) != APP_OK)
		return rc;

	r->content_type = dupenv(get, ctx, "CONTENT_TYPE", &oom);
	if (r->content_type != NULL && *r->content_type == '\0') {
		free(r->content_type);
		r->content_type = NULL;
	}
	r->content_length = content_length(get(ctx, "CONTENT_LENGTH"));
	r->remote_addr = dupenv(get, ctx, "REMOTE_ADDR", &oom);
	r->remote_user = dupenv(get, ctx, "REMOTE_USER", &oom);
	r->authorization = dupenv(get, ctx, "HTTP_AUTHORIZATION", &oom);
	r->origin = dupenv(get, ctx, "HTTP_ORIGIN", &oom);
	r->if_none_match = dupenv(get, ctx, "HTTP_IF_NONE_MATCH", &oom);
	r->fwd_host = dupenv(get, ctx, "HTTP_X_FORWARDED_HOST", &oom);
	r->fwd_proto = dupenv(get, ctx, "HTTP_X_FORWARDED_PROTO", &oom);
	r->acr_method = dupenv(get, ctx, "HTTP_ACCESS_CONTROL_REQUEST_METHOD",
	    &oom);
	r->acr_headers = dupenv(get, ctx,
	    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS", &oom);
	r->acr_pna = dupenv(get, ctx,
	    "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", &oom);
	return oom ? APP_NOMEM : APP_OK;
}

void
req_free(struct req *r)
{
	if (r == NULL)
		return;
	free(r->method);
	free(r->uri_path);
	free(r->prefix);
	free(r->rawpath);
	free(r->dpath);
	free(r->query);
	req_free_query(r->q, r->nq);
	free(r->scheme);
	free(r->host);
	free(r->content_type);
	free(r->remote_addr);
	free(r->remote_user);
	free(r->authorization);
	free(r->origin);
	free(r->if_none_match);
	free(r->fwd_host);
	free(r->fwd_proto);
	free(r->acr_method);
	free(r->acr_headers);
	free(r->acr_pna);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * Reads the request body, at most limit bytes.  Returns APP_TOOBIG when
 * the declared or actual length is over the limit, APP_BADREQ when
 * fewer bytes arrive than CONTENT_LENGTH declared, APP_NOMEM.  The body
 * stays owned by r.
 */
enum app_err
req_body(struct req *r, size_t limit)
{
	struct buf	 b;
	char		 tmp[16384];
	long		 got;
	size_t		 want;

	if (r->body_read)
		return APP_OK;
	if (r->content_length == -2)
		return APP_BADREQ;
	if (r->content_length >= 0 && (unsigned long long)r->content_length > limit)
		return APP_TOOBIG;
	buf_init(&b);
	buf_add(&b, "", 0);
	for (;;) {
		want = sizeof(tmp);
		if (r->content_length >= 0) {
			if (b.len >= (size_t)r->content_length)
				break;
			if ((size_t)r->content_length - b.len < want)
				want = (size_t)r->content_length - b.len;
		}
		if (r->rd == NULL || (got = r->rd(r->rdctx, tmp, want)) <= 0) {
			if (r->content_length >= 0) {
				buf_free(&b);
				return APP_BADREQ;	/* truncated */
			}
			break;
		}
		buf_add(&b, tmp, (size_t)got);
		if (b.len > limit) {
			buf_free(&b);
			return APP_TOOBIG;
		}
	}
	if (b.oom) {
		buf_free(&b);
		return APP_NOMEM;
	}
	r->bodylen = b.len;
	r->body = buf_steal(&b);
	r->body_read = 1;
	return APP_OK;
}
