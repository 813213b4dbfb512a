#!/usr/bin/perl
# The exact total of a list whose filters the counters cannot answer
# (time, has_result, metadata) is kept per process for the change
# counter it was counted at (count_cache, src/count_cache.c):
#  - asked again with nothing written, the count statement does not run
#    again (the statement log), and the total is the same;
#  - any committed write to the four tables, taskgate's or a writer's
#    plain SQL (insert, update, delete, a shard, truncate), and the next
#    answer counts again: its total is the table's;
#  - the key is the whole statement with its parameters: other filter
#    values, other filters, the archive each have their own;
#  - count_cache = 2 with three filters in turn: every total right;
#    count_cache = 0: the count runs every time;
#  - a writer inserting matching rows while a reader polls: totals never
#    go down, and the first answer after the writer stops is exact.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use TG;

my $c = tg_cluster();
$c->psql_admin(q{ALTER SYSTEM SET log_line_prefix = '[%a] %v '});
$c->psql_admin(q{ALTER DATABASE taskgate SET log_statement = 'all'});
$c->psql_admin('SELECT pg_reload_conf()');
my $w = tg_lighttpd(dsn => $c->dsn, tag => 'on');
my $w2 = tg_lighttpd(dsn => $c->dsn, tag => 'two', conf => "count_cache = 2\n");
my $w0 = tg_lighttpd(dsn => $c->dsn, tag => 'off', conf => "count_cache = 0\n");
$c->sql(join '', map { sprintf("INSERT INTO tasks (task_id, backend, status, "
    . "shots, submit_time, update_time, metadata) VALUES ('t%02d', 'be', "
    . "'success', 1, '2026-11-%02dT00:00:00Z', '2026-11-%02dT01:00:00Z', "
    . "'{\"k\":%d}');\n", $_, $_, $_, $_ % 2) } 1 .. 20);
tg_task($c, 'z1', archived => 1, submit => '2026-11-05T00:00:00Z');

my $log = "$c->{dir}/log";
# GET path on w: (total, how many count statements of the list ran).
sub total {
	my ($x, $path) = @_;
	my $at = -s $log // 0;
	my ($st, $h, $body) = tg_http(GET => "$x->{base}$path");
	die "GET $path: $st $body\n" unless $st == 200;
	sleep 0.2;
	open my $f, '<', $log or die "$log: $!";
	seek $f, $at, 0;
	my @l = grep { /^\[taskgate\] \S+ LOG:  execute [^:]+: / } <$f>;
	my $n = grep { /: SELECT count\(\*\)/ } @l;
	my $nc = grep { /FROM task_counts/ } @l;
	my ($t) = $body =~ /"total":(\d+|null)/;
	return ($t, $n, $nc);
}
sub db_count { return $c->sql("SELECT count(*) FROM tasks WHERE $_[0]") }

my $q = '/api/tasks?submitted_after=2026-11-10T12:00:00Z&limit=2';
my $where = "submit_time > '2026-11-10T12:00:00Z'";
my ($t, $n) = total($w, $q);
is("$t $n", '10 1', 'first answer: counted (10)');
($t, $n) = total($w, $q);
is("$t $n", '10 0', 'asked again, nothing written: not counted again, same total');
($t, $n) = total($w, "$q&offset=2");
is("$t $n", '10 0', 'another page of the same filter: the same count');

