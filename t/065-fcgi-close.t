#!/usr/bin/perl
# How a FastCGI connection ends (src/gw.c, gw_finish).  libfcgi's
# lingering close waits up to 2 s for the web server to close its end
# before the process takes its next request; taskgate skips that wait
# when no unread input can be left (a request without a body on a unix
# socket), and keeps it otherwise, so that unread input can never turn
# the close into a reset that destroys a response in flight.
#
# One taskgate process; connection A is answered and left open (a web
# server slow to close it), then request B on a new connection: its
# answer time shows whether the process waited for A.
use strict;
use warnings;
use Test::More;
use TG;
use TGFcgi;

tg_need('spawn-fcgi');

my $c = tg_cluster();
tg_task($c, 't1');
my $cfg = tg_tmpdir() . '/tg.conf';
open my $f, '>', $cfg or die;
print $f "database = " . $c->dsn . "\nmax_body_size = 1000\n";
close $f;
my $sock = tg_tmpdir() . '/tg.sock';
tg_spawn_fcgi(socket => $sock, env => { TASKGATE_CONFIG => $cfg },
    log => tg_tmpdir() . '/spawn.log');
my $port = tg_free_port();
tg_spawn(cmd => ['spawn-fcgi', '-n', '-a', '127.0.0.1', '-p', $port, '--', tg_bin()],
    env => { TASKGATE_CONFIG => $cfg }, log => tg_tmpdir() . '/spawn-tcp.log');
tg_wait_port($port) or BAIL_OUT('spawn-fcgi (TCP) did not start');

my %get = (GATEWAY_INTERFACE => 'CGI/1.1', REQUEST_METHOD => 'GET',
    SCRIPT_NAME => '', PATH_INFO => '/api/tasks/t1', REQUEST_URI => '/api/tasks/t1',
    QUERY_STRING => '', REMOTE_ADDR => '127.0.0.1', SERVER_NAME => 'localhost',
    SERVER_PORT => '80', HTTP_HOST => 'localhost');
my %post = (%get, REQUEST_METHOD => 'POST', PATH_INFO => '/api/tasks/bulk-delete',
    REQUEST_URI => '/api/tasks/bulk-delete', CONTENT_TYPE => 'application/json');

# A over $where with %$env and $body (kept open), then B (a GET); returns
# A's status and body and B's status and seconds.
sub pair {
	my ($where, $env, $body) = @_;
	my ($sa, undef, $ba, undef, $keep) = fcgi_request($where, $env, $body,
	    keep_open => 1);
	my ($sb, undef, undef, $secs) = fcgi_request($where, \%get, '');
	close $keep;
	return ($sa, $ba, $sb, $secs);
}

my ($sa, $ba, $sb, $secs);
($sa, $ba, $sb, $secs) = pair($sock, \%get, '');
is("$sa $sb", '200 200', 'unix socket, GET then GET: both 200');
like($ba, qr/^\{"task_id":"t1",/, '... A has its body');
cmp_ok($secs, '<', 1, sprintf('... B did not wait for A to be closed (%.2fs)', $secs));

($sa, $ba, $sb, $secs) = pair($sock, {%post, CONTENT_LENGTH => 5000}, '{"task_ids":[');
is("$sa $ba", '413 {"detail":"Request body too large"}',
    'unix socket, a body left unread (413 from CONTENT_LENGTH): the answer is whole');
is($sb, 200, '... B: 200');
cmp_ok($secs, '>', 1.5, sprintf('... after the lingering close kept for the unread body (%.2fs)', $secs));

# A POST whose body was read to CONTENT_LENGTH: taskgate reads the empty
# FCGI_STDIN record too, so nothing is unread and the close is plain, on
# a unix socket and on TCP (it used to wait the 2 s).
my $full = '{"task_ids":["nope"]}';
for my $where ([$sock, 'unix socket'], [$port, 'TCP']) {
	($sa, $ba, $sb, $secs) = pair($where->[0], {%post, CONTENT_LENGTH => length $full}, $full);
	is("$sa $ba", '200 {"deleted":[],"missing":["nope"],"count":0}', "$where->[1], a POST read to its end: answered");
	is($sb, 200, '... B: 200');
	cmp_ok($secs, '<', 1, sprintf('... B did not wait for A to be closed (%.2fs)', $secs));
}

($sa, $ba, $sb, $secs) = pair($port, \%get, '');
is("$sa $sb", '200 200', 'TCP, GET then GET: both 200');
cmp_ok($secs, '>', 1.5, sprintf('... TCP keeps the lingering close: the empty STDIN record may be unread (%.2fs)', $secs));

done_testing;
