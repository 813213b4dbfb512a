/*
 * cfg.h: the configuration: a declarative table of keys (cfg.c) and a
 * "key = value" file parser.  Every key is documented in
 * conf/taskgate.conf.sample; t/unit-cfg checks that they agree.
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>

#include "app.h"

struct cfg {
	char	*database;		/* libpq conninfo */
	char	*read_database;		/* a hot standby for GETs, "" none */
	long	 read_fallback;		/* bool: standby down, GETs to primary */
	long	 read_retry;		/* s on the primary before retrying it */
	char	*schema;
	char	*base_path;		/* "" finds the mount prefix */
	long	 statement_timeout;	/* ms */
	long	 move_statement_timeout; /* ms: bulk moves and deletes */
	long	 connect_timeout;	/* s */
	long	 max_body_size;		/* bytes */
	long	 max_ids;
	long	 count_cache;
	long	 stream_threshold;	/* bytes */
	long	 retry_after;		/* s */
	long	 prepare;		/* bool */
	long	 log_requests;		/* bool */
	long	 max_path_length;	/* bytes of the raw path: 414 */
	long	 max_query_length;	/* bytes of QUERY_STRING: 414 */
	long	 max_id_length;		/* longer ids name nothing: 404 */
	long	 body_timeout;		/* s to wait for body bytes: 400 */
	char	*write_networks;	/* access control: see auth.c */
	char	*read_tokens;
	char	*write_tokens;
	long	 auth_reads;		/* bool */
	long	 trust_remote_user;	/* bool */
	char	*write_users;
	char	*trusted_proxies;
	char	*cors_origins;
	long	 cors_max_age;		/* s */
	long	 metrics;		/* bool: GET /api/metrics */
	char	*metrics_dir;		/* per-process files summed; "" none */
};

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG__MAX };

struct cfg_key {
	const char	*name;
	enum cfg_type	 type;
	size_t		 off;
	const char	*def;
	long		 min, max;
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

void	cfg_defaults(struct cfg *);
int	cfg_load(struct cfg *, const char *path, char *err, size_t errlen) WUR;
int	cfg_parse(struct cfg *, const char *text, const char *name, char *err,
	    size_t errlen) WUR;
int	cfg_set(struct cfg *, const char *key, const char *value, char *err,
	    size_t errlen) WUR;
void	cfg_free(struct cfg *);
const char *cfg_find(const char *opt, const char *argv0);

#endif
