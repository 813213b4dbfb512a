/*
 * rows.h: the typed rows the store hands out.  db.c decodes a result
 * into these (binary formats stay in db.c); handlers pass them to the
 * JSON writers (jsonw.h).  Text points into the result it came from and
 * lives as long as that result; p is NULL for SQL NULL.  No third-party
 * header is included here.
 */
#ifndef ROWS_H
#define ROWS_H

#include <stddef.h>
#include <stdint.h>

struct rtext {
	const char	*p;
	size_t		 len;
};

/*
 * A task, active or archived.  Summary rows (lists, lookup) carry
 * has_result, detail rows result; times are PostgreSQL microseconds
 * (since 2000-01-01 UTC; infinities INT64_MAX / INT64_MIN), written with
 * jsonw_time_pg().
 */
struct task_row {
	struct rtext	 task_id, backend, status;
	int64_t		 shots;
	int64_t		 submit_time, update_time;
	int		 has_result;	/* summary rows */
	struct rtext	 result;	/* detail rows: stored JSON text */
	struct rtext	 metadata;	/* stored JSON text */
	int		 archived;	/* archived_at is set */
	int64_t		 archived_at;
	int64_t		 seq;		/* list rows: the cursor's tie-breaker */
};

/* One shard of a task (GET /api/tasks/{id}/shards). */
struct shard_row {
	struct rtext	 uniqc_task_id, platform_task_id, backend, status,
			 error_message;
	int64_t		 shard_index, circuit_count, sub_index_offset;
	int64_t		 submit_time, update_time;
};

/*
 * A row of the batch lookup (DB_LOOKUP): the id asked for and, when
 * found, its summary.
 */
struct lookup_row {
	struct rtext	 id;
	int		 found;
	struct task_row	 task;
};

/*
 * A count of tasks of one status (DB_COUNTS; backend.p NULL) or of one
 * (status, backend) group (the filtered counts).
 */
struct count_row {
	struct rtext	 status, backend;
	int64_t		 n;
};

/*
 * What a move or delete did to one task, or one task id (a dry run's
 * sample: kind 0).  kind by statement: DB_BULK_DELETE 't' deleted, 'f'
 * not; DB_BULK_ARCHIVE 'a' archived, 'c' conflict, 'm' missing;
 * DB_EXPIRE 'a', 'c', 's' skipped (still running); a bulk by filter
 * '0' for its first row (n: the number matched, id empty), then '1'
 * deleted or archived, '2' conflict.
 */
struct outcome_row {
	char		 kind;
	struct rtext	 id;
	int64_t		 n;
};

/* DB_RESTORE: (0, 0) no such archived task, (1, 0) an active copy exists. */
struct restore_row {
	int64_t		 found, moved;
};

/* DB_ETAG: the sum of the writes and the table's fixed random number. */
struct etag_row {
	int64_t		 changes, salt;
};

#endif
