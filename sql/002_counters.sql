-- 002_counters.sql: exact row counts that do not grow with the table.
--
-- task_counts holds, per (archived, status, backend, slot), a signed
-- number of rows; the exact count of any filter is the sum of its rows.
-- Statement-level triggers with transition tables keep it in step with
-- tasks and archived_tasks in the writer's own transaction, so a reader
-- sees exactly the rows its snapshot sees (the same answer count(*)
-- would give), whatever the isolation level.
--
--  - INSERT and DELETE: one upsert per (status, backend) group touched by
--    a statement, not one per row: a bulk move of 100 000 rows costs a
--    handful of upserts.  UPDATE: a row trigger that fires only when
--    status or backend really changed (its WHEN is checked without
--    calling the function), so the common writer update (update_time,
--    result, shards) costs nothing; a status change costs one upsert of
--    two rows.
--  - slot = pg_backend_pid() % 16: concurrent writers are different
--    backends, so they mostly update different rows instead of queueing
--    on one row lock.  Two writers whose pids collide and who touch the
--    same groups in one transaction wait for each other, as writers of
--    the same rows would; upserts go in key order, so single-statement
--    writers cannot deadlock on them (a deadlock between multi-statement
--    transactions is reported as 40P01, which taskgate retries).
--  - TRUNCATE resets the counters of the truncated table.
--  - Readers sum at most 16 rows per group: the cost depends on the
--    number of distinct (status, backend) pairs, never on the row count.
--    taskgate_compact_counts() folds the slots back into slot 0 and drops
--    zero rows; running it is optional (e.g. daily from cron).
--
-- Idempotent: the functions are replaced, the triggers recreated, and
-- the counters rebuilt from the tables while writers are locked out
-- (SHARE lock, held to the end of the migration's transaction).

CREATE TABLE IF NOT EXISTS task_counts (
	archived	boolean NOT NULL,
	status		text NOT NULL,
	backend		text NOT NULL,
	slot		smallint NOT NULL,
	n		bigint NOT NULL,
	PRIMARY KEY (archived, status, backend, slot)
) WITH (fillfactor = 50);

-- search_path is pinned to the migration's: writers with another one
-- still find task_counts.
CREATE OR REPLACE FUNCTION taskgate_count_rows() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	arch	boolean := TG_TABLE_NAME = 'archived_tasks';
	sl	smallint := pg_backend_pid() % 16;
BEGIN
	IF TG_LEVEL = 'ROW' THEN
		-- UPDATE that changed status or backend (see the trigger's WHEN):
		-- two distinct groups, in key order.
		INSERT INTO task_counts AS c (archived, status, backend, slot, n)
		SELECT arch, s, b, sl, d FROM (VALUES
		    (OLD.status, OLD.backend, -1), (NEW.status, NEW.backend, 1)) v (s, b, d)
		ORDER BY s, b
		ON CONFLICT (archived, status, backend, slot)
		DO UPDATE SET n = c.n + excluded.n;
	ELSIF TG_OP = 'INSERT' THEN
		INSERT INTO task_counts AS c (archived, status, backend, slot, n)
		SELECT arch, status, backend, sl, count(*) FROM nt
		GROUP BY status, backend ORDER BY status, backend
		ON CONFLICT (archived, status, backend, slot)
		DO UPDATE SET n = c.n + excluded.n;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO task_counts AS c (archived, status, backend, slot, n)
		SELECT arch, status, backend, sl, -count(*) FROM ot
		GROUP BY status, backend ORDER BY status, backend
		ON CONFLICT (archived, status, backend, slot)
		DO UPDATE SET n = c.n + excluded.n;
	ELSE	-- not used by the triggers below; kept for statement-level use
		INSERT INTO task_counts AS c (archived, status, backend, slot, n)
		SELECT arch, status, backend, sl, sum(d) FROM (
			SELECT status, backend, 1 AS d FROM nt
			UNION ALL
			SELECT status, backend, -1 FROM ot) z
		GROUP BY status, backend HAVING sum(d) <> 0
		ORDER BY status, backend
		ON CONFLICT (archived, status, backend, slot)
		DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION taskgate_count_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	DELETE FROM task_counts
	WHERE archived = (TG_TABLE_NAME = 'archived_tasks');
	RETURN NULL;
END $$;

-- Folds every slot into slot 0 and drops groups that are zero.  Exact
-- under concurrent writers: the DELETE locks the rows it removes and
-- returns their latest committed values.
CREATE OR REPLACE FUNCTION taskgate_compact_counts() RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
	WITH d AS (DELETE FROM task_counts RETURNING *)
	INSERT INTO task_counts AS c (archived, status, backend, slot, n)
	SELECT archived, status, backend, 0, sum(n) FROM d
	GROUP BY archived, status, backend HAVING sum(n) <> 0
	ORDER BY archived, status, backend
	ON CONFLICT (archived, status, backend, slot)
	DO UPDATE SET n = c.n + excluded.n;
$$;

LOCK TABLE tasks, archived_tasks IN SHARE MODE;

DROP TRIGGER IF EXISTS tasks_count_ins ON tasks;
DROP TRIGGER IF EXISTS tasks_count_del ON tasks;
DROP TRIGGER IF EXISTS tasks_count_upd ON tasks;
DROP TRIGGER IF EXISTS tasks_count_trunc ON tasks;
DROP TRIGGER IF EXISTS archived_count_ins ON archived_tasks;
DROP TRIGGER IF EXISTS archived_count_del ON archived_tasks;
DROP TRIGGER IF EXISTS archived_count_upd ON archived_tasks;
DROP TRIGGER IF EXISTS archived_count_trunc ON archived_tasks;

CREATE TRIGGER tasks_count_ins AFTER INSERT ON tasks
	REFERENCING NEW TABLE AS nt
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_rows();
CREATE TRIGGER tasks_count_del AFTER DELETE ON tasks
	REFERENCING OLD TABLE AS ot
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_rows();
CREATE TRIGGER tasks_count_upd AFTER UPDATE OF status, backend ON tasks
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
	    OR OLD.backend IS DISTINCT FROM NEW.backend)
	EXECUTE FUNCTION taskgate_count_rows();
CREATE TRIGGER tasks_count_trunc AFTER TRUNCATE ON tasks
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_truncate();
CREATE TRIGGER archived_count_ins AFTER INSERT ON archived_tasks
	REFERENCING NEW TABLE AS nt
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_rows();
CREATE TRIGGER archived_count_del AFTER DELETE ON archived_tasks
	REFERENCING OLD TABLE AS ot
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_rows();
CREATE TRIGGER archived_count_upd AFTER UPDATE OF status, backend ON archived_tasks
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
	    OR OLD.backend IS DISTINCT FROM NEW.backend)
	EXECUTE FUNCTION taskgate_count_rows();
CREATE TRIGGER archived_count_trunc AFTER TRUNCATE ON archived_tasks
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_truncate();

-- Rebuild from the rows (writers are locked out until commit).
DELETE FROM task_counts;
INSERT INTO task_counts (archived, status, backend, slot, n)
SELECT false, status, backend, 0, count(*) FROM tasks
GROUP BY status, backend;
INSERT INTO task_counts (archived, status, backend, slot, n)
SELECT true, status, backend, 0, count(*) FROM archived_tasks
GROUP BY status, backend;

-- Lists filtered by both status and backend (DB_LIST_SB, DB_ALIST_SB):
-- the first page without a filter step whose length depends on how rare
-- the pair is.
CREATE INDEX IF NOT EXISTS tasks_status_backend_order_idx
	ON tasks (status, backend, submit_time DESC, seq DESC);
CREATE INDEX IF NOT EXISTS archived_tasks_status_backend_order_idx
	ON archived_tasks (status, backend, submit_time DESC, seq DESC);
