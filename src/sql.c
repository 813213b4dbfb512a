/*
 * sql.c: every SQL statement taskgate runs, in one table indexed by
 * enum db_stmt.  All input arrives as parameters ($n); nothing is ever
 * pasted into this text.
 *
 * Row layouts the handlers rely on (h_tasks.c):
 *  summary: task_id, backend, status, shots, submit_time, update_time,
 *           has_result, metadata, archived_at
 *  detail:  the same with result in place of has_result
 *
 * Moves between the active and archive tables run as one implicit
 * transaction of two statements (see db.c): first a statement that locks
 * the rows in task_id order (so concurrent bulk requests cannot
 * deadlock) and returns only their count (not 100 000 ids over the
 * wire), then the move itself, which therefore sees every shard
 * committed before the lock was granted.
 */
#include "config.h"

#include "db.h"

#define ORDER " ORDER BY submit_time DESC, seq DESC"
#define TSUM "task_id, backend, status, shots, submit_time, update_time, " \
	"has_result, metadata, NULL::timestamptz AS archived_at"
#define TDET "task_id, backend, status, shots, submit_time, update_time, " \
	"result, metadata, NULL::timestamptz AS archived_at"
#define ASUM "task_id, backend, status, shots, submit_time, update_time, " \
	"has_result, metadata, archived_at"
#define ADET "task_id, backend, status, shots, submit_time, update_time, " \
	"result, metadata, archived_at"
#define TCOLS "task_id, backend, status, shots, submit_time, update_time, " \
	"result, metadata, error_message"
#define SCOLS "uniqc_task_id, shard_index, platform_task_id, backend, " \
	"circuit_count, sub_index_offset, status, result, error_message, " \
	"submit_time, update_time"
/*
 * Exact counts come from task_counts (sql/002_counters.sql), kept by
 * triggers in the writers' transactions: a sum over a few rows per
 * (status, backend), whatever the size of the tables.
 */
#define CSUM "coalesce(sum(n), 0)::int8 FROM task_counts"
#define TERMINAL "('success', 'failed', 'cancelled')"
#define FIVE "('pending', 'running', 'success', 'failed', 'cancelled')"

/* Positions of the ids of a bulk request, first occurrences marked. */
#define IDS "ids AS (SELECT u.id, u.ord, row_number() OVER " \
	"(PARTITION BY u.id ORDER BY u.ord) = 1 AS first " \
	"FROM unnest($1::text[]) WITH ORDINALITY AS u(id, ord))"

/*
 * Moves the rows of mv (deleted from tasks) and their shards; FROM and
 * ORDER BY pick the order in which the archive rows get their seq.
 */
#define MOVE_TO_ARCHIVE_BY(from_order) \
	"ins AS (INSERT INTO archived_tasks (" TCOLS ", archived_at) " \
	"SELECT " TCOLS ", now() FROM " from_order "), " \
	"sm AS (DELETE FROM task_shards s USING mv " \
	"WHERE s.uniqc_task_id = mv.task_id RETURNING s.*), " \
	"si AS (INSERT INTO archived_task_shards (" SCOLS ", archived_at) " \
	"SELECT " SCOLS ", now() FROM sm) "
/*
 * archive-expired: seq in list order (newest first), as the original
 * archiving the tasks it takes in list order one after the other; among
 * equal submit_times /api/archive then lists them the other way round.
 */
#define MOVE_TO_ARCHIVE MOVE_TO_ARCHIVE_BY("mv ORDER BY submit_time DESC, seq DESC")
/*
 * bulk-archive: seq in the order the ids were given, as the original
 * archiving one id after the other (SPEC 2.4).
 */
#define MOVE_GIVEN_TO_ARCHIVE MOVE_TO_ARCHIVE_BY("mv JOIN ids " \
	"ON ids.id = mv.task_id AND ids.first ORDER BY ids.ord")

#define ELIGIBLE "update_time <= now() - $1::float8 * interval '1 hour' " \
	"AND (NOT $2::bool OR status IN " TERMINAL ")"

