#!/usr/bin/perl
# GET /api/metrics (metrics = on): Prometheus text through lighttpd with
# several taskgate processes summing their files in metrics_dir, through
# plain CGI (every request a process that dies: its counts are folded, not
# lost), per process without metrics_dir, 404 when off, read access as
# for every GET, a database outage seen as 503s, errors and reconnects.
# Every answer goes through a strict parser of the text format.
use strict;
use warnings;
use Test::More;
use POSIX ':sys_wait_h';
use Time::HiRes qw(sleep time);
use TG;

my $c = tg_cluster();
my $dir = tg_tmpdir();
my $mdir = "$dir/metrics";
mkdir $mdir or die;
tg_task($c, "m$_", status => 'success') for 1 .. 3;

my $CT = 'text/plain; version=0.0.4; charset=utf-8';

# A strict reader of the text exposition format 0.0.4: every line is a
# HELP, a TYPE or a sample; a family's TYPE comes once, before its
# samples, and its samples are contiguous; names and labels are valid;
# no series twice; histograms have cumulative buckets ending in +Inf whose
# value is _count.  Returns { series => value } keyed by
# 'name{l1="v1",...}' with labels sorted, or dies naming the bad line.
sub parse_prom {
	my ($text) = @_;
	my (%type, %seen, %series, %done, $cur);
	my $name_re = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
	my $lname_re = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
	die "answer does not end with a newline\n" unless $text =~ /\n\z/;
	my $n = 0;
	for my $line (split /\n/, $text) {
		$n++;
		die "line $n: empty\n" if $line eq '';
		if ($line =~ /^# HELP ($name_re) (.*)$/) {
			next;
		}
		if ($line =~ /^# TYPE ($name_re) (counter|gauge|histogram|summary|untyped)$/) {
			die "line $n: second TYPE of $1\n" if $type{$1};
			die "line $n: TYPE of $1 after its samples\n" if $done{$1};
			$type{$1} = $2;
			next;
		}
		die "line $n: bad comment: $line\n" if $line =~ /^#/;
		$line =~ /^($name_re)(?:\{(.*)\})? (\S+)$/ or die "line $n: bad sample: $line\n";
		my ($name, $lab, $val) = ($1, $2 // '', $3);
		$val =~ /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?Inf|NaN)$/
		    or die "line $n: bad value $val\n";
		my %l;
		my $rest = $lab;
		while ($rest ne '') {
			$rest =~ s/^($lname_re)="((?:[^"\\\n]|\\[\\"n])*)"// or die "line $n: bad labels {$lab}\n";
			die "line $n: label $1 twice\n" if exists $l{$1};
			$l{$1} = $2;
			last if $rest eq '';
			$rest =~ s/^,// or die "line $n: bad labels {$lab}\n";
		}
		my $fam = $name;
		$fam =~ s/_(bucket|sum|count)$// if !$type{$name} &&
		    ($type{$name =~ s/_(bucket|sum|count)$//r} // '') =~ /histogram|summary/;
		my $t = $type{$fam} or die "line $n: sample of $name without TYPE\n";
		die "line $n: $name is not a counter name\n" if $t eq 'counter' && $name !~ /_total$/;
		die "line $n: histogram sample $name\n" if $t eq 'histogram' &&
		    $name !~ /_(bucket|sum|count)$/;
		die "line $n: _bucket without le\n" if $name =~ /_bucket$/ && $t eq 'histogram' && !exists $l{le};
		die "line $n: samples of $fam are not contiguous\n" if $done{$fam};
		if (defined $cur && $cur ne $fam) { $done{$cur} = 1 }
		$cur = $fam;
		my $key = !%l ? $name :
		    $name . '{' . join(',', map { "$_=\"$l{$_}\"" } sort keys %l) . '}';
		die "line $n: series $key twice\n" if $seen{$key}++;
		$series{$key} = $val;
	}
	# Histograms: cumulative buckets, +Inf last and equal to _count.
	for my $fam (grep { $type{$_} eq 'histogram' } keys %type) {
		my %sets;
		for my $k (keys %series) {
			next unless $k =~ /^\Q$fam\E_bucket\{(.*)\}$/;
			my $labs = $1;
			my ($le) = $labs =~ /le="([^"]*)"/;
			(my $rest = $labs) =~ s/,?le="[^"]*"//;
			$rest =~ s/^,//;
			push @{ $sets{$rest} }, [$le eq '+Inf' ? 9**9**9 : $le, $series{$k}];
		}
		for my $set (keys %sets) {
			my @b = sort { $a->[0] <=> $b->[0] } @{ $sets{$set} };
			die "$fam\{$set}: no +Inf bucket\n" unless $b[-1][0] == 9**9**9;
			for my $i (1 .. $#b) {
				die "$fam\{$set}: buckets not cumulative\n" if $b[$i][1] < $b[$i - 1][1];
			}
			my $sk = $set eq '' ? '' : "{$set}";
			my $cnt = $series{"${fam}_count$sk"};
			die "$fam\{$set}: no _count\n" unless defined $cnt;
			die "$fam\{$set}: +Inf $b[-1][1] != _count $cnt\n" unless $b[-1][1] == $cnt;
			die "$fam\{$set}: no _sum\n" unless defined $series{"${fam}_sum$sk"};
		}
	}
	return \%series;
}

