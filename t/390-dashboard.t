#!/usr/bin/perl
# The dashboard (www/) in a real browser: Debian's headless chromium
# driven by puppeteer-core (t/browser/, `npm ci` there) against the real
# stack (PostgreSQL, lighttpd, taskgate) with www/ copied as the document
# root.  At the site root over ~300 tasks: load, filter, page, sort, copy
# an id, a detail with a histogram and shards, a batch result, a large
# result collapsed, archive and restore, delete with confirmation,
# archive-expired, the database stopped (503 shown, then recovers), the
# keyboard, text contrast.  Under /taskgate with 100 000 more tasks: the
# first table render is bounded, no request asks for more than a page,
# and writes without a token get the API's 401 with how to get access.
# Screenshots (1280x800 and 360x740) go to $TG_ARTIFACTS or t/artifacts/.
# The console must stay clean and no request may fail that should not.
use strict;
use warnings;
use Test::More;
use File::Path qw(make_path);
use File::Copy qw(copy);
use JSON::PP;
use TG;

my $src = tg_srcdir();
my $ci = ($ENV{CI} // '') =~ /^(1|true|yes)$/i;
my $chromium = $ENV{CHROMIUM} // '/usr/bin/chromium';
my @missing;
push @missing, 'node (nodejs 18+)' unless `node --version 2>/dev/null` =~ /^v(\d+)/ && $1 >= 18;
push @missing, 'puppeteer-core (run: cd t/browser && npm ci)'
    unless -f "$src/t/browser/node_modules/puppeteer-core/package.json";
push @missing, "chromium (apt-get install chromium)" unless -x $chromium;
if (@missing) {
	my $msg = 'browser tests need: ' . join(', ', @missing);
	if ($ci) { plan tests => 1; fail($msg); exit 1 }
	plan skip_all => $msg;
}

my $art = $ENV{TG_ARTIFACTS} // (($ENV{TG_BUILDDIR} // $src) . '/t/artifacts');
make_path($art);

my $c = tg_cluster();

# ~300 ordinary tasks, 10 minutes apart (update 1 minute after submit),
# statuses in turn, three backends; six special ones on dash:special.
$c->sql(<<'SQL');
INSERT INTO tasks (task_id, backend, status, shots, submit_time, update_time, metadata)
SELECT 'uqt_' || lpad(i::text, 4, '0') || md5(i::text),
       CASE WHEN i % 15 = 0 THEN 'ibm:ibm_brisbane' WHEN i % 2 = 0 THEN 'originq:WK_C180'
            ELSE 'quafu:ScQ-P10' END,
       (ARRAY['pending','running','success','failed','cancelled'])[i % 5 + 1],
       1000 + i,
       now() - i * interval '10 minutes' - interval '5 minutes',
       now() - i * interval '10 minutes' - interval '4 minutes',
       jsonb_build_object('n', i)
FROM generate_series(1, 300) i;
INSERT INTO archived_tasks (task_id, backend, status, shots, submit_time, update_time, metadata, archived_at)
SELECT 'old_' || i, 'originq:WK_C180', 'success', 100, now() - interval '30 days',
       now() - interval '30 days', '{}', now() - interval '20 days' + i * interval '1 hour'
FROM generate_series(1, 5) i;
SQL
my $bigjson = '{"data":[' . join(',', map { $_ * 7 } 1 .. 600) . '],"note":"not counts"}';
my $batch = '[' . join(',', map { sprintf '{"00":%d,"01":5,"10":7,"11":%d}', $_ * 10, 100 - $_ } 1 .. 6) . ']';
tg_task($c, 'dash-hist', backend => 'dash:special', status => 'success', shots => 1000,
    result => '{"00": 512, "11": 488}', metadata => '{"circuit": "bell"}');
tg_shard($c, 'dash-hist', $_, status => 'success') for 0 .. 2;
tg_task($c, 'dash-batch', backend => 'dash:special', result => $batch, shots => 600);
tg_task($c, 'dash-big', backend => 'dash:special', result => $bigjson);
tg_task($c, 'dash-arch', backend => 'dash:special');
tg_shard($c, 'dash-arch', 0);
tg_task($c, 'dash-del1', backend => 'dash:special', status => 'failed');
tg_task($c, 'dash-del2', backend => 'dash:special', status => 'cancelled');

# lighttpd with www/ copied as the dashboard next to the API.
my @www = qw(index.html app.js client.js charts.js style.css);
my $static = <<'CONF';
server.modules += ( "mod_alias" )
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html; charset=utf-8", ".js" => "text/javascript; charset=utf-8",
	".css" => "text/css; charset=utf-8", ".png" => "image/png" )
