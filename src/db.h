/*
 * db.h: the database, as handlers see it: numbered statements with
 * text parameters, results read by row and column.  The only module
 * that includes libpq (db.c); the SQL text is in sql.c.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

struct buf;

enum db_stmt {
	DB_LIST, DB_LIST_S, DB_LIST_B, DB_LIST_SB,
	DB_COUNT, DB_COUNT_S, DB_COUNT_B, DB_COUNT_SB,
	DB_ALIST, DB_ALIST_S, DB_ALIST_B, DB_ALIST_SB,
	DB_ACOUNT, DB_ACOUNT_S, DB_ACOUNT_B, DB_ACOUNT_SB,
	DB_COUNTS,
	DB_GET,
	DB_AGET,
	DB_SHARDS,
	DB_BULK_DELETE,
	DB_LOCK_TASKS,
	DB_BULK_ARCHIVE,
	DB_LOCK_EXPIRED,
	DB_EXPIRE,
	DB_ADELETE,
	DB_LOCK_ARCHIVED,
	DB_RESTORE,
	DB_ETAG,
	DB_LOOKUP,
	DB__MAX,
	DB_DYN = DB__MAX,	/* built at run time: see db_dyn() */
	DB_DYN_PRE		/* its lock statement, if any */
};

#define DB_READ		0x01	/* read-only: safe to retry after a reconnect */
#define DB_LONG		0x02	/* a bulk move or delete: its transaction
				   gets long_timeout_ms */

struct db_stmt_def {
	const char	*sql;
	int		 nparams;
	int		 flags;
	int		 pre;		/* statement run first in the same
					   transaction (locks), or -1 */
};

extern const struct db_stmt_def db_stmts[DB__MAX];

/* Fragments of the statements built at run time (sql.c, filter.c). */
enum db_frag {
	DB_F_LIST, DB_F_ALIST, DB_F_COUNT, DB_F_ACOUNT,
	DB_F_COUNTERS, DB_F_ACOUNTERS,
	DB_F_STATUS, DB_F_BACKEND, DB_F_STATUS_IN, DB_F_BACKEND_IN,
	DB_F_HAS_RESULT,
	DB_F_SUBMITTED_AFTER, DB_F_SUBMITTED_BEFORE,
	DB_F_UPDATED_AFTER, DB_F_UPDATED_BEFORE,
	DB_F_ARCHIVED_AFTER, DB_F_ARCHIVED_BEFORE,
	DB_F_METADATA,
	DB_F_UPDATED_ODD, DB_F_ARCHIVED_ODD,
	DB_F_AFTER_DESC, DB_F_AFTER_ASC,
	DB_F_ORDER_DESC, DB_F_ORDER_ASC,
	DB_F_LIMIT,
	DB_F_CGROUP, DB_F_GROUP, DB_F_GROUP_END,
	DB_F_BULK_LOCK, DB_F_BULK_DELETE, DB_F_BULK_ARCHIVE, DB_F_SAMPLE,
	DB_F__MAX
};

extern const char *const db_frag[DB_F__MAX];

struct db_opts {
	const char	*conninfo;
	const char	*schema;
	int		 statement_timeout_ms;
	int		 long_timeout_ms;	/* statements flagged DB_LONG */
	int		 connect_timeout_s;
	int		 prepare;	/* named prepared statements */
};

struct db;
struct db_res;

/* A statement built at run time from fixed fragments (filter.c). */
struct db_query {
	const char	*sql;
	int		 nparams;
	int		 flags;
	const char	*pre_sql;	/* lock statement (same parameters), or NULL */
	const int	*lengths;	/* binary parameters: lengths */
	const int	*formats;	/* 1 = binary; NULL: all text */
};

struct db	*db_new(const struct db_opts *);
void		 db_free(struct db *);
enum app_err	 db_exec(struct db *, enum db_stmt, const char *const *params,
		    struct db_res **) WUR;
void		 db_dyn(struct db *, const struct db_query *);
void		 db_res_free(struct db_res *);
size_t		 db_nrows(const struct db_res *);
int		 db_isnull(const struct db_res *, size_t, int);
const char	*db_text(const struct db_res *, size_t, int, size_t *);
int64_t		 db_int(const struct db_res *, size_t, int);
int		 db_bool(const struct db_res *, size_t, int);
int64_t		 db_time(const struct db_res *, size_t, int);
const char	*db_json(const struct db_res *, size_t, int, size_t *);

enum app_err	 db_stream(struct db *, enum db_stmt, const char *const *) WUR;
int		 db_stream_next(struct db *, struct db_res **, enum app_err *);
void		 db_stream_abort(struct db *);

void		 db_array(struct buf *, const char *const *, const size_t *,
		    size_t);
const char	*db_last_error(const struct db *);

#endif
