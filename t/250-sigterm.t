#!/usr/bin/perl
# Graceful SIGTERM of the responder loses no request.
#  1. spawn-fcgi -F 2 behind nginx (conf/nginx.conf): TERM one process
#     between requests of a sequential run; every request is a complete
#     200 (the other process takes the queue), the TERMed one exits 0.
#  2. TERM in the middle of a long streamed list, while taskgate is
#     blocked writing to a client that reads slowly (a direct FastCGI
#     client on the socket, so the write really blocks): the response is
#     complete and valid JSON with every row, then the process exits 0.
#  3. TERM while idle in accept: the process exits promptly.
use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use TG;

tg_need('nginx', 'spawn-fcgi');

my $c = tg_cluster();
my ($u) = getpwnam('www-data') ? ('www-data') : ('nobody');
my $d = tg_subdir('term');
my $bin = tg_copy_bin("$d/taskgate");
# The stream below stays one statement while its writes are blocked:
# a minute of statement_timeout, not the default 5 s, so a slow machine
# does not cut it off.
tg_write("$d/taskgate.conf", "database = " . $c->dsn . "\nstatement_timeout = 60000\n", 0644);

# Waits up to $secs for a pid to be gone; spawn-fcgi's forked children
# are not ours (kill 0), tg_spawn_fcgi's are (waitpid: sets $exit).
my $exit;
sub gone {
	my ($pid, $secs) = @_;
	my $until = time + $secs;
	$exit = undef;
	while (time < $until) {
		if (waitpid($pid, WNOHANG) == $pid) {
			$exit = $?;
			return 1;
		}
		return 1 unless kill 0, $pid;
		sleep 0.02;
	}
	return 0;
}

# --- 1. Between requests, two processes on one socket. -----------------
my $sock = "$d/pair.sock";
my @cmd = ('spawn-fcgi', '-s', $sock, '-M', '0660', '-F', 2);
push @cmd, '-u', 'nobody', '-U', $u, '-G', $u if $> == 0;
my $out = `@cmd -- $bin -c $d/taskgate.conf 2>&1`;
my @kids = $out =~ /PID: (\d+)/g;
END { kill 'KILL', @kids if @kids }
is(scalar @kids, 2, 'spawn-fcgi -F 2 started two processes') or diag $out;
my $port = tg_free_port();
my $w = tg_nginx(tag => '-term', port => $port,
    site => tg_conf_template('nginx.conf',
	['listen 80;', "listen 127.0.0.1:$port;"],
	['unix:/run/taskgate/taskgate.sock', "unix:$sock"]));
