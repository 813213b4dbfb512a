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

-- The change counter of SPEC 4.3 (ETag / 304).  Every statement that
-- writes one of the four tables (taskgate's or any writer's plain SQL)
-- adds 1 to a row of taskgate_changes in the writer's own transaction,
-- by statement-level triggers: the sum over the rows grows with every
-- committed write, and a reader sees exactly the writes its snapshot
-- sees.  taskgate reads the sum (one statement over at most 17 rows)
-- before it computes an answer, and sends it as the answer's ETag; a
-- request whose If-None-Match holds the current sum gets a 304 without
-- the answer being computed.  Read before the answer, the tag can only
-- be older than the answer, never newer: a write that commits in
-- between changes the next request's sum, so it gets a 200.
--
-- Slots as in task_counts: slot = pg_backend_pid() % 16, so concurrent
-- writers mostly bump different rows instead of queueing on one row's
-- lock until commit.  A sequence would not queue at all, but nextval is
-- not transactional: a tag read between a writer's nextval and its
-- commit would name a write the answer does not hold yet.
-- Slot -1 holds a random number fixed when the table is created: a
-- database created anew (its sums starting again from 0) does not
-- repeat the tags of another.
CREATE TABLE IF NOT EXISTS taskgate_changes (
	slot		smallint PRIMARY KEY,
	n		bigint NOT NULL
) WITH (fillfactor = 50);
INSERT INTO taskgate_changes (slot, n)
VALUES (-1, (random() * 9e15)::bigint) ON CONFLICT (slot) DO NOTHING;

CREATE OR REPLACE FUNCTION taskgate_count_change() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	INSERT INTO taskgate_changes AS c (slot, n)
	VALUES (pg_backend_pid() % 16, 1)
	ON CONFLICT (slot) DO UPDATE SET n = c.n + 1;
	RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS tasks_change ON tasks;
DROP TRIGGER IF EXISTS tasks_change_trunc ON tasks;
DROP TRIGGER IF EXISTS task_shards_change ON task_shards;
DROP TRIGGER IF EXISTS task_shards_change_trunc ON task_shards;
DROP TRIGGER IF EXISTS archived_tasks_change ON archived_tasks;
DROP TRIGGER IF EXISTS archived_tasks_change_trunc ON archived_tasks;
DROP TRIGGER IF EXISTS archived_task_shards_change ON archived_task_shards;
DROP TRIGGER IF EXISTS archived_task_shards_change_trunc ON archived_task_shards;
CREATE TRIGGER tasks_change AFTER INSERT OR UPDATE OR DELETE ON tasks
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
CREATE TRIGGER tasks_change_trunc AFTER TRUNCATE ON tasks
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
CREATE TRIGGER task_shards_change AFTER INSERT OR UPDATE OR DELETE
	ON task_shards
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
CREATE TRIGGER task_shards_change_trunc AFTER TRUNCATE ON task_shards
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
CREATE TRIGGER archived_tasks_change AFTER INSERT OR UPDATE OR DELETE
	ON archived_tasks
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
CREATE TRIGGER archived_tasks_change_trunc AFTER TRUNCATE ON archived_tasks
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
CREATE TRIGGER archived_task_shards_change AFTER INSERT OR UPDATE OR DELETE
	ON archived_task_shards
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
CREATE TRIGGER archived_task_shards_change_trunc AFTER TRUNCATE
	ON archived_task_shards
	FOR EACH STATEMENT EXECUTE FUNCTION taskgate_count_change();
