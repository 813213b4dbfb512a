#!/usr/bin/perl
# taskgate-admin sync: new, updated, archived, restored and (--mirror)
# deleted tasks come over; another store's tasks are never touched; an
# unchanged store changes nothing; --follow against a store a writer
# keeps changing while the API is read, then SIGTERM (exit 0); kill -9
# in the middle of a big import leaves whole tasks only.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use TG;
use TGStore;

my ($c, $w) = tg_setup();
my $dsn = $c->dsn;
my $dir = tg_tmpdir();
my ($fa, $fb) = ("$dir/a.sqlite", "$dir/b.sqlite");
store_create($_) for $fa, $fb;

sub task_sql {
	my ($tab, $id, %o) = @_;
	my @v = (sq($id), sq($o{backend} // 'dummy'), sq($o{status} // 'success'), $o{shots} // 1,
	    sq($o{submit} // '2026-05-01T00:00:00+00:00'), sq($o{update} // '2026-05-01T00:00:00+00:00'),
	    sq($o{result}), sq($o{metadata} // '{}'));
	push @v, sq($o{archived_at} // '2026-05-02T00:00:00+00:00') if $tab eq 'archived_tasks';
	push @v, 'NULL';
	return "INSERT INTO $tab VALUES (" . join(',', @v) . ");\n";
}
sub shard_sql {
	my ($tab, $id, $i, %o) = @_;
	my @v = (sq($id), $i, sq("p-$id-$i"), sq('b'), 1, 0, sq($o{status} // 'success'), 'NULL', 'NULL',
	    sq('2026-05-01T00:00:00Z'), sq($o{update} // '2026-05-01T00:00:00Z'));
	push @v, sq('2026-05-02T00:00:00Z') if $tab =~ /^archived/;
	return "INSERT INTO $tab VALUES (" . join(',', @v) . ");\n";
}

my $sql = "BEGIN;\n";
$sql .= task_sql('tasks', "a$_") . shard_sql('task_shards', "a$_", 0) for 1 .. 6;
$sql .= task_sql('archived_tasks', 'a-old') . shard_sql('archived_task_shards', 'a-old', 0);
store_sql($fa, "$sql COMMIT;");
store_sql($fb, "BEGIN;" . task_sql('tasks', 'b1') . task_sql('tasks', 'a1', status => 'failed',
    update => '2027-01-01T00:00:00Z') . "COMMIT;");

my ($rc, $out) = tg_admin('-d', $dsn, 'sync', $fa, '--source', 'A');
is($rc, 0, 'first sync of A: exit 0') or diag $out;
like($out, qr/ok, 7 tasks read, 7 new/, '... all new');
($rc, $out) = tg_admin('-d', $dsn, 'sync', $fb, '--source', 'B', '--report', "$dir/b.jsonl");
is($rc, 1, 'sync of B: exit 1, one conflict reported') or diag $out;
like(`cat $dir/b.jsonl`, qr/"task_id":"a1","reason":"left alone: the database has this id from source \d+"/,
    '... a1 belongs to store A and is left alone');
is($c->sql("SELECT status FROM tasks WHERE task_id = 'a1'"), 'success', "B's newer a1 did not overwrite A's");
is($c->sql("SELECT count(*) FROM task_origin o JOIN taskgate_import_sources s ON s.id = o.source_id "
    . "WHERE s.name = 'B'"), '1', 'B sent one task');

# Unchanged: nothing written.
my $xmin = "SELECT string_agg(task_id || xmin, ',' ORDER BY task_id) FROM (SELECT task_id, xmin FROM tasks "
    . "UNION ALL SELECT task_id, xmin FROM archived_tasks UNION ALL SELECT task_id, xmin FROM task_origin) z";
my $before = $c->sql($xmin);
# This pass must see A unsettled (written under 3 s ago), or it records
# the signature and the pass after the sleep takes the other branch: on
# a slow machine the runs above can take that long.
utime(undef, undef, $fa) or die "$fa: $!";
($rc, $out) = tg_admin('-d', $dsn, 'sync', $fa, '--source', 'A');
like($out, qr/ok, 7 tasks read, 0 new, 0 updated, 0 moved, 7 unchanged, 0 shards sent/, 'unchanged store: all unchanged') or diag $out;
is($c->sql($xmin), $before, '... and nothing rewritten');
# Once the files have settled, their signature alone says "unchanged".
sleep 3;
($rc, $out) = tg_admin('-d', $dsn, '-v', 'sync', $fa, '--source', 'A');
like($out, qr/digest is the last pass's.*7 tasks read, 0 new, 0 updated, 0 moved, 7 unchanged/s, 'settled store: the digest says unchanged') or diag $out;
($rc, $out) = tg_admin('-d', $dsn, '-v', 'sync', $fa, '--source', 'A');
like($out, qr/files are as at the last pass.*7 tasks read, 0 new, 0 updated, 0 moved, 7 unchanged/s, '... then the file signature alone') or diag $out;
is($c->sql($xmin), $before, '... and nothing rewritten');

# Changes in A: new, updated (task and a shard), archived, restored, deleted.
store_sql($fa, "BEGIN;" . task_sql('tasks', 'a7') . shard_sql('task_shards', 'a7', 0) . shard_sql('task_shards', 'a7', 1)
    . "UPDATE tasks SET status = 'failed', update_time = '2026-06-01T00:00:00Z' WHERE task_id = 'a2';"
    . "UPDATE task_shards SET status = 'cancelled', update_time = '2026-06-01T00:00:00Z' WHERE uniqc_task_id = 'a3';"
    . task_sql('archived_tasks', 'a4', archived_at => '2026-06-02T00:00:00+00:00')
    . shard_sql('archived_task_shards', 'a4', 0)
    . "DELETE FROM tasks WHERE task_id = 'a4';"
    . task_sql('tasks', 'a-old') . shard_sql('task_shards', 'a-old', 0)
    . "DELETE FROM archived_tasks WHERE task_id = 'a-old'; DELETE FROM archived_task_shards WHERE uniqc_task_id = 'a-old';"
    . "DELETE FROM tasks WHERE task_id = 'a5';"
    . "COMMIT;");
($rc, $out) = tg_admin('-d', $dsn, 'sync', $fa, '--source', 'A');
is($rc, 0, 'sync without --mirror') or diag $out;
like($out, qr/ok, 7 tasks read, 1 new, 1 updated, 2 moved, 2 unchanged/, '... new, updated, moved counted') or diag $out;
is($c->sql("SELECT count(*) FROM task_shards WHERE uniqc_task_id = 'a7'"), '2', 'new task with its shards');
is($c->sql("SELECT status FROM tasks WHERE task_id = 'a2'"), 'failed', 'updated task');
is($c->sql("SELECT status FROM task_shards WHERE uniqc_task_id = 'a3'"), 'cancelled', 'updated shard');
is($c->sql("SELECT archived_at FROM archived_tasks WHERE task_id = 'a4'"), '2026-06-02 00:00:00+00', 'archived in the store: archived');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'a4'") . $c->sql("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 'a4'"),
    '01', '... out of tasks, shard moved too');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'a-old'") . $c->sql("SELECT count(*) FROM archived_tasks WHERE task_id = 'a-old'")
    . $c->sql("SELECT count(*) FROM task_shards WHERE uniqc_task_id = 'a-old'"), '101', 'restored in the store: restored, with its shard');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'a5'"), '1', 'deleted in the store: kept without --mirror');
($rc, $out) = tg_admin('-d', $dsn, 'sync', $fa, '--source', 'A', '--mirror');
like($out, qr/ 1 deleted,/, '--mirror: one deleted') or diag $out;
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'a5'"), '0', '... a5 gone');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'b1'"), '1', "... B's task untouched");
# B's store deleting b1 with --mirror of A does nothing; B's own mirror does.
store_sql($fb, "DELETE FROM tasks WHERE task_id = 'b1';");
($rc, $out) = tg_admin('-d', $dsn, 'sync', $fa, '--source', 'A', '--mirror');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'b1'"), '1', "A's mirror leaves B's tasks alone");
($rc, $out) = tg_admin('-d', $dsn, 'sync', $fb, '--source', 'B', '--mirror');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'b1'") . $c->sql("SELECT count(*) FROM tasks WHERE task_id = 'a1'"),
    '01', "B's mirror deletes b1, never A's a1");
($rc, $out) = tg_admin('-d', $dsn, 'check');
is($rc, 0, 'counters consistent') or diag $out;

# --follow: a writer keeps changing store C while the API is read.
my $fc = "$dir/c.sqlite";
store_create($fc);
my $writer = tg_spawn(cmd => ['sh', '-c', 'i=0; while [ $i -lt 60 ]; do i=$((i+1)); sqlite3 "$0" ".timeout 5000" '
    . '"BEGIN; INSERT INTO tasks VALUES (\'c$i\', \'dummy\', \'running\', 1, \'2026-05-01T00:00:00+00:00\', \'2026-05-01T00:00:00+00:00\', NULL, \'{}\', NULL);'
    . ' INSERT INTO task_shards VALUES (\'c$i\', 0, \'p\', \'b\', 1, 0, \'running\', NULL, NULL, \'2026-05-01T00:00:00Z\', \'2026-05-01T00:00:00Z\');'
    . ' UPDATE tasks SET status = \'success\', result_json = \'{\"n\": \' || $i || \'}\', update_time = \'2026-05-01T00:01:00.\' || $i || \'+00:00\' WHERE task_id = \'c\' || ($i - 1);'
    . ' COMMIT;" || exit 1; sleep 0.05; done', $fc], log => "$dir/writer.log");
my $follow = tg_spawn(cmd => [$ENV{TG_BUILDDIR} . '/src/taskgate-admin', '-d', $dsn, 'sync', $fc, '--follow',
    '--interval', '0.2', '--source', 'C'], log => "$dir/follow.log");
my ($reads, $bad) = (0, 0);
my $until = time + 60;
while (waitpid($writer, WNOHANG) == 0 && time < $until) {
	my ($s) = tg_http(GET => "$w->{base}/api/tasks?limit=5");
	$reads++;
	$bad++ if $s != 200;
}
my $wst = $?;
is($wst, 0, 'writer finished') or diag `cat $dir/writer.log`;
ok($reads > 10 && $bad == 0, "API answered 200 while following ($reads reads)");
my $want = store_sql($fc, "SELECT count(*) FROM tasks;") + 0;
my $got;
for (1 .. 100) {
	$got = $c->sql("SELECT count(*) FROM tasks WHERE task_id LIKE 'c%' AND status = CASE WHEN task_id = 'c60' THEN 'running' ELSE 'success' END");
	last if $got == $want;
	sleep 0.2;
}
is($got, $want, 'follow caught up with every change');
is($c->sql("SELECT result::text FROM tasks WHERE task_id = 'c30'"), '{"n": 31}', '... results too');
# The database goes away and comes back: --follow carries on.
$c->stop('fast');
sleep 1;
store_sql($fc, "INSERT INTO tasks VALUES ('c-after', 'dummy', 'success', 1, '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z', NULL, '{}', NULL);");
sleep 1;
$c->start;
for (1 .. 100) {
	last if $c->sql("SELECT count(*) FROM tasks WHERE task_id = 'c-after'") eq '1';
	sleep 0.2;
}
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'c-after'"), '1', 'follow survived a database restart');
kill 'TERM', $follow;
my $t0 = time;
waitpid($follow, 0);
is($? >> 8, 0, 'SIGTERM: clean exit 0') or diag `cat $dir/follow.log`;
ok(time - $t0 < 10, '... promptly');
like(`cat $dir/follow.log`, qr/sync \Q$fc\E: ok, .* passes/, '... with its summary');
like(`cat $dir/follow.log`, qr/pass failed, trying again/, '... after saying it lost the database');

# kill -9 in the middle of a big import: whole tasks only.
my $fd = "$dir/big.sqlite";
store_create($fd);
my $big = "BEGIN;\n";
my $res = '{"counts": {' . join(', ', map { "\"k$_\": $_" } 1 .. 200) . '}}';
for my $i (1 .. 6000) {
	$big .= task_sql('tasks', "big$i", result => $res, submit => sprintf('2026-05-01T00:%02d:%02d+00:00', $i / 60 % 60, $i % 60));
	$big .= shard_sql('task_shards', "big$i", $_) for 0 .. ($i % 4);
}
store_sql($fd, "$big COMMIT;");
my $imp = tg_spawn(cmd => [$ENV{TG_BUILDDIR} . '/src/taskgate-admin', '-d', $dsn, 'import', $fd, '--batch', '200',
    '--progress', '0.2'], log => "$dir/big.log", signal => 'KILL');
for (1 .. 400) {
	last if $c->sql("SELECT count(*) FROM tasks WHERE task_id LIKE 'big%'") >= 400;
	sleep 0.02;
}
kill 'KILL', $imp;
waitpid($imp, 0);
my $n = $c->sql("SELECT count(*) FROM tasks WHERE task_id LIKE 'big%'");
ok($n > 0 && $n < 6000, "killed mid-way ($n of 6000 tasks in)");
is($c->sql("SELECT count(*) FROM tasks t WHERE task_id LIKE 'big%' AND (SELECT count(*) FROM task_shards s "
    . "WHERE s.uniqc_task_id = t.task_id) <> substr(task_id, 4)::int % 4 + 1"), '0', 'every task in has all its shards');
is($c->sql("SELECT count(*) FROM task_shards WHERE uniqc_task_id LIKE 'big%' AND uniqc_task_id NOT IN (SELECT task_id FROM tasks)"),
    '0', 'no shard without its task');
($rc, $out) = tg_admin('-d', $dsn, 'import', $fd, '--progress', '0.1');
like($out, qr/progress \d+\/6000 tasks, \d+ tasks\/s/, 'plain progress lines when stderr is not a terminal');
is($rc, 0, 'import again after the kill') or diag $out;
is($c->sql("SELECT count(*) FROM tasks WHERE task_id LIKE 'big%'"), '6000', '... completes');
($rc, $out) = tg_admin('-d', $dsn, 'check');
is($rc, 0, 'counters consistent') or diag $out;

done_testing();
