#!/usr/bin/perl
# No leaks, no memory errors, under valgrind memcheck:
#  (a) CGI mode: one request per route and error path, each a fresh
#      process under valgrind (exit 99 on a definite/indirect leak or any
#      error), with the exact status checked;
#  (b) FastCGI: one process under valgrind behind lighttpd serving a soak
#      of mixed requests (TG_SOAK_N, default 2000) with a database outage
#      in the middle, then SIGTERM: its log must show 0 bytes definitely
#      and indirectly lost and 0 errors.
# On an ASan build (./configure --enable-sanitizers) valgrind cannot run
# it: the same requests and soak run without valgrind, and any
# AddressSanitizer/LeakSanitizer/UBSan report (LeakSanitizer runs at each
# exit) fails instead.  Skipped only when neither is available.
use strict;
use warnings;
use Test::More;
use TG;
use TGSoak;
use POSIX ();

my $asan = asan_build();
tg_need('valgrind') unless $asan;
my $tool = $asan ? 'ASan/LSan' : 'valgrind';

my $c = tg_cluster();
soak_fixtures($c, 300);
my $dir = tg_tmpdir();
my $conf = "$dir/cgi.conf";
open my $f, '>', $conf or die;
print $f "database = " . $c->dsn . "\nmax_body_size = 4000\nmax_ids = 50\n"
    . "stream_threshold = 8192\nstatement_timeout = 5000\n";
close $f;
my $down = "$dir/down.conf";
open $f, '>', $down or die;
print $f "database = host=127.0.0.1 port=" . tg_free_port()
    . " dbname=none user=none connect_timeout=2\nretry_after = 7\n";
close $f;
my $broken = "$dir/broken.conf";
open $f, '>', $broken or die;
print $f "no_such_key = 1\n";
close $f;

