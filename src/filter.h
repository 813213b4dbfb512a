/*
 * filter.h: the filters, order and cursor of SPEC 4.1 for GET
 * /api/tasks and /api/archive: parsed from the query (422 bodies for bad
 * values), turned into SQL composed of the fixed fragments of sql.c
 * with every value a $n parameter, and the opaque cursor.
 */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "buf.h"

struct req;
struct db;
struct db_query;
struct jsonw_filter;

#define FILTER_NTIME	6	/* submitted_, updated_, archived_ after/before */
#define FILTER_MAXP	160
#define FILTER_MERGE	8	/* status_in values merged from their index */

struct filter {
	int		 archived;	/* /api/archive */
	int		 counts;	/* /api/tasks/counts: no order, cursor,
					   total; by instead */
	int		 by_backend;
	int		 extended;	/* a 4.1 parameter was given */
	int		 nomatch;	/* a value that names nothing stored */
	const struct str *status, *backend;
	int		 has_status_in, has_backend_in;
	struct buf	 status_in, backend_in;	/* text[] literals */
	int		 has_result;	/* -1: not given */
	int		 tset[FILTER_NTIME];
	int64_t		 t[FILTER_NTIME];	/* PostgreSQL microseconds */
	int		 has_meta;
	struct buf	 meta;		/* compact JSON */
	/* Its keys a sql/008 index may answer, and the pairs it has. */
	struct buf	 mkeys;
	int		 mpairs;
	const char	*mkey;		/* the one that has an index (in mkeys);
					   set by filter_meta_index */
	int		 asc;
	int		 cursor;	/* cursor= given (paging) */
	int		 cur_pos;	/* the cursor holds a position */
	int64_t		 cur_time, cur_seq;
	int		 total_none;
	uint64_t	 digest;	/* of the filters and the order */

	/* The statement being built (filter_sql). */
	struct buf	 sql, where, lock;
	const char	*pv[FILTER_MAXP];
	int		 len[FILTER_MAXP], fmt[FILTER_MAXP];
	char		 bin[FILTER_MAXP][8];
	char		 num[4][24];
	int		 slot[32];	/* the $n of each value (filter_sql.c) */
	/* status_in values one by one (FILTER_MERGE at most, else -1). */
	int		 nsin;
	size_t		 sin_off[FILTER_MERGE];
	struct buf	 sin;		/* the values, each NUL-terminated */
	int		 np;
};

enum filter_what {
	FILTER_LIST,		/* rows, with the cursor, order and limit */
	FILTER_COUNT,		/* the exact count of the filters */
	FILTER_GROUP,		/* (status, backend, n) of the five statuses */
	FILTER_SAMPLE,		/* the first 20 ids (a dry run's sample) */
	FILTER_BULK_DELETE,	/* limit is max_affected */
	FILTER_BULK_ARCHIVE,
	FILTER__MAX
};

void		 filter_init(struct filter *, int archived);
void		 filter_free(struct filter *);
enum app_err	 filter_parse(struct filter *, const struct req *,
		    struct buf *err) WUR;
int		 filter_counted(const struct filter *);
enum app_err	 filter_from_json(struct filter *, const struct jsonw_filter *) WUR;
void		 filter_meta_index(struct filter *, struct db *);
enum app_err	 filter_sql(struct filter *, enum filter_what, int64_t limit,
		    int64_t offset, struct db_query *) WUR;
void		 filter_cursor(struct buf *, const struct filter *, int pos,
		    int64_t pg_time, int64_t seq);
int		 filter_cursor_read(struct filter *, const struct str *);
uint64_t	 filter_fnv(uint64_t, const void *, size_t);
void		 filter_put64(unsigned char *, uint64_t);

#endif
