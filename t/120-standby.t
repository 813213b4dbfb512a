#!/usr/bin/perl
# read_database: GET requests run on a real hot standby (a streaming
# replica made by pg_basebackup -R), writes on the primary; a standby
# that goes away hands reads to the primary (read_fallback) for
# read_retry seconds, or makes them 503 (read_fallback = off).
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use TG;

my $p = tg_cluster();
for my $i (1 .. 5) {
	tg_task($p, "s$i", status => $i % 2 ? 'success' : 'running',
	    submit => "2026-11-0${i}T10:00:00.25Z", update => '2026-11-20T00:00:00Z',
	    result => $i % 2 ? '{"counts":{"00":' . $i . ',"11":0.1}}' : undef,
	    metadata => '{"shots":' . $i . '}');
	tg_shard($p, "s$i", $_) for 0 .. $i % 3;
}
tg_task($p, 'old', archived => 1, status => 'failed');
tg_shard($p, 'old', 0, archived => 1);
my $sb = tg_standby($p);
$sb->caught_up($p);
is($sb->sql('SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

my $ret = 3;
my $w = tg_lighttpd(dsn => $p->dsn, tag => 'split',
    conf => "read_database = " . $sb->dsn . "\nread_retry = $ret\n");
my $b = $w->{base};
# The same data through the primary alone, to compare bodies with.
my $w1 = tg_lighttpd(dsn => $p->dsn, tag => 'primary');
my %J = ('Content-Type' => 'application/json');
my ($st, $h, $body);

sub conns {	# taskgate's sessions on a cluster
	my ($c) = @_;
	return $c->sql("SELECT count(*) FROM pg_stat_activity "
	    . "WHERE application_name = 'taskgate' AND pid <> pg_backend_pid()");
}

# Every GET gives what the primary gives, byte for byte.
my @gets = ('/api/tasks', '/api/tasks?status=success', '/api/tasks?limit=2&offset=1',
    '/api/tasks?backend=dummy:local:simulator&limit=-1', '/api/tasks/counts',
    '/api/tasks/s1', '/api/tasks/s2/shards', '/api/tasks/nope', '/api/archive',
    '/api/archive/old', '/api/archive/nope');
for my $path (@gets) {
	my ($st1, undef, $b1) = tg_http(GET => "$w1->{base}$path");
	($st, $h, $body) = tg_http(GET => "$b$path");
	is("$st $body", "$st1 $b1", "GET $path through the standby as on the primary");
}
is(conns($sb), 1, 'the GETs opened one session on the standby');
is(conns($p), 1, '... and none on the primary (the one there is the other lighttpd\'s)');

# With replay paused the standby lags: a new task is invisible to GETs
# but the writes find it on the primary.
$sb->sql('SELECT pg_wal_replay_pause()');
tg_task($p, 'n1', status => 'failed', update => '2026-01-01T00:00:00Z');
tg_shard($p, 'n1', 0);
tg_task($p, 'n2', status => 'success', update => '2026-01-01T00:00:00Z');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/n1");
is($st, 404, 'GET of a task the standby has not replayed yet: 404 (read from the standby)');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/counts");
like($body, qr/"total":5[,}]/, 'counts come from the standby (5, not 7)');
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/n1");
is($st, 200, 'DELETE of that task: 200 (run on the primary)');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-archive", headers => \%J,
    body => '{"task_ids":["n2","n1"]}');
is("$st $body", '200 {"archived":["n2"],"missing":["n1"],"count":1}',
    'bulk-archive runs on the primary');
is($p->sql("SELECT count(*) FROM tasks WHERE task_id IN ('n1','n2')") . ' '
    . $p->sql("SELECT count(*) FROM task_shards WHERE uniqc_task_id = 'n1'"),
    '0 0', 'the primary has the writes (n1 deleted with its shard, n2 moved)');
is(conns($p), 2, 'the writes opened a session on the primary');
$sb->sql('SELECT pg_wal_replay_resume()');
$sb->caught_up($p);
($st, $h, $body) = tg_http(GET => "$b/api/archive/n2");
# (On a failure: what the standby itself holds, and what taskgate said.)
my $held = sub { "standby: " . $sb->sql("SELECT (SELECT string_agg(task_id, ',' "
    . "ORDER BY task_id) FROM tasks) || ' / ' || (SELECT string_agg(task_id, "
    . "',' ORDER BY task_id) FROM archived_tasks) || ' / replayed to ' || "
    . "pg_last_wal_replay_lsn()") . "; taskgate: $st $body" };
