-- 008_meta_keys.sql: the metadata filter in list order, for the keys
-- one chooses.  Idempotent.
--
-- metadata={"k": v} at 1 000 000 tasks: 004's GIN index finds every
-- match but not in list order, so a page either reads all the matches
-- and sorts them or walks the order index past every row that does not
-- match -- at 1 % of the tasks matching, 10 000 rows for a page of 100
-- (bench/API-REPORT.md).  No index PostgreSQL ships gives containment
-- matches in time order, and one row per (task, key) kept by triggers
-- doubled the size of the database at 1 000 000 tasks of bench/load.sql
-- (2.2 GB for 7 keys a task).  What does: for a key filtered by often,
-- a btree of (metadata -> key, submit_time DESC, seq DESC):
--
--	SELECT taskgate_index_metadata('circuit');
--
-- builds it on tasks and on archived_tasks (writers wait while it is
-- built: 3 s at 1 000 000 tasks; 47 MB), and
-- taskgate_drop_metadata_index('circuit') drops them.  taskgate finds
-- these indexes at the first metadata filter on a connection and a
-- minute later again (by their comment, 'taskgate metadata key: ' and
-- the key); for a filter whose value at such a key is a
-- string of at most 256 bytes, an integer, true, false or null, it adds
-- metadata -> key = value (the same rows: containment of a scalar is
-- equality), and drops the containment test when that pair is the whole
-- filter, so that the planner reads the page from the btree, in list
-- order (src/filter_sql.c, sql.c's DB_F_META_KEY).  Other filters read
-- the GIN index as before.
--
-- The indexes are partial: a value whose JSON text is over 2 000 bytes
-- is left out (a btree entry has a size limit: the insert of such a
-- task would fail); the filter repeats the predicate, which holds for
-- every value taskgate uses the index for.

CREATE OR REPLACE FUNCTION taskgate_index_metadata(k text) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	t	text;
BEGIN
	IF k IS NULL OR octet_length(k) > 128 THEN
		RAISE EXCEPTION 'taskgate_index_metadata: a key of at most 128 bytes';
	END IF;
	FOREACH t IN ARRAY ARRAY['tasks', 'archived_tasks'] LOOP
		EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I '
		    '((metadata -> %L), submit_time DESC, seq DESC) '
		    'WHERE octet_length((metadata -> %L)::text) <= 2000',
		    t || '_meta_' || md5(k), t, k, k);
		EXECUTE format('COMMENT ON INDEX %I IS %L',
		    t || '_meta_' || md5(k), 'taskgate metadata key: ' || k);
	END LOOP;
END $$;

CREATE OR REPLACE FUNCTION taskgate_drop_metadata_index(k text)
RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	t	text;
BEGIN
	FOREACH t IN ARRAY ARRAY['tasks', 'archived_tasks'] LOOP
		EXECUTE format('DROP INDEX IF EXISTS %I', t || '_meta_' || md5(k));
	END LOOP;
END $$;
