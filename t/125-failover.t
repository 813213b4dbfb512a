#!/usr/bin/perl
# Failover with a multi-host conninfo (host=a,b port=pa,pb
# target_session_attrs=read-write): a primary and its streaming standby;
# a writer archives tasks one by one and a reader lists on read_database
# (the standby) while the primary is stopped and, a little later, the
# standby promoted (pg_ctl promote).  Writes answer 503 only until the
# promotion, then succeed on the new primary with no restart of
# taskgate; every write answered 200 is on the new primary; reads on
# read_database keep answering 200 throughout.  Prints the figures
# (seconds of 503, requests failed) for docs/SCALING.md.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use TG;

my $p = tg_cluster();
$p->sql(q{INSERT INTO tasks (task_id, backend, status, submit_time, update_time)
	SELECT 'w' || i, 'dummy', 'success', timestamptz '2026-01-01' + i * interval '1 s',
	    timestamptz '2026-01-01' FROM generate_series(1, 2000) i});
my $sb = tg_standby($p);
$sb->caught_up($p);
is($sb->sql('SELECT pg_is_in_recovery()'), 't', 'a streaming standby');

my $dsn = "host=127.0.0.1,127.0.0.1 port=$p->{port},$sb->{port} user=postgres "
    . "dbname=taskgate target_session_attrs=read-write";
my $w = tg_lighttpd(dsn => $dsn, tag => 'failover',
    conf => "connect_timeout = 2\nread_database = " . $sb->dsn . "\n");
my $b = $w->{base};
my ($st) = tg_http(POST => "$b/api/tasks/w1/archive");
is($st, 200, 'a write through the multi-host conninfo');

my $dir = tg_tmpdir();
sub client {	# forks a loop of requests until $until; logs "time status id"
	my ($name, $until, $req) = @_;
	my $pid = fork // die;
	return $pid if $pid;
	open my $f, '>', "$dir/$name.log" or die;
	$f->autoflush(1);
	my $i = 2;
	while (time < $until) {
		my ($s, $id) = $req->($i++);
		printf $f "%.3f %s %s\n", time, $s, $id;
		sleep 0.02;
	}
	POSIX::_exit(0);
}
my $t0 = time;
my $until = $t0 + 9;
my $wpid = client('writes', $until, sub {
	my ($i) = @_;
	my ($s) = tg_http(POST => "$b/api/tasks/w$i/archive");
	return ($s, "w$i");
});
my $rpid = client('reads', $until, sub {
	my ($s, undef, $body) = tg_http(GET => "$b/api/tasks?limit=3");
	return ($s, 'list');
});
sleep 1.5;
my $t_stop = time;
$p->stop('fast');
sleep 2;
my $t_promote = time;
system(TG::as_pg(), "$sb->{bin}/pg_ctl", '-D', "$sb->{dir}/data", '-w', 'promote') == 0
    or die 'pg_ctl promote failed';
my $t_promoted = time;
waitpid($_, 0) for $wpid, $rpid;

sub lines { my ($n) = @_; open my $f, '<', "$dir/$n.log" or die; map { [split] } <$f> }
my @wr = lines('writes');
my @rd = lines('reads');
my @w503 = grep { $_->[1] == 503 } @wr;
my @w200 = grep { $_->[1] == 200 } @wr;
is(join(',', sort keys %{{ map { $_->[1] => 1 } @wr }}), '200,503', 'writes: 200 and 503 only');
ok(@w503 > 0, 'writes failed while there was no primary');
my $first = $w503[0][0];
my $last = $w503[-1][0];
cmp_ok($first, '>=', $t_stop, '... none before the primary stopped');
cmp_ok($last, '<=', $t_promoted + 1, sprintf('... none later than just after the promotion (last %.2fs after it)', $last - $t_promoted));
my @after = grep { $_->[0] > $t_promoted + 1 } @wr;
ok(@after > 10 && !grep({ $_->[1] != 200 } @after), scalar(@after) . ' writes after the promotion, all 200, same taskgate');
my $ids = join ',', map { "'$_->[2]'" } @w200;
is($sb->sql("SELECT count(*) FROM archived_tasks WHERE task_id IN ($ids)"), scalar(@w200),
    'every write answered 200 is on the new primary (' . scalar(@w200) . ')');
is(join(',', sort keys %{{ map { $_->[1] => 1 } @rd }}), '200', 'reads on read_database: 200 throughout (' . scalar(@rd) . ')');
my $secs = $last - $first;
diag(sprintf('failover: primary stopped at +%.2fs, promoted at +%.2fs (%.2fs promote); '
    . 'writes 503 from +%.2fs to +%.2fs (%.2fs), %d of %d writes failed, %d reads all 200',
    $t_stop - $t0, $t_promoted - $t0, $t_promoted - $t_promote, $first - $t0, $last - $t0,
    $secs, scalar(@w503), scalar(@wr), scalar(@rd)));

done_testing();
