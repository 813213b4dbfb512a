#!/usr/bin/perl
# Exact counters (sql/002_counters.sql): after every kind of write, through
# SQL and through the API, every count endpoint and every filtered total
# equals count(*) over the tables.
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};
my %J = ('Content-Type' => 'application/json');
my @S = qw(pending running success failed cancelled weird);
my @B = ('dummy:local:simulator', 'originq:WK_C180', 'quafu:Baihua', 'ibm:kyiv');

sub post { my ($p, $body) = @_; tg_http(POST => "$b$p", body => $body, headers => \%J) }
sub q_enc { my $s = shift; $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $s }

# Every endpoint and filter against count(*), and the raw counters
# against a GROUP BY of the tables.
sub check {
	my ($what) = @_;
	my @bad;
	my $raw = $c->sql(q{
		WITH t AS (SELECT false AS a, status, backend, count(*) AS n
		    FROM tasks GROUP BY 2, 3 UNION ALL
		    SELECT true, status, backend, count(*) FROM archived_tasks
		    GROUP BY 2, 3),
		k AS (SELECT archived AS a, status, backend, sum(n) AS n
		    FROM task_counts GROUP BY 1, 2, 3 HAVING sum(n) <> 0)
		SELECT count(*) FROM t FULL JOIN k USING (a, status, backend)
		WHERE t.n IS DISTINCT FROM k.n});
	push @bad, "raw counters differ in $raw groups" if $raw ne '0';
	my %want = map { split /\|/ } split /\n/, $c->sql(
	    "SELECT status, count(*) FROM tasks GROUP BY 1");
	my ($st, undef, $body) = tg_http(GET => "$b/api/tasks/counts");
	my $exp = '{' . join('', map { "\"$_\":" . ($want{$_} // 0) . ',' }
	    qw(pending running success failed cancelled));
	my $tot = 0;
	$tot += $want{$_} // 0 for qw(pending running success failed cancelled);
	$exp .= "\"total\":$tot}";
	push @bad, "counts: $body ne $exp" if $body ne $exp;
	my $acount = $c->sql("SELECT count(*) FROM archived_tasks");
	for my $arch (0, 1) {
		my $tab = $arch ? 'archived_tasks' : 'tasks';
		my $path = $arch ? '/api/archive' : '/api/tasks';
		# count(*) of every filter at once: GROUPING(...) marks "no filter".
		my %n = map { my @f = split /\|/, $_, -1; ("$f[0]|$f[1]" => $f[2]) }
		    split /\n/, $c->sql("SELECT CASE WHEN GROUPING(status) = 1 "
		    . "THEN '*' ELSE status END, CASE WHEN GROUPING(backend) = 1 "
		    . "THEN '*' ELSE backend END, count(*) FROM $tab "
		    . "GROUP BY CUBE (status, backend)");
		for my $s (undef, @S) {
			for my $bk (undef, @B) {
				my $n = $n{($s // '*') . '|' . ($bk // '*')} // 0;
				my @q = ('limit=0');
				push @q, 'status=' . q_enc($s) if defined $s;
				push @q, 'backend=' . q_enc($bk) if defined $bk;
				my ($st2, undef, $b2) = tg_http(GET => "$b$path?" . join('&', @q));
				my ($got) = $b2 =~ /"total":(-?\d+)/;
				push @bad, "$path?@q: total " . ($got // "?($st2)") . " want $n"
				    if !defined $got || $got != $n;
				if ($arch) {
					my ($cnt) = $b2 =~ /"count":(-?\d+)/;
					push @bad, "$path?@q: count " . ($cnt // '?') . " want $acount"
					    if !defined $cnt || $cnt != $acount;
				}
			}
		}
	}
	ok(!@bad, "exact after $what") or diag(join("\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]));
}

check('nothing');

# Many single-row inserts, some with shards.
for my $i (1 .. 60) {
	tg_task($c, "s$i", status => $S[$i % @S], backend => $B[$i % @B],
	    submit => sprintf('2026-10-%02dT00:00:00Z', 1 + $i % 28),
	    update => '2026-10-01T00:00:00Z');
	tg_shard($c, "s$i", 0) if $i % 3 == 0;
}
check('single-row inserts');

# A bulk insert, a multi-row update of status and of backend, a delete.
$c->sql(q{INSERT INTO tasks (task_id, backend, status, submit_time, update_time)
	SELECT 'g' || i, (ARRAY['dummy:local:simulator','originq:WK_C180','quafu:Baihua','ibm:kyiv'])[1 + i % 4],
	    (ARRAY['pending','running','success','failed','cancelled','weird'])[1 + i % 6],
	    timestamptz '2026-09-01' + i * interval '1 minute', timestamptz '2026-09-01'
	FROM generate_series(1, 2000) i});
check('bulk insert');
$c->sql(q{UPDATE tasks SET status = 'success' WHERE status = 'running' AND task_id LIKE 'g1%'});
$c->sql(q{UPDATE tasks SET backend = 'ibm:kyiv', status = 'failed' WHERE task_id LIKE 'g2%'});
$c->sql(q{UPDATE tasks SET shots = shots + 1 WHERE task_id LIKE 'g3%'});
$c->sql(q{UPDATE tasks SET status = 'pending' WHERE task_id = 'nonexistent'});
check('updates of status, backend and other columns');
$c->sql(q{DELETE FROM tasks WHERE task_id LIKE 'g4%'});
check('bulk SQL delete');

# Rolled back and upserting writers.
$c->sql(q{BEGIN; DELETE FROM tasks WHERE task_id LIKE 'g5%';
	INSERT INTO tasks (task_id, backend, status) VALUES ('rb', 'x', 'success');
	ROLLBACK;});
$c->sql(q{INSERT INTO tasks (task_id, backend, status) VALUES ('g6', 'ibm:kyiv', 'running'),
	('up1', 'quafu:Baihua', 'pending')
	ON CONFLICT (task_id) DO UPDATE SET status = excluded.status, backend = excluded.backend});
$c->sql(q{WITH d AS (DELETE FROM tasks WHERE task_id LIKE 'g7%' RETURNING *)
	INSERT INTO archived_tasks (task_id, backend, status, submit_time, update_time, archived_at)
	SELECT task_id, backend, status, submit_time, update_time, now() FROM d});
check('rollback, upsert, move in one statement');

# Through the API: delete, bulk-delete, bulk-archive, archive, restore,
# archive delete, archive-expired.
tg_http(DELETE => "$b/api/tasks/s1");
tg_http(DELETE => "$b/api/tasks/s1");
post('/api/tasks/bulk-delete', '{"task_ids":[' . join(',', map { "\"g8$_\"" } 0 .. 99, 0 .. 9) . ',"nope"]}');
check('API delete and bulk-delete');
post('/api/tasks/bulk-archive', '{"task_ids":[' . join(',', map { "\"g9$_\"" } 0 .. 99, 0 .. 9) . ',"s2","s3"]}');
post('/api/tasks/s4/archive', '');
post('/api/tasks/s4/archive', '');
check('API bulk-archive and archive');
post('/api/archive/restore/s3', '');
post('/api/archive/restore/g70', '');
tg_task($c, 's2', status => 'failed');		# conflicts with the archived copy
post('/api/archive/restore/s2', '');
tg_http(DELETE => "$b/api/archive/g71");
check('API restore and archive delete');
post('/api/tasks/archive-expired?hours=24&terminal_only=true', '');
check('API archive-expired (terminal only)');
post('/api/tasks/archive-expired?hours=24&terminal_only=false', '');
check('API archive-expired (all)');

# Concurrent writers on several connections at once.
my @pids;
for my $k (1 .. 4) {
	my $pid = fork // die;
	if ($pid == 0) {
		for my $r (1 .. 20) {
			$c->sql(qq{INSERT INTO tasks (task_id, backend, status)
				SELECT 'c${k}_${r}_' || i, 'ibm:kyiv', 'pending' FROM generate_series(1, 20) i;
				UPDATE tasks SET status = 'running' WHERE task_id LIKE 'c${k}_${r}_1%';
				DELETE FROM tasks WHERE task_id = 'c${k}_${r}_2';});
		}
		POSIX::_exit(0);
	}
	push @pids, $pid;
}
waitpid($_, 0) for @pids;
check('concurrent writers');

# Compaction keeps the sums.
$c->sql('SELECT taskgate_compact_counts()');
is($c->sql('SELECT count(*) FROM task_counts WHERE slot <> 0 OR n = 0'), 0, 'compacted into slot 0');
check('compaction');

# The migration again on a database with rows: rebuilds, same answers.
$c->sql('UPDATE task_counts SET n = n + 5');	# damage, to see the rebuild
system('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1', '-f',
    tg_srcdir() . '/sql/002_counters.sql', $c->dsn) == 0 or die;
check('re-applying 002 (backfill)');

# TRUNCATE resets; so does TRUNCATE of the archive alone.
$c->sql('TRUNCATE archived_tasks');
check('TRUNCATE archived_tasks');
$c->sql('TRUNCATE tasks CASCADE');
check('TRUNCATE tasks');
is($c->sql('SELECT count(*) FROM task_counts'), 0, 'no counter rows left');
tg_task($c, 'after', status => 'running');
check('insert after TRUNCATE');

done_testing();
