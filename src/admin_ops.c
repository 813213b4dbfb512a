/*
 * admin_ops.c: migrate, check, archive-expired and purge-archive.
 *
 * archive-expired runs the HTTP route's own statements (src/sql.c's
 * DB_LOCK_EXPIRED then DB_EXPIRE, in one transaction), so it locks
 * exactly as the web processes do and is safe while they serve.
 * purge-archive locks the archived rows it deletes in task_id order
 * first, like the moves.  Deadlocks and serialization failures retry.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "admin_ops.h"
#include "buf.h"
#include "db.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/taskgate"
#endif

#define MAXFILES 512

static const char *const schema_table_sql =
	"CREATE TABLE IF NOT EXISTS taskgate_schema ("
	"version integer PRIMARY KEY, name text NOT NULL, "
	"applied_at timestamptz NOT NULL DEFAULT now())";
static const char *const applied_sql =
	"SELECT version FROM taskgate_schema WHERE version = $1::int";
static const char *const record_sql =
	"INSERT INTO taskgate_schema (version, name) VALUES ($1::int, $2)";
/* Counters that differ from the rows, in one snapshot. */
static const char *const counters_sql =
	"SELECT coalesce(c.archived, r.archived), coalesce(c.status, r.status), "
	"coalesce(c.backend, r.backend), coalesce(c.n, 0), coalesce(r.n, 0) "
	"FROM (SELECT archived, status, backend, sum(n)::int8 AS n "
	"FROM task_counts GROUP BY 1, 2, 3 HAVING sum(n) <> 0) c FULL JOIN "
	"(SELECT false AS archived, status, backend, count(*) AS n FROM tasks "
	"GROUP BY 2, 3 UNION ALL SELECT true, status, backend, count(*) "
	"FROM archived_tasks GROUP BY 2, 3) r ON c.archived = r.archived AND "
	"c.status = r.status AND c.backend = r.backend "
	"WHERE coalesce(c.n, 0) <> coalesce(r.n, 0) ORDER BY 1, 2, 3";
/* As sql/002_counters.sql rebuilds them: writers wait until commit. */
static const char *const repair_sql[] = {
	"LOCK TABLE tasks, archived_tasks IN SHARE MODE",
	"DELETE FROM task_counts",
	"INSERT INTO task_counts (archived, status, backend, slot, n) "
	"SELECT false, status, backend, 0, count(*) FROM tasks "
	"GROUP BY status, backend",
	"INSERT INTO task_counts (archived, status, backend, slot, n) "
	"SELECT true, status, backend, 0, count(*) FROM archived_tasks "
	"GROUP BY status, backend",
};
#define PURGE_WHERE "archived_at < now() - $1::float8 * interval '1 day'"
static const char *const purge_lock_sql =
	"SELECT count(*) FROM (SELECT task_id FROM archived_tasks WHERE "
	PURGE_WHERE " ORDER BY task_id FOR UPDATE) l";
static const char *const purge_sql =
	"WITH d AS (DELETE FROM archived_tasks WHERE " PURGE_WHERE
	" RETURNING task_id), ds AS (DELETE FROM archived_task_shards s "
	"USING d WHERE s.uniqc_task_id = d.task_id RETURNING 1) "
	"SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM ds)";

static int
cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * --sql-dir, else ../sql beside the binary (a build tree), else
 * ../share/taskgate beside it (an installed tree moved, or installed
 * with make install prefix=...), else the configured pkgdatadir.
 * Returns 0 when none has 001_schema.sql.
 */
