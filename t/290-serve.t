#!/usr/bin/perl
# scripts/serve itself (README's first command), with the binary under
# test (TASKGATE_BIN: no install, no build) on a free port: it says what
# it serves and where; answers /api/health, a list of the demo tasks, the
# JSON 404 of an unknown /api path and the start page from www/; runs
# lighttpd and taskgate as www-data and PostgreSQL as postgres (as root),
# from a private run directory nobody else can read into; a second
# scripts/serve on the same port says so and changes nothing; and after
# SIGINT to its process group (what Ctrl-C sends) nothing of that run is
# left: no process, no run directory, the port free.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use TG;

tg_need('lighttpd', 'curl');

my $serve = tg_srcdir() . '/scripts/serve';
my $port = tg_free_port();
my $log = tg_tmpdir() . '/serve.log';
my %env = (TASKGATE_PORT => $port, TASKGATE_BIN => tg_bin(), TASKGATE_DSN => undef);
my $pid = tg_spawn(cmd => [$serve], env => \%env, log => $log, signal => 'INT');

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; my $t = <$fh>; $t }

my $until = time + 120;
sleep 0.2 until slurp($log) =~ /Ctrl-C stops/ || time > $until
    || waitpid($pid, WNOHANG) == $pid;
my $out = slurp($log);
like($out, qr{^serve:\s+open\s+http://127\.0\.0\.1:$port/$}m, 'says the URL to open')
    or BAIL_OUT("scripts/serve did not start:\n$out");
like($out, qr{^serve:\s+the API\s+http://127\.0\.0\.1:$port/api/tasks}m, 'says the API URL');
like($out, qr{demo database \(PostgreSQL data directory (/tmp/taskgate-serve\.\w+)/pg/data}, 'says where the data is');
like($out, qr{Ctrl-C stops everything}, 'says how to stop');
my ($run) = $out =~ m{run dir\s+(/tmp/taskgate-serve\.\w+)};
ok($run && -d $run, "run directory $run exists") or BAIL_OUT('no run dir');

my $base = "http://127.0.0.1:$port";
my ($st, $h, $body) = tg_http(GET => "$base/api/health");
is("$st $body", '200 {"status":"ok"}', '/api/health');
($st, $h, $body) = tg_http(GET => "$base/api/tasks");
is($st, 200, '/api/tasks 200');
my $list = eval { decode_json($body) } || {};
is($list->{total}, 5, '... the five demo tasks');
is(scalar @{ $list->{tasks} || [] }, 5, '... all listed');
($st, $h, $body) = tg_http(GET => "$base/api/tasks/counts");
is($body, '{"pending":1,"running":1,"success":1,"failed":1,"cancelled":1,"total":5}',
    '/api/tasks/counts');
($st, $h, $body) = tg_http(GET => "$base/api/no/such/thing");
is("$st $body", '404 {"detail":"Not Found"}', 'unknown /api path: taskgate\'s JSON 404');
($st, $h, $body) = tg_http(GET => "$base/");
is($st, 200, '/ answers (the start page)');
like($h->{'content-type'} // '', qr{^text/html}, '... as HTML');
if (-f tg_srcdir() . '/www/index.html') {
	is($body, slurp(tg_srcdir() . '/www/index.html'), '... www/index.html');
}

# Who runs what, and who can read what.
sub procs {
	my ($dir) = @_;
	my @p;
	for my $p (glob '/proc/[0-9]*') {
		my $cmd = slurp("$p/cmdline");
		my $exe = readlink("$p/exe") // '';
		next unless index($cmd, $dir) >= 0 || index($exe, $dir) >= 0;
		my ($uid) = slurp("$p/status") =~ /^Uid:\s+(\d+)/m;
		$cmd =~ s/\0/ /g;
		push @p, [ $p =~ s{/proc/}{}r, scalar(getpwuid($uid // -1)) // '?', $cmd ];
	}
	return @p;
}
my @p = procs($run);
my @tg = grep { $_->[2] =~ m{^\Q$run\E/web/taskgate} } @p;
my @lt = grep { $_->[2] =~ /^lighttpd / } @p;
my @pg = grep { $_->[2] =~ m{/postgres } } @p;
ok(@tg >= 1 && @lt == 1 && @pg >= 1, 'taskgate, lighttpd and postgres of this run are running')
    or diag explain \@p;
if ($> == 0) {
	is_deeply([ sort keys %{{ map { $_->[1] => 1 } @tg, @lt }} ], ['www-data'],
	    'as root: lighttpd and taskgate run as www-data');
	is_deeply([ sort keys %{{ map { $_->[1] => 1 } @pg }} ], ['postgres'],
	    '... PostgreSQL as postgres');
}
is((stat $run)[2] & 0777, 0711, 'run directory: others may only pass through');
my @readable;
for my $d ("$run/web", "$run/pg") {
	my $m = (stat $d)[2];
	push @readable, $d if defined $m && $m & 0077;
}
is("@readable", '', 'web/ and pg/ are private to their users');
ok(!((stat "$run/web/taskgate.conf")[2] & 0007), 'taskgate.conf is not world-readable');

# A second one on the same port: a clear message, nothing started.
my $t0 = time;
my $second = `env TASKGATE_PORT=$port TASKGATE_BIN='@{[ tg_bin() ]}' '$serve' 2>&1`;
isnt($? >> 8, 0, 'a second scripts/serve on the same port fails');
like($second, qr/already answers on http:\/\/127\.0\.0\.1:$port\/ \(another scripts\/serve\?\)/,
    '... saying that one runs') or diag $second;
unlike($second, qr/run dir/, '... before making anything');
($st, $h, $body) = tg_http(GET => "$base/api/health");
is("$st $body", '200 {"status":"ok"}', 'the first still serves');

# Ctrl-C: SIGINT to the whole process group.
kill 'INT', -$pid;
$until = time + 60;
sleep 0.1 until waitpid($pid, WNOHANG) == $pid || time > $until;
ok(time <= $until, 'scripts/serve exits after SIGINT');
$until = time + 15;
sleep 0.2 while procs($run) && time < $until;
is(join("\n", map { "@$_" } procs($run)), '', 'no process of that run is left');
ok(!-e $run, 'run directory removed');
like(slurp($log), qr/stopped; removed \Q$run\E/, 'says it stopped');
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
ok(!$s, 'the port is free');

# TASKGATE_DSN: that database, its schema made or upgraded, no demo data;
# the connection string only in a file nobody else may read.
{
	my $c = tg_cluster();
	tg_task($c, 'mine');
	my $port2 = tg_free_port();
	my $log2 = tg_tmpdir() . '/serve-dsn.log';
	my $pid2 = tg_spawn(cmd => [$serve], log => $log2, signal => 'INT',
	    env => { %env, TASKGATE_PORT => $port2, TASKGATE_DSN => $c->dsn });
	$until = time + 120;
	sleep 0.2 until slurp($log2) =~ /Ctrl-C stops/ || time > $until
	    || waitpid($pid2, WNOHANG) == $pid2;
	like(slurp($log2), qr/serving the database in TASKGATE_DSN/, 'TASKGATE_DSN: says so')
	    or diag slurp($log2);
	unlike(slurp($log2), qr/\Q@{[ $c->dsn ]}\E/, '... without printing the connection string');
	($st, $h, $body) = tg_http(GET => "http://127.0.0.1:$port2/api/tasks");
	like("$st $body", qr/^200 \{"tasks":\[\{"task_id":"mine",.*"total":1,/, '... serves that database');
	my ($run2) = slurp($log2) =~ m{run dir\s+(/tmp/taskgate-serve\.\w+)};
	ok($run2 && !((stat "$run2/web/taskgate.conf")[2] & 0007), '... taskgate.conf not world-readable');
	kill 'INT', -$pid2;
	$until = time + 60;
	sleep 0.1 until waitpid($pid2, WNOHANG) == $pid2 || time > $until;
	ok($run2 && !-e $run2 && !procs($run2), '... and leaves nothing after SIGINT');
	is($c->sql('SELECT count(*) FROM tasks'), 1, '... and no demo data in it');
}

done_testing();
