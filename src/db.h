/*
 * db.h: the database, as handlers see it: numbered statements with
 * text parameters, and their rows decoded into the typed rows of rows.h
 * (db_task_row, db_shard_row, ...).  Which columns each statement
 * returns is declared next to its SQL (sql.c, a layout per statement)
 * and checked against what PostgreSQL describes, once per connection:
 * a statement whose columns disagree fails (APP_SYSTEM, a 500, and the
 * log line says which column) instead of decoding zeros.  The only
 * modules that include libpq are db*.c.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

struct buf;
struct task_row;
struct lookup_row;
struct shard_row;
struct count_row;
struct outcome_row;
struct restore_row;
struct etag_row;

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

/*
 * The shape of a statement's rows: which columns (name and type) it
 * returns, and so which decoder reads them.  sql.c declares the columns
 * of each (db_layouts, in db_cols.h).
 */
enum db_layout {
	DB_L_NONE,		/* rows never read (lock statements) */
	DB_L_TASK,		/* task summaries: db_task_row */
	DB_L_DETAIL,		/* a task with its result: db_task_row */
	DB_L_TASK_SEQ,		/* summaries with seq (filtered lists) */
	DB_L_LOOKUP,		/* db_lookup_row */
	DB_L_SHARD,		/* db_shard_row */
	DB_L_COUNT,		/* one number: db_count */
	DB_L_STATUS_N,		/* (status, n): db_count_row */
	DB_L_GROUP,		/* (status, backend, n): db_count_row */
	DB_L_DELETED,		/* (id, deleted): db_outcome_row */
	DB_L_OUTCOME,		/* (id, outcome): db_outcome_row */
	DB_L_EXPIRE,		/* (k, task_id): db_outcome_row */
	DB_L_BULKF,		/* (k, id, n): db_outcome_row */
	DB_L_ID,		/* (task_id): db_outcome_row */
	DB_L_RESTORE,		/* (found, moved): db_restore_row */
	DB_L_ETAG,		/* (changes, salt): db_etag_row */
	DB_L__MAX
};

struct db_stmt_def {
	const char	*name;		/* for the log: "DB_GET" */
	enum db_layout	 rows;
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
	DB_F_METADATA, DB_F_META_KEY,
	DB_F_UPDATED_SPLIT, DB_F_ARCHIVED_SPLIT,
	DB_F_UPDATED_ODD, DB_F_ARCHIVED_ODD,
	DB_F_UPDATED_LATE, DB_F_UPDATED_SPAN,
	DB_F_AFTER_DESC, DB_F_AFTER_ASC,
	DB_F_ORDER_DESC, DB_F_ORDER_ASC,
	DB_F_LIMIT,
	DB_F_CGROUP, DB_F_GROUP, DB_F_GROUP_END,
	DB_F_BULK_LOCK, DB_F_BULK_DELETE, DB_F_BULK_ARCHIVE, DB_F_SAMPLE,
	DB_F__MAX
};

extern const char *const db_frag[DB_F__MAX];

/*
 * The rows of a statement that starts with fragment k (sql.c, next to
 * db_frag): its name for the log and its layout; DB_L_NONE for the
 * fragments that never start one.
 */
struct db_frag_def {
	const char	*name;
	enum db_layout	 rows;
};

extern const struct db_frag_def db_frag_rows[DB_F__MAX];

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
	enum db_frag	 rows;		/* the fragment it starts with: the
					   layout of its rows (db_frag_rows) */
	const char	*pre_sql;	/* lock statement (same parameters), or NULL */
	const int	*lengths;	/* binary parameters: lengths */
	const int	*formats;	/* 1 = binary; NULL: all text */
};

struct db	*db_new(const struct db_opts *);
void		 db_free(struct db *);
enum app_err	 db_exec(struct db *, enum db_stmt, const char *const *params,
		    struct db_res **) WUR;
void		 db_dyn(struct db *, const struct db_query *);
int		 db_meta_indexed(struct db *, int archived, const char *key);
void		 db_res_free(struct db_res *);

/*
 * Rows of a result, decoded (db_rows.c).  Text points into the result
 * and lives as long as it.  Each returns APP_SYSTEM (db_last_error()
 * says which statement and column) when the result is not of a layout
 * the decoder reads or a value has a width its type does not allow.
 */
size_t		 db_nrows(const struct db_res *);
enum app_err	 db_task_row(const struct db_res *, size_t,
		    struct task_row *) WUR;
enum app_err	 db_lookup_row(const struct db_res *, size_t,
		    struct lookup_row *) WUR;
enum app_err	 db_shard_row(const struct db_res *, size_t,
		    struct shard_row *, int *is_shard) WUR;
enum app_err	 db_count_row(const struct db_res *, size_t,
		    struct count_row *) WUR;
enum app_err	 db_outcome_row(const struct db_res *, size_t,
		    struct outcome_row *) WUR;
enum app_err	 db_count(const struct db_res *, int64_t *) WUR;
enum app_err	 db_restore_row(const struct db_res *,
		    struct restore_row *) WUR;
enum app_err	 db_etag_row(const struct db_res *, struct etag_row *) WUR;

/*
 * DB_ETAG ahead of the next statement: the next db_exec or db_stream
 * sends DB_ETAG first, in the same pipeline (one round trip, one
 * implicit transaction, the tag's snapshot taken before the
 * statement's), and gives its row to fn before it returns, so before
 * any of the statement's rows is read; fn's error is the statement's.
 * Once given (or with fn NULL) nothing more is sent ahead.  A statement
 * that fails keeps the ask for its retry.
 */
typedef enum app_err (*db_etag_fn)(void *ctx, const struct db_res *);
void		 db_etag_ask(struct db *, db_etag_fn fn, void *ctx);
/*
 * 1 when, since the last db_etag_ask, DB_ETAG itself failed (not there,
 * not granted, not prepared, a row that does not decode), so that what
 * failed with it may be run again without the ask; 0 when anything else
 * failed.
 */
int		 db_etag_failed(const struct db *);

enum app_err	 db_stream(struct db *, enum db_stmt, const char *const *) WUR;
int		 db_stream_next(struct db *, struct db_res **, enum app_err *);
void		 db_stream_abort(struct db *);

void		 db_array(struct buf *, const char *const *, const size_t *,
		    size_t);
const char	*db_last_error(const struct db *);

#endif
