#!/usr/bin/perl
# SPEC 4.4: POST /api/tasks/lookup: summaries in the order given, each
# id once, archived ones with archived_at, null for unknown ids; the
# bulk body rules; max_ids; read access (not a write route).
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup(conf => "max_ids = 5\nwrite_networks = none\n");
my $b = $w->{base};
my $J = { 'Content-Type' => 'application/json' };

tg_task($c, 'a', status => 'success', backend => 'be', result => '1',
    submit => '2026-11-28T10:00:00Z', update => '2026-11-28T10:00:00Z');
tg_task($c, 'b', status => 'running', backend => 'be',
    submit => '2026-11-28T11:00:00Z', update => '2026-11-28T11:00:00Z');
tg_task($c, 'z', status => 'failed', backend => 'bz', archived => 1,
    submit => '2026-11-27T00:00:00Z', update => '2026-11-27T00:00:00Z',
    archived_at => '2026-11-30T00:00:00.25Z');

sub lookup {
	my ($body, %h) = @_;
	my ($st, $hd, $bd) = tg_http(POST => "$b/api/tasks/lookup", body => $body,
	    headers => { %$J, %h });
	return ($st, $bd, $hd);
}

my $sa = '{"task_id":"a","backend":"be","status":"success","shots":0,"submit_time":"2026-11-28T10:00:00+00:00","update_time":"2026-11-28T10:00:00+00:00","has_result":true,"metadata":{},"archived_at":null}';
my $sb = '{"task_id":"b","backend":"be","status":"running","shots":0,"submit_time":"2026-11-28T11:00:00+00:00","update_time":"2026-11-28T11:00:00+00:00","has_result":false,"metadata":{},"archived_at":null}';
my $sz = '{"task_id":"z","backend":"bz","status":"failed","shots":0,"submit_time":"2026-11-27T00:00:00+00:00","update_time":"2026-11-27T00:00:00+00:00","has_result":false,"metadata":{},"archived_at":"2026-11-30T00:00:00.250000+00:00"}';

my ($st, $body, $h) = lookup('{"task_ids":["z","nope","b","a","b"]}');
is($st, 200, 'lookup 200 (read access although writes are closed)');
is($body, qq({"tasks":{"z":$sz,"nope":null,"b":$sb,"a":$sa}}),
    'order given, each id once, archived with archived_at, unknown null');
is($h->{etag}, undef, 'a POST: no ETag');
($st, $body) = lookup('{"task_ids":[]}');
is($body, '{"tasks":{}}', 'no ids');
($st, $body) = lookup('{}');
is($body, '{"tasks":{}}', '{} is no ids');
($st, $body) = lookup('{"task_ids":["a\u0000","a","\ud800"]}');
is($body, qq({"tasks":{"a\\u0000":null,"a":$sa,"\x{ef}\x{bf}\x{bd}":null}}),
    'NUL and lone surrogates name nothing');
($st, $body) = lookup('{"task_ids":["' . ('x' x 2000) . '"]}');
is($body, '{"tasks":{"' . ('x' x 2000) . '":null}}', 'an id over max_id_length: null');
($st, $body) = lookup('{"task_ids":["a","b","c","d","e","f"]}');
is($st, 413, 'more than max_ids: 413');
is($body, '{"detail":"Too many task ids (at most 5)"}', '413 body');
($st, $body) = lookup('{"task_ids":"a"}');
is($st, 422, 'not a list: 422');
is($body, '{"detail":[{"type":"list_type","loc":["body","task_ids"],"msg":"Input should be a valid list","input":"a"}]}',
    'the bulk body rules');
($st, $body) = lookup('{"task_ids":[1]');
like($body, qr/"type":"json_invalid"/, 'invalid JSON');
my ($s2, $h2, $b2) = tg_http(POST => "$b/api/tasks/bulk-delete", body => '{"task_ids":["a"]}', headers => $J);
is($s2, 403, 'bulk-delete is a write: 403 here');
($s2, $h2, $b2) = tg_http(GET => "$b/api/tasks/lookup");
is($s2, 404, 'GET /api/tasks/lookup is the detail of task "lookup"');
($s2, $h2, $b2) = tg_http(PUT => "$b/api/tasks/lookup");
is($s2, 405, 'PUT: 405');
is($h2->{allow}, 'GET', 'Allow of the first matching route');

# Many ids, one statement.
$c->sql("INSERT INTO tasks (task_id, backend, status) SELECT 'm' || g, 'be', 'pending' FROM generate_series(1, 4) g");
($st, $body) = lookup('{"task_ids":["m4","m3","m1","m2","z"]}');
is(join(',', $body =~ /"task_id":"([^"]*)"/g), 'm4,m3,m1,m2,z', 'order kept');

# An id both active and archived (a writer's plain SQL can leave one in
# each table): the active row wins; an id only archived still comes
# from the archive, among active ones.
tg_task($c, 'a', status => 'failed', backend => 'old', archived => 1,
    archived_at => '2026-11-30T00:00:00Z');
($st, $body) = lookup('{"task_ids":["a","z","m1","a"]}');
like($body, qr/^\Q{"tasks":{"a":$sa,"z":$sz,"m1":{"task_id":"m1","backend":"be","status":"pending",\E/,
    'active wins over the archived copy; the archived-only id from the archive');
like($body, qr/"m1":\{.*"archived_at":null\}\}\}$/, 'm1: the active row');
done_testing();
