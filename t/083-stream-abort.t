#!/usr/bin/perl
# A list that fails after its headers were sent (the PostgreSQL backend
# terminated mid-stream): taskgate aborts the FastCGI connection without
# FCGI_END_REQUEST, so the web server cannot end the chunked body cleanly
# and the client sees a broken response (curl: exit 18, not 0); the log
# line says 503 and "response aborted"; the same process serves the next
# request.  Behind lighttpd and nginx (conf/nginx.conf: it needs
# fastcgi_keep_conn to see the missing end), with no buffering of
# responses in files, so that the stream is still going when the backend
# is terminated.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use TG;

tg_need('curl');

my $c = tg_cluster();
$c->sql(q{INSERT INTO tasks (task_id, backend, status, submit_time, update_time, metadata)
	SELECT 'task-' || i, 'originq:WK_C180', 'success',
	    timestamptz '2026-01-01' + i * interval '1 second', timestamptz '2026-01-01',
	    jsonb_build_object('note', repeat('x', 100))
	FROM generate_series(1, 200000) i});
sub slurp { my ($p) = @_; open(my $f, '<', $p) or return ''; local $/; return <$f> // '' }
my ($u) = getpwnam('www-data') ? ('www-data') : ('nobody');

my @servers;
push @servers, ['lighttpd', sub {
	my $w = tg_lighttpd(dsn => $c->dsn, tag => 'abort',
	    lighttpd_conf => "server.stream-response-body = 2\n");
	$w->{applog} = ["$w->{dir}/stdout.log", $w->{errlog}];
	return $w;
}];
push @servers, ['nginx', sub {
	my $d = tg_subdir('nginx-abort-app');
	my $bin = tg_copy_bin("$d/taskgate");
	tg_write("$d/taskgate.conf", "database = " . $c->dsn . "\n", 0644);
	my $sock = "$d/taskgate.sock";
	tg_spawn_fcgi(socket => $sock, bin => $bin, args => ['-c', "$d/taskgate.conf"],
	    sockuser => $u, log => "$d/taskgate.log");
	my $port = tg_free_port();
	my $w = tg_nginx(tag => '-abort', port => $port,
	    site => tg_conf_template('nginx.conf',
		['listen 80;', "listen 127.0.0.1:$port;"],
		['location /api {', "location /api {\n\t\tfastcgi_max_temp_file_size 0;"],
		['unix:/run/taskgate/taskgate.sock', "unix:$sock"]));
	$w->{applog} = ["$d/taskgate.log"];
	return $w;
}] if -x '/usr/sbin/nginx' && -x '/usr/bin/spawn-fcgi';

for my $s (@servers) {
	my ($name, $start) = @$s;
	my $w = $start->();
	my ($st) = tg_http(GET => "$w->{base}/api/tasks?limit=1");
	is($st, 200, "$name: up");
	my $out = tg_tmpdir() . "/$name.out";
	my $pid = fork // die;
	if ($pid == 0) {
		{ exec 'curl', '-s', '-o', $out, '--limit-rate', '4M', '--max-time', '120',
		    "$w->{base}/api/tasks?limit=-1" };
		POSIX::_exit(127);
	}
	my $until = time + 60;
	sleep 0.05 while time < $until && (-s $out // 0) < 1_000_000;
	ok((-s $out // 0) >= 1_000_000, "$name: the list is streaming");
	my $n = $c->sql(q{SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'taskgate' AND state = 'active'});
	is($n, 1, "$name: its backend terminated mid-stream");
	waitpid($pid, 0);
	my $rc = $? >> 8;
	isnt($rc, 0, "$name: the client sees a broken response (curl exit $rc)")
	    or diag(slurp($w->{errlog}));
	my $body = do { local $/; open my $f, '<', $out or die; <$f> };
	like($body, qr/^\{"tasks":\[\{"task_id":"task-200000"/, "$name: it had begun as a list");
	unlike($body, qr/\],"total":\d+,"limit":-1,"offset":0\}\z/, "$name: and has no end");
	my $log = '';
	$until = time + 10;
	while (time < $until) {
		$log = join '', map { slurp($_) } @{ $w->{applog} };
		last if $log =~ /response aborted/;
		sleep 0.1;
	}
	like($log, qr{error req=\d+ "GET /api/tasks" 503 [\d.]+ms \(failed after 200 and \d+ body bytes were sent: response aborted; }, "$name: the log line carries the failure");
	($st, my $h, $body) = tg_http(GET => "$w->{base}/api/tasks?limit=1");
	is($st, 200, "$name: the next request is served");
}

done_testing();