tg_task($c, 'seq', backend => 'term');
my (%st, $bad, $killed);
for my $i (1 .. 60) {
	if ($i == 20) {
		kill 'TERM', $kids[0];
		$killed = gone($kids[0], 5);
	}
	my ($st, $h, $body) = tg_http(GET => "$w->{base}/api/tasks/seq");
	$st{$st}++;
	$bad++ unless $body =~ /^\{"task_id":"seq","backend":"term",.*"archived_at":null\}$/;
}
ok($killed, 'TERMed idle process exited');
is_deeply(\%st, { 200 => 60 }, '60 sequential requests around the TERM: all 200');
is($bad // 0, 0, '... every body complete');
kill 'TERM', $kids[1];
ok(gone($kids[1], 5), 'second process exits on TERM');
@kids = ();

# --- 2. During a stream, with the write blocked. ----------------------
my $n = 60000;
$c->sql("INSERT INTO tasks (task_id, backend, status, submit_time, update_time, metadata)
    SELECT 'bulk-' || g, 'stream', 'success', '2026-11-01T00:00:00Z'::timestamptz + g * interval '1 second',
	now(), '{\"pad\": \"" . ('p' x 100) . "\"}' FROM generate_series(1, $n) g");
my $one = "$d/one.sock";
my $tpid = tg_spawn_fcgi(socket => $one, bin => $bin,
    args => ['-c', "$d/taskgate.conf"], log => "$d/one.log");

# Minimal FastCGI client: one request, responses read on demand.
sub fcgi_rec {
	my ($type, $content) = @_;
	return pack('CCnnCC', 1, $type, 1, length $content, 0, 0) . $content;
}
sub fcgi_nv {
	my $s = '';
	while (my ($k, $v) = splice @_, 0, 2) {
		for my $l (length $k, length $v) {
			$s .= $l < 128 ? pack('C', $l) : pack('N', $l | 0x80000000);
		}
		$s .= $k . $v;
	}
	return $s;
}
my $fc = IO::Socket::UNIX->new(Peer => $one, Type => SOCK_STREAM)
    or die "connect $one: $!";
binmode $fc;
my $params = fcgi_nv(REQUEST_METHOD => 'GET', REQUEST_URI => '/api/tasks?backend=stream&limit=-1',
    QUERY_STRING => 'backend=stream&limit=-1', SERVER_NAME => 'localhost',
    SERVER_PORT => '80', GATEWAY_INTERFACE => 'CGI/1.1');
print $fc fcgi_rec(1, pack('nCx5', 1, 0)), fcgi_rec(4, $params), fcgi_rec(4, ''),
    fcgi_rec(5, '');
$fc->flush;
my ($stdout, $ended, $app_status) = ('', 0, -1);
sub read_rec {
	my $hdr = '';
	while (length $hdr < 8) {
		my $r = sysread($fc, $hdr, 8 - length $hdr, length $hdr);
		return 0 unless $r;
	}
	my (undef, $type, undef, $len, $pad) = unpack('CCnnC', $hdr);
	my $body = '';
	while (length $body < $len + $pad) {
		my $r = sysread($fc, $body, $len + $pad - length $body, length $body);
		return 0 unless $r;
	}
	$body = substr($body, 0, $len);
	if ($type == 6) { $stdout .= $body }
	elsif ($type == 3) { $ended = 1; $app_status = unpack('N', $body) }
	return 1;
}
# Read ~64 KiB, then stop reading: taskgate fills the socket buffer and
# blocks in write.  TERM it there, wait, then read everything.
while (length $stdout < 65536) { read_rec() or last }
sleep 0.5;
ok(kill(0, $tpid), 'taskgate still serving the stream');
kill 'TERM', $tpid;
sleep 1;
ok(kill(0, $tpid) && waitpid($tpid, WNOHANG) == 0,
    'TERMed during the stream: still alive, finishing the request');
my $t0 = time;
1 while !$ended && read_rec();
close $fc;
ok($ended, 'FastCGI END_REQUEST received');
is($app_status, 0, 'application status 0');
my ($head, $json) = split /\r\n\r\n/, $stdout, 2;
like($head, qr{^Content-Type: application/json}mi, 'JSON response');
unlike($head, qr/^Status: [^2]/m, 'status 200');
my $doc = eval { decode_json($json) };
ok($doc, 'the streamed body is complete, valid JSON') or diag "$@ ...", substr($json, -200);
is($doc && scalar @{ $doc->{tasks} }, $n, "all $n rows");
is($doc && $doc->{total}, $n, 'total after the rows');
is($doc && $doc->{tasks}[-1]{task_id}, 'bulk-1', 'last row is the oldest');
ok(gone($tpid, 5), 'taskgate exited after finishing the request');
is($exit, 0, '... with status 0');

# --- 3. Idle in accept: exits at once. --------------------------------
$tpid = tg_spawn_fcgi(socket => $one, bin => $bin,
    args => ['-c', "$d/taskgate.conf"], log => "$d/one.log");
sleep 0.3;
my $t1 = time;
kill 'TERM', $tpid;
ok(gone($tpid, 5), 'idle taskgate exits on TERM');
cmp_ok(time - $t1, '<', 2, '... promptly');
is($exit, 0, '... with status 0');

done_testing();