const struct db_stmt_def db_stmts[DB__MAX] = {
	[DB_LIST] = { "SELECT " TSUM " FROM tasks" ORDER
	    " LIMIT $1 OFFSET $2", 2, DB_READ, -1 },
	[DB_LIST_S] = { "SELECT " TSUM " FROM tasks WHERE status = $1" ORDER
	    " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_LIST_B] = { "SELECT " TSUM " FROM tasks WHERE backend = $1" ORDER
	    " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_LIST_SB] = { "SELECT " TSUM " FROM tasks WHERE status = $1 "
	    "AND backend = $2" ORDER " LIMIT $3 OFFSET $4", 4, DB_READ, -1 },
	[DB_COUNT] = { "SELECT " CSUM " WHERE NOT archived", 0, DB_READ, -1 },
	[DB_COUNT_S] = { "SELECT " CSUM " WHERE NOT archived AND status = $1",
	    1, DB_READ, -1 },
	[DB_COUNT_B] = { "SELECT " CSUM " WHERE NOT archived AND backend = $1",
	    1, DB_READ, -1 },
	[DB_COUNT_SB] = { "SELECT " CSUM " WHERE NOT archived AND status = $1 "
	    "AND backend = $2", 2, DB_READ, -1 },
	[DB_ALIST] = { "SELECT " ASUM " FROM archived_tasks" ORDER
	    " LIMIT $1 OFFSET $2", 2, DB_READ, -1 },
	[DB_ALIST_S] = { "SELECT " ASUM " FROM archived_tasks WHERE "
	    "status = $1" ORDER " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_ALIST_B] = { "SELECT " ASUM " FROM archived_tasks WHERE "
	    "backend = $1" ORDER " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_ALIST_SB] = { "SELECT " ASUM " FROM archived_tasks WHERE "
	    "status = $1 AND backend = $2" ORDER " LIMIT $3 OFFSET $4",
	    4, DB_READ, -1 },
	[DB_ACOUNT] = { "SELECT " CSUM " WHERE archived", 0, DB_READ, -1 },
	[DB_ACOUNT_S] = { "SELECT " CSUM " WHERE archived AND status = $1",
	    1, DB_READ, -1 },
	[DB_ACOUNT_B] = { "SELECT " CSUM " WHERE archived AND backend = $1",
	    1, DB_READ, -1 },
	[DB_ACOUNT_SB] = { "SELECT " CSUM " WHERE archived AND status = $1 "
	    "AND backend = $2", 2, DB_READ, -1 },
	[DB_COUNTS] = { "SELECT status, sum(n)::int8 FROM task_counts "
	    "WHERE NOT archived AND status IN "
	    "('pending', 'running', 'success', 'failed', 'cancelled') "
	    "GROUP BY status", 0, DB_READ, -1 },
	[DB_GET] = { "SELECT " TDET " FROM tasks WHERE task_id = $1",
	    1, DB_READ, -1 },
	[DB_AGET] = { "SELECT " ADET " FROM archived_tasks WHERE task_id = $1",
	    1, DB_READ, -1 },
	/* One row with NULL shard columns: the task exists, no shards. */
	[DB_SHARDS] = { "SELECT s.uniqc_task_id, s.shard_index, "
	    "s.platform_task_id, s.backend, s.circuit_count, "
	    "s.sub_index_offset, s.status, s.error_message, s.submit_time, "
	    "s.update_time FROM tasks t LEFT JOIN task_shards s "
	    "ON s.uniqc_task_id = t.task_id WHERE t.task_id = $1 "
	    "ORDER BY s.shard_index", 1, DB_READ, -1 },
	/* One row per id, in order: (id, deleted). Shards go by cascade. */
	[DB_BULK_DELETE] = { "WITH " IDS ", "
	    "lk AS MATERIALIZED (SELECT task_id FROM tasks WHERE "
	    "task_id = ANY ($1::text[]) ORDER BY task_id FOR UPDATE), "
	    "del AS (DELETE FROM tasks t USING lk WHERE t.task_id = lk.task_id "
	    "RETURNING t.task_id) "
	    "SELECT i.id, i.first AND d.task_id IS NOT NULL FROM ids i "
	    "LEFT JOIN del d ON d.task_id = i.id ORDER BY i.ord",
	    1, DB_LONG, -1 },
	[DB_LOCK_TASKS] = { "SELECT count(*) FROM (SELECT task_id FROM tasks "
	    "WHERE task_id = ANY ($1::text[]) ORDER BY task_id FOR UPDATE) lk",
	    1, 0, -1 },
	/* One row per id, in order: (id, 'a'rchived | 'c'onflict | 'm'issing). */
	[DB_BULK_ARCHIVE] = { "WITH " IDS ", "
	    "lk AS MATERIALIZED (SELECT task_id FROM tasks WHERE "
	    "task_id = ANY ($1::text[]) ORDER BY task_id FOR UPDATE), "
	    "cf AS MATERIALIZED (SELECT lk.task_id FROM lk WHERE EXISTS "
	    "(SELECT 1 FROM archived_tasks a WHERE a.task_id = lk.task_id)), "
	    "mv AS (DELETE FROM tasks t USING lk WHERE t.task_id = lk.task_id "
	    "AND lk.task_id NOT IN (SELECT task_id FROM cf) RETURNING t.*), "
	    MOVE_GIVEN_TO_ARCHIVE
	    "SELECT i.id, CASE WHEN NOT i.first THEN 'm' "
	    "WHEN m.task_id IS NOT NULL THEN 'a' "
	    "WHEN c.task_id IS NOT NULL THEN 'c' ELSE 'm' END "
	    "FROM ids i LEFT JOIN mv m ON m.task_id = i.id "
	    "LEFT JOIN cf c ON c.task_id = i.id ORDER BY i.ord",
	    1, DB_LONG, DB_LOCK_TASKS },
	[DB_LOCK_EXPIRED] = { "SELECT count(*) FROM (SELECT task_id FROM tasks "
	    "WHERE " ELIGIBLE " ORDER BY task_id FOR UPDATE) lk", 2, 0, -1 },
	/* (kind, id): 'a'rchived, 'c'onflict, 's'kipped, each in list order. */
	[DB_EXPIRE] = { "WITH "
	    "lk AS MATERIALIZED (SELECT task_id FROM tasks WHERE " ELIGIBLE
	    " ORDER BY task_id FOR UPDATE), "
	    "cf AS MATERIALIZED (SELECT lk.task_id FROM lk WHERE EXISTS "
	    "(SELECT 1 FROM archived_tasks a WHERE a.task_id = lk.task_id)), "
	    "mv AS (DELETE FROM tasks t USING lk WHERE t.task_id = lk.task_id "
	    "AND lk.task_id NOT IN (SELECT task_id FROM cf) RETURNING t.*), "
	    MOVE_TO_ARCHIVE
	    "SELECT k, task_id FROM ("
	    "SELECT 'a' AS k, task_id, submit_time, seq FROM mv UNION ALL "
	    "SELECT 'c', t.task_id, t.submit_time, t.seq FROM cf "
	    "JOIN tasks t ON t.task_id = cf.task_id UNION ALL "
	    "SELECT 's', task_id, submit_time, seq FROM tasks WHERE $2::bool "
	    "AND status NOT IN " TERMINAL ") z "
	    "ORDER BY k, submit_time DESC, seq DESC",
	    2, DB_LONG, DB_LOCK_EXPIRED },
	[DB_ADELETE] = { "WITH d AS (DELETE FROM archived_tasks "
	    "WHERE task_id = $1 RETURNING task_id), "
	    "ds AS (DELETE FROM archived_task_shards WHERE uniqc_task_id "
	    "IN (SELECT task_id FROM d)) SELECT count(*) FROM d", 1, 0, -1 },
	[DB_LOCK_ARCHIVED] = { "SELECT task_id FROM archived_tasks "
	    "WHERE task_id = $1 FOR UPDATE", 1, 0, -1 },
	/* (found, moved): (0,0) missing, (1,0) active copy exists. */
	[DB_RESTORE] = { "WITH "
	    "lk AS MATERIALIZED (SELECT task_id FROM archived_tasks "
	    "WHERE task_id = $1 FOR UPDATE), "
	    "cf AS MATERIALIZED (SELECT 1 FROM lk WHERE EXISTS "
	    "(SELECT 1 FROM tasks t WHERE t.task_id = lk.task_id)), "
	    "mv AS (DELETE FROM archived_tasks a USING lk "
	    "WHERE a.task_id = lk.task_id AND NOT EXISTS (SELECT 1 FROM cf) "
	    "RETURNING a.*), "
	    "ins AS (INSERT INTO tasks (" TCOLS ") SELECT " TCOLS " FROM mv), "
	    "sm AS (DELETE FROM archived_task_shards s USING mv "
	    "WHERE s.uniqc_task_id = mv.task_id RETURNING s.*), "
	    "si AS (INSERT INTO task_shards (" SCOLS ") SELECT " SCOLS
	    " FROM sm) "
	    "SELECT (SELECT count(*) FROM lk), (SELECT count(*) FROM mv)",
	    1, 0, DB_LOCK_ARCHIVED },
	/*
	 * The change counter (sql/004_api.sql): the sum of the writes,
	 * and the table's random number (slot -1).
	 */
	/*
	 * Batch lookup (SPEC 4.4): one summary row per distinct id, in
	 * the order of first occurrence, the id last; an unknown id has
	 * NULL summary columns.  An active task wins over an archived
	 * copy of the same id.  Each table is read once with = ANY (one
	 * index scan over the sorted ids) and joined to the ids by hash;
	 * the archive only for the ids the active table does not hold.
	 */
	[DB_LOOKUP] = { "WITH ids AS (SELECT u.id, min(u.ord) AS ord "
	    "FROM unnest($1::text[]) WITH ORDINALITY AS u(id, ord) "
	    "GROUP BY u.id), "
	    "t AS (SELECT " TSUM " FROM tasks WHERE task_id = ANY ($1::text[])), "
	    "a AS (SELECT " ASUM " FROM archived_tasks WHERE task_id = ANY "
	    "(ARRAY(SELECT i.id FROM ids i LEFT JOIN t ON t.task_id = i.id "
	    "WHERE t.task_id IS NULL))) "
	    "SELECT x.task_id, x.backend, x.status, x.shots, x.submit_time, "
	    "x.update_time, x.has_result, x.metadata, x.archived_at, i.id "
	    "FROM ids i LEFT JOIN (SELECT * FROM t UNION ALL SELECT * FROM a) x "
	    "ON x.task_id = i.id ORDER BY i.ord", 1, DB_READ, -1 },
	[DB_ETAG] = { "SELECT coalesce(sum(n) FILTER (WHERE slot >= 0), 0)"
	    "::int8, coalesce(max(n) FILTER (WHERE slot = -1), 0)::int8 "
	    "FROM taskgate_changes", 0, DB_READ, -1 },
};

