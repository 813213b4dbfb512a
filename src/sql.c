/*
 * sql.c: every SQL statement taskgate runs, in one table indexed by
 * enum db_stmt.  All input arrives as parameters ($n); nothing is ever
 * pasted into this text.
 *
 * Each statement names the layout of its rows (enum db_layout): the
 * columns, by name and type, that its decoder in db_rows.c reads.  The
 * layouts are declared below, next to the column lists they describe;
 * db.c checks every statement's columns against its layout once per
 * connection, so SQL and decoder cannot drift apart silently.
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
#include "db_cols.h"

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
#define CSUM "coalesce(sum(n), 0)::int8 AS n FROM task_counts"
#define TERMINAL "('success', 'failed', 'cancelled')"
#define FIVE "('pending', 'running', 'success', 'failed', 'cancelled')"

/*
 * The layouts: for each, the columns its decoder reads (field, column
 * name, type).  TSUM/ASUM are DB_L_TASK, TDET/ADET DB_L_DETAIL.
 */
#define T(f, name, oid)	{ DB_C_##f, name, DB_OID_##oid }
#define TASK_COLS \
	T(TASK_ID, "task_id", TEXT), T(BACKEND, "backend", TEXT), \
	T(STATUS, "status", TEXT), T(SHOTS, "shots", INT8), \
	T(SUBMIT_TIME, "submit_time", TIMESTAMPTZ), \
	T(UPDATE_TIME, "update_time", TIMESTAMPTZ), \
	T(METADATA, "metadata", JSONB), \
	T(ARCHIVED_AT, "archived_at", TIMESTAMPTZ)

