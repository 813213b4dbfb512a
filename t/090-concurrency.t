#!/usr/bin/perl
# Concurrency without loss: 8 clients for 30 s (TG_CONC_SECS) doing
# bulk-archive, bulk-delete, per-task archive, restore, deletes and
# archive-expired on overlapping ids through lighttpd with 4 taskgate
# processes, while a writer keeps inserting tasks and shards (as uniqc
# workers do) and a checker samples invariants.  Every response is
# logged; afterwards every task is in exactly one place, every shard is
# with its task, and every reported outcome agrees with the final state.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use HTTP::Tiny;
use IPC::Open2;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use TG;

my $SECS = $ENV{TG_CONC_SECS} // 30;
my $NCLIENT = 8;
my ($c, $w) = tg_setup(procs => 4, conf => "statement_timeout = 20000\n");
my $base = $w->{base};
my $dir = tg_tmpdir();
my $json = JSON::PP->new->canonical;

# Fixtures: 60 active ids (old+terminal ones are archive-expired
# candidates, some running, some new), 20 archived; 0-3 shards each.
my (%shards, %start);
my @pool;
my $sql = '';
for my $i (0 .. 79) {
	my $id = sprintf('c%02d', $i);
	my $arch = $i >= 60;
	my $old = $i % 3 != 0;
	my $status = $i % 7 == 0 ? 'running' : ($i % 2 ? 'success' : 'failed');
	my $tab = $arch ? 'archived_tasks' : 'tasks';
	$sql .= "INSERT INTO $tab (task_id, backend, status, submit_time, update_time"
	    . ($arch ? ', archived_at' : '') . ") VALUES ('$id', 'dummy', '$status', "
	    . "'2026-01-01'::timestamptz + interval '$i minutes', "
	    . ($old ? "'2000-01-01'" : 'now()') . ($arch ? ', now()' : '') . ");\n";
	my $n = $i % 4;
	for my $k (0 .. $n - 1) {
		my $st = $arch ? 'archived_task_shards' : 'task_shards';
		$sql .= "INSERT INTO $st (uniqc_task_id, shard_index, platform_task_id, backend, status"
		    . ($arch ? ', archived_at' : '') . ") VALUES ('$id', $k, 'p', 'b', 'success'"
		    . ($arch ? ', now()' : '') . ");\n";
	}
	$shards{$id} = $n;
	$start{$id} = $arch ? 'archived' : 'active';
	push @pool, $id;
}
$c->sql($sql);

# --- the writer: new tasks with shards, and shards added to random ids.
my $wlog = "$dir/writer.log";
my $writer = fork // die;
if ($writer == 0) {
	open my $f, '>', $wlog or die;
	$f->autoflush(1);
	# One psql session fed statement by statement; a marker ends each.
	my $ps = open2(my $rd, my $wr, 'sh', '-c', "exec psql -X -q -At -v ON_ERROR_STOP=0 '" . $c->dsn . "' 2>>$dir/writer.err");
	$wr->autoflush(1);
	my $run = sub {
		print $wr "$_[0]\n\\echo __END__\n";
		my @out;
		while (my $l = <$rd>) { chomp $l; last if $l eq '__END__'; push @out, $l }
		return join "\n", @out;
	};
	my ($n, $k) = (0, 100);
	my $until = time + $SECS;
	while (time < $until) {
		if (rand() < 0.4) {
			my $id = sprintf('n%03d', $n++);
			my $ns = 1 + int rand 3;
			my $out = $run->("WITH t AS (INSERT INTO tasks (task_id, backend, status, update_time) VALUES "
			    . "('$id', 'dummy', 'success', " . (rand() < 0.2 ? "'2000-01-01'" : 'now()') . ") RETURNING task_id), s AS (INSERT INTO task_shards "
			    . "(uniqc_task_id, shard_index, platform_task_id, backend, status) SELECT task_id, g, 'p', 'b', "
			    . "'success' FROM t, generate_series(0, $ns - 1) g) SELECT task_id FROM t;");
			print $f "new $id $ns\n" if $out eq $id;
		} else {
			my $id = rand() < 0.5 || !$n ? $pool[int rand @pool] : sprintf('n%03d', int rand $n);
			my $idx = $k++;
			my $out = $run->("INSERT INTO task_shards (uniqc_task_id, shard_index, platform_task_id, backend, status) "
			    . "SELECT task_id, $idx, 'p', 'b', 'running' FROM tasks WHERE task_id = '$id' RETURNING uniqc_task_id;");
			print $f "add $id\n" if $out eq $id;
		}
		sleep 0.01;
	}
	close $wr;
	waitpid($ps, 0);
	print $f "newmax $n\n";
	POSIX::_exit(0);
}

