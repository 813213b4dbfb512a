/*
 * cfg.c: configuration keys, defaults and bounds in one table, and the
 * parser of "key = value" files ('#' starts a comment line).  Unknown
 * keys and out-of-range values are errors that name file and line.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"

#define O(f) offsetof(struct cfg, f)

const struct cfg_key cfg_keys[] = {
	{ "database",		CFG_STR,  O(database), "", 0, 0 },
	{ "read_database",	CFG_STR,  O(read_database), "", 0, 0 },
	{ "read_fallback",	CFG_BOOL, O(read_fallback), "on", 0, 1 },
	{ "read_retry",		CFG_INT,  O(read_retry), "10", 1, 3600 },
	{ "schema",		CFG_STR,  O(schema), "public", 0, 0 },
	{ "base_path",		CFG_STR,  O(base_path), "", 0, 0 },
	{ "statement_timeout",	CFG_INT,  O(statement_timeout), "5000", 1, 3600000 },
	{ "move_statement_timeout", CFG_INT, O(move_statement_timeout), "60000", 1, 3600000 },
	{ "connect_timeout",	CFG_INT,  O(connect_timeout), "5", 1, 300 },
	{ "max_body_size",	CFG_INT,  O(max_body_size), "1048576", 1, 1073741824 },
	{ "max_ids",		CFG_INT,  O(max_ids), "100000", 1, 10000000 },
	{ "count_cache",	CFG_INT,  O(count_cache), "64", 0, 4096 },
	{ "stream_threshold",	CFG_INT,  O(stream_threshold), "262144", 8192, 67108864 },
	{ "retry_after",	CFG_INT,  O(retry_after), "5", 0, 86400 },
	{ "prepare",		CFG_BOOL, O(prepare), "on", 0, 1 },
	{ "log_requests",	CFG_BOOL, O(log_requests), "on", 0, 1 },
	{ "max_path_length",	CFG_INT,  O(max_path_length), "4096", 16, 1048576 },
	{ "max_query_length",	CFG_INT,  O(max_query_length), "4096", 0, 1048576 },
	{ "max_id_length",	CFG_INT,  O(max_id_length), "1024", 1, 1048576 },
	{ "body_timeout",	CFG_INT,  O(body_timeout), "30", 1, 3600 },
	{ "write_networks",	CFG_STR,  O(write_networks), "127.0.0.0/8 ::1", 0, 0 },
	{ "read_tokens",	CFG_STR,  O(read_tokens), "", 0, 0 },
	{ "write_tokens",	CFG_STR,  O(write_tokens), "", 0, 0 },
	{ "auth_reads",		CFG_BOOL, O(auth_reads), "off", 0, 1 },
	{ "trust_remote_user",	CFG_BOOL, O(trust_remote_user), "off", 0, 1 },
	{ "write_users",	CFG_STR,  O(write_users), "", 0, 0 },
	{ "trusted_proxies",	CFG_STR,  O(trusted_proxies), "none", 0, 0 },
	{ "cors_origins",	CFG_STR,  O(cors_origins),
	    "http://localhost:5173 http://127.0.0.1:5173 http://[::1]:5173", 0, 0 },
	{ "cors_max_age",	CFG_INT,  O(cors_max_age), "600", 0, 86400 },
	{ "metrics",		CFG_BOOL, O(metrics), "off", 0, 1 },
	{ "metrics_dir",	CFG_STR,  O(metrics_dir), "", 0, 0 },
};
const size_t cfg_nkeys = NELEM(cfg_keys);

static const struct cfg_key *
lookup(const char *k)
{
	size_t	 i;

	for (i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].name, k) == 0)
			return &cfg_keys[i];
	return NULL;
}

/* Bounded integer, strtonum-style.  Returns 1 on success. */
static int
parse_long(const char *s, long min, long max, long *out)
{
	char	*ep;
	long	 v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtol(s, &ep, 10);
	if (errno != 0 || *ep != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static int
parse_bool(const char *s, long *out)
{
	if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") ||
	    !strcmp(s, "1"))
		*out = 1;
	else if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") ||
	    !strcmp(s, "0"))
		*out = 0;
	else
		return 0;
	return 1;
}

/*
 * Sets one key.  Returns 0 with a message in err for an unknown key or
 * a bad value, -1 on allocation failure.
 */