const struct db_layout_def db_layouts[DB_L__MAX] = {
	[DB_L_NONE] = { "none", { { 0, NULL, 0 } } },
	[DB_L_TASK] = { "task summary", {
	    TASK_COLS, T(HAS_RESULT, "has_result", BOOL) } },
	[DB_L_DETAIL] = { "task detail", {
	    TASK_COLS, T(RESULT, "result", JSON) } },
	[DB_L_TASK_SEQ] = { "task summary with seq", {
	    TASK_COLS, T(HAS_RESULT, "has_result", BOOL),
	    T(SEQ, "seq", INT8) } },
	[DB_L_LOOKUP] = { "lookup", {
	    TASK_COLS, T(HAS_RESULT, "has_result", BOOL),
	    T(ID, "id", TEXT) } },
	[DB_L_SHARD] = { "shard", {
	    T(UNIQC_TASK_ID, "uniqc_task_id", TEXT),
	    T(SHARD_INDEX, "shard_index", INT4),
	    T(PLATFORM_TASK_ID, "platform_task_id", TEXT),
	    T(BACKEND, "backend", TEXT),
	    T(CIRCUIT_COUNT, "circuit_count", INT4),
	    T(SUB_INDEX_OFFSET, "sub_index_offset", INT4),
	    T(STATUS, "status", TEXT),
	    T(ERROR_MESSAGE, "error_message", TEXT),
	    T(SUBMIT_TIME, "submit_time", TIMESTAMPTZ),
	    T(UPDATE_TIME, "update_time", TIMESTAMPTZ) } },
	[DB_L_COUNT] = { "count", { T(N, "n", INT8) } },
	[DB_L_STATUS_N] = { "count by status", {
	    T(STATUS, "status", TEXT), T(N, "n", INT8) } },
	[DB_L_GROUP] = { "count by status and backend", {
	    T(STATUS, "status", TEXT), T(BACKEND, "backend", TEXT),
	    T(N, "n", INT8) } },
	[DB_L_DELETED] = { "deleted", {
	    T(ID, "id", TEXT), T(DELETED, "deleted", BOOL) } },
	[DB_L_OUTCOME] = { "outcome", {
	    T(ID, "id", TEXT), T(KIND, "outcome", TEXT) } },
	[DB_L_EXPIRE] = { "expired", {
	    T(KIND, "k", TEXT), T(ID, "task_id", TEXT) } },
	[DB_L_BULKF] = { "bulk by filter", {
	    T(KNUM, "k", INT4), T(ID, "id", TEXT), T(N, "n", INT8) } },
	[DB_L_ID] = { "id", { T(ID, "task_id", TEXT) } },
	[DB_L_RESTORE] = { "restore", {
	    T(FOUND, "found", INT8), T(MOVED, "moved", INT8) } },
	[DB_L_ETAG] = { "change counter", {
	    T(CHANGES, "changes", INT8), T(SALT, "salt", INT8) } },
};
#undef T

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
	[DB_LIST] = { "DB_LIST", DB_L_TASK,
	    "SELECT " TSUM " FROM tasks" ORDER
	    " LIMIT $1 OFFSET $2", 2, DB_READ, -1 },
	[DB_LIST_S] = { "DB_LIST_S", DB_L_TASK,
	    "SELECT " TSUM " FROM tasks WHERE status = $1" ORDER
	    " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_LIST_B] = { "DB_LIST_B", DB_L_TASK,
	    "SELECT " TSUM " FROM tasks WHERE backend = $1" ORDER
	    " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_LIST_SB] = { "DB_LIST_SB", DB_L_TASK,
	    "SELECT " TSUM " FROM tasks WHERE status = $1 "
	    "AND backend = $2" ORDER " LIMIT $3 OFFSET $4", 4, DB_READ, -1 },
	[DB_COUNT] = { "DB_COUNT", DB_L_COUNT,
	    "SELECT " CSUM " WHERE NOT archived", 0, DB_READ, -1 },
	[DB_COUNT_S] = { "DB_COUNT_S", DB_L_COUNT,
	    "SELECT " CSUM " WHERE NOT archived AND status = $1",
	    1, DB_READ, -1 },
	[DB_COUNT_B] = { "DB_COUNT_B", DB_L_COUNT,
	    "SELECT " CSUM " WHERE NOT archived AND backend = $1",
	    1, DB_READ, -1 },
	[DB_COUNT_SB] = { "DB_COUNT_SB", DB_L_COUNT,
	    "SELECT " CSUM " WHERE NOT archived AND status = $1 "
	    "AND backend = $2", 2, DB_READ, -1 },
	[DB_ALIST] = { "DB_ALIST", DB_L_TASK,
	    "SELECT " ASUM " FROM archived_tasks" ORDER
	    " LIMIT $1 OFFSET $2", 2, DB_READ, -1 },
	[DB_ALIST_S] = { "DB_ALIST_S", DB_L_TASK,
	    "SELECT " ASUM " FROM archived_tasks WHERE "
	    "status = $1" ORDER " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_ALIST_B] = { "DB_ALIST_B", DB_L_TASK,
	    "SELECT " ASUM " FROM archived_tasks WHERE "
	    "backend = $1" ORDER " LIMIT $2 OFFSET $3", 3, DB_READ, -1 },
	[DB_ALIST_SB] = { "DB_ALIST_SB", DB_L_TASK,
	    "SELECT " ASUM " FROM archived_tasks WHERE "
	    "status = $1 AND backend = $2" ORDER " LIMIT $3 OFFSET $4",
	    4, DB_READ, -1 },
	[DB_ACOUNT] = { "DB_ACOUNT", DB_L_COUNT,
	    "SELECT " CSUM " WHERE archived", 0, DB_READ, -1 },
	[DB_ACOUNT_S] = { "DB_ACOUNT_S", DB_L_COUNT,
	    "SELECT " CSUM " WHERE archived AND status = $1",
	    1, DB_READ, -1 },
	[DB_ACOUNT_B] = { "DB_ACOUNT_B", DB_L_COUNT,
	    "SELECT " CSUM " WHERE archived AND backend = $1",
	    1, DB_READ, -1 },
	[DB_ACOUNT_SB] = { "DB_ACOUNT_SB", DB_L_COUNT,
	    "SELECT " CSUM " WHERE archived AND status = $1 "
	    "AND backend = $2", 2, DB_READ, -1 },
	[DB_COUNTS] = { "DB_COUNTS", DB_L_STATUS_N,
	    "SELECT status, sum(n)::int8 AS n FROM task_counts "
	    "WHERE NOT archived AND status IN "
	    "('pending', 'running', 'success', 'failed', 'cancelled') "
	    "GROUP BY status", 0, DB_READ, -1 },
	[DB_GET] = { "DB_GET", DB_L_DETAIL,
	    "SELECT " TDET " FROM tasks WHERE task_id = $1",
	    1, DB_READ, -1 },
	[DB_AGET] = { "DB_AGET", DB_L_DETAIL,
	    "SELECT " ADET " FROM archived_tasks WHERE task_id = $1",
	    1, DB_READ, -1 },
	/* One row with NULL shard columns: the task exists, no shards. */
	[DB_SHARDS] = { "DB_SHARDS", DB_L_SHARD,
	    "SELECT s.uniqc_task_id, s.shard_index, "
	    "s.platform_task_id, s.backend, s.circuit_count, "
	    "s.sub_index_offset, s.status, s.error_message, s.submit_time, "
	    "s.update_time FROM tasks t LEFT JOIN task_shards s "
	    "ON s.uniqc_task_id = t.task_id WHERE t.task_id = $1 "
	    "ORDER BY s.shard_index", 1, DB_READ, -1 },
	/* One row per id, in order: (id, deleted). Shards go by cascade. */
	[DB_BULK_DELETE] = { "DB_BULK_DELETE", DB_L_DELETED,
	    "WITH " IDS ", "
	    "lk AS MATERIALIZED (SELECT task_id FROM tasks WHERE "
	    "task_id = ANY ($1::text[]) ORDER BY task_id FOR UPDATE), "
	    "del AS (DELETE FROM tasks t USING lk WHERE t.task_id = lk.task_id "
	    "RETURNING t.task_id) "
	    "SELECT i.id, i.first AND d.task_id IS NOT NULL AS deleted FROM ids i "
	    "LEFT JOIN del d ON d.task_id = i.id ORDER BY i.ord",
	    1, DB_LONG, -1 },
	[DB_LOCK_TASKS] = { "DB_LOCK_TASKS", DB_L_NONE,
	    "SELECT count(*) FROM (SELECT task_id FROM tasks "
	    "WHERE task_id = ANY ($1::text[]) ORDER BY task_id FOR UPDATE) lk",
	    1, 0, -1 },
	/* One row per id, in order: (id, 'a'rchived | 'c'onflict | 'm'issing). */
	[DB_BULK_ARCHIVE] = { "DB_BULK_ARCHIVE", DB_L_OUTCOME,
	    "WITH " IDS ", "
	    "lk AS MATERIALIZED (SELECT task_id FROM tasks WHERE "
	    "task_id = ANY ($1::text[]) ORDER BY task_id FOR UPDATE), "
	    "cf AS MATERIALIZED (SELECT lk.task_id FROM lk WHERE EXISTS "
	    "(SELECT 1 FROM archived_tasks a WHERE a.task_id = lk.task_id)), "
	    "mv AS (DELETE FROM tasks t USING lk WHERE t.task_id = lk.task_id "
	    "AND lk.task_id NOT IN (SELECT task_id FROM cf) RETURNING t.*), "
	    MOVE_GIVEN_TO_ARCHIVE
	    "SELECT i.id, CASE WHEN NOT i.first THEN 'm' "
	    "WHEN m.task_id IS NOT NULL THEN 'a' "
	    "WHEN c.task_id IS NOT NULL THEN 'c' ELSE 'm' END AS outcome "
	    "FROM ids i LEFT JOIN mv m ON m.task_id = i.id "
	    "LEFT JOIN cf c ON c.task_id = i.id ORDER BY i.ord",
	    1, DB_LONG, DB_LOCK_TASKS },
	[DB_LOCK_EXPIRED] = { "DB_LOCK_EXPIRED", DB_L_NONE,
	    "SELECT count(*) FROM (SELECT task_id FROM tasks "
	    "WHERE " ELIGIBLE " ORDER BY task_id FOR UPDATE) lk", 2, 0, -1 },
	/* (kind, id): 'a'rchived, 'c'onflict, 's'kipped, each in list order. */
	[DB_EXPIRE] = { "DB_EXPIRE", DB_L_EXPIRE,
	    "WITH "
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
	[DB_ADELETE] = { "DB_ADELETE", DB_L_COUNT,
	    "WITH d AS (DELETE FROM archived_tasks "
	    "WHERE task_id = $1 RETURNING task_id), "
	    "ds AS (DELETE FROM archived_task_shards WHERE uniqc_task_id "
	    "IN (SELECT task_id FROM d)) SELECT count(*) AS n FROM d", 1, 0, -1 },
	[DB_LOCK_ARCHIVED] = { "DB_LOCK_ARCHIVED", DB_L_NONE,
	    "SELECT task_id FROM archived_tasks "
	    "WHERE task_id = $1 FOR UPDATE", 1, 0, -1 },
	/* (found, moved): (0,0) missing, (1,0) active copy exists. */
	[DB_RESTORE] = { "DB_RESTORE", DB_L_RESTORE,
	    "WITH "
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
	    "SELECT (SELECT count(*) FROM lk) AS found, "
	    "(SELECT count(*) FROM mv) AS moved",
	    1, 0, DB_LOCK_ARCHIVED },
	/*
	 * The change counter (sql/004_api.sql): the sum of the writes,
	 * and the table's random number (slot -1).
	 */
	/*
	 * Batch lookup (SPEC 4.4): one summary row per id of $1, in its
	 * order (the handler sends each distinct id once), the id last; an
	 * unknown id has NULL summary columns.  A nested loop over the ids:
	 * one probe of tasks by id (sql/007's hash index, else the primary
	 * key) and, only for an id tasks lacks, one of the archive (the
	 * probe key is NULL otherwise, which an index answers without
	 * reading a page), so an active task wins
	 * over an archived copy of the same id.  The ids come out in
	 * ordinality order, which the planner knows: no sort, no hashing
	 * (a set of = ANY scans joined back to the ids by hash cost 1.35 x
	 * as much at 1 000 000 tasks: bench/API-REPORT.md).
	 */
	[DB_LOOKUP] = { "DB_LOOKUP", DB_L_LOOKUP,
	    "SELECT coalesce(t.task_id, a.task_id) AS task_id, "
	    "coalesce(t.backend, a.backend) AS backend, "
	    "coalesce(t.status, a.status) AS status, "
	    "coalesce(t.shots, a.shots) AS shots, "
	    "coalesce(t.submit_time, a.submit_time) AS submit_time, "
	    "coalesce(t.update_time, a.update_time) AS update_time, "
	    "coalesce(t.has_result, a.has_result) AS has_result, "
	    "coalesce(t.metadata, a.metadata) AS metadata, a.archived_at, u.id "
	    "FROM unnest($1::text[]) WITH ORDINALITY AS u(id, ord) "
	    "LEFT JOIN tasks t ON t.task_id = u.id "
	    "LEFT JOIN archived_tasks a "
	    "ON a.task_id = CASE WHEN t.task_id IS NULL THEN u.id END "
	    "ORDER BY u.ord", 1, DB_READ, -1 },
	[DB_ETAG] = { "DB_ETAG", DB_L_ETAG,
	    "SELECT coalesce(sum(n) FILTER (WHERE slot >= 0), 0)"
	    "::int8 AS changes, coalesce(max(n) FILTER (WHERE slot = -1), 0)"
	    "::int8 AS salt FROM taskgate_changes", 0, DB_READ, -1 },
};

