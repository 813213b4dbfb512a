-- 003_expire.sql: the index of the tasks that are not finished, in list
-- order.  archive-expired with terminal_only lists every such task in
-- skipped_running; without this index that list is a scan of the whole
-- table (0.3-0.7 s at 1 000 000 tasks, inside the move's transaction).
-- Partial: it holds only the pending, running and odd-status rows, and a
-- task leaves it when it finishes.  Idempotent.
CREATE INDEX IF NOT EXISTS tasks_live_order_idx
	ON tasks (submit_time DESC, seq DESC)
	WHERE status NOT IN ('success', 'failed', 'cancelled');