# The parser itself rejects what it must.
for my $bad ("x_total 1\n", "# TYPE x counter\nx 1\n",
    "# TYPE a_total counter\na_total 1\n# TYPE b_total counter\nb_total 1\na_total{x=\"1\"} 2\n",
    "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n",
    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 1\n",
    "# TYPE a_total counter\na_total{x=\"1} 1\n", "# TYPE a_total counter\na_total 1") {
	ok(!eval { parse_prom($bad); 1 }, "parser rejects " . ($bad =~ s/\n/\\n/gr));
}

sub rq_key {
	my ($route, $status, $method) = @_;
	return 'taskgate_http_requests_total{method="' . ($method // 'GET') .
	    "\",route=\"$route\",status=\"$status\"}";
}

sub scrape {
	my ($base, %o) = @_;
	my ($st, $h, $body) = tg_http(GET => "$base/api/metrics", %o);
	is($st, 200, 'metrics: 200') or diag $body;
	is($h->{'content-type'}, $CT, 'metrics: Content-Type of the text format');
	# Counters move with every request: no ETag, so never a stale 304.
	is($h->{etag}, undef, 'metrics: no ETag');
	my $m = eval { parse_prom($body) };
	ok($m, 'metrics: parses as Prometheus text') or diag "$@\n$body";
	return $m || {};
}

# --- Several FastCGI processes behind lighttpd, one metrics_dir ---------
my $w = tg_lighttpd(dsn => $c->dsn, procs => 3, tag => 'multi',
    conf => "metrics = on\nmetrics_dir = $mdir\nlog_requests = off\nconnect_timeout = 2\n");
my $b = $w->{base};
sub pids { my @p = sort map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $w->{pid}`; return @p }
my $until = time + 20;
sleep 0.1 while (my @p = pids()) < 3 && time < $until;
is(scalar(pids()), 3, 'three taskgate processes');
# A process is listed before it has registered in metrics_dir
# (metrics_init, early in main): wait for the three files, or the first
# scrape can sum two (seen on the sanitizer build, about 1 run in 20).
sleep 0.1 while (my @f = glob("$mdir/p-*.tgm")) < 3 && time < $until;

my $m0 = scrape($b);
is($m0->{'taskgate_metrics_processes{state="live"}'}, 3,
    'every live process is summed');
my @starts = grep { /^process_start_time_seconds\{pid="\d+"\}$/ } keys %$m0;
is(scalar(@starts), 3, 'process_start_time_seconds of each process, labelled pid');
my %pidset = map { $_ => 1 } pids();
ok(!grep({ !$pidset{/pid="(\d+)"/ ? $1 : 0} } @starts), 'the pids are the processes\' pids');
for (@starts) { ok(abs($m0->{$_} - time) < 120, "$_ is a recent epoch time") }
ok($pidset{$m0->{taskgate_metrics_answering_pid}}, 'answering pid is one of them');

# Concurrent clients, so that several processes serve.
my $before = $m0->{rq_key('/api/tasks', 200)} // 0;
my $before404 = $m0->{rq_key('/api/tasks/{task_id}', 404)} // 0;
my $beforeun = $m0->{'taskgate_http_requests_total{method="other",route="unmatched",status="404"}'} // 0;
my @kids;
for my $k (1 .. 4) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $bad = 0;
		for (1 .. 25) { my ($st) = tg_http(GET => "$b/api/tasks"); $bad++ if $st != 200 }
		for (1 .. 5) { my ($st) = tg_http(GET => "$b/api/tasks/nope$k"); $bad++ if $st != 404 }
		my ($st) = tg_http(GET => "$b/api/nowhere/$k"); $bad++ if $st != 404;
		POSIX::_exit($bad ? 1 : 0);
	}
	push @kids, $pid;
}
for (@kids) { waitpid($_, 0); is($?, 0, "client $_: every answer as expected") }
my $m1 = scrape($b);
is($m1->{rq_key('/api/tasks', 200)} - $before, 100, 'GET /api/tasks 200: +100, summed over processes');
is($m1->{rq_key('/api/tasks/{task_id}', 404)} - $before404, 20,
    'GET /api/tasks/{task_id} 404: +20 (route pattern, not the raw path)');
is($m1->{'taskgate_http_requests_total{method="other",route="unmatched",status="404"}'} - $beforeun, 4,
    'unknown paths: one bounded "unmatched" series');
ok(!grep(/nope|nowhere/, keys %$m1), 'no raw path in any label');
my $hk = 'taskgate_http_request_duration_seconds_count{method="GET",route="/api/tasks"}';
is($m1->{$hk}, $m1->{rq_key('/api/tasks', 200)}, 'histogram _count = requests of the route');
ok($m1->{'taskgate_http_request_duration_seconds_sum{method="GET",route="/api/tasks"}'} > 0,
    'histogram _sum > 0');
ok($m1->{'taskgate_http_request_duration_seconds_bucket{le="10",method="GET",route="/api/tasks"}'} > 0,
    'requests fall in finite buckets');
ok($m1->{taskgate_http_response_bytes_total} - ($m0->{taskgate_http_response_bytes_total} // 0) > 100 * 100,
    'bytes out grew by at least the list bodies');
ok($m1->{taskgate_db_connections_total} >= 1, 'database connections counted');
my $mscr = $m1->{rq_key('/api/metrics', 200)};
ok($mscr >= 1, 'the scrapes themselves are counted');

# A process that ends (SIGTERM, as mod_fcgid's recycling does): its counts
# stay in the sum, folded into dead.tgm.
my $victim = (pids())[0];
kill 'TERM', $victim;
$until = time + 20;
sleep 0.1 while kill(0, $victim) && time < $until;
ok(!kill(0, $victim), "process $victim ended");
my $m2;
for (1 .. 50) {
	$m2 = scrape($b);
	last if !exists $m2->{"process_start_time_seconds{pid=\"$victim\"}"};
	sleep 0.1;
}
ok(!exists $m2->{"process_start_time_seconds{pid=\"$victim\"}"}, 'the dead process is no longer listed as live');
is($m2->{rq_key('/api/tasks', 200)}, $m1->{rq_key('/api/tasks', 200)},
    'its requests are still counted (not lost, not counted twice)');
ok(-f "$mdir/dead.tgm", "dead.tgm holds the folded counts") or diag `ls -la $mdir`;
my @vf = glob("$mdir/p-$victim-*");
ok(!@vf, 'the dead process\'s file is gone');

# Database outage: 503s, errors; back: reconnects.
my $err0 = $m2->{taskgate_db_errors_total} // 0;
my $rec0 = $m2->{taskgate_db_reconnects_total} // 0;
my $s503 = $m2->{rq_key('/api/tasks', 503)} // 0;
$c->stop('fast');
my $n503 = 0;
for (1 .. 6) { my ($st) = tg_http(GET => "$b/api/tasks"); $n503++ if $st == 503 }
is($n503, 6, 'database down: 503s');
my $m3 = scrape($b);
is($m3->{rq_key('/api/tasks', 503)} - $s503, 6, '503s counted by route and status');
ok($m3->{taskgate_db_errors_total} - $err0 >= 6, 'database errors counted');
ok(($m3->{taskgate_db_connect_failures_total} // 0) >= 1, 'failed connects counted');
$c->start;
my $ok = 0;
for (1 .. 30) { my ($st) = tg_http(GET => "$b/api/tasks"); $ok++ if $st == 200 }
ok($ok >= 25, 'database back: answers again');
my $m4 = scrape($b);
ok($m4->{taskgate_db_reconnects_total} - $rec0 >= 1, 'reconnects counted');

# --- Plain CGI: every request is a process of its own -------------------
my $cgiconf = "$dir/cgi.conf";
tg_write($cgiconf, "database = " . $c->dsn . "\nmetrics = on\nmetrics_dir = $dir/cgim\nlog_requests = off\n");
mkdir "$dir/cgim" or die;
sub cgi {
	my ($uri) = @_;
	local %ENV = (%ENV, GATEWAY_INTERFACE => 'CGI/1.1', REQUEST_METHOD => 'GET',
	    REQUEST_URI => $uri, QUERY_STRING => '', SERVER_NAME => 'x',
	    SERVER_PORT => '80', REMOTE_ADDR => '127.0.0.1', TASKGATE_CONFIG => $cgiconf);
	my $bin = tg_bin_copy();	# (no space in its path: backticks)
	my $out = `$bin </dev/null 2>>$dir/cgi.err`;
	my ($head, $body) = split /\r\n\r\n/, $out, 2;
	return ($head, $body);
}
cgi('/api/tasks') for 1 .. 5;
cgi('/api/tasks/zz') for 1 .. 2;
my ($head, $body) = cgi('/api/metrics');
like($head, qr/^Status: 200 OK\r\nContent-Type: \Q$CT\E\r\n/, 'CGI metrics: 200, text format');
my $cm = eval { parse_prom($body) } || {};
is($cm->{rq_key('/api/tasks', 200)}, 5, 'CGI: requests of five ended processes, summed');
is($cm->{rq_key('/api/tasks/{task_id}', 404)}, 2, 'CGI: 404s by route');
is($cm->{'taskgate_metrics_processes{state="live"}'}, 1, 'CGI: one live process (the one answering)');
my @left = grep { !/dead\.tgm|\.lock/ } map { s{.*/}{}r } glob("$dir/cgim/* $dir/cgim/.*[a-z]*");
is(scalar(@left), 1, 'CGI: ended processes leave no files (folded)') or diag "@left";

# The same CGI requests under valgrind: no error, no leak (folding, summing
# and rendering included; t/090-valgrind.t does the rest of the routes).
SKIP: {
	skip 'valgrind not installed', 2 unless -x '/usr/bin/valgrind';
	skip 'ASan build', 2 if `nm '$ENV{TG_BIN}' 2>/dev/null` =~ /__asan_init/;
	for my $uri ('/api/tasks', '/api/metrics') {
		local %ENV = (%ENV, GATEWAY_INTERFACE => 'CGI/1.1', REQUEST_METHOD => 'GET',
		    REQUEST_URI => $uri, QUERY_STRING => '', SERVER_NAME => 'x',
		    SERVER_PORT => '80', REMOTE_ADDR => '127.0.0.1', TASKGATE_CONFIG => $cgiconf);
		my $bin = tg_bin_copy();	# (no space in its path: backticks)
		my $out = `valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 $bin </dev/null 2>$dir/vg.err`;
		is($? >> 8, 0, "valgrind: CGI $uri with metrics_dir, no error or leak")
		    or diag `cat $dir/vg.err`;
	}
}

# --- One process, no metrics_dir: its own counts, labelled with its pid --
my $w1 = tg_lighttpd(dsn => $c->dsn, tag => 'one', conf => "metrics = on\nlog_requests = off\n");
tg_http(GET => "$w1->{base}/api/tasks") for 1 .. 3;
my $p1 = scrape($w1->{base});
my ($ppid) = map { /pid="(\d+)"/ ? $1 : () } grep { /^process_start_time_seconds/ } keys %$p1;
ok($ppid, "per process: pid $ppid");
is($p1->{"taskgate_http_requests_total{method=\"GET\",pid=\"$ppid\",route=\"/api/tasks\",status=\"200\"}"}, 3,
    'per process: every series carries the pid label');

# --- Off (the default): a 404 like any unknown path ----------------------
my $woff = tg_lighttpd(dsn => $c->dsn, tag => 'off', conf => "metrics_dir = $mdir\n");
my ($st, $h);
($st, $h, $body) = tg_http(GET => "$woff->{base}/api/metrics");
is("$st $body", '404 {"detail":"Not Found"}', 'metrics off: 404 Not Found');
is($h->{'content-type'}, 'application/json', 'metrics off: the JSON 404');
($st) = tg_http(POST => "$woff->{base}/api/metrics");
is($st, 404, 'metrics off: POST is 404 too, not 405');
($st) = tg_http(GET => "$woff->{base}/api/metrics/");
is($st, 404, 'metrics off: no 307 either');
($st) = tg_http(POST => "$b/api/metrics");
is($st, 405, 'metrics on: POST is 405');

# --- Read access as for every GET ----------------------------------------
my $tok = 'r' x 20;
my $wa = tg_lighttpd(dsn => $c->dsn, tag => 'auth',
    conf => "metrics = on\nauth_reads = on\nwrite_networks = none\nread_tokens = $tok\n");
($st, $h, $body) = tg_http(GET => "$wa->{base}/api/metrics");
is("$st $body", '401 {"detail":"Not authenticated"}', 'auth_reads, no token: 401');
($st) = tg_http(GET => "$wa->{base}/api/metrics", headers => { Authorization => 'Bearer ' . ('x' x 20) });
is($st, 401, 'wrong token: 401');
scrape($wa->{base}, headers => { Authorization => "Bearer $tok" });
my $wf = tg_lighttpd(dsn => $c->dsn, tag => 'forbid',
    conf => "metrics = on\nauth_reads = on\nwrite_networks = none\n");
($st, $h, $body) = tg_http(GET => "$wf->{base}/api/metrics");
is("$st $body", '403 {"detail":"Forbidden"}', 'auth_reads without tokens: 403');

# A metrics_dir that cannot be used: the API serves, /api/metrics says why.
my $wbad = tg_lighttpd(dsn => $c->dsn, tag => 'bad', conf => "metrics = on\nmetrics_dir = $dir/missing\n");
($st) = tg_http(GET => "$wbad->{base}/api/tasks");
is($st, 200, 'bad metrics_dir: the API still serves');
($st, $h, $body) = tg_http(GET => "$wbad->{base}/api/metrics");
is($st, 500, 'bad metrics_dir: /api/metrics is 500');
like($body, qr/^\{"detail":"Metrics unavailable: metrics_dir \Q$dir\E\/missing: cannot open it: No such file or directory"\}$/,
    'bad metrics_dir: the reason') or diag $body;

done_testing();
