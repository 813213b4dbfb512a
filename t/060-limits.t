#!/usr/bin/perl
# Limits: path and query-string length (414), id length (an over-long id
# names nothing: 404 / missing), and truncated or stalled bodies (400,
# nothing changes) in CGI mode and over raw FastCGI (spawn-fcgi).
use strict;
use warnings;
use Test::More;
use IPC::Open3;
use POSIX ();
use Symbol 'gensym';
use Time::HiRes qw(time sleep);
use TG;
use TGFcgi;

my $conf = "max_path_length = 100\nmax_query_length = 50\nmax_id_length = 20\nbody_timeout = 1\n";
my ($c, $w) = tg_setup(conf => $conf);
my $b = $w->{base};
my ($st, $h, $body);
my %J = ('Content-Type' => 'application/json');
my $uri414 = '{"detail":"URI Too Long"}';

my $id20 = 'i' x 20;
my $id21 = 'j' x 21;
tg_task($c, $_) for 'keep', $id20, $id21;
tg_shard($c, 'keep', 0);
my $snap = sub { $c->sql("SELECT string_agg(task_id, ',' ORDER BY task_id) FROM tasks") .
    '|' . $c->sql("SELECT count(*) FROM task_shards") . '|' .
    $c->sql("SELECT count(*) FROM archived_tasks") };
my $before = $snap->();

# Query string: 50 bytes pass, 51 are 414 (with JSON).
($st, $h, $body) = tg_http(GET => "$b/api/tasks?status=" . ('s' x 43));
is($st, 200, 'query of exactly max_query_length');
($st, $h, $body) = tg_http(GET => "$b/api/tasks?status=" . ('s' x 44));
is($st, 414, 'query over max_query_length: 414');
is($body, $uri414, '414 body');
like($h->{'content-type'}, qr{^application/json}, '414 is JSON');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=1&x=" . ('y' x 60));
is($st, 414, 'long query on a write route: 414 before anything runs');

# Path: 100 bytes routed (404 here), 101 bytes 414.
my $p100 = '/api/nope/' . ('p' x 90);
($st, $h, $body) = tg_http(GET => "$b$p100");
is($st, 404, 'path of exactly max_path_length is routed');
($st, $h, $body) = tg_http(GET => "$b${p100}p");
is($st, 414, 'path over max_path_length: 414');
is($body, $uri414, 'path 414 body');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/" . ('%41' x 30));
is($st, 414, 'the raw (encoded) length counts');

# Ids: 20 bytes are looked up, 21 name nothing (even if a writer stored one).
($st, $h, $body) = tg_http(GET => "$b/api/tasks/$id20");
is($st, 200, 'id of max_id_length found');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/$id21");
is($st, 404, 'longer id: 404');
is($body, qq({"detail":"Task '$id21' not found"}), 'ordinary not-found body');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/$id21/shards");
is($st, 404, 'shards of a long id: 404');
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/$id21");
is($st, 404, 'delete of a long id: 404');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/$id21/archive");
is($st, 404, 'archive of a long id: 404');
($st, $h, $body) = tg_http(POST => "$b/api/archive/restore/$id21");
is($body, qq({"detail":"Archived task '$id21' not found"}), 'restore of a long id: 404');
($st, $h, $body) = tg_http(GET => "$b/api/archive/$id21");
is($st, 404, 'archived detail of a long id: 404');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-delete", headers => \%J,
    body => qq({"task_ids":["$id21","nope"]}));
is($body, qq({"deleted":[],"missing":["$id21","nope"],"count":0}), 'bulk: long id is missing');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-archive", headers => \%J,
    body => qq({"task_ids":["$id21"]}));
is($body, qq({"archived":[],"missing":["$id21"],"count":0}), 'bulk-archive: long id is missing');
is($snap->(), $before, 'nothing changed');

# --- CGI mode: the binary run directly, one request, stdin as the body.
my $cfgfile = tg_tmpdir() . '/cgi.conf';
open my $cf, '>', $cfgfile or die;
print $cf "database = " . $c->dsn . "\n$conf";
close $cf;
my %cgienv = (TASKGATE_CONFIG => $cfgfile, GATEWAY_INTERFACE => 'CGI/1.1',
    REQUEST_METHOD => 'POST', SCRIPT_NAME => '', PATH_INFO => '/api/tasks/bulk-delete',
    REQUEST_URI => '/api/tasks/bulk-delete', QUERY_STRING => '',
    CONTENT_TYPE => 'application/json', REMOTE_ADDR => '127.0.0.1',
    SERVER_NAME => 'localhost', SERVER_PORT => '80');