# --- the checker: invariants in single snapshots while everything runs.
my $clog = "$dir/checker.log";
my $checker = fork // die;
if ($checker == 0) {
	open my $f, '>', $clog or die;
	$f->autoflush(1);
	my $until = time + $SECS;
	while (time < $until) {
		my $r = eval { $c->sql("SELECT (SELECT count(*) FROM tasks t JOIN archived_tasks a USING (task_id)) || ' ' || "
		    . "(SELECT count(*) FROM archived_task_shards s WHERE NOT EXISTS (SELECT 1 FROM archived_tasks a WHERE a.task_id = s.uniqc_task_id)) || ' ' || "
		    . "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'taskgate') || ' ' || "
		    . "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'taskgate' AND state = 'active')") } // 'error';
		print $f "$r\n";
		sleep 0.25;
	}
	POSIX::_exit(0);
}

# --- the clients.
my @ops = (
	[12, 'bulk-archive'], [3, 'bulk-delete'], [15, 'archive'], [40, 'restore'],
	[2, 'delete'], [2, 'adelete'], [3, 'expire'], [10, 'read'],
);
my $wsum = 0;
$wsum += $_->[0] for @ops;
sub pick_op { my $r = rand $wsum; for (@ops) { return $_->[1] if ($r -= $_->[0]) < 0 } $ops[-1][1] }
sub some_id { rand() < 0.75 ? $pool[int rand @pool] : sprintf('n%03d', int rand(40 * $SECS)) }