my @writes = (
	['a matching insert (plain SQL)', "INSERT INTO tasks (task_id, backend, status, submit_time) VALUES ('n1', 'be', 'running', '2026-11-25T00:00:00Z')"],
	['an update that moves a row out', "UPDATE tasks SET submit_time = '2026-10-01T00:00:00Z' WHERE task_id = 't15'"],
	['a delete', "DELETE FROM tasks WHERE task_id = 't20'"],
	['a shard written (no row of the filter changes)', "INSERT INTO task_shards (uniqc_task_id, shard_index, platform_task_id, backend, circuit_count, sub_index_offset, status) VALUES ('t11', 0, 'p', 'be', 1, 0, 'success')"],
	['an archived task written', "INSERT INTO archived_tasks (task_id, backend, status, archived_at) VALUES ('z2', 'be', 'success', now())"],
);
for my $wr (@writes) {
	$c->sql($wr->[1]);
	($t, $n) = total($w, $q);
	my $want = db_count($where);
	is("$t $n", "$want 1", "after $wr->[0]: counted again ($want)");
	($t, $n) = total($w, $q);
	is("$t $n", "$want 0", "... and kept again");
}
my ($st) = tg_http(DELETE => "$w->{base}/api/tasks/t12");
is($st, 200, 'a delete through taskgate');
($t, $n) = total($w, $q);
is("$t $n", db_count($where) . ' 1', '... counted again');

# The key: the statement and every parameter.
my %f = (
	'submitted_after=2026-11-15T12:00:00Z' => "submit_time > '2026-11-15T12:00:00Z'",
	'updated_after=2026-11-15T12:00:00Z' => "update_time > '2026-11-15T12:00:00Z'",
	'metadata=%7B%22k%22%3A1%7D' => "metadata @> '{\"k\":1}'",
	'metadata=%7B%22k%22%3A0%7D' => "metadata @> '{\"k\":0}'",
	'has_result=false' => 'NOT has_result',
	'submitted_after=2026-11-15T12:00:00Z&status=success' =>
	    "submit_time > '2026-11-15T12:00:00Z' AND status = 'success'",
);
for my $r (1, 2) {
	for my $k (sort keys %f) {
		($t, $n) = total($w, "/api/tasks?$k&limit=1");
		is("$t $n", db_count($f{$k}) . ' ' . ($r == 1 ? 1 : 0),
		    "$k: its own total, " . ($r == 1 ? 'counted' : 'kept'));
	}
}
($t, $n) = total($w, '/api/archive?submitted_after=2026-11-01T00:00:00Z');
is($t, $c->sql("SELECT count(*) FROM archived_tasks WHERE submit_time > '2026-11-01T00:00:00Z'"),
    'the archive: its own total');
for (1, 2) {
	my ($tt, $nn, $nc) = total($w, '/api/tasks?status_in=success&limit=1');
	is("$tt $nn $nc", db_count("status = 'success'") . ' 0 1',
	    'a filter the counters answer: their sum, every time');
}

# Three filters through two entries, and no cache at all.
my @three = sort keys %f;
splice @three, 3;
for my $r (1 .. 3) {
	for my $k (@three) {
		($t) = total($w2, "/api/tasks?$k");
		is($t, db_count($f{$k}), "count_cache = 2, round $r, $k: right");
	}
	$c->sql("UPDATE tasks SET shots = shots + 1 WHERE task_id = 't01'") if $r == 2;
}
for (1, 2) {
	($t, $n) = total($w0, $q);
	is("$t $n", db_count($where) . ' 1', 'count_cache = 0: counted every time');
}

# A writer inserting matching tasks while a reader polls.
my $pid = fork // die "fork: $!";
if ($pid == 0) {
	for my $i (1 .. 60) {
		$c->sql("INSERT INTO tasks (task_id, backend, status, submit_time) "
		    . "VALUES ('w$i', 'be', 'pending', '2026-11-30T00:00:00Z')");
	}
	exit 0;
}
my ($last, $down) = (0, 0);
my $polls = 0;
while (waitpid($pid, 1) == 0) {
	my ($s, $h, $body) = tg_http(GET => "$w->{base}$q");
	my ($x) = $body =~ /"total":(\d+)/;
	$down++ if defined $x && $x < $last;
	$last = $x if defined $x;
	$polls++;
}
is($?, 0, 'the writer inserted 60 tasks');
cmp_ok($polls, '>', 0, "the reader polled meanwhile ($polls)");
is($down, 0, 'the total never went down');
($t) = total($w, $q);
is($t, db_count($where), 'after the writer: exact');

done_testing();
