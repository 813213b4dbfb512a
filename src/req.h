/*
 * req.h: one request as handlers see it.  Built from the CGI variables
 * (whether they came from FastCGI params or the environment), with the
 * path split from its mount prefix and percent-decoded the way uvicorn
 * and Starlette decode it, and the query string decoded like Python's
 * urllib.parse.parse_qsl(keep_blank_values=True).
 */
#ifndef REQ_H
#define REQ_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

/*
 * A decoded string.  p is NUL-terminated but may hold NUL bytes: len is
 * authoritative.  Invalid UTF-8 has been replaced by U+FFFD (Python's
 * errors="replace"), so p is always valid UTF-8 and safe to echo.  bad
 * is set when the original held invalid UTF-8 or a NUL byte: such a
 * value can name no stored row and must never reach the database.
 */
struct str {
	char	*p;
	size_t	 len;
	int	 bad;
};

struct qparam {
	struct str	 key;
	struct str	 val;
};

typedef const char *(*req_getenv_fn)(void *ctx, const char *name);
typedef long (*req_read_fn)(void *ctx, char *buf, size_t n);

struct req {
	unsigned long	 id;		/* request number in this process */
	char		*method;
	char		*uri_path;	/* raw path (before '?'), for logs */
	char		*prefix;	/* raw mount prefix, e.g. "/taskgate" */
	char		*rawpath;	/* raw path after the prefix */
	char		*dpath;		/* percent-decoded rawpath (bytes) */
	size_t		 dpathlen;
	char		*query;		/* raw query string, "" if none */
	struct qparam	*q;
	size_t		 nq;
	char		*scheme;	/* "http" or "https" */
	char		*host;		/* host[:port] for absolute URLs */
	char		*content_type;	/* NULL when absent */
	long long	 content_length; /* -1 when absent */
	char		*remote_addr;
	char		*remote_user;
	char		*authorization;
	char		*origin;
	char		*if_none_match;	/* NULL when absent */
	char		*fwd_host;	/* X-Forwarded-Host (trusted_proxies) */
	char		*fwd_proto;	/* X-Forwarded-Proto */
	char		*acr_method;	/* Access-Control-Request-Method */
	char		*acr_headers;	/* Access-Control-Request-Headers */
	char		*acr_pna;	/* ...-Request-Private-Network */
	char		*body;
	size_t		 bodylen;
	int		 body_read;
	size_t		 max_body;	/* limits, from the config */
	size_t		 max_ids;
	size_t		 max_id_len;	/* longer ids cannot be stored */
	req_read_fn	 rd;
	void		*rdctx;
};

enum app_err	 req_init(struct req *, req_getenv_fn, void *, req_read_fn,
		    void *, const char *base_path) WUR;
void		 req_free(struct req *);
const struct str *req_query(const struct req *, const char *);
enum app_err	 req_body(struct req *, size_t limit) WUR;

/* Pure helpers, exposed for unit tests and fuzzing. */
int		 req_str_set(struct str *, const char *, size_t) WUR;
void		 req_str_free(struct str *);
size_t		 req_pct_decode(char *dst, const char *src, size_t len, int plus);
int		 req_parse_query(const char *, struct qparam **, size_t *) WUR;
void		 req_free_query(struct qparam *, size_t);
int		 req_split_prefix(const char *path, const char *base,
		    size_t *prefixlen);
int		 req_utf8_valid(const char *, size_t);
/* The value grammars (req_value.c). */
int		 req_parse_int(const char *, size_t, int64_t *);
int		 req_parse_bool(const char *, size_t, int *);
int		 req_parse_datetime(const char *, size_t, int64_t *);

#endif
