/*
 * db_int.h: private to the db*.c files (the only ones that include
 * libpq): the connection handle, the result handle, and what the three
 * files call in one another.
 *
 *  db_conn.c    the connection: connect, notice a closed one and
 *               reconnect, the session or transaction-local settings,
 *               the error kept for the log
 *  db.c         statements: prepare (with the column check), send,
 *               db_exec and its pipeline (DB_ETAG ahead of it when
 *               asked), error classes
 *  db_stream.c  db_stream*: rows one at a time (single-row mode)
 *  db_rows.c    the column check of a layout and the row decoders
 */
#ifndef DB_INT_H
#define DB_INT_H

#include <stdint.h>
#include <time.h>

#include <libpq-fe.h>

#include "buf.h"
#include "db.h"
#include "db_cols.h"

/*
 * Where each field of a layout is in a statement's rows (-1: not in
 * this layout) and its type, as checked against what PostgreSQL
 * described (db_cols_check).  ok is set once checked.
 */
struct db_colmap {
	int		 ok;
	enum db_layout	 rows;
	signed char	 col[DB_C__MAX];
	uint16_t	 oid[DB_C__MAX];
};

/* A result: the PGresult and how to decode it. */
struct db_res {
	PGresult	*pg;
	struct db	*db;		/* where a decoding error is kept */
	const char	*stmt;		/* the statement's name, for the log */
	int		 embedded;	/* db->srow: db_res_free keeps it */
	struct db_colmap cols;
};

struct db {
	PGconn		*conn;
	struct db_opts	 o;
	char		*conninfo;
	char		*schema;
	char		 timeout[24];	/* statement_timeout as text */
	char		 ltimeout[24];	/* the same for DB_LONG statements */
	unsigned char	 prepared[DB__MAX];
	/*
	 * The checked columns of each statement on this connection: the
	 * fixed ones by enum db_stmt, those built at run time by the
	 * fragment they start with (DB__MAX + enum db_frag).
	 */
	struct db_colmap cols[DB__MAX + DB_F__MAX];
	int		 streaming;
	int		 have_first;	/* first holds the stream's first result */
	PGresult	*first;
	struct db_res	 srow;		/* the stream's current row */
	int		 connected;	/* ever: the next connect is a reconnect */
	/* DB_ETAG sent ahead of the next statement (db_etag_ask). */
	db_etag_fn	 etag_fn;
	void		*etag_ctx;
	PGresult	*etag_res;	/* its result, until given to etag_fn */
	int		 etag_failed;	/* DB_ETAG itself failed since the ask */
	char		 err[256];
	/*
	 * The metadata keys with a sql/008 index on tasks [0] and on
	 * archived_tasks [1], read at the first use on a connection and
	 * again when older than DB_META_REFRESH_S: each NUL-terminated.
	 */
	struct buf	 mkeys[2];
	int		 mkeys_read;	/* on this connection */
	time_t		 mkeys_at;	/* CLOCK_MONOTONIC seconds */
	/* The statement built at run time (DB_DYN), while it runs. */
	struct db_stmt_def dyn, dynpre;
	enum db_frag	 dyn_rows;
	const int	*dyn_len;
	const int	*dyn_fmt;
};

/* How long the metadata keys read from the catalog are used (seconds). */
#define DB_META_REFRESH_S	60

/* db.c and db_conn.c */
const struct db_stmt_def *db_def(const struct db *, enum db_stmt);
struct db_colmap *db_colmap(struct db *, enum db_stmt);
void		 db_set_err(struct db *, const char *, const PGresult *);
void		 db_disconnect(struct db *);
enum app_err	 db_ensure(struct db *) WUR;
enum app_err	 db_prepare(struct db *, enum db_stmt, int *) WUR;
int		 db_send_stmt(struct db *, enum db_stmt, const char *const *);
int		 db_send_local_setup(struct db *, int);
enum app_err	 db_classify(struct db *, const PGresult *, int *) WUR;
int		 db_end_pipeline(struct db *);
int		 db_etag_keep(struct db *, PGresult *);
enum app_err	 db_etag_give(struct db *) WUR;

/* db_rows.c */
enum app_err	 db_cols_check(struct db *, enum db_stmt, const PGresult *)
		    WUR;
void		 db_res_init(struct db_res *, struct db *, enum db_stmt,
		    PGresult *);

#endif
