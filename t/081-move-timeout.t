#!/usr/bin/perl
# move_statement_timeout: bulk-delete, bulk-archive and archive-expired
# run under their own (longer) statement_timeout, set transaction-locally,
# so the next statement on the same connection has the normal one again.
# Waiting on a row lock held by another session makes the time visible.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use TG;

my ($c, $w) = tg_setup(procs => 1,
    conf => "statement_timeout = 300\nmove_statement_timeout = 2500\n");
my $b = $w->{base};
my %J = ('Content-Type' => 'application/json');
for my $id (qw(t1 t2 t3 t4)) {
	tg_task($c, $id, update => '2026-01-01T00:00:00Z');
	tg_shard($c, $id, 0);
}
my $down = '{"detail":"Database unavailable"}';

# Another session locks task $id (of table $tab) for $secs seconds.
my $n = 0;
sub hold_row {
	my ($id, $secs, $tab) = @_;
	$tab //= 'tasks';
	my $app = 'locker' . ++$n;
	my $f = tg_tmpdir() . "/$app.sql";
	open my $fh, '>', $f or die;
	print $fh "BEGIN;\nSELECT 1 FROM $tab WHERE task_id = '$id' FOR UPDATE;\n"
	    . "SELECT pg_sleep($secs);\nCOMMIT;\n";
	close $fh;
	my $p = tg_spawn(cmd => ['psql', '-X', '-q', '-f', $f, $c->dsn],
	    env => { PGAPPNAME => $app }, log => tg_tmpdir() . "/$app.log");
	for (1 .. 200) {
		last if $c->sql("SELECT count(*) FROM pg_stat_activity WHERE "
		    . "application_name = '$app' AND wait_event = 'PgSleep'") > 0;
		sleep 0.05;
	}
	return $p;
}

my ($st, $h, $body, $t0, $secs);
# Warm up: every statement prepared, so what waits below is the execution.
($st) = tg_http(POST => "$b/api/tasks/bulk-archive", headers => \%J, body => '{"task_ids":["zz"]}');
($st) = tg_http(POST => "$b/api/tasks/bulk-delete", headers => \%J, body => '{"task_ids":["zz"]}');
($st) = tg_http(DELETE => "$b/api/archive/zz");
is($st, 404, 'warm-up');

hold_row('t1', 1.5);
$t0 = time;
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-archive", headers => \%J,
    body => '{"task_ids":["t1"]}');
$secs = time - $t0;
is("$st $body", '200 {"archived":["t1"],"missing":[],"count":1}',
    'bulk-archive waiting on a row lock held 1.5 s: past statement_timeout (300 ms), within move_statement_timeout');
cmp_ok($secs, '>', 0.5, sprintf('... it did wait longer than statement_timeout (%.2fs)', $secs));
is($c->sql("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 't1'"), 1,
    '... and moved the shard');

hold_row('t1', 60, 'archived_tasks');
$t0 = time;
($st, $h, $body) = tg_http(DELETE => "$b/api/archive/t1");
$secs = time - $t0;
is("$st $body", "503 $down", 'next, on the same connection: DELETE of a locked archived task times out');
cmp_ok($secs, '<', 1.5, sprintf('... at statement_timeout: the long one did not stay (%.2fs)', $secs));

hold_row('t2', 60);

$t0 = time;
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-delete", headers => \%J,
    body => '{"task_ids":["t3","t2"]}');
$secs = time - $t0;
is("$st $body", "503 $down", 'bulk-delete of a task locked for longer than move_statement_timeout: 503');
ok($secs > 2.2 && $secs < 6, sprintf('... after move_statement_timeout (%.2fs)', $secs));

$t0 = time;
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=1");
$secs = time - $t0;
is("$st $body", "503 $down", 'archive-expired meeting the lock: 503');
ok($secs > 2.2 && $secs < 6, sprintf('... after move_statement_timeout (%.2fs)', $secs));
is($c->sql("SELECT string_agg(task_id, ',' ORDER BY task_id) FROM tasks") . ' '
    . $c->sql("SELECT count(*) FROM task_shards"), 't2,t3,t4 3', 'nothing half-done');

$c->sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'locker%'");
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-delete", headers => \%J,
    body => '{"task_ids":["t3","t2"]}');
is("$st $body", '200 {"deleted":["t3","t2"],"missing":[],"count":2}', 'lock gone: bulk-delete works');

done_testing;