static int
sqldir(const char *opt, const char *argv0, char *out, size_t len)
{
	char	 exe[PATH_MAX], t[PATH_MAX + 32], *sl;
	ssize_t	 n;

	(void)argv0;
	if (opt != NULL) {
		snprintf(out, len, "%s", opt);
		return 1;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((sl = strrchr(exe, '/')) != NULL) {
			*sl = '\0';
			snprintf(t, sizeof(t), "%s/../sql/001_schema.sql", exe);
			if (access(t, R_OK) == 0 && strlen(exe) + 8 <= len) {
				memcpy(out, exe, strlen(exe));
				memcpy(out + strlen(exe), "/../sql", 8);
				return 1;
			}
			snprintf(t, sizeof(t), "%s/../share/taskgate/"
			    "001_schema.sql", exe);
			if (access(t, R_OK) == 0 && strlen(exe) + 19 <= len) {
				memcpy(out, exe, strlen(exe));
				memcpy(out + strlen(exe), "/../share/taskgate", 19);
				return 1;
			}
		}
	}
	snprintf(t, sizeof(t), "%s/001_schema.sql", PKGDATADIR);
	if (access(t, R_OK) == 0) {
		snprintf(out, len, "%s", PKGDATADIR);
		return 1;
	}
	return 0;
}