# Runs one CGI request; with hold, stdin stays open after the bytes.
sub cgi {
	my ($env, $in, $hold) = @_;
	# The binary may answer (414, 413) and exit before reading stdin.
	local $SIG{PIPE} = "IGNORE";
	my $bin = tg_bin();
	local %ENV = (PATH => $ENV{PATH}, %$env);
	my $t0 = time;
	my $err = gensym;
	# (Through env: open3 splits a lone command at spaces, as a shell would.)
	my $pid = open3(my $wr, my $rd, $err, 'env', $bin);
	binmode $wr;
	print $wr $in;
	$wr->flush;
	close $wr unless $hold;
	local $/;
	my $out = <$rd> // '';
	waitpid($pid, 0);
	my $rc = $? >> 8;
	close $wr if $hold;
	my ($head, $rbody) = split /\r\n\r\n/, $out, 2;
	my ($s) = ($head // '') =~ /^Status: (\d+)/;
	return ($s // 0, $rbody // '', time - $t0, $rc);
}

my $full = '{"task_ids":["keep"]}';
my $incomplete = '{"detail":"Request body incomplete: fewer bytes than Content-Length"}';
my ($secs, $rc);
($st, $body, $secs, $rc) = cgi({%cgienv, CONTENT_LENGTH => length($full) + 50}, $full);
is($st, 400, 'CGI: body shorter than CONTENT_LENGTH: 400 (even though it is valid JSON)');
is($body, $incomplete, 'CGI: 400 body');
is($rc, 0, 'CGI: clean exit');
($st, $body) = cgi({%cgienv, CONTENT_LENGTH => 100}, '{"task_ids":["ke');
is($st, 400, 'CGI: cut in the middle: 400');
($st, $body, $secs) = cgi({%cgienv, CONTENT_LENGTH => length($full) + 5}, $full, 1);
is($st, 400, 'CGI: stalled body: 400 after body_timeout');
ok($secs < 5, sprintf('CGI: stalled body answered in %.1fs', $secs));
is($snap->(), $before, 'CGI: nothing changed');
{
	# The same trickle on CGI's stdin.
	local $SIG{PIPE} = 'IGNORE';
	my $bin = tg_bin_copy();	# (one word for open3: the checkout's path may have a space)
	local %ENV = (PATH => $ENV{PATH}, %cgienv, CONTENT_LENGTH => length $full);
	my $t0 = time;
	my $pid = open3(my $wr, my $rd, gensym, $bin);
	my $feeder = fork // die;
	if ($feeder == 0) {
		close $rd;
		$wr->autoflush(1);
		for my $ch (split //, $full) { print $wr $ch or last; sleep 0.3 }
		POSIX::_exit(0);
	}
	close $wr;
	local $/;
	my $out = <$rd> // '';
	$secs = time - $t0;
	waitpid($pid, 0);
	kill 'KILL', $feeder;
	waitpid($feeder, 0);
	like($out, qr/^Status: 400 /, 'CGI: trickling body: 400 after body_timeout');
	ok($secs < 4, sprintf('CGI: trickling body answered in %.1fs', $secs));
}
($st, $body) = cgi({%cgienv, CONTENT_LENGTH => 'abc'}, $full);
is($st, 400, 'CGI: unparseable CONTENT_LENGTH: 400');
($st, $body) = cgi({%cgienv, REQUEST_URI => '/api/tasks/bulk-delete?' . ('q' x 51), QUERY_STRING => 'q' x 51,
    CONTENT_LENGTH => length $full}, $full);
is($st, 414, 'CGI: long query 414');
is($body, $uri414, 'CGI: 414 body');
($st, $body) = cgi({%cgienv, CONTENT_LENGTH => length $full}, $full);
is($st, 200, 'CGI: the complete body works');
is($body, '{"deleted":["keep"],"missing":[],"count":1}', 'CGI: deleted');
tg_task($c, 'keep');
tg_shard($c, 'keep', 0);

# --- FastCGI through spawn-fcgi, with a raw client.
my $fport = tg_free_port();
tg_spawn(cmd => ['spawn-fcgi', '-n', '-a', '127.0.0.1', '-p', $fport, '--', tg_bin()],
    env => { TASKGATE_CONFIG => $cfgfile }, log => tg_tmpdir() . '/spawn.log');
tg_wait_port($fport) or BAIL_OUT('spawn-fcgi did not start');
my %fenv = %cgienv;
delete $fenv{TASKGATE_CONFIG};
($st, $h, $body) = fcgi_request($fport, {%fenv, CONTENT_LENGTH => length($full) + 50}, $full);
is($st, 400, 'FastCGI: body shorter than CONTENT_LENGTH: 400');
is($body, $incomplete, 'FastCGI: 400 body');
($st, $h, $body, $secs) = fcgi_request($fport, {%fenv, CONTENT_LENGTH => length($full) + 5}, $full,
    close_stdin => 0);
is($st, 400, 'FastCGI: stalled body: 400 after body_timeout');
ok($secs < 5, sprintf('FastCGI: stalled body answered in %.1fs', $secs));
is($snap->(), $before, 'FastCGI: nothing changed');
# body_timeout bounds the whole body, not each read: a body trickling in
# one byte every 0.3 s (each read well within the timeout) is cut at 1 s.
($st, $h, $body, $secs) = fcgi_request($fport, {%fenv, CONTENT_LENGTH => length $full}, $full,
    trickle => 0.3);
is($st, 400, 'FastCGI: trickling body: 400 after body_timeout');
ok($secs < 4, sprintf('FastCGI: trickling body answered in %.1fs (the whole body would take %.1fs)',
    $secs, 0.3 * length $full));
is($snap->(), $before, 'FastCGI: nothing changed');
my $long = 'z' x 300;
($st, $h, $body) = fcgi_request($fport, {%fenv, REQUEST_METHOD => 'GET', HTTP_X_LONG => $long,
    REQUEST_URI => "/api/tasks/$id20", CONTENT_LENGTH => ''}, '');
is($st, 200, 'FastCGI: long params (4-byte lengths), same process still serving');
($st, $h, $body) = fcgi_request($fport, {%fenv, CONTENT_LENGTH => length $full}, $full);
is($body, '{"deleted":["keep"],"missing":[],"count":1}', 'FastCGI: complete body works');

done_testing();