CONF
sub serve {
	my ($tag, $prefix, $conf) = @_;
	my $alias = $prefix ? qq(alias.url = ( "$prefix/" => "${\tg_tmpdir()}/lighttpd$tag/www/" )\n) : '';
	my $w = tg_lighttpd(dsn => $c->dsn, tag => $tag, prefix => $prefix, procs => 2,
	    conf => $conf // '', lighttpd_conf => $static . $alias);
	copy("$src/www/$_", "$w->{dir}/www/$_") or die "copy www/$_: $!" for @www;
	return $w;
}

# What the API offers, asked directly: the page must detect the same.
sub features_of {
	my ($base) = @_;
	my @f;
	my ($st, $h, $b) = tg_http(GET => "$base/api/tasks?limit=0&total=none");
	push @f, 'filters' if $b =~ /"total":null/;
	($st, $h, $b) = tg_http(GET => "$base/api/tasks?limit=1&cursor=");
	push @f, 'cursor' if $st == 200 && $b =~ /"next_cursor":/;
	push @f, 'etag' if $h->{etag};
	($st, $h, $b) = tg_http(GET => "$base/api/tasks/counts?by=backend");
	push @f, 'byBackend' if $b =~ /"by_backend":/;
	return join ' ', @f;
}

my $n = 0;
sub commify { my $x = reverse shift; $x =~ s/(\d{3})(?=\d)/$1,/g; return scalar reverse $x }

sub pgctl {
	my @as = $> == 0 ? ('runuser', '-u', 'postgres', '--') : ();
	return [@as, "$c->{bin}/pg_ctl", '-D', "$c->{dir}/data", '-w', @_];
}

# Runs one scenario of t/browser/dashboard.mjs; its "ok"/"not ok" lines
# become tests here.
sub browse {
	my (%cfg) = @_;
	$cfg{chromium} = $chromium;
	$cfg{artifacts} = $art;
	my $file = tg_tmpdir() . "/browse-$cfg{tag}.json";
	tg_write($file, JSON::PP->new->canonical->encode(\%cfg));
	open my $fh, '-|', 'node', "$src/t/browser/dashboard.mjs", $file or die "node: $!";
	my $checks = 0;
	while (my $l = <$fh>) {
		chomp $l;
		if ($l =~ /^ok - (.*)$/) { pass($1); $checks++ }
		elsif ($l =~ /^not ok - (.*?)(?: # (.*))?$/) { fail($1); diag($2) if defined $2; $checks++ }
		else { note($l) }
	}
	close $fh;
	my $rc = $? >> 8;
	ok($checks > 3, "$cfg{tag}: the browser run made its checks ($checks)");
	is($rc, 0, "$cfg{tag}: the browser run exited 0");
}

# --- the site root, ~300 tasks ------------------------------------------
my $root = serve('root', '');
my $count = sub { $c->sql($_[0]) };
my $expire = $count->("SELECT count(*) FROM tasks WHERE status IN ('success','failed','cancelled')"
    . " AND update_time <= now() - interval '40 hours'");
my %counts = map { $_ => $count->("SELECT count(*) FROM tasks WHERE status = '$_'") }
    qw(pending running success failed cancelled);
my $feat = features_of($root->{base});
note("API features: " . ($feat || '(SPEC §2 only)'));
browse(tag => 'root', scenario => 'full', base => "$root->{base}/",
    dbStop => pgctl('-m', 'fast', 'stop'),
    dbStart => pgctl('-l', "$c->{dir}/log", '-o', $c->server_opts, 'start'),
    expect => {
	features => $feat,
	total => 306, totalText => '306',
	counts => "pending $counts{pending}, running $counts{running}, success $counts{success}, "
	    . "failed $counts{failed}, cancelled $counts{cancelled}; total 306",
	failedText => commify($counts{failed}),
	backend => 'ibm:ibm_brisbane', backendRows => 20,
	expireHours => 40, expireCount => $expire,
	expirePreview => 'no dry run|would be archived',
    });
# What the browser did is what the database holds.
is($c->sql("SELECT count(*) FROM tasks WHERE task_id LIKE 'dash-del%'"), 0, 'deleted tasks gone');
is($c->sql("SELECT count(*) FROM archived_tasks WHERE task_id LIKE 'dash-del%'"), 0, '... not archived either');
is($c->sql("SELECT count(*) FROM tasks t JOIN task_shards s ON s.uniqc_task_id = t.task_id"
    . " WHERE t.task_id = 'dash-arch'"), 1, 'archived and restored task active with its shard');
is($c->sql("SELECT count(*) FROM archived_tasks WHERE task_id LIKE 'uqt_%'"), $expire,
    "archive-expired moved the $expire finished tasks older than 40 hours");

# --- under /taskgate, 100 000 more tasks, writes need a token ------------
$c->sql(<<'SQL');
INSERT INTO tasks (task_id, backend, status, shots, submit_time, update_time, result, metadata)
SELECT 'big_' || i, 'sim:' || (i % 37), (ARRAY['pending','running','success','failed','cancelled'])[i % 5 + 1],
       i % 4096, now() - interval '60 days' + i * interval '1 second',
       now() - interval '60 days' + i * interval '1 second',
       CASE WHEN i % 3 = 0 THEN '{"00": 1, "11": 2}'::json END, '{}'
FROM generate_series(1, 100000) i;
ANALYZE;
SQL
my $token = 'dashboard-test-token-0123456789abcdef';
my $sub = serve('sub', '/taskgate', "write_networks = none\nwrite_tokens = $token\n");
my $total = $c->sql('SELECT count(*) FROM tasks');
my $failed = $c->sql("SELECT count(*) FROM tasks WHERE status = 'failed'");
cmp_ok($total, '>', 100000, "$total active tasks");
my $top = $c->sql('SELECT task_id FROM tasks ORDER BY submit_time DESC, seq DESC LIMIT 1');
browse(tag => 'prefix-100k', scenario => 'big', base => "$sub->{base}/",
    expect => { features => features_of($sub->{base}), total => $total,
	totalText => commify($total), failedText => commify($failed), loadMs => 15000 });
browse(tag => 'prefix-auth', scenario => 'auth', base => "$sub->{base}/", token => $token,
    expect => { victim => $top, loadMs => 15000 });
is($c->sql("SELECT count(*) FROM archived_tasks WHERE task_id = " . lit($top)), 1,
    'the task archived with the token is in the archive');

my ($st, $h, $body) = tg_http(GET => "http://127.0.0.1:$sub->{port}/taskgate/");
is($st, 200, 'the dashboard under the prefix');
($st, $h, $body) = tg_http(GET => "http://127.0.0.1:$sub->{port}/taskgate/api/health");
is("$st $body", '200 {"status":"ok"}', 'the API beside it');

opendir(my $dh, $art) or die "$art: $!";
my @png = sort grep { /^(root|prefix-100k|prefix-auth)-.*\.png$/ } readdir $dh;
closedir $dh;
note("screenshots in $art: @png");
cmp_ok(scalar(@png), '>=', 10, 'screenshots saved');

done_testing();
