#!/usr/bin/perl
# A writer adds a shard to a task while taskgate moves it: the move waits
# for the writer's transaction (row lock taken first, in its own
# statement) and then takes the new shard along.  Without the separate
# lock statement the move's snapshot would predate the shard, and the
# cascade from deleting the task would silently destroy it.
use strict;
use warnings;
use Test::More;
use IPC::Open2;
use POSIX ':sys_wait_h';
use Time::HiRes qw(sleep time);
use TG;

my ($c, $w) = tg_setup(conf => "statement_timeout = 30000\n");
my $b = $w->{base};
my %J = ('Content-Type' => 'application/json');
my $dir = tg_tmpdir();

# A psql session we drive statement by statement.
my $pid = open2(my $rd, my $wr, 'sh', '-c', "exec psql -X -q -At -v ON_ERROR_STOP=0 '" . $c->dsn . "' 2>>$dir/psql.err");
$wr->autoflush(1);
sub ps { print $wr "$_[0]\n\\echo __END__\n"; my @o; while (my $l = <$rd>) { chomp $l; last if $l eq '__END__'; push @o, $l } join "\n", @o }

# Runs a request in a child; returns a sub that waits for its answer.
sub async {
	my ($m, $p, $body) = @_;
	my $f = "$dir/resp." . time . rand;
	my $k = fork // die;
	if ($k == 0) {
		my ($st, $h, $bd) = tg_http($m => "$b$p", headers => \%J, defined $body ? (body => $body) : ());
		open my $o, '>', $f or die;
		print $o "$st $bd";
		close $o;
		POSIX::_exit(0);
	}
	return sub { waitpid($k, 0); open my $i, '<', $f or return ''; local $/; <$i> };
}
sub waiting {
	for (1 .. 100) {
		return 1 if $c->sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'taskgate' "
		    . "AND wait_event_type = 'Lock'") > 0;
		sleep 0.05;
	}
	return 0;
}

my @cases = (
	['bulk-archive', 'POST', '/api/tasks/bulk-archive', '{"task_ids":["x"]}', '200 {"archived":["x"],"missing":[],"count":1}', 'archived'],
	['per-task archive', 'POST', '/api/tasks/x/archive', undef, '200 {"archived":"x"}', 'archived'],
	['archive-expired', 'POST', '/api/tasks/archive-expired?hours=1', undef,
	    '200 {"archived":["x"],"count":1,"hours":1,"terminal_only":true,"skipped_running":[]}', 'archived'],
	['bulk-delete', 'POST', '/api/tasks/bulk-delete', '{"task_ids":["x"]}', '200 {"deleted":["x"],"missing":[],"count":1}', 'gone'],
);
for my $t (@cases) {
	my ($name, $m, $p, $body, $want, $where) = @$t;
	$c->sql("DELETE FROM tasks; DELETE FROM archived_tasks; DELETE FROM archived_task_shards");
	tg_task($c, 'x', update => '2000-01-01T00:00:00Z');
	tg_shard($c, 'x', 0);
	ps("BEGIN;");
	ps("INSERT INTO task_shards (uniqc_task_id, shard_index, platform_task_id, backend, status) VALUES ('x', 1, 'late', 'b', 'running');");
	my $done = async($m, $p, $body);
	ok(waiting(), "$name: waits for the writer's transaction");
	ps("COMMIT;");
	is($done->(), $want, "$name: answer");
	my $a = $c->sql("SELECT string_agg(shard_index::text, ',' ORDER BY shard_index) FROM archived_task_shards WHERE uniqc_task_id = 'x'");
	my $s = $c->sql("SELECT count(*) FROM task_shards");
	if ($where eq 'archived') {
		is("$a|$s", '0,1|0', "$name: both shards archived, the late one included");
	} else {
		is("$a|$s", '|0', "$name: task and both shards gone");
	}
}

# Restore while a writer holds the task's id in the active table
# (inserted, not committed): restore waits, then it is a 409, nothing lost.
$c->sql("DELETE FROM tasks; DELETE FROM archived_tasks; DELETE FROM archived_task_shards");
tg_task($c, 'y', archived => 1);
tg_shard($c, 'y', 0, archived => 1);
ps("BEGIN;");
ps("INSERT INTO tasks (task_id, backend, status) VALUES ('y', 'b', 'pending');");
my $done = async('POST', '/api/archive/restore/y');
ok(waiting(), 'restore waits for the writer inserting the same id');
ps("COMMIT;");
is($done->(), q{409 {"detail":"Task 'y' already exists among active tasks"}}, 'then 409 (unique conflict retried, seen as active)');
is($c->sql("SELECT count(*) FROM archived_tasks WHERE task_id = 'y'") . '|' .
    $c->sql("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 'y'"), '1|1', 'archived copy and shard kept');
close $wr;
waitpid($pid, 0);
done_testing();
