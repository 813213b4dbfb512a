/*
 * admin.c: taskgate-admin, the operator's tool: start-up (options in
 * the manner of PostgreSQL's tools, the responder's config discovery),
 * the connection, the report file and the log; the subcommands live in
 * admin_sync.c (import, sync) and admin_ops.c (migrate, check,
 * archive-expired, purge-archive).
 *
 * Exit status: 0 ok, 1 done but rows were reported (or check found a
 * problem), 2 failure.  A one-line summary ends every run on stderr.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "admin.h"
#include "admin_conv.h"
#include "admin_ops.h"

volatile sig_atomic_t adm_stopping;

static void
on_stop(int sig)
{
	(void)sig;
	adm_stopping = 1;
}

double
adm_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One line on stderr: level 0 error (always), 1 info (not -q), 2 -v. */
void
adm_log(const struct adm *a, int level, const char *fmt, ...)
{
	va_list	 ap;

	if ((level == 1 && a->quiet) || (level == 2 && !a->verbose))
		return;
	fprintf(stderr, "taskgate-admin: %s", level == 0 ? "error: " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
adm_sqlstate(const struct pg_result *r)
{
	const char *s = r ? PQresultErrorField((const PGresult *)r,
	    PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

void
adm_pgerr(struct adm *a, const char *what, const struct pg_result *r)
{
	const char *m = r ? PQresultErrorField((const PGresult *)r,
	    PG_DIAG_MESSAGE_PRIMARY) : NULL;

	adm_log(a, 0, "%s: %s %s", what, adm_sqlstate(r),
	    m ? m : (a->pg ? PQerrorMessage((PGconn *)a->pg) : ""));
}

/*
 * Runs one parameterized statement.  Returns the result (the caller
 * PQclears it), or NULL after logging the error.
 */
struct pg_result *
adm_exec(struct adm *a, const char *sql, int n, const char *const *params,
    int expect_rows)
{
	PGresult	*r;
	ExecStatusType	 want = expect_rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;

	r = PQexecParams((PGconn *)a->pg, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != want && PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_COMMAND_OK) {
		adm_pgerr(a, "database", (struct pg_result *)r);
		PQclear(r);
		return NULL;
	}
	return (struct pg_result *)r;
}

static void
quiet_notice(void *arg, const char *msg)
{
	const struct adm *a = arg;

	if (a->verbose)
		fprintf(stderr, "taskgate-admin: %s", msg);
}

/*
 * Connects (once) with -d or the config's database, sets search_path
 * to the config's schema and statement_timeout to its
 * move_statement_timeout.  Returns 0 after logging why it failed.
 */
int
adm_connect(struct adm *a)
{
	const char	*kw[5], *val[5], *pv[2];
	char		 to[24];
	PGresult	*r;

	if (a->pg != NULL)
		return 1;
	kw[0] = "application_name";	val[0] = "taskgate-admin";
	kw[1] = "client_encoding";	val[1] = "UTF8";
	kw[2] = "dbname";		val[2] = a->conninfo ? a->conninfo : "";
	kw[3] = NULL;			val[3] = NULL;
	a->pg = (struct pg_conn *)PQconnectdbParams(kw, val, 1);
	if (a->pg == NULL || PQstatus((PGconn *)a->pg) != CONNECTION_OK) {
		adm_log(a, 0, "cannot connect: %s", a->pg ?
		    strtok(PQerrorMessage((PGconn *)a->pg), "\n") : "no memory");
		PQfinish((PGconn *)a->pg);
		a->pg = NULL;
		return 0;
	}
	PQsetNoticeProcessor((PGconn *)a->pg, quiet_notice, a);
	snprintf(to, sizeof(to), "%ld", a->cfg.move_statement_timeout);
	pv[0] = a->cfg.schema;
	pv[1] = to;
	r = (PGresult *)adm_exec(a, "SELECT pg_catalog.set_config('search_path', "
	    "$1, false), pg_catalog.set_config('statement_timeout', $2, false)",
	    2, pv, 1);
	if (r == NULL)
		return 0;
	PQclear(r);
	return 1;
}

/* Drops the connection and connects again.  Returns 0 as adm_connect. */
int
adm_reconnect(struct adm *a)
{
	PQfinish((PGconn *)a->pg);
	a->pg = NULL;
	return adm_connect(a);
}

/*
 * One reported row: a JSON line in --report FILE, and on stderr (the
 * first ten, or all with -v; none with -q).  id may be any bytes: one
 * that is not UTF-8 is written as "task_id_hex".
 */
void
adm_report(struct adm *a, const char *table, const char *id, size_t idlen,
    int64_t shard, int64_t rowid, const char *reason)
{
	json_object	*o;
	char		*hex;
	size_t		 i;

	a->reported++;
	if (a->report != NULL && (o = json_object_new_object()) != NULL) {
		json_object_object_add(o, "table", json_object_new_string(table));
		if (conv_utf8_ok(id, idlen))
			json_object_object_add(o, "task_id",
			    json_object_new_string_len(id, (int)idlen));
		else if ((hex = malloc(idlen * 2 + 1)) != NULL) {
			for (i = 0; i < idlen; i++)
				snprintf(hex + 2 * i, 3, "%02x",
				    (unsigned char)id[i]);
			hex[2 * idlen] = '\0';
			json_object_object_add(o, "task_id_hex",
			    json_object_new_string(hex));
			free(hex);
		}
		if (shard >= 0)
			json_object_object_add(o, "shard_index",
			    json_object_new_int64(shard));
		if (rowid >= 0)
			json_object_object_add(o, "rowid",
			    json_object_new_int64(rowid));
		json_object_object_add(o, "reason",
		    json_object_new_string(reason));
		fprintf(a->report, "%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	if (a->quiet || (!a->verbose && a->shown > 10))
		return;
	if (!a->verbose && a->shown++ == 10) {
		adm_log(a, 1, "more rows reported%s", a->report ?
		    " (all in the report file)" : " (--report FILE lists all)");
		return;
	}
	fprintf(stderr, "taskgate-admin: reported %s ", table);
	for (i = 0; i < idlen && i < 200; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
			fprintf(stderr, "\\x%02x", (unsigned char)id[i]);
		else
			fputc(id[i], stderr);
	if (shard >= 0)
		fprintf(stderr, "#%lld", (long long)shard);
	fprintf(stderr, ": %s\n", reason);
}

static void
usage(FILE *f)
{
	fprintf(f,
"taskgate-admin: import uniqc's task store into taskgate's PostgreSQL\n"
"database and look after it.\n\n"
"Usage:\n"
"  taskgate-admin [OPTION]... COMMAND [ARG]...\n\n"
"Commands:\n"
"  import FILE            copy a uniqc store (tasks.sqlite) into the database\n"
"  sync FILE              bring later changes of a store over\n"
"      --follow             repeat until SIGTERM or SIGINT\n"
"      --interval S         seconds between passes (default 2)\n"
"      --mirror             also delete tasks the store no longer has\n"
"    (import and sync)  --report FILE   reported rows as JSON lines\n"
"                       --source NAME   store identity (default host:path)\n"
"                       --batch N       tasks per transaction (2000)\n"
"                       --progress S    seconds between progress lines (5)\n"
"  archive-expired --hours H [--all-statuses]\n"
"                         archive tasks not updated for H hours\n"
"  purge-archive --older-than DAYS\n"
"                         delete tasks archived more than DAYS days ago\n"
"  migrate [--dry-run] [--sql-dir DIR]\n"
"                         create or upgrade the schema\n"
"  check [--repair] [--sql-dir DIR]\n"
"                         config, connection, schema and counters\n\n"
"Options:\n"
"  -d, --dbname=CONNINFO  database (default: the config's database)\n"
"  -c, --config=FILE      config file (default: as taskgate finds it)\n"
"  -q, --quiet            only errors and the summary of a failure\n"
"  -v, --verbose          more detail\n"
"  -V, --version          print the version and exit\n"
"  -?, --help             print this help and exit\n\n"
"Exit status: 0 ok, 1 rows reported or problems found, 2 failure.\n");
}

/*
 * The command line: the global options into a, *cpath and *dbopt, the
 * command into *cmd, what follows it into sub[0..*nsub).  Returns -1 to
 * go on, or the exit status (--help, --version, a bad option).
 */
static int
options(int argc, char *argv[], struct adm *a, const char **cmd,
    const char **cpath, const char **dbopt, char **sub, int *nsub)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--help") || !strcmp(o, "-?") ||
		    !strcmp(o, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--version") || !strcmp(o, "-V")) {
			printf("taskgate-admin (taskgate) %s\n", PACKAGE_VERSION);
			return 0;
		} else if (!strcmp(o, "-q") || !strcmp(o, "--quiet"))
			a->quiet = 1;
		else if (!strcmp(o, "-v") || !strcmp(o, "--verbose"))
			a->verbose = 1;
		else if ((!strcmp(o, "-d") || !strcmp(o, "-c")) && v) {
			*(o[1] == 'd' ? dbopt : cpath) = v;
			i++;
		} else if (!strncmp(o, "--dbname=", 9))
			*dbopt = o + 9;
		else if (!strncmp(o, "--config=", 9))
			*cpath = o + 9;
		else if (*cmd == NULL && o[0] != '-')
			*cmd = o;
		else if (*cmd == NULL) {
			fprintf(stderr, "taskgate-admin: unknown option \"%s\" "
			    "(see --help)\n", o);
			return ADM_EXIT_FAIL;
		} else
			sub[(*nsub)++] = argv[i];
	}
	if (*cmd == NULL) {
		usage(stderr);
		return ADM_EXIT_FAIL;
	}
	return -1;
}

/* Runs command cmd; cfgerr: the config's error ("check" reports it). */
static int
command(struct adm *a, const char *cmd, int nsub, char **sub,
    const char *argv0, const char *cfgerr)
{
	if (!strcmp(cmd, "import") || !strcmp(cmd, "sync"))
		return adm_import(a, nsub, sub, cmd[0] == 's');
	if (!strcmp(cmd, "migrate"))
		return ops_migrate(a, nsub, sub, argv0);
	if (!strcmp(cmd, "check"))
		return ops_check(a, nsub, sub, argv0, cfgerr);
	if (!strcmp(cmd, "archive-expired"))
		return ops_archive_expired(a, nsub, sub);
	if (!strcmp(cmd, "purge-archive"))
		return ops_purge_archive(a, nsub, sub);
	fprintf(stderr, "taskgate-admin: unknown command \"%s\" "
	    "(see --help)\n", cmd);
	return ADM_EXIT_FAIL;
}

int
main(int argc, char *argv[])
{
	struct adm		 a;
	struct sigaction	 sa;
	char			**sub, err[512];
	const char		*cmd = NULL, *cpath = NULL, *dbopt = NULL;
	int			 nsub = 0, rc, cfgbad = 0;

	memset(&a, 0, sizeof(a));
	if ((sub = calloc((size_t)argc + 1, sizeof(*sub))) == NULL)
		return ADM_EXIT_FAIL;
	if ((rc = options(argc, argv, &a, &cmd, &cpath, &dbopt, sub,
	    &nsub)) >= 0) {
		free(sub);
		return rc;
	}
	cfg_defaults(&a.cfg);
	if ((a.cfgpath = cfg_find(cpath, argv[0])) != NULL &&
	    !cfg_load(&a.cfg, a.cfgpath, err, sizeof(err))) {
		if (strcmp(cmd, "check") != 0) {
			fprintf(stderr, "taskgate-admin: error: config: %s\n", err);
			cfg_free(&a.cfg);
			free(sub);
			return ADM_EXIT_FAIL;
		}
		cfgbad = 1;
	}
	a.conninfo = dbopt ? dbopt : a.cfg.database;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	rc = command(&a, cmd, nsub, sub, argv[0], cfgbad ? err : NULL);
	if (a.report != NULL && fclose(a.report) != 0) {
		fprintf(stderr, "taskgate-admin: error: writing the report "
		    "failed\n");
		rc = ADM_EXIT_FAIL;
	}
	PQfinish((PGconn *)a.pg);
	cfg_free(&a.cfg);
	free(sub);
	return rc;
}
