#!/usr/bin/perl
# conf/apache-fcgid.conf as documented (FcgidWrapper ... virtual in a
# <Location>), through a real Apache 2.4 + mod_fcgid at the site root and
# under /taskgate: the deployment smoke set; Apache's SCRIPT_NAME/PATH_INFO
# split at the Location; AllowEncodedSlashes; process recycling with
# FcgidMaxRequestsPerProcess 5 (50 sequential requests, all 200).
use strict;
use warnings;
use Test::More;
use TG;

tg_need('apache2', 'mod_fcgid');

my $c = tg_cluster();

sub start {
	my ($tag, $prefix, $maxreq) = @_;
	my $d = tg_subdir("fcgid-$tag");
	my $bin = tg_copy_bin("$d/taskgate");
	tg_write("$d/taskgate.conf", "database = " . $c->dsn .
	    "\nmax_body_size = 1024\n", 0644);
	my $port = tg_free_port();
	my $www = tg_subdir("fcgid-$tag/www");
	my @subst = (['*:80', "*:$port"],
	    ['/var/www/html', $www],
	    ['/etc/taskgate/taskgate.conf', "$d/taskgate.conf"],
	    ['/usr/local/bin/taskgate', $bin],
	    ['<Location /api>', "<Location $prefix/api>"],
	    ['Alias / ', "Alias $prefix/ "],
	    ['/usr/local/share/taskgate/www', tg_www_copy("$d/dashboard")]);
	push @subst, ['FcgidMaxRequestsPerProcess 1000',
	    "FcgidMaxRequestsPerProcess $maxreq"] if $maxreq;
	my $w = tg_apache(tag => "-fcgid-$tag", port => $port, docroot => $www,
	    modules => ['fcgid'],
	    site => tg_conf_template('apache-fcgid.conf', @subst));
	$w->{base} .= $prefix;
	return $w;
}

my $root = start('root', '');
tg_smoke($c, $root->{base}, 'froot');
tg_dashboard_smoke($root->{base}, 'froot');

my $sub = start('sub', '/taskgate', 5);
tg_smoke($c, $sub->{base}, 'fsub');
tg_dashboard_smoke($sub->{base}, 'fsub');

my ($st, $h, $body) = tg_http(GET => "http://127.0.0.1:$sub->{port}/api/tasks");
is($st, 404, 'prefix mount: /api at the root is not taskgate');
unlike($body // '', qr/^\{"detail"/, '... Apache answers it');

# AllowEncodedSlashes NoDecode: %2F reaches taskgate, which makes it a '/'.
tg_task($c, 'ap', backend => 'recycle');
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/ap%2Fshards");
is("$st $body", '200 {"task_id":"ap","shard_count":0,"shards":[]}',
    '%2F in the path is a slash');
# A query with characters Apache would escape in PATH_INFO.
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/?status=a+b&x=%41");
is("$st " . ($h->{location} // ''), "307 $sub->{base}/api/tasks?status=a+b&x=%41",
    '307 keeps the raw query');
# A long URL (FastCGI params over 127 bytes use the 4-byte length form).
my $long = 'L' x 3000;
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/$long");
is("$st $body", qq(404 {"detail":"Task '$long' not found"}), 'long id through mod_fcgid');

# Recycling: FcgidMaxRequestsPerProcess 5, 50 sequential requests.  (Slow:
# mod_fcgid makes a request that finds no idle process wait for a spawn,
# about two seconds per recycle here.)
my (%st, $bad);
for my $i (1 .. 50) {
	($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/ap");
	$st{$st}++;
	$bad++ unless $body =~ /^\{"task_id":"ap","backend":"recycle",.*"archived_at":null\}$/;
}
is_deeply(\%st, { 200 => 50 }, 'recycling: 50 sequential requests, all 200');
is($bad // 0, 0, 'recycling: every body complete');
# taskgate logs "taskgate[PID]: info req=N" per request: no process served
# more than 5, and several processes served them.
open my $el, '<', $sub->{errlog} or die;
my (%pids, $maxn);
$maxn = 0;
while (<$el>) {
	next unless /taskgate\[(\d+)\]: info req=(\d+) "GET \/taskgate\/api\/tasks\/ap"/;
	$pids{$1}++;
	$maxn = $2 if $2 > $maxn;
}
close $el;
cmp_ok($maxn, '<=', 5, 'no process served more than FcgidMaxRequestsPerProcess');
cmp_ok(scalar(keys %pids), '>=', 10, 'recycled: at least 10 processes served the 50');
unlike(`cat $sub->{errlog}`, qr/taskgate\[\d+\]: error/, 'no taskgate errors logged');

done_testing();
