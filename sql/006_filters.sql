-- 006_filters.sql: indexes that keep the SPEC 4.1 filters fast at
-- 1 000 000 tasks where 004's cannot.  Idempotent.
--
-- updated_before T (and archived_before T on the archive): taskgate
-- lists the rows submitted before T from the order index, from T on
-- (a row is updated and archived after it was submitted, so that is
-- nearly all of them), and the rows that break the rule -- updated or
-- archived before they were submitted: imported data, skewed clocks --
-- from these partial indexes, in list order (src/filter_sql.c).  In a
-- database where every row keeps the rule they stay empty.  Their
-- predicates are the text of sql.c's DB_F_UPDATED_ODD and
-- DB_F_ARCHIVED_ODD: the planner uses an index only for a query that
-- repeats its predicate.
CREATE INDEX IF NOT EXISTS tasks_updated_early_idx
	ON tasks (submit_time DESC, seq DESC) WHERE update_time < submit_time;
CREATE INDEX IF NOT EXISTS archived_tasks_updated_early_idx
	ON archived_tasks (submit_time DESC, seq DESC)
	WHERE update_time < submit_time;
CREATE INDEX IF NOT EXISTS archived_tasks_archived_early_idx
	ON archived_tasks (submit_time DESC, seq DESC)
	WHERE archived_at < submit_time;

-- has_result with the exact total: counted from an index (index-only,
-- a few MB for 1 000 000 rows with btree deduplication) instead of a
-- scan of the table.
CREATE INDEX IF NOT EXISTS tasks_has_result_idx ON tasks (has_result);
CREATE INDEX IF NOT EXISTS archived_tasks_has_result_idx
	ON archived_tasks (has_result);