/*
 * The fragments the filtered lists and counts of SPEC 4.1/4.2 are
 * composed of (filter.c): fixed text whose only variable part is the
 * number of a $n parameter ("%d", filled in with buf_printf).
 */
const char *const db_frag[DB_F__MAX] = {
	[DB_F_LIST] = "SELECT " TSUM ", seq FROM tasks",
	[DB_F_ALIST] = "SELECT " ASUM ", seq FROM archived_tasks",
	[DB_F_COUNT] = "SELECT count(*)::int8 AS n FROM tasks",
	[DB_F_ACOUNT] = "SELECT count(*)::int8 AS n FROM archived_tasks",
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
	 * The value at key $2 of the filter $1 (a scalar: filter_sql.c),
	 * in the terms of sql/008's index of that key: once the key is
	 * known (the statement is planned with its values) the planner
	 * reads the page from it, the second test being its predicate.
	 */
	[DB_F_META_KEY] = "$%d::jsonb -> $%d::text = metadata -> $%d::text "
	    "AND octet_length((metadata -> $%d::text)::text) <= 2000",
	/*
	 * The first branch of that split: the rows submitted before $%d
	 * (the same value twice).  "+ interval '0'" (exact) keeps the
	 * planner from estimating the two bounds as independent: they
	 * are not, and with the product it picks a bitmap of all the
	 * matches and a sort over the walk of the order index from $%d.
	 */
	[DB_F_UPDATED_SPLIT] = "update_time + interval '0' < $%d::timestamptz "
	    "AND submit_time < $%d::timestamptz",
	[DB_F_ARCHIVED_SPLIT] = "archived_at + interval '0' < $%d::timestamptz "
	    "AND submit_time < $%d::timestamptz",
	/*
	 * The rows updated (archived) before they were submitted, and
	 * submitted at or after $%d, updated (archived) before it: the
	 * second branch of a list split at an updated_before
	 * (archived_before) bound (filter_sql.c), read from the partial
	 * indexes of sql/006 (whose predicate these repeat).  "+ interval
	 * '0'" keeps the bound out of the other indexes' reach: as an index
	 * condition of sql/007's (submit_time, seq, archived_at) it made
	 * the planner walk every row submitted after the bound instead of
	 * the partial index's few.
	 */
	[DB_F_UPDATED_ODD] = "update_time < submit_time AND "
	    "submit_time >= $%d::timestamptz AND "
	    "update_time + interval '0' < $%d::timestamptz",
	[DB_F_ARCHIVED_ODD] = "archived_at < submit_time AND "
	    "submit_time >= $%d::timestamptz AND "
	    "archived_at + interval '0' < $%d::timestamptz",
	/*
	 * The split of a list at an updated_after bound (filter_sql.c):
	 * the rows submitted after $%d (a range of the order index, each
	 * updated after it as a rule; "+ interval '0'" as in
	 * DB_F_UPDATED_SPLIT), and the rows submitted at or before it and
	 * updated after it -- tasks that ran across the bound -- from
	 * sql/007's range index on [submitted, updated) (least/greatest: a
	 * row updated before it was submitted has a valid range too), which
	 * finds the ranges holding $%d without reading the others.
	 */
	[DB_F_UPDATED_LATE] = "update_time + interval '0' > $%d::timestamptz "
	    "AND submit_time > $%d::timestamptz",
	[DB_F_UPDATED_SPAN] = "tstzrange(least(submit_time, update_time), "
	    "greatest(submit_time, update_time), '[)') @> $%d::timestamptz "
	    "AND submit_time <= $%d::timestamptz "
	    "AND update_time + interval '0' > $%d::timestamptz",
	[DB_F_AFTER_DESC] = "(submit_time, seq) < ($%d::timestamptz, $%d::int8)",
	[DB_F_AFTER_ASC] = "(submit_time, seq) > ($%d::timestamptz, $%d::int8)",
	[DB_F_ORDER_DESC] = ORDER,
	[DB_F_ORDER_ASC] = " ORDER BY submit_time, seq",
	[DB_F_LIMIT] = " LIMIT $%d OFFSET $%d",
	/* /api/tasks/counts with filters: (status, backend, n) groups. */
	[DB_F_CGROUP] = "SELECT status, backend, sum(n)::int8 AS n FROM task_counts "
	    "WHERE NOT archived AND status IN " FIVE,
	[DB_F_GROUP] = "SELECT status, backend, count(*)::int8 AS n FROM tasks "
	    "WHERE status IN " FIVE,
	/*
	 * Bulk by filter (SPEC 4.5): "%w" is the filter's WHERE clause.
	 * The lock statement runs first in the same transaction (as for
	 * the id form, see the top of this file) and names the guard's
	 * parameter only so that its type is known.  The answer (k, id, n):
	 * a first row (0, NULL, number matched), then (1, id) of each row
	 * deleted or archived and (2, id) of each conflict, in list
	 * order; nothing moves when more match than the guard $%d allows.
	 */
	[DB_F_BULK_LOCK] = "SELECT count(*) FROM (SELECT task_id FROM tasks%w "
	    "ORDER BY task_id FOR UPDATE) lk WHERE $%d::int8 IS NOT NULL",
	[DB_F_BULK_DELETE] = "WITH m AS MATERIALIZED (SELECT task_id FROM "
	    "tasks%w ORDER BY task_id FOR UPDATE), "
	    "g AS (SELECT count(*) AS n FROM m), "
	    "del AS (DELETE FROM tasks t USING m WHERE t.task_id = m.task_id "
	    "AND (SELECT n FROM g) <= $%d::int8 "
	    "RETURNING t.task_id, t.submit_time, t.seq) "
	    "SELECT k, id, n FROM (SELECT 0 AS k, NULL::text AS id, "
	    "(SELECT n FROM g) AS n, NULL::timestamptz AS st, NULL::int8 AS sq "
	    "UNION ALL "
	    "SELECT 1, task_id, NULL, submit_time, seq FROM del) z "
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
	    "SELECT k, id, n FROM (SELECT 0 AS k, NULL::text AS id, "
	    "(SELECT n FROM g) AS n, NULL::timestamptz AS st, NULL::int8 AS sq "
	    "UNION ALL "
	    "SELECT 1, task_id, NULL, submit_time, seq FROM mv UNION ALL "
	    "SELECT 2, t.task_id, NULL, t.submit_time, t.seq FROM cf "
	    "JOIN tasks t ON t.task_id = cf.task_id) z "
	    "ORDER BY k, st DESC, sq DESC",
	/* The sample of a dry run: the first ids in list order. */
	[DB_F_SAMPLE] = "SELECT task_id FROM tasks%w" ORDER " LIMIT 20",
	[DB_F_GROUP_END] = " GROUP BY status, backend "
	    "ORDER BY backend COLLATE \"C\"",
};

