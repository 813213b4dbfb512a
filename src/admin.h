/*
 * admin.h: what the modules of taskgate-admin share: the program's
 * state, the PostgreSQL helpers of admin.c and the report file.
 * taskgate-admin is its own program: admin.c, admin_sync.c,
 * admin_import.c, admin_direct.c and admin_ops.c talk to PostgreSQL with
 * libpq directly (statements in their own tables), admin_store.c is the
 * only file that includes <sqlite3.h>, and admin_conv.c holds the pure
 * conversions.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "app.h"
#include "cfg.h"

struct pg_conn;
struct pg_result;

/* Exit statuses, as PostgreSQL's tools use them. */
#define ADM_EXIT_OK	0
#define ADM_EXIT_ROWS	1	/* done, but rows were reported */
#define ADM_EXIT_FAIL	2

struct adm {
	struct cfg	 cfg;
	const char	*cfgpath;	/* the file read, or NULL */
	const char	*conninfo;	/* -d, else cfg.database */
	int		 quiet, verbose;
	struct pg_conn	*pg;
	FILE		*report;	/* --report FILE, or NULL */
	long		 reported;	/* rows reported so far */
	long		 shown;		/* of them written to stderr */
};

extern volatile sig_atomic_t adm_stopping;

int	adm_connect(struct adm *) WUR;
int	adm_reconnect(struct adm *) WUR;
struct pg_result *adm_exec(struct adm *, const char *sql, int n,
	    const char *const *params, int expect_rows);
void	adm_pgerr(struct adm *, const char *what, const struct pg_result *);
const char *adm_sqlstate(const struct pg_result *);
void	adm_report(struct adm *, const char *table, const char *id,
	    size_t idlen, int64_t shard, int64_t rowid, const char *reason);
void	adm_log(const struct adm *, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
double	adm_now(void);

int	adm_import(struct adm *, int argc, char **argv, int sync);

#endif