my @kids;
for my $k (1 .. $NCLIENT) {
	my $pid = fork // die;
	if ($pid == 0) {
		srand($$ ^ time);
		my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 60, keep_alive => 1);
		open my $f, '>', "$dir/client$k.log" or die;
		my $until = time + $SECS;
		while (time < $until) {
			my $op = pick_op();
			my ($m, $p, $body, @ids);
			if ($op eq 'bulk-archive' || $op eq 'bulk-delete') {
				@ids = map { some_id() } 1 .. 1 + int rand($op eq 'bulk-delete' ? 2 : 6);
				($m, $p, $body) = ('POST', "/api/tasks/$op", $json->encode({ task_ids => \@ids }));
			} elsif ($op eq 'archive') { @ids = some_id(); ($m, $p) = ('POST', "/api/tasks/$ids[0]/archive") }
			elsif ($op eq 'restore') { @ids = some_id(); ($m, $p) = ('POST', "/api/archive/restore/$ids[0]") }
			elsif ($op eq 'delete') { @ids = some_id(); ($m, $p) = ('DELETE', "/api/tasks/$ids[0]") }
			elsif ($op eq 'adelete') { @ids = some_id(); ($m, $p) = ('DELETE', "/api/archive/$ids[0]") }
			elsif ($op eq 'expire') {
				($m, $p) = ('POST', '/api/tasks/archive-expired?hours=72' . (rand() < 0.3 ? '&terminal_only=false' : ''));
			} else {
				@ids = some_id();
				($m, $p) = ('GET', (rand() < 0.5 ? '/api/tasks/' : '/api/archive/') . $ids[0]);
			}
			my $t0 = time;
			my $r = $http->request($m, "$base$p", { headers => { 'Content-Type' => 'application/json' },
			    defined $body ? (content => $body) : () });
			my $t1 = time;
			print $f $json->encode({ op => $op, m => $m, p => $p, ids => \@ids, t0 => $t0, t1 => $t1,
			    status => $r->{status}, body => $r->{content} }), "\n";
		}
		close $f;
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
waitpid($_, 0) for @kids, $writer, $checker;

# --- what happened.
my (%new, @ev, %nstatus, $bad_status, $n409);
my $nadd = 0;
open my $wf, '<', $wlog or die;
while (<$wf>) {
	if (/^new (\S+) (\d+)/) { $shards{$1} = $2; $start{$1} = 'active'; $new{$1} = 1 }
	elsif (/^add (\S+)/) { $shards{$1}++; $nadd++ }
}
close $wf;
my $fkfail = () = `cat $dir/writer.err 2>/dev/null` =~ /violates foreign key/g;
diag("writer: " . scalar(keys %new) . " new tasks, $nadd shards added to existing tasks, $fkfail refused by the foreign key (task moved meanwhile)");
my $nresp = 0;
my @problems;
for my $k (1 .. $NCLIENT) {
	open my $f, '<', "$dir/client$k.log" or die;
	while (my $line = <$f>) {
		my $r = $json->decode($line);
		$nresp++;
		my $st = $r->{status};
		$nstatus{"$r->{op} $st"}++;
		my $d = ($st == 200 || $st == 404 || $st == 409 || $st == 503) ? eval { $json->decode($r->{body}) } : undef;
		if (!defined $d) { push @problems, "unparseable or unexpected: $r->{m} $r->{p} $st $r->{body}"; next }
		if ($st == 503) {
			push @problems, "503 without the documented body: $r->{body}" if ($d->{detail} // '') ne 'Database unavailable';
			next;
		}
		if ($st == 409) {
			$n409++;
			my $id = $r->{ids}[0];
			my $ok = ($r->{op} eq 'archive' && $d->{detail} eq "Task '$id' is already archived") ||
			    ($r->{op} eq 'restore' && $d->{detail} eq "Task '$id' already exists among active tasks");
			push @problems, "409 where SPEC allows none: $r->{m} $r->{p} $r->{body}" unless $ok;
			next;
		}
		if ($st == 404) {
			push @problems, "404 on $r->{op}" unless $r->{op} =~ /^(archive|restore|delete|adelete|read)$/;
			next;
		}
		my $op = $r->{op};
		my $ev = sub { push @ev, { id => $_[0], kind => $_[1], t0 => $r->{t0}, t1 => $r->{t1} } };
		if ($op eq 'bulk-archive') {
			push @problems, "conflicts reported: $r->{body}" if $d->{conflicts};
			push @problems, "count mismatch: $r->{body}" if $d->{count} != @{ $d->{archived} };
			push @problems, "ids lost from the answer: $r->{body}" if @{ $d->{archived} } + @{ $d->{missing} } != @{ $r->{ids} };
			$ev->($_, 'A') for @{ $d->{archived} };
		} elsif ($op eq 'bulk-delete') {
			push @problems, "ids lost from the answer: $r->{body}" if @{ $d->{deleted} } + @{ $d->{missing} } != @{ $r->{ids} };
			$ev->($_, 'D') for @{ $d->{deleted} };
		} elsif ($op eq 'archive') { $ev->($d->{archived}, 'A') }
		elsif ($op eq 'restore') { $ev->($d->{restored}, 'R') }
		elsif ($op eq 'delete') { $ev->($d->{deleted}, 'D') }
		elsif ($op eq 'adelete') { $ev->($d->{deleted}, 'X') }
		elsif ($op eq 'expire') {
			push @problems, "conflicts reported: $r->{body}" if $d->{conflicts};
			$ev->($_, 'A') for @{ $d->{archived} };
		}
	}
	close $f;
}
diag("$nresp responses in ${SECS}s: " . join(', ', map { "$_=$nstatus{$_}" } sort keys %nstatus));
ok($nresp >= $NCLIENT * 10, "clients made enough requests ($nresp)");
my $n200 = 0;
$n200 += $nstatus{$_} for grep { / 200$/ } keys %nstatus;
ok($n200 > $nresp / 5, "many requests did something ($n200 x 200)");
is(scalar(grep { / 5\d\d$/ } keys %nstatus), 0, 'no 5xx at all (not even a 503)');

# Final state, from one snapshot.
my %where;
for my $row (split /\n/, $c->sql("SELECT 'active', task_id FROM tasks UNION ALL SELECT 'archived', task_id FROM archived_tasks")) {
	my ($k, $id) = split /\|/, $row;
	push @problems, "$id is both active and archived" if $where{$id};
	$where{$id} = $k;
}
my %sh;
for my $row (split /\n/, $c->sql("SELECT 'active', uniqc_task_id, count(*) FROM task_shards GROUP BY 2 UNION ALL "
    . "SELECT 'archived', uniqc_task_id, count(*) FROM archived_task_shards GROUP BY 2")) {
	my ($k, $id, $n) = split /\|/, $row;
	$sh{$id}{$k} = $n;
}
for my $id (keys %sh) {
	for my $k (keys %{ $sh{$id} }) {
		push @problems, "orphan shards: $id has $sh{$id}{$k} $k shards but the task is " . ($where{$id} // 'gone')
		    if ($where{$id} // '') ne $k;
	}
}

my %byid;
push @{ $byid{$_->{id}} }, $_ for @ev;
my (%fin, $checked);
for my $id (sort keys %start) {
	my $f = $where{$id} // 'gone';
	$fin{$f}++;
	my $n = $shards{$id};
	my $have = $f eq 'gone' ? 0 : ($sh{$id}{$f} // 0);
	push @problems, "$id ($f): $have shards, $n inserted" if $f ne 'gone' && $have != $n;
	my @e = @{ $byid{$id} || [] };
	my %c = (A => 0, R => 0, D => 0, X => 0);
	$c{$_->{kind}}++ for @e;
	my $s0 = $start{$id};
	my $dels = $c{D} + $c{X};
	my $net = $s0 eq 'active' ? $c{A} - $c{R} : $c{R} - $c{A};
	my $okk;
	if ($f eq 'gone') {
		# deleted exactly once, from where the moves had left it
		my $from = $c{D} ? 'active' : 'archived';
		my $want = $from eq $s0 ? 0 : 1;
		$okk = $dels == 1 && $net == $want;
	} else {
		$okk = $dels == 0 && $net == ($f eq $s0 ? 0 : 1);
	}
	push @problems, "$id: start $s0, end $f, reported A=$c{A} R=$c{R} D=$c{D} X=$c{X}" unless $okk;
	# Nothing succeeds on an id after its deletion finished.
	for my $d (grep { $_->{kind} =~ /[DX]/ } @e) {
		push @problems, "$id: $_->{kind} reported after deletion" for grep { $_->{t0} > $d->{t1} } @e;
	}
	# Moves strictly after one another alternate (archive, restore, ...).
	my @m = sort { $a->{t1} <=> $b->{t1} } grep { $_->{kind} =~ /[AR]/ } @e;
	for my $i (1 .. $#m) {
		push @problems, "$id: two $m[$i]{kind} in a row with no other move possible between"
		    if $m[$i]{kind} eq $m[$i - 1]{kind} && $m[$i - 1]{t1} < $m[$i]{t0} &&
		    !grep { $_->{kind} ne $m[$i]{kind} && $_->{t1} > $m[$i - 1]{t0} && $_->{t0} < $m[$i]{t1} } @m;
	}
	$checked++;
}
my @extra = grep { !exists $start{$_} } keys %where;
push @problems, "ids nobody inserted: @extra" if @extra;
diag("final: " . join(', ', map { "$_=$fin{$_}" } sort keys %fin) . "; " . scalar(@ev) . " reported moves/deletes over $checked ids ("
    . scalar(keys %new) . " inserted during the run)");
ok(scalar(@ev) > 50, 'plenty of outcomes to check');
ok($fin{archived} && $fin{gone}, 'ids ended up archived and deleted');

open my $cf, '<', $clog or die;
my ($samples, $badsamples, $maxconn, $maxactive) = (0, 0, 0, 0);
while (<$cf>) {
	$samples++;
	$badsamples++ unless /^0 0 (\d+) (\d+)$/;
	$maxconn = $1 if defined $1 && $1 > $maxconn;
	$maxactive = $2 if defined $2 && $2 > $maxactive;
}
close $cf;
is($maxconn, 4, 'four taskgate processes, each with its own connection');
my %served;
for my $lf ("$w->{dir}/stdout.log", $w->{errlog}) {
	open my $f, '<', $lf or next;
	while (<$f>) { $served{$1}++ if /^taskgate\[(\d+)\]: info req=/ }
}
is(scalar(keys %served), 4, 'all four processes served requests: ' . join(', ', map { "$_:$served{$_}" } sort keys %served));
ok($samples > 10, "checker sampled $samples snapshots");
is($badsamples, 0, 'no snapshot ever showed an id in both tables or an archived shard without its task');

is(scalar(@problems), 0, 'every response consistent with the final state') or diag(join "\n", @problems[0 .. ($#problems > 30 ? 30 : $#problems)]);
my $errs = `grep -c ' error req=' $w->{dir}/stdout.log $w->{errlog} 2>/dev/null`;
my $sum = 0;
$sum += $_ for $errs =~ /:(\d+)$/mg;
is($sum, 0, 'no error lines in the log');
done_testing();
