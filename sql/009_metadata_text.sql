-- 009_metadata_text.sql: each task's metadata as text, written once per
-- write instead of once per read.  Idempotent.
--
-- Every answer with tasks in it (the lists, a detail, a batch lookup,
-- the archive's) carries the metadata as JSON text, and PostgreSQL makes
-- that text from jsonb at each read: a walk of the binary value with
-- numeric_out for each number and an escape pass over each string.  At
-- 1 000 000 tasks it was 40 % of the lookup statement of 1 000 ids
-- (libpq, binary results: 155 statements/s against 195 reading this
-- column, 255 without metadata at all; bench/API-REPORT.md).  A stored
-- generated column keeps it with the row, so PostgreSQL computes it at
-- each INSERT and UPDATE of a row, whoever the writer is (plain SQL
-- included: nothing can set it, nothing can forget it), and a read sends
-- it as it is.  taskgate reads metadata_text where it answers with
-- metadata; `metadata` (jsonb) stays what filters, the GIN index and
-- every writer use.
--
-- What it costs: some 210 bytes a row at the load of bench/load.sql
-- (tasks 712 MB -> 921 MB at 1 000 000), and one jsonb-to-text
-- conversion per written row: without these columns single-statement
-- inserts ran 1.02 times and status changes 1.07 times as fast
-- (BENCH_SET=text bench/index-cost, 8 rounds, each 0.92 to 1.22: within
-- the machine's noise).  ADD COLUMN ... STORED rewrites the table
-- under an exclusive lock: about 40 s at 1 000 000 tasks on the bench
-- machine, during which taskgate's statements wait (see README,
-- Upgrading).
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS metadata_text text
	GENERATED ALWAYS AS (metadata::text) STORED;
ALTER TABLE archived_tasks ADD COLUMN IF NOT EXISTS metadata_text text
	GENERATED ALWAYS AS (metadata::text) STORED;
