#!/usr/bin/perl
# SPEC 4.6: GET /api/openapi.json serves docs/openapi.json (compact), and
# every answer checks out against it: those this test asks for (every
# route, its statuses) and, under make check (TG_OPENAPI_LOG set for
# the whole suite, this test runs last), every answer any test got
# through tg_http.  Checked with python3-jsonschema
# (t/lib/openapi-check.py).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use TG;

my $suite = $ENV{TG_OPENAPI_LOG};
my $own = tg_tmpdir() . '/openapi-own.log';
$ENV{TG_OPENAPI_LOG} = $own;
my ($c, $w) = tg_setup(conf => "max_ids = 3\n");
my $b = $w->{base};
my $J = { 'Content-Type' => 'application/json' };

my ($st, $h, $body) = tg_http(GET => "$b/api/openapi.json");
is($st, 200, 'GET /api/openapi.json');
is($h->{'content-type'}, 'application/json', 'JSON');
my $file = do { local $/; open my $f, '<', tg_srcdir() . '/docs/openapi.json' or die; <$f> };
is_deeply(JSON::PP->new->decode($body), JSON::PP->new->decode($file), 'the document kept in docs/');
unlike($body, qr/\n/, 'served compact');
my $doc = JSON::PP->new->decode($file);
is($doc->{openapi}, '3.1.0', 'OpenAPI 3.1');
# Every route of the table is in the document, with its method.
my %routes;
open my $rf, '<', tg_srcdir() . '/src/route.c' or die;
while (<$rf>) {
	next unless /^\s*\{ "(\w+)",\s*"([^"]+)"/;
	my ($m, $p) = (lc $1, $2);
	$p =~ s/\{\}/{task_id}/g;
	ok($doc->{paths}{$p}{$m}, "route $m $p documented");
}

tg_task($c, 'a', status => 'success', result => '{"x":1}', metadata => '{"k":"v"}');
tg_task($c, 'r', status => 'running');
tg_shard($c, 'a', 0);
tg_task($c, 'z', archived => 1);
tg_task($c, 'y', archived => 1);
tg_task($c, 'y', status => 'pending');
my @req = (
	[GET => '/api/tasks'], [GET => '/api/tasks?limit=1&cursor='], [GET => '/api/tasks?total=none&status_in=success'],
	[GET => '/api/tasks?limit=x'], [GET => '/api/tasks?cursor=bad'], [GET => '/api/tasks/counts'],
	[GET => '/api/tasks/counts?by=backend'], [GET => '/api/tasks/counts?by=x'], [GET => '/api/tasks/a'],
	[GET => '/api/tasks/nope'], [GET => '/api/tasks/a/shards'], [GET => '/api/tasks/nope/shards'],
	[GET => '/api/archive?cursor='], [GET => '/api/archive/z'], [GET => '/api/archive/nope'],
	[GET => '/api/health'], [GET => '/api/version'], [GET => '/api/openapi.json'], [GET => '/api/nothing'],
	[GET => '/api/tasks/'], [POST => '/api/tasks/a'], [PUT => '/api/health'],
	[POST => '/api/tasks/lookup', '{"task_ids":["a","z","nope"]}'], [POST => '/api/tasks/lookup', '{"task_ids":["a","b","c","d"]}'],
	[POST => '/api/tasks/lookup', '{"task_ids":1}'], [POST => '/api/tasks/lookup', "\xff"],
	[POST => '/api/tasks/bulk-delete', '{"filter":{},"dry_run":true}'],
	[POST => '/api/tasks/bulk-delete', '{"filter":{},"max_affected":0}'],
	[POST => '/api/tasks/bulk-delete', '{"task_ids":["nope"]}'],
	[POST => '/api/tasks/bulk-archive', '{"filter":{"status":"none"},"max_affected":0}'],
	[POST => '/api/tasks/bulk-archive', '{"task_ids":["r"]}'],
	[POST => '/api/tasks/archive-expired?hours=x'], [POST => '/api/tasks/archive-expired?hours=1000000'],
	[POST => '/api/tasks/y/archive'], [POST => '/api/tasks/nope/archive'],
	[POST => '/api/archive/restore/nope'], [POST => '/api/archive/restore/y'], [POST => '/api/archive/restore/r'],
	[DELETE => '/api/archive/z'], [DELETE => '/api/archive/z'], [DELETE => '/api/tasks/a'], [DELETE => '/api/tasks/a'],
);
for my $r (@req) {
	my ($m, $p, $bd) = @$r;
	tg_http($m, "$b$p", defined $bd ? (body => $bd, headers => $J) : ());
}
my ($s1, $h1) = tg_http(GET => "$b/api/tasks");
tg_http(GET => "$b/api/tasks", headers => { 'If-None-Match' => $h1->{etag} });
$c->stop;
tg_http(GET => "$b/api/tasks");		# 503

my $chk = tg_srcdir() . '/t/lib/openapi-check.py';
my $out = `python3 '$chk' '@{[tg_srcdir()]}/docs/openapi.json' '$own' 2>&1`;
is($?, 0, "this test's answers match the document") or diag($out);
like($out, qr/checked (\d+)/, 'answers checked');
my ($n) = $out =~ /checked (\d+)/;
cmp_ok($n, '>=', scalar(@req), "$n answers checked");
SKIP: {
	skip 'TG_OPENAPI_LOG not set (run under make check for the whole suite)', 1
	    unless $suite && -s $suite;
	$out = `python3 '$chk' '@{[tg_srcdir()]}/docs/openapi.json' '$suite' 2>&1`;
	is($?, 0, "every answer of the suite matches the document ($out)") or diag($out);
}
done_testing();
