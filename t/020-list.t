#!/usr/bin/perl
# GET /api/tasks and /api/archive: order, filters, limit/offset, totals,
# 422 shapes, query decoding, time and JSON output.
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};

tg_task($c, 'a', status => 'success', backend => 'originq:WK_C180',
    submit => '2026-11-28T16:44:43.1205Z', update => '2026-11-28T16:44:43Z',
    result => '{"z": 1, "a": [0.1, 1e5]}', metadata => '{"k": "v"}', shots => 1000);
tg_task($c, 'b', status => 'running', backend => 'dummy:local:simulator',
    submit => '2026-11-28T16:44:43.1205Z', update => '2026-11-28T16:44:43Z');
tg_task($c, 'c', status => 'failed', backend => 'originq:WK_C180',
    submit => '2026-11-29T00:00:00Z', update => '2026-11-29T00:00:00Z',
    result => 'null');
tg_task($c, 'd', status => '', backend => 'quafu:ScQ-P10',
    submit => '2026-11-27T10:00:00+05:00', update => '2026-11-27T10:00:00Z',
    result => ' {"x" : [1, 2]} ', metadata => '[1, "two", {"3": null}]');
tg_task($c, 'e', status => 'weird status', backend => 'a b',
    submit => '2026-11-01T00:00:00.000001Z', update => '2026-11-01T00:00:00Z');

sub get {
	my ($path) = @_;
	my ($st, $h, $body) = tg_http(GET => "$b$path");
	return ($st, $body);
}
sub ids {
	my ($body) = @_;
	my @ids = $body =~ /"task_id":"([^"]*)"/g;
	return join ',', @ids;
}

# The cluster's sessions are not in UTC (TG::Cluster::server_opts): the
# UTC times below come from taskgate, not from the server's zone.
is(`psql -X -At -c 'SHOW TimeZone' '@{[ $c->dsn ]}'`, "Asia/Kathmandu\n",
    "the server's sessions are at +05:45");

my ($st, $body) = get('/api/tasks');
is($st, 200, 'list 200');
is(ids($body), 'c,b,a,d,e', 'submit_time desc, then seq desc (b after a)');
like($body, qr/\],"total":5,"limit":100,"offset":0\}$/, 'total, limit, offset');
like($body, qr/^\{"tasks":\[\{"task_id":"c","backend":"originq:WK_C180","status":"failed","shots":0,"submit_time":"2026-11-29T00:00:00\+00:00","update_time":"2026-11-29T00:00:00\+00:00","has_result":false,"metadata":\{\},"archived_at":null\},/,
    'summary keys in order; JSON null result has no result');
like($body, qr/\{"task_id":"a","backend":"originq:WK_C180","status":"success","shots":1000,"submit_time":"2026-11-28T16:44:43.120500\+00:00","update_time":"2026-11-28T16:44:43\+00:00","has_result":true,"metadata":\{"k":"v"\},"archived_at":null\}/,
    'fraction printed as Python does, metadata compact');
like($body, qr/"task_id":"d".*?"submit_time":"2026-11-27T05:00:00\+00:00".*?"metadata":\[1,"two",\{"3":null\}\]/,
    'UTC normalization; any JSON metadata');
like($body, qr/"task_id":"e".*?"submit_time":"2026-11-01T00:00:00.000001\+00:00"/,
    'one microsecond');

is(ids((get('/api/tasks?status=success'))[1]), 'a', 'status filter');
is(ids((get('/api/tasks?backend=originq:WK_C180'))[1]), 'c,a', 'backend filter');
is(ids((get('/api/tasks?backend=originq%3AWK_C180&status=failed'))[1]), 'c',
    'both filters, %3A decoded');
($st, $body) = get('/api/tasks?status=');
is(ids($body), 'd', 'empty status is a real filter');
like($body, qr/"total":1,/, 'total of the empty filter');
is(ids((get('/api/tasks?status=weird+status'))[1]), 'e', '+ is a space');
is(ids((get('/api/tasks?status=weird%20status'))[1]), 'e', '%20 is a space');
is(ids((get('/api/tasks?status=SUCCESS'))[1]), '', 'case-sensitive filter');
is(ids((get('/api/tasks?status=failed&status=success'))[1]), 'a',
    'the last repeated key wins');
is(ids((get('/api/tasks?backend=a+b&bogus=1&limit=10'))[1]), 'e',
    'unknown keys ignored');
($st, $body) = get('/api/tasks?status=%00');
is($st, 200, 'NUL in a filter is not an error');
is($body, '{"tasks":[],"total":0,"limit":100,"offset":0}', 'NUL matches nothing');
($st, $body) = get('/api/tasks?status=%FF');
is($body, '{"tasks":[],"total":0,"limit":100,"offset":0}',
    'invalid UTF-8 matches nothing');

($st, $body) = get('/api/tasks?limit=2');
is(ids($body), 'c,b', 'limit');
like($body, qr/"total":5,"limit":2,"offset":0\}$/, 'total counts all rows');
($st, $body) = get('/api/tasks?limit=2&offset=2');
is(ids($body), 'a,d', 'offset');
like($body, qr/"limit":2,"offset":2\}$/, 'offset echoed');
($st, $body) = get('/api/tasks?limit=0');
is($body, '{"tasks":[],"total":5,"limit":0,"offset":0}', 'limit=0: no rows, total counted');
($st, $body) = get('/api/tasks?limit=-1&offset=-3');
is(ids($body), 'c,b,a,d,e', 'negative limit: no limit; negative offset: 0');
like($body, qr/"limit":-1,"offset":-3\}$/, 'echoed exactly as parsed');
($st, $body) = get('/api/tasks?limit=+2.00&offset=%201_0%20');
is($st, 200, 'integer grammar: sign, zeros fraction, underscore, spaces');
like($body, qr/"total":5,"limit":2,"offset":10\}$/, 'parsed values echoed');
($st, $body) = get('/api/tasks?offset=100');
is($body, '{"tasks":[],"total":5,"limit":100,"offset":100}', 'offset past the end');