# One CGI request under valgrind: (exit code, status, headers+body, log).
sub cgi {
	my ($n, %r) = @_;
	my ($in, $out, $log) = ("$dir/in.$n", "$dir/out.$n", "$dir/vg-cgi.$n.log");
	open my $fh, '>:raw', $in or die;
	print $fh $r{body} // '';
	close $fh;
	my $uri = $r{uri};
	my ($path, $qs) = split /\?/, $uri, 2;
	local %ENV = (%ENV, GATEWAY_INTERFACE => 'CGI/1.1',
	    REQUEST_METHOD => $r{method} // 'GET', REQUEST_URI => $uri,
	    SCRIPT_NAME => '', PATH_INFO => $path, QUERY_STRING => $qs // '',
	    SERVER_NAME => 'localhost', SERVER_PORT => '8080',
	    REMOTE_ADDR => '127.0.0.1', HTTP_HOST => 'localhost:8080',
	    TASKGATE_CONFIG => $r{conf} // $conf, %{ $r{env} || {} });
	delete $ENV{CONTENT_TYPE};
	delete $ENV{CONTENT_LENGTH};
	$ENV{CONTENT_TYPE} = $r{ct} if defined $r{ct};
	$ENV{CONTENT_LENGTH} = $r{cl} // length($r{body}) if defined $r{body};
	my $cmd = join(' ', map { "'$_'" } ($asan ? () : vg_cmd($log)), tg_bin())
	    . " <'$in' >'$out' 2>'$dir/err.$n'";
	system($cmd);
	my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
	if ($asan) {
		# No valgrind log: the sanitizer report (if any) is on stderr.
		$log = "$dir/err.$n";
	}
	open $fh, '<:raw', $out or die;
	local $/;
	my $resp = <$fh> // '';
	my ($st) = $resp =~ /^Status: (\d+)/;
	return ($rc, $st // 0, $resp, $log);
}

my $J = 'application/json';
my @cgi = (
	[200, 'health', uri => '/api/health'],
	[200, 'version', uri => '/api/version'],
	[200, 'list', uri => '/api/tasks?limit=5&offset=2'],
	[200, 'list all, streamed', uri => '/api/tasks?limit=-1'],
	[200, 'filtered list', uri => '/api/tasks?status=success&backend=dummy%3Alocal%3Asimulator'],
	[200, 'invalid UTF-8 filter', uri => '/api/tasks?status=%ff'],
	[422, 'list 422 (two errors)', uri => '/api/tasks?limit=x&offset=1.5'],
	[200, 'counts', uri => '/api/tasks/counts'],
	[200, 'detail', uri => '/api/tasks/t1'],
	[404, 'detail 404', uri => '/api/tasks/nope'],
	[404, 'detail NUL', uri => '/api/tasks/a%00b'],
	[200, 'shards', uri => '/api/tasks/t1/shards'],
	[404, 'shards 404', uri => '/api/tasks/nope/shards'],
	[200, 'delete', method => 'DELETE', uri => '/api/tasks/t3'],
	[404, 'delete 404', method => 'DELETE', uri => '/api/tasks/t3'],
	[200, 'bulk delete', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"task_ids":["t4","t4","nope"]}'],
	[200, 'bulk archive', method => 'POST', uri => '/api/tasks/bulk-archive', ct => $J, body => '{"task_ids":["t5","a1","nope"]}'],
	[422, 'bulk json_invalid', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"task_ids": ["a" "b"]}'],
	[422, 'bulk string_type', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"task_ids":[1,null,{"a":[1e999,NaN]},"x"]}'],
	[422, 'bulk list_type', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"task_ids":{"a":1}}'],
	[422, 'bulk not an object', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '[1,2]'],
	[422, 'bulk missing', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => ''],
	[422, 'bulk not JSON type', method => 'POST', uri => '/api/tasks/bulk-delete', ct => 'text/plain', body => '{}'],
	[400, 'bulk not UTF-8', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => "{\"task_ids\":[\"\xff\"]}"],
	[400, 'bulk truncated', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"task_ids":[]}', cl => 100],
	[413, 'bulk too large', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => 'x' x 5000],
	[413, 'bulk too many ids', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"task_ids":[' . join(',', map { "\"i$_\"" } 1 .. 60) . ']}'],
	[200, 'archive-expired', method => 'POST', uri => '/api/tasks/archive-expired?hours=0&terminal_only=true'],
	[422, 'archive-expired 422', method => 'POST', uri => '/api/tasks/archive-expired?hours=x&terminal_only=maybe'],
	[422, 'archive-expired range', method => 'POST', uri => '/api/tasks/archive-expired?hours=99999999999'],
	[200, 'archive one', method => 'POST', uri => '/api/tasks/t6/archive'],
	[404, 'archive one 404', method => 'POST', uri => '/api/tasks/nope/archive'],
	[200, 'archive list', uri => '/api/archive?limit=-1'],
	[200, 'archive detail', uri => '/api/archive/t6', seq => 1],
	[404, 'archive detail 404', uri => '/api/archive/nope'],
	[200, 'restore', method => 'POST', uri => '/api/archive/restore/t6'],
	[404, 'restore 404', method => 'POST', uri => '/api/archive/restore/t6'],
	[200, 'archive delete', method => 'DELETE', uri => '/api/archive/a2'],
	[404, 'archive delete 404', method => 'DELETE', uri => '/api/archive/a2'],
	[200, 'filters (4.1)', uri => '/api/tasks?status_in=success,%00&backend_in=x,y&has_result=1&submitted_after=2000-01-01T00:00:00.5%2B01:00&updated_before=2100-01-01&metadata=%7B%22k%22%3A%5B1%2C%22%5Cu0000%22%5D%7D&order=asc&total=exact&cursor='],
	[200, 'filters, metadata', uri => '/api/tasks?metadata=%7B%22k%22%3A1%7D&cursor=&limit=1'],
	[422, 'filters 422', uri => '/api/tasks?has_result=x&submitted_after=x&metadata=%7B&order=x&total=x&cursor=&offset=1'],
	[400, 'invalid cursor', uri => '/api/tasks?cursor=AAAA'],
	[200, 'archive filters', uri => '/api/archive?archived_after=2000-01-01&cursor='],
	[200, 'counts by backend (4.2)', uri => '/api/tasks/counts?by=backend&has_result=false'],
	[422, 'counts 422', uri => '/api/tasks/counts?by=x'],
	[200, 'lookup (4.4)', method => 'POST', uri => '/api/tasks/lookup', ct => $J, body => '{"task_ids":["t1","nope","t1","a\\u0000"]}'],
	[200, 'bulk dry run (4.5)', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"filter":{"status_in":["success"],"metadata":{"a":1}},"dry_run":true}'],
	[409, 'bulk guard', method => 'POST', uri => '/api/tasks/bulk-archive', ct => $J, body => '{"filter":{},"max_affected":0}'],
	[422, 'bulk filter 422', method => 'POST', uri => '/api/tasks/bulk-delete', ct => $J, body => '{"filter":{"x":1,"status_in":[1],"submitted_after":"x"},"task_ids":[]}'],
	[200, 'openapi (4.6)', uri => '/api/openapi.json'],
	[405, '405', method => 'POST', uri => '/api/tasks/x'],
	[405, 'HEAD', method => 'HEAD', uri => '/api/health'],
	[200, 'backends/live', uri => '/api/backends/live'],
	[200, 'CORS preflight', method => 'OPTIONS', uri => '/api/tasks/x/archive',
	    env => { HTTP_ORIGIN => 'http://localhost:5173', HTTP_ACCESS_CONTROL_REQUEST_METHOD => 'POST',
	    HTTP_ACCESS_CONTROL_REQUEST_HEADERS => 'content-type' }],
	[400, 'CORS preflight refused', method => 'OPTIONS', uri => '/api/tasks',
	    env => { HTTP_ORIGIN => 'http://evil.example', HTTP_ACCESS_CONTROL_REQUEST_METHOD => 'get',
	    HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK => 'true' }],
	[200, 'CORS simple request', uri => '/api/tasks/counts', env => { HTTP_ORIGIN => 'http://[::1]:5173' }],
	[404, 'write with forwarded host', method => 'POST', uri => '/api/tasks/nope2/archive',
	    env => { HTTP_ORIGIN => 'http://localhost:8080', HTTP_X_FORWARDED_HOST => 'a, b',
	    HTTP_X_FORWARDED_PROTO => 'http' }],
	[307, '307', uri => '/api/tasks/x%2F/?limit=1'],
	[404, 'unknown path', uri => '/nowhere'],
	[503, 'database down', uri => '/api/tasks', conf => $down],
	[500, 'broken configuration', uri => '/api/tasks', conf => $broken],
);
# 409s need an archived copy beside an active task of the same id.
$c->sql("INSERT INTO archived_tasks (task_id, backend, status, archived_at) VALUES ('t7', 'b', 'success', now()), ('t8', 'b', 'success', now())");
push @cgi, [409, 'archive conflict', method => 'POST', uri => '/api/tasks/t7/archive'],
    [409, 'restore conflict', method => 'POST', uri => '/api/archive/restore/t8'],
    [200, 'bulk archive with conflicts', method => 'POST', uri => '/api/tasks/bulk-archive', ct => $J, body => '{"task_ids":["t7","t9"]}'];

# Two workers (valgrind starts slowly): one takes the requests that
# change data, in order; the other the rest.  Results are checked here,
# in the list's order.
sub writes {
	my ($want, $name, %r) = @_;
	return 1 if $r{seq};
	return ($r{method} // 'GET') ne 'GET' && $want !~ /^(?:400|405|413|422)$/;
}
my %res;
my @pids;
for my $part (0, 1) {
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open my $o, '>', "$dir/results.$part" or die;
		for my $i (0 .. $#cgi) {
			next unless (writes(@{ $cgi[$i] }) ? 0 : 1) == $part;
			my ($want, $name, %r) = @{ $cgi[$i] };
			my ($rc, $st, $resp, $log) = cgi($i, %r);
			print $o "$i $rc $st $log\n";
		}
		close $o;
		POSIX::_exit(0);
	}
	push @pids, $pid;
}
waitpid($_, 0) for @pids;
for my $part (0, 1) {
	open my $fh, '<', "$dir/results.$part" or die;
	while (<$fh>) { my ($i, @v) = split; $res{$i} = \@v }
}
for my $i (0 .. $#cgi) {
	my ($want, $name, %r) = @{ $cgi[$i] };
	my ($rc, $st, $log) = @{ $res{$i} // [-1, 0, 'none'] };
	my ($ok, $text);
	if ($asan) {
		my @rep = tg_sanitizer_reports($log);
		($ok, $text) = ($rc == 0 && !@rep, join('', @rep));
	} else {
		($ok, $text) = vg_check_log($log);
		$ok &&= $rc != 99;
	}
	is($st, $want, "CGI $name: status $want") or diag(`head -c 600 '$dir/out.$i'`
	    . "\nstderr: " . `tail -c 600 '$dir/err.$i'`);
	if (!ok($ok, "CGI $name: no leak, no memory error ($tool)")) {
		diag("exit $rc; log $log:\n$text");
	}
}

# (b) one FastCGI process under valgrind, a soak with an outage.
$c->sql('TRUNCATE tasks, task_shards, archived_tasks, archived_task_shards');
soak_fixtures($c, 300);
my $conf_fcgi = "max_body_size = 4000\nmax_ids = 50\n"
    . "stream_threshold = 8192\nretry_after = 3\nlog_requests = off\n";
my $w = $asan ? tg_lighttpd(dsn => $c->dsn, conf => $conf_fcgi, procs => 1)
    : vg_lighttpd(dsn => $c->dsn, conf => $conf_fcgi);
my $n = $ENV{TG_SOAK_N} // 2000;
my %r = soak_run($c, $w, n => $n, outage => 1, outage_len => 40, churn => 1);
is(scalar @{ $r{bad} }, 0, "FastCGI soak: $n requests, every status as expected")
    or diag(join("\n", @{ $r{bad} }[0 .. ($#{ $r{bad} } > 20 ? 20 : $#{ $r{bad} })]));
ok($r{down_db} >= 10, "the outage was seen: $r{down_db} requests got 503");
note(join(' ', map { "$_:$r{by_status}{$_}" } sort keys %{ $r{by_status} }));
if ($asan) {
	# Stop lighttpd, wait for taskgate's exit (LeakSanitizer), read logs:
	# up to 40 s before the KILL (tg_stop's wait), not its 10 s, after
	# which a wait of our own would only see the KILLed group go.
	tg_stop($w->{pid}, 'TERM', 40);
	my @rep = tg_sanitizer_reports();
	ok(!@rep, 'FastCGI under ASan/LSan: no report at exit') or diag(join('', @rep));
} else {
	my @logs = vg_stop($w);
	is(scalar @logs, 1, 'one FastCGI process served the whole soak (no restart)')
	    or diag("valgrind logs: @logs");
	for my $log (@logs) {
		my ($ok, $text) = vg_check_log($log);
		ok($ok, "FastCGI under valgrind: 0 bytes definitely/indirectly lost, 0 errors")
		    or diag($text);
		my ($sum) = $text =~ /(LEAK SUMMARY:.*?suppressed:[^\n]*)/s;
		note($sum // 'no leak summary');
	}
}
done_testing();