/*
 * The fragments the filtered lists and counts of SPEC 4.1/4.2 are
 * composed of (filter.c): fixed text whose only variable part is the
 * number of a $n parameter ("%d", filled in with buf_printf).
 */
const char *const db_frag[DB_F__MAX] = {
	[DB_F_LIST] = "SELECT " TSUM ", seq FROM tasks",
	[DB_F_ALIST] = "SELECT " ASUM ", seq FROM archived_tasks",
	[DB_F_COUNT] = "SELECT count(*)::int8 FROM tasks",
	[DB_F_ACOUNT] = "SELECT count(*)::int8 FROM archived_tasks",
	[DB_F_COUNTERS] = "SELECT " CSUM " WHERE NOT archived",
	[DB_F_ACOUNTERS] = "SELECT " CSUM " WHERE archived",
	[DB_F_STATUS] = "status = $%d",
	[DB_F_BACKEND] = "backend = $%d",
	[DB_F_STATUS_IN] = "status = ANY ($%d::text[])",
	[DB_F_BACKEND_IN] = "backend = ANY ($%d::text[])",
	[DB_F_HAS_RESULT] = "has_result = $%d::bool",
	[DB_F_SUBMITTED_AFTER] = "submit_time > $%d::timestamptz",
	[DB_F_SUBMITTED_BEFORE] = "submit_time < $%d::timestamptz",
	[DB_F_UPDATED_AFTER] = "update_time > $%d::timestamptz",
	[DB_F_UPDATED_BEFORE] = "update_time < $%d::timestamptz",
	[DB_F_ARCHIVED_AFTER] = "archived_at > $%d::timestamptz",
	[DB_F_ARCHIVED_BEFORE] = "archived_at < $%d::timestamptz",
	[DB_F_METADATA] = "metadata @> $%d::jsonb",
	/*
	 * The rows updated (archived) before they were submitted, and
	 * submitted at or after $%d: the second branch of a list split at an
	 * updated_before (archived_before) bound (filter_sql.c), read from the
	 * partial indexes of sql/006 (whose predicate these repeat).
	 */
	[DB_F_UPDATED_ODD] = "update_time < submit_time AND "
	    "submit_time >= $%d::timestamptz",
	[DB_F_ARCHIVED_ODD] = "archived_at < submit_time AND "
	    "submit_time >= $%d::timestamptz",
	[DB_F_AFTER_DESC] = "(submit_time, seq) < ($%d::timestamptz, $%d::int8)",
	[DB_F_AFTER_ASC] = "(submit_time, seq) > ($%d::timestamptz, $%d::int8)",
	[DB_F_ORDER_DESC] = ORDER,
	[DB_F_ORDER_ASC] = " ORDER BY submit_time, seq",
	[DB_F_LIMIT] = " LIMIT $%d OFFSET $%d",
	/* /api/tasks/counts with filters: (status, backend, n) groups. */
	[DB_F_CGROUP] = "SELECT status, backend, sum(n)::int8 FROM task_counts "
	    "WHERE NOT archived AND status IN " FIVE,
	[DB_F_GROUP] = "SELECT status, backend, count(*)::int8 FROM tasks "
	    "WHERE status IN " FIVE,
	/*
	 * Bulk by filter (SPEC 4.5): "%w" is the filter's WHERE clause.
	 * The lock statement runs first in the same transaction (as for
	 * the id form, see the top of this file) and names the guard's
	 * parameter only so that its type is known.  The answer: a first
	 * row (0, number matched), then (1, id) of each row deleted or
	 * archived and (2, id) of each conflict, in list order; nothing
	 * moves when more match than the guard $%d allows.
	 */
	[DB_F_BULK_LOCK] = "SELECT count(*) FROM (SELECT task_id FROM tasks%w "
	    "ORDER BY task_id FOR UPDATE) lk WHERE $%d::int8 IS NOT NULL",
	[DB_F_BULK_DELETE] = "WITH m AS MATERIALIZED (SELECT task_id FROM "
	    "tasks%w ORDER BY task_id FOR UPDATE), "
	    "g AS (SELECT count(*) AS n FROM m), "
	    "del AS (DELETE FROM tasks t USING m WHERE t.task_id = m.task_id "
	    "AND (SELECT n FROM g) <= $%d::int8 "
	    "RETURNING t.task_id, t.submit_time, t.seq) "
	    "SELECT k, id FROM (SELECT 0 AS k, (SELECT n FROM g)::text AS id, "
	    "NULL::timestamptz AS st, NULL::int8 AS sq UNION ALL "
	    "SELECT 1, task_id, submit_time, seq FROM del) z "
	    "ORDER BY k, st DESC, sq DESC",
	[DB_F_BULK_ARCHIVE] = "WITH m AS MATERIALIZED (SELECT task_id FROM "
	    "tasks%w ORDER BY task_id FOR UPDATE), "
	    "g AS (SELECT count(*) AS n FROM m), "
	    "lk AS MATERIALIZED (SELECT task_id FROM m "
	    "WHERE (SELECT n FROM g) <= $%d::int8), "
	    "cf AS MATERIALIZED (SELECT lk.task_id FROM lk WHERE EXISTS "
	    "(SELECT 1 FROM archived_tasks a WHERE a.task_id = lk.task_id)), "
	    "mv AS (DELETE FROM tasks t USING lk WHERE t.task_id = lk.task_id "
	    "AND lk.task_id NOT IN (SELECT task_id FROM cf) RETURNING t.*), "
	    MOVE_TO_ARCHIVE
	    "SELECT k, id FROM (SELECT 0 AS k, (SELECT n FROM g)::text AS id, "
	    "NULL::timestamptz AS st, NULL::int8 AS sq UNION ALL "
	    "SELECT 1, task_id, submit_time, seq FROM mv UNION ALL "
	    "SELECT 2, t.task_id, t.submit_time, t.seq FROM cf "
	    "JOIN tasks t ON t.task_id = cf.task_id) z "
	    "ORDER BY k, st DESC, sq DESC",
	/* The sample of a dry run: the first ids in list order. */
	[DB_F_SAMPLE] = "SELECT task_id FROM tasks%w" ORDER " LIMIT 20",
	[DB_F_GROUP_END] = " GROUP BY status, backend "
	    "ORDER BY backend COLLATE \"C\"",
};