/*
 * The rows of the statements that start with a fragment (filter.c sets
 * db_query.rows): each layout as for the fixed statements above.
 */
const struct db_frag_def db_frag_rows[DB_F__MAX] = {
	[DB_F_LIST] = { "DB_F_LIST", DB_L_TASK_SEQ },
	[DB_F_ALIST] = { "DB_F_ALIST", DB_L_TASK_SEQ },
	[DB_F_COUNT] = { "DB_F_COUNT", DB_L_COUNT },
	[DB_F_ACOUNT] = { "DB_F_ACOUNT", DB_L_COUNT },
	[DB_F_COUNTERS] = { "DB_F_COUNTERS", DB_L_COUNT },
	[DB_F_ACOUNTERS] = { "DB_F_ACOUNTERS", DB_L_COUNT },
	[DB_F_CGROUP] = { "DB_F_CGROUP", DB_L_GROUP },
	[DB_F_GROUP] = { "DB_F_GROUP", DB_L_GROUP },
	[DB_F_BULK_DELETE] = { "DB_F_BULK_DELETE", DB_L_BULKF },
	[DB_F_BULK_ARCHIVE] = { "DB_F_BULK_ARCHIVE", DB_L_BULKF },
	[DB_F_SAMPLE] = { "DB_F_SAMPLE", DB_L_ID },
};
