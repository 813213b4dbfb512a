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

#endif
