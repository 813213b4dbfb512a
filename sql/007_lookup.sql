-- 007_lookup.sql: indexes for reading tasks by id, for the archive's
-- archived_after and for updated_after.  Idempotent.
--
-- By id (GET /api/tasks/{id}, POST /api/tasks/lookup, the archive's
-- detail): a hash index answers an equality probe from one bucket page,
-- where the primary key's btree descends three or four levels comparing
-- text at each.  At 1 000 000 tasks a lookup of 1 000 random ids spent
-- two thirds of PostgreSQL's time in those descents; with the hash index
-- the statement runs in 4.7 ms against 5.8 (pgbench; bench/API-REPORT.md).
-- The primary keys stay: they hold uniqueness, and task_shards' foreign
-- key refers to tasks'.
CREATE INDEX IF NOT EXISTS tasks_id_hash_idx ON tasks USING hash (task_id);
CREATE INDEX IF NOT EXISTS archived_tasks_id_hash_idx
	ON archived_tasks USING hash (task_id);

-- archived_after T on /api/archive: the list order with archived_at as
-- a key column, so that the walk in list order tests archived_at in the
-- index and reads only the matching rows from the table (btree checks
-- a condition on a later key column inside the index).  Without it the
-- planner reads every match from archived_tasks_archived_at_idx and
-- sorts them: O(matches), 3 194 rows for a page of 100 at 1 000 000.
CREATE INDEX IF NOT EXISTS archived_tasks_order_archived_idx
	ON archived_tasks (submit_time DESC, seq DESC, archived_at);

-- updated_after T: the rows submitted at or before T and updated after
-- it (tasks running across T) are those whose [submitted, updated)
-- range holds T, which a GiST index of the ranges finds without reading
-- the others (src/filter_sql.c reads the rows submitted after T from
-- the order index).  least/greatest: a row updated before it was
-- submitted still has a valid range (the statement's other conditions
-- drop it).  The expression is the text of sql.c's DB_F_UPDATED_SPAN.
CREATE INDEX IF NOT EXISTS tasks_update_span_idx ON tasks USING gist
	(tstzrange(least(submit_time, update_time),
	    greatest(submit_time, update_time), '[)'));
CREATE INDEX IF NOT EXISTS archived_tasks_update_span_idx
	ON archived_tasks USING gist
	(tstzrange(least(submit_time, update_time),
	    greatest(submit_time, update_time), '[)'));