int
cfg_set(struct cfg *c, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct cfg_key	*k;
	char			**sp, *d;
	long			*lp;

	if ((k = lookup(key)) == NULL) {
		snprintf(err, errlen, "unknown key \"%s\"", key);
		return 0;
	}
	switch (k->type) {
	case CFG_STR:
		sp = (char **)(void *)((char *)c + k->off);
		if ((d = strdup(value)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*sp);
		*sp = d;
		return 1;
	case CFG_INT:
		lp = (long *)(void *)((char *)c + k->off);
		if (!parse_long(value, k->min, k->max, lp)) {
			snprintf(err, errlen, "%s must be an integer from "
			    "%ld to %ld", key, k->min, k->max);
			return 0;
		}
		return 1;
	case CFG_BOOL:
		lp = (long *)(void *)((char *)c + k->off);
		if (!parse_bool(value, lp)) {
			snprintf(err, errlen, "%s must be on or off", key);
			return 0;
		}
		return 1;
	default:
		return 0;
	}
}

/* Sets every key to its default.  Aborts only if memory is exhausted
 * before the first request (start-up). */
void
cfg_defaults(struct cfg *c)
{
	size_t	 i;
	char	 err[128];

	memset(c, 0, sizeof(*c));
	for (i = 0; i < cfg_nkeys; i++)
		if (cfg_set(c, cfg_keys[i].name, cfg_keys[i].def, err,
		    sizeof(err)) != 1) {
			fprintf(stderr, "taskgate: fatal: %s\n", err);
			exit(1);
		}
}

void
cfg_free(struct cfg *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < cfg_nkeys; i++)
		if (cfg_keys[i].type == CFG_STR) {
			char	**sp = (char **)(void *)((char *)c + cfg_keys[i].off);

			free(*sp);
			*sp = NULL;
		}
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/*
 * Parses a whole file's text.  Returns 1, or 0 with "name:line: why" in
 * err.
 */
int
cfg_parse(struct cfg *c, const char *text, const char *name, char *err,
    size_t errlen)
{
	char	*copy, *line, *next, *eq, *k, *v;
	char	 why[160];
	int	 lineno = 0, rc = 1, r;
	size_t	 vl;

	if ((copy = strdup(text)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return 0;
	}
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value",
			    name, lineno);
			rc = 0;
			break;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = '\0';
			v++;
		}
		if ((r = cfg_set(c, k, v, why, sizeof(why))) != 1) {
			snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
			rc = 0;
			break;
		}
	}
	free(copy);
	return rc;
}

/* Reads and parses path.  Returns 1, or 0 with the reason in err. */
int
cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	FILE		*f;
	struct buf	 b;
	char		 tmp[4096];
	size_t		 n;
	int		 rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return 0;
	}
	buf_init(&b);
	buf_add(&b, "", 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	if (ferror(f) || b.oom) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		buf_free(&b);
		return 0;
	}
	fclose(f);
	rc = cfg_parse(c, b.p, path, err, errlen);
	buf_free(&b);
	return rc;
}

/*
 * Which file to read: -c FILE, then $TASKGATE_CONFIG, then taskgate.conf
 * beside the binary (shared hosting), then $(sysconfdir)/taskgate.conf.
 * Returns a static path or NULL when none applies (defaults are used).
 * An explicit -c or TASKGATE_CONFIG is returned even if missing, so that
 * the error is reported.
 */
const char *
cfg_find(const char *opt, const char *argv0)
{
	static char	 path[PATH_MAX];
	const char	*env;
	char		 exe[PATH_MAX], *slash;
	ssize_t		 n;

	if (opt != NULL)
		return opt;
	if ((env = getenv("TASKGATE_CONFIG")) != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = '\0';
	else if (argv0 != NULL && strchr(argv0, '/') != NULL &&
	    strlen(argv0) < sizeof(exe))
		strcpy(exe, argv0);
	else
		exe[0] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL) {
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/taskgate.conf", exe);
		if (access(path, R_OK) == 0)
			return path;
	}
	snprintf(path, sizeof(path), "%s/taskgate.conf", SYSCONFDIR);
	if (access(path, R_OK) == 0)
		return path;
	return NULL;
}
