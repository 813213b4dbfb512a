-- 004_api.sql: what SPEC section 4 (taskgate's additions) needs.
-- Idempotent.
--
-- Indexes of the 4.1 filters.  The keyset index of the cursor,
-- (submit_time DESC, seq DESC), is tasks_order_idx of 001 (a btree
-- reads it both ways, so order=asc uses it too).
--  - metadata @> '{...}': a GIN index, jsonb_path_ops (smaller, and
--    made for @>).
--  - updated_after/before: tasks_update_time_idx (001) on tasks; the
--    same on the archive, with archived_at.
CREATE INDEX IF NOT EXISTS tasks_metadata_idx
	ON tasks USING gin (metadata jsonb_path_ops);
CREATE INDEX IF NOT EXISTS archived_tasks_metadata_idx
	ON archived_tasks USING gin (metadata jsonb_path_ops);
CREATE INDEX IF NOT EXISTS archived_tasks_update_time_idx
	ON archived_tasks (update_time);
CREATE INDEX IF NOT EXISTS archived_tasks_archived_at_idx
	ON archived_tasks (archived_at);
