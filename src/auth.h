/*
 * auth.h: who may do what.  Decides, per request, whether a route may
 * run (read or write scope) from the client's address, a bearer token
 * or the web server's own authentication (REMOTE_USER), and which
 * browser origins get CORS headers (auth_cors: the rules of Starlette's
 * CORSMiddleware as the uniqc original configures it).  Built once from
 * the configuration (auth_init), then read-only.  No third-party header.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#include "app.h"

struct cfg;
struct req;
struct resp;

struct auth_net {
	int		 af;		/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	int		 bits;
};

struct auth_list {
	char		**v;
	size_t		 n;
};

struct auth {
	struct auth_net	*nets;		/* write_networks */
	size_t		 nnets;
	struct auth_list rtok;		/* read_tokens */
	struct auth_list wtok;		/* write_tokens */
	struct auth_list users;		/* write_users */
	struct auth_net	*proxies;	/* trusted_proxies */
	size_t		 nproxies;
	struct auth_list origins;	/* cors_origins ("none": empty) */
	int		 any_origin;	/* cors_origins holds "*" */
	int		 auth_reads;
	int		 trust_remote_user;
	long		 cors_max_age;
};

/* What a check decided: the error (APP_OK, APP_UNAUTH, APP_FORBIDDEN)
 * and, for 401 and insufficient scope, the WWW-Authenticate value. */
struct auth_verdict {
	enum app_err	 rc;
	const char	*challenge;	/* static string or NULL */
	const char	*detail;	/* static string or NULL (default) */
};

int	 auth_init(struct auth *, const struct cfg *, char *err,
	    size_t errlen) WUR;
void	 auth_free(struct auth *);
void	 auth_check(const struct auth *, const struct req *, int write,
	    struct auth_verdict *);
/* auth_cors.c */
int	 auth_origin_listed(const struct auth *, const char *origin);
int	 auth_origin_allowed(const struct auth *, const char *origin);
int	 auth_cors(const struct auth *, const struct req *, struct resp *);

/* Pure helpers, exposed for unit tests. */
int	 auth_parse_net(const char *, struct auth_net *) WUR;
int	 auth_addr_in(const struct auth_net *, size_t, const char *addr);
int	 auth_ct_eq(const char *a, size_t alen, const char *b, size_t blen);
const char *auth_bearer(const char *authorization, size_t *len);

#endif