/* The NNN_*.sql names of dir, sorted; *n of them.  Caller frees. */
static char **
list_sql(const char *dir, size_t *n)
{
	DIR		*d;
	struct dirent	*e;
	char		**v;
	size_t		 l;

	*n = 0;
	if ((d = opendir(dir)) == NULL || (v = calloc(MAXFILES,
	    sizeof(*v))) == NULL) {
		if (d)
			closedir(d);
		return NULL;
	}
	while ((e = readdir(d)) != NULL && *n < MAXFILES) {
		l = strlen(e->d_name);
		if (l < 9 || strspn(e->d_name, "0123456789") != 3 ||
		    e->d_name[3] != '_' || strcmp(e->d_name + l - 4, ".sql"))
			continue;
		if ((v[*n] = strdup(e->d_name)) != NULL)
			(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp);
	return v;
}

static void
free_list(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* 1 applied, 0 not, -1 error.  No table yet: not applied. */
static int
applied(struct adm *a, const char *name, int have_table)
{
	PGresult	*r;
	char		 v[8];
	const char	*pv[1] = { v };
	int		 yes;

	if (!have_table)
		return 0;
	snprintf(v, sizeof(v), "%d", atoi(name));
	if ((r = (PGresult *)adm_exec(a, applied_sql, 1, pv, 1)) == NULL)
		return -1;
	yes = PQntuples(r) > 0;
	PQclear(r);
	return yes;
}

static int
have_schema_table(struct adm *a)
{
	PGresult	*r;
	int		 yes;

	r = (PGresult *)adm_exec(a, "SELECT to_regclass('taskgate_schema') "
	    "IS NOT NULL", 0, NULL, 1);
	if (r == NULL)
		return -1;
	yes = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return yes;
}

static char *
slurp(const char *path)
{
	FILE		*f;
	struct buf	 b;
	char		 tmp[8192];
	size_t		 n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	buf_init(&b);
	buf_add(&b, "", 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	return b.oom ? (buf_free(&b), NULL) : buf_steal(&b);
}

/* Applies one file with its record in one transaction. */
static int
apply_file(struct adm *a, const char *dir, const char *name)
{
	char		 path[PATH_MAX + 300], v[8], *text;
	const char	*pv[2] = { v, name };
	PGresult	*r;
	int		 ok = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(v, sizeof(v), "%d", atoi(name));
	if ((text = slurp(path)) == NULL) {
		adm_log(a, 0, "%s: %s", path, strerror(errno));
		return 0;
	}
	if ((r = (PGresult *)adm_exec(a, "BEGIN", 0, NULL, 0)) == NULL)
		goto out;
	PQclear(r);
	r = PQexec((PGconn *)a->pg, text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		adm_pgerr(a, name, (struct pg_result *)r);
		PQclear(r);
		goto out;
	}
	PQclear(r);
	if ((r = (PGresult *)adm_exec(a, record_sql, 2, pv, 0)) == NULL)
		goto out;
	PQclear(r);
	if ((r = (PGresult *)adm_exec(a, "COMMIT", 0, NULL, 0)) == NULL)
		goto out;
	PQclear(r);
	ok = 1;
out:
	if (!ok)
		PQclear(PQexec((PGconn *)a->pg, "ROLLBACK"));
	free(text);
	return ok;
}

static int
bad_arg(struct adm *a, const char *cmd, const char *o)
{
	adm_log(a, 0, "%s: bad argument \"%s\" (see --help)", cmd, o ? o : "");
	return ADM_EXIT_FAIL;
}

int
ops_migrate(struct adm *a, int argc, char **argv, const char *argv0)
{
	char		 dir[PATH_MAX], **files = NULL;
	const char	*opt = NULL;
	size_t		 n = 0, i;
	int		 dry = 0, k, have, done = 0, rc = ADM_EXIT_FAIL;
	PGresult	*r;

	for (k = 0; k < argc; k++)
		if (!strcmp(argv[k], "--dry-run"))
			dry = 1;
		else if (!strcmp(argv[k], "--sql-dir") && k + 1 < argc)
			opt = argv[++k];
		else
			return bad_arg(a, "migrate", argv[k]);
	if (!sqldir(opt, argv0, dir, sizeof(dir)) ||
	    (files = list_sql(dir, &n)) == NULL || n == 0) {
		adm_log(a, 0, "migrate: no schema files found (--sql-dir DIR)");
		goto out;
	}
	if (!adm_connect(a))
		goto out;
	/* One migrate at a time (a second one waits, then finds all done). */
	if ((r = (PGresult *)adm_exec(a, "SELECT pg_advisory_lock("
	    "hashtext('taskgate-migrate'))", 0, NULL, 1)) == NULL)
		goto out;
	PQclear(r);
	if (!dry) {
		if ((r = (PGresult *)adm_exec(a, schema_table_sql, 0, NULL,
		    0)) == NULL)
			goto out;
		PQclear(r);
	}
	if ((have = have_schema_table(a)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((k = applied(a, files[i], have)) < 0)
			goto out;
		if (k)
			continue;
		if (dry) {
			printf("would apply %s\n", files[i]);
			done++;
			continue;
		}
		if (!apply_file(a, dir, files[i]))
			goto out;
		printf("applied %s\n", files[i]);
		done++;
	}
	rc = ADM_EXIT_OK;
out:
	fprintf(stderr, "taskgate-admin: migrate: %s, %d file%s %s%s\n",
	    rc == ADM_EXIT_OK ? "ok" : "FAILED", done, done == 1 ? "" : "s",
	    dry ? "to apply" : "applied", rc == ADM_EXIT_OK && done == 0 ?
	    " (schema current)" : "");
	free_list(files, n);
	return rc;
}

/* Reports counter rows that differ; returns their number, -1 error. */
static int
counters(struct adm *a, int show)
{
	PGresult	*r;
	int		 i, n;

	if ((r = (PGresult *)adm_exec(a, "BEGIN ISOLATION LEVEL REPEATABLE "
	    "READ READ ONLY", 0, NULL, 0)) == NULL)
		return -1;
	PQclear(r);
	r = (PGresult *)adm_exec(a, counters_sql, 0, NULL, 1);
	PQclear(PQexec((PGconn *)a->pg, "COMMIT"));
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	for (i = 0; i < n && show; i++)
		adm_log(a, 1, "check: counter %s status=\"%s\" backend=\"%s\": "
		    "%s counted, %s rows", PQgetvalue(r, i, 0)[0] == 't' ?
		    "archive" : "active", PQgetvalue(r, i, 1),
		    PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		    PQgetvalue(r, i, 4));
	PQclear(r);
	return n;
}

static int
repair(struct adm *a)
{
	PGresult	*r;
	size_t		 i;

	if ((r = (PGresult *)adm_exec(a, "BEGIN", 0, NULL, 0)) == NULL)
		return 0;
	PQclear(r);
	for (i = 0; i < NELEM(repair_sql); i++) {
		if ((r = (PGresult *)adm_exec(a, repair_sql[i], 0, NULL,
		    0)) == NULL) {
			PQclear(PQexec((PGconn *)a->pg, "ROLLBACK"));
			return 0;
		}
		PQclear(r);
	}
	if ((r = (PGresult *)adm_exec(a, "COMMIT", 0, NULL, 0)) == NULL)
		return 0;
	PQclear(r);
	return 1;
}

int
ops_check(struct adm *a, int argc, char **argv, const char *argv0,
    const char *cfgerr)
{
	char		 dir[PATH_MAX], **files = NULL;
	const char	*opt = NULL;
	size_t		 n = 0, i;
	int		 fix = 0, k, have, bad = 0, nc = 0, fail = 0;

	for (k = 0; k < argc; k++)
		if (!strcmp(argv[k], "--repair"))
			fix = 1;
		else if (!strcmp(argv[k], "--sql-dir") && k + 1 < argc)
			opt = argv[++k];
		else
			return bad_arg(a, "check", argv[k]);
	if (cfgerr != NULL) {
		adm_log(a, 1, "check: config: %s", cfgerr);
		bad++;
	} else
		adm_log(a, 1, "check: config %s ok", a->cfgpath ? a->cfgpath :
		    "(none: defaults)");
	if (!adm_connect(a)) {
		bad++;
		fail = 1;
		goto out;
	}
	adm_log(a, 1, "check: database reachable");
	if (!sqldir(opt, argv0, dir, sizeof(dir)) ||
	    (files = list_sql(dir, &n)) == NULL) {
		adm_log(a, 1, "check: no schema files found (--sql-dir DIR)");
		bad++;
	} else if ((have = have_schema_table(a)) < 0) {
		fail = 1;
		goto out;
	} else {
		for (i = 0; i < n; i++)
			if ((k = applied(a, files[i], have)) != 1) {
				adm_log(a, 1, "check: %s not applied "
				    "(taskgate-admin migrate)", files[i]);
				bad++;
			}
		if (i == n && bad == (cfgerr != NULL))
			adm_log(a, 1, "check: schema current (%zu files)", n);
	}
	if ((nc = counters(a, 1)) < 0) {
		bad++;
		goto out;
	}
	if (nc > 0) {
		bad++;
		if (fix) {
			if (!repair(a) || (k = counters(a, 1)) != 0) {
				fail = 1;
				goto out;
			}
			adm_log(a, 1, "check: counters rebuilt from the tables");
		}
	} else
		adm_log(a, 1, "check: counters consistent");
out:
	fprintf(stderr, "taskgate-admin: check: %s, %d problem%s%s\n",
	    fail ? "FAILED" : bad ? "problems found" : "ok", bad,
	    bad == 1 ? "" : "s", fix && nc > 0 && !fail ? " (counters "
	    "repaired)" : "");
	free_list(files, n);
	return bad || fail ? ADM_EXIT_ROWS : ADM_EXIT_OK;
}

/* Runs pre (a lock statement) then main in one transaction, retrying
 * deadlocks.  Returns main's result or NULL. */
static PGresult *
locked(struct adm *a, const char *pre, const char *main_sql, int np,
    const char *const *pv)
{
	PGresult	*r;
	int		 tries;

	for (tries = 0; tries < 6; tries++) {
		if ((r = (PGresult *)adm_exec(a, "BEGIN", 0, NULL, 0)) == NULL)
			return NULL;
		PQclear(r);
		r = PQexecParams((PGconn *)a->pg, pre, np, NULL, pv, NULL, NULL,
		    0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			PQclear(r);
			r = PQexecParams((PGconn *)a->pg, main_sql, np, NULL,
			    pv, NULL, NULL, 0);
		}
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			PGresult *c = PQexec((PGconn *)a->pg, "COMMIT");

			if (PQresultStatus(c) == PGRES_COMMAND_OK) {
				PQclear(c);
				return r;
			}
			PQclear(r);
			r = c;
		}
		if (strncmp(adm_sqlstate((struct pg_result *)r), "40", 2) != 0) {
			adm_pgerr(a, "database", (struct pg_result *)r);
			PQclear(r);
			PQclear(PQexec((PGconn *)a->pg, "ROLLBACK"));
			return NULL;
		}
		adm_log(a, 2, "retrying after %s", adm_sqlstate(
		    (struct pg_result *)r));
		PQclear(r);
		PQclear(PQexec((PGconn *)a->pg, "ROLLBACK"));
	}
	adm_log(a, 0, "gave up after repeated deadlocks");
	return NULL;
}

static int
parse_num(const char *s, double min, double max, double *out, int integer)
{
	char	*ep;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	*out = integer ? (double)strtoll(s, &ep, 10) : strtod(s, &ep);
	return errno == 0 && *ep == '\0' && *out >= min && *out <= max;
}

int
ops_archive_expired(struct adm *a, int argc, char **argv)
{
	const char	*pv[2], *hs = NULL;
	double		 h;
	PGresult	*r;
	int		 k, all = 0, i, n, na = 0, ns = 0, nc = 0;

	for (k = 0; k < argc; k++)
		if (!strcmp(argv[k], "--all-statuses"))
			all = 1;
		else if (!strcmp(argv[k], "--hours") && k + 1 < argc)
			hs = argv[++k];
		else
			return bad_arg(a, "archive-expired", argv[k]);
	if (!parse_num(hs, -1e7, 1e7, &h, 1))
		return bad_arg(a, "archive-expired --hours", hs);
	if (!adm_connect(a))
		return ADM_EXIT_FAIL;
	pv[0] = hs;
	pv[1] = all ? "false" : "true";
	if ((r = locked(a, db_stmts[DB_LOCK_EXPIRED].sql,
	    db_stmts[DB_EXPIRE].sql, 2, pv)) == NULL) {
		fprintf(stderr, "taskgate-admin: archive-expired: FAILED\n");
		return ADM_EXIT_FAIL;
	}
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		const char *kind = PQgetvalue(r, i, 0), *id = PQgetvalue(r, i, 1);

		if (*kind == 'a') {
			na++;
			adm_log(a, 2, "archived %s", id);
		} else if (*kind == 's') {
			ns++;
			adm_log(a, 2, "skipped (not finished) %s", id);
		} else {
			nc++;
			adm_report(a, "tasks", id, strlen(id), -1, -1,
			    "not archived: an archived copy exists");
		}
	}
	PQclear(r);
	fprintf(stderr, "taskgate-admin: archive-expired: ok, %d archived, "
	    "%d skipped (not finished), %d conflicts, hours %s%s\n", na, ns, nc,
	    hs, all ? ", all statuses" : "");
	return nc > 0 ? ADM_EXIT_ROWS : ADM_EXIT_OK;
}

int
ops_purge_archive(struct adm *a, int argc, char **argv)
{
	const char	*pv[1], *ds = NULL;
	double		 d;
	PGresult	*r;
	int		 k;

	for (k = 0; k < argc; k++)
		if (!strcmp(argv[k], "--older-than") && k + 1 < argc)
			ds = argv[++k];
		else
			return bad_arg(a, "purge-archive", argv[k]);
	if (!parse_num(ds, 0, 1e6, &d, 0))
		return bad_arg(a, "purge-archive --older-than", ds);
	if (!adm_connect(a))
		return ADM_EXIT_FAIL;
	pv[0] = ds;
	if ((r = locked(a, purge_lock_sql, purge_sql, 1, pv)) == NULL) {
		fprintf(stderr, "taskgate-admin: purge-archive: FAILED\n");
		return ADM_EXIT_FAIL;
	}
	fprintf(stderr, "taskgate-admin: purge-archive: ok, %s archived tasks "
	    "and %s shards deleted (archived more than %s days ago)\n",
	    PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), ds);
	PQclear(r);
	return ADM_EXIT_OK;
}