is($st, 200, 'after replay the standby has the archived task') or diag($held->());
($st, $h, $body) = tg_http(GET => "$b/api/tasks/counts");
like($body, qr/"total":5[,}]/, 'and the same counts as the primary') or diag($held->());

# The standby goes away: reads fall back to the primary at once and the
# log says so once; writes are not affected.
my $logf = "$w->{dir}/stdout.log";	# taskgate's stderr
my $logpos = -s $logf // 0;
$sb->stop('immediate');
my $t0 = time;
($st, $h, $body) = tg_http(GET => "$b/api/tasks/s1");
my ($st1, undef, $b1) = tg_http(GET => "$w1->{base}/api/tasks/s1");
is("$st $body", "$st1 $b1", 'standby down: GET answered from the primary');
cmp_ok(time - $t0, '<', 3, '... without waiting');
for (1 .. 5) {
	($st) = tg_http(GET => "$b/api/tasks?limit=1");
	last if $st != 200;
}
is($st, 200, 'every GET while the standby is down: 200');
sleep $ret + 0.5;
($st) = tg_http(GET => "$b/api/tasks/counts");
is($st, 200, 'after read_retry the standby is tried again, still down: 200 from the primary');
open my $lf, '<', $logf or die;
seek $lf, $logpos, 0;
my @warn = grep { /read_database failed/ } <$lf>;
is(scalar(@warn), 2, 'one warning per read_retry window (two windows)')
    or diag(@warn);
like($warn[0] // '', qr/warning req=\d+ read_database failed, reads on database for ${ret}s \(/,
    'the warning says what happens');

# The standby comes back: after read_retry the GETs go there again.
$sb->start;
$sb->caught_up($p);
$sb->sql('SELECT pg_wal_replay_pause()');
tg_task($p, 'n3', update => '2026-01-01T00:00:00Z');
($st) = tg_http(GET => "$b/api/tasks/n3");
my $first = $st;
sleep $ret + 0.5;
($st) = tg_http(GET => "$b/api/tasks/n3");
is($st, 404, 'standby back: after read_retry GETs read it again (n3 not replayed: 404)');
ok($first == 200 || $first == 404, "within the window: $first");
$sb->sql('SELECT pg_wal_replay_resume()');
$sb->caught_up($p);
($st) = tg_http(GET => "$b/api/tasks/n3");
is($st, 200, 'replayed: 200');

# read_fallback = off: no standby, no reads; writes still work.
my $w2 = tg_lighttpd(dsn => $p->dsn, tag => 'nofallback',
    conf => "read_database = " . $sb->dsn . "\nread_fallback = off\n");
($st) = tg_http(GET => "$w2->{base}/api/tasks/n3");
is($st, 200, 'read_fallback off, standby up: 200');
$sb->stop('immediate');
($st, $h, $body) = tg_http(GET => "$w2->{base}/api/tasks/n3");
is("$st $body", '503 {"detail":"Database unavailable"}', 'read_fallback off, standby down: 503');
is($h->{'retry-after'}, 5, '... with Retry-After');
($st, $h, $body) = tg_http(GET => "$w2->{base}/api/tasks?limit=-1");
is($st, 503, 'a list too: 503');
($st, $h, $body) = tg_http(DELETE => "$w2->{base}/api/tasks/n3");
is($st, 200, 'a write still works');
$sb->start;
($st, $h, $body) = tg_http(GET => "$w2->{base}/api/tasks/s1");
is($st, 200, 'standby back: reads work again');

# A configuration that names no standby leaves everything on the primary
# (covered by every other test); a bad read_database is the standby down.
my $w3 = tg_lighttpd(dsn => $p->dsn, tag => 'bad',
    conf => "read_database = host=127.0.0.1 port=1 dbname=x connect_timeout=2\n");
($st) = tg_http(GET => "$w3->{base}/api/tasks/s1");
is($st, 200, 'unreachable read_database: GET from the primary');

done_testing;