($st, $body) = get('/api/tasks?limit=abc');
is($st, 422, 'bad limit is 422');
is($body, '{"detail":[{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}',
    '422 body');
($st, $body) = get('/api/tasks?offset=1.5&limit=');
is($body, '{"detail":[{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":""},{"type":"int_parsing","loc":["query","offset"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"1.5"}]}',
    'two errors in declaration order, empty input');
# A fraction needs one zero at least (pydantic 2): "1." and ".0" are not integers.
for my $q (['limit', '1.'], ['offset', '1.'], ['limit', '.0'], ['offset', '%201.%20']) {
	my ($name, $raw) = @$q;
	(my $in = $raw) =~ s/%20/ /g;
	($st, $body) = get("/api/tasks?$name=$raw");
	is($st, 422, "$name=$raw is 422");
	is($body, qq({"detail":[{"type":"int_parsing","loc":["query","$name"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"$in"}]}),
	    "$name=$raw: int_parsing with the raw input");
}
{
	my ($hs, $hh, $hb) = tg_http(POST => "$b/api/tasks/archive-expired?hours=1.");
	is($hs, 422, 'hours=1. is 422');
	is($hb, '{"detail":[{"type":"int_parsing","loc":["query","hours"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"1."}]}',
	    'hours=1.: int_parsing with the raw input');
}
($st, $body) = get('/api/tasks?limit=99999999999999999999');
is($st, 422, 'beyond 64 bits is 422, not 500');
like($body, qr/"input":"99999999999999999999"/, 'raw input echoed');
($st, $body) = get('/api/tasks?limit=%C3%A9%22');
like($body, qr/"input":"\x{c3}\x{a9}\\""\}\]\}$/, 'input echoed as UTF-8, quote escaped');

# Archive list.
tg_task($c, 'z1', archived => 1, status => 'success',
    submit => '2026-10-01T00:00:00Z', archived_at => '2026-11-30T12:00:00.5Z');
tg_task($c, 'z2', archived => 1, status => 'failed',
    submit => '2026-10-02T00:00:00Z');
($st, $body) = get('/api/archive');
is($st, 200, 'archive list');
is(ids($body), 'z2,z1', 'archive order');
like($body, qr/"archived_at":"2026-11-30T12:00:00.500000\+00:00"/, 'archived_at set');
like($body, qr/\],"total":2,"count":2,"limit":100,"offset":0\}$/, 'total and count');
($st, $body) = get('/api/archive?status=failed&limit=5');
is(ids($body), 'z2', 'archive filter');
like($body, qr/"total":1,"count":2,"limit":5,"offset":0\}$/, 'count is all archived');
($st, $body) = get('/api/archive?status=%00');
is($body, '{"tasks":[],"total":0,"count":2,"limit":100,"offset":0}', 'archive NUL filter');
($st, $body) = get('/api/archive?limit=x');
is($st, 422, 'archive 422');

# A long list streams (larger than the stream threshold) and stays valid.
$c->sql("INSERT INTO tasks (task_id, backend, status, submit_time) SELECT 'bulk' || g, 'be', 'pending', '2020-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, 3000) g");
($st, $body) = get('/api/tasks?limit=-1');
is($st, 200, 'long list');
my @all = $body =~ /"task_id":"([^"]*)"/g;
is(scalar(@all), 3005, 'every row streamed');
is($all[5], 'bulk3000', 'streamed in order');
like($body, qr/\],"total":3005,"limit":-1,"offset":0\}$/, 'trailer after the stream');

done_testing();
