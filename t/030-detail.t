#!/usr/bin/perl
# Detail, shards and counts.
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};
my ($st, $h, $body);

tg_task($c, 'uqt_1', status => 'success', backend => 'originq:WK_C180',
    submit => '2026-11-28T16:44:43.1205Z', update => '2026-11-28T16:44:44Z',
    result => '{"counts": {"11": 480, "00": 520}, "p": 0.1, "big": 12345678901234567890, "e": 1E+2, "s": "\u00e9\/\ud83d\ude00"}',
    metadata => '{"shots": 1000, "name": "bell \"pair\""}', shots => 1000,
    error => 'never shown');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/uqt_1");
is($st, 200, 'detail 200');
is($body, '{"task_id":"uqt_1","backend":"originq:WK_C180","status":"success","shots":1000,"submit_time":"2026-11-28T16:44:43.120500+00:00","update_time":"2026-11-28T16:44:44+00:00","result":{"counts":{"11":480,"00":520},"p":0.1,"big":12345678901234567890,"e":1E+2,"s":"é/😀"},"metadata":{"name":"bell \"pair\"","shots":1000},"archived_at":null}',
    'detail: result key order and number text kept, strings as Python writes them, no error_message');

tg_task($c, 'nores', result => undef);
($st, $h, $body) = tg_http(GET => "$b/api/tasks/nores");
like($body, qr/"result":null,"metadata":\{\},"archived_at":null\}$/, 'SQL NULL result is null');

tg_task($c, "odd id/with ünïcode & 'quotes'");
($st, $h, $body) = tg_http(GET => "$b/api/tasks/odd%20id%2Fwith%20%C3%BCn%C3%AFcode%20%26%20'quotes'");
is($st, 404, 'an id with / cannot be reached (%2F is a slash)');
tg_task($c, "sp ace&'q'ü");
($st, $h, $body) = tg_http(GET => "$b/api/tasks/sp%20ace%26'q'%C3%BC");
is($st, 200, 'percent-decoded id');
like($body, qr/^\{"task_id":"sp ace&'q'ü"/, 'id echoed as UTF-8');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/a+b");
is($body, q({"detail":"Task 'a+b' not found"}), '+ in a path stays +');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/%FFx");
is($st, 404, 'invalid UTF-8 id: 404');
is($body, qq({"detail":"Task '\x{ef}\x{bf}\x{bd}x' not found"}), 'echoed with U+FFFD');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/a%00b");
is($st, 404, 'NUL in id: 404');
is($body, q({"detail":"Task 'a\u0000b' not found"}), 'NUL echoed escaped');

tg_task($c, 'arch', archived => 1, archived_at => '2026-11-30T00:00:00Z');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/arch");
is($st, 404, 'archived id is not an active task');
is($body, q({"detail":"Task 'arch' not found"}), '404 body');
($st, $h, $body) = tg_http(GET => "$b/api/archive/arch");
is($st, 200, 'archive detail');
like($body, qr/^\{"task_id":"arch",.*"result":null,"metadata":\{\},"archived_at":"2026-11-30T00:00:00\+00:00"\}$/, 'archive detail with archived_at');
($st, $h, $body) = tg_http(GET => "$b/api/archive/uqt_1");
is($body, q({"detail":"Archived task 'uqt_1' not found"}), 'active id is not archived');

# Shards, ascending by shard_index.
tg_shard($c, 'uqt_1', 2, platform => 'P2', status => 'failed');
tg_shard($c, 'uqt_1', 0, platform => 'P0');
tg_shard($c, 'uqt_1', 1, platform => 'P1', backend => 'b1');
$c->sql("UPDATE task_shards SET circuit_count = 3, sub_index_offset = 6, error_message = 'boom', result = '{\"r\":1}' WHERE shard_index = 2");
($st, $h, $body) = tg_http(GET => "$b/api/tasks/uqt_1/shards");
is($st, 200, 'shards 200');
is($body, '{"task_id":"uqt_1","shard_count":3,"shards":['
    . '{"uniqc_task_id":"uqt_1","shard_index":0,"platform_task_id":"P0","backend":"originq:WK_C180","circuit_count":1,"sub_index_offset":0,"status":"success","error_message":null,"submit_time":"2026-11-28T16:44:43.120500+00:00","update_time":"2026-11-28T16:44:43+00:00"},'
    . '{"uniqc_task_id":"uqt_1","shard_index":1,"platform_task_id":"P1","backend":"b1","circuit_count":1,"sub_index_offset":0,"status":"success","error_message":null,"submit_time":"2026-11-28T16:44:43.120500+00:00","update_time":"2026-11-28T16:44:43+00:00"},'
    . '{"uniqc_task_id":"uqt_1","shard_index":2,"platform_task_id":"P2","backend":"originq:WK_C180","circuit_count":3,"sub_index_offset":6,"status":"failed","error_message":"boom","submit_time":"2026-11-28T16:44:43.120500+00:00","update_time":"2026-11-28T16:44:43+00:00"}]}',
    'shards in order, no result');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/nores/shards");
is($body, '{"task_id":"nores","shard_count":0,"shards":[]}', 'a task without shards');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/arch/shards");
is($st, 404, 'shards of an archived task: 404');
is($body, q({"detail":"Task 'arch' not found"}), 'shards 404 body');

# Counts: five statuses only.
($st, $h, $body) = tg_http(GET => "$b/api/tasks/counts");
is($body, '{"pending":0,"running":0,"success":4,"failed":0,"cancelled":0,"total":4}', 'counts');
tg_task($c, 'p1', status => 'pending');
tg_task($c, 'p2', status => 'pending');
tg_task($c, 'r1', status => 'running');
tg_task($c, 'f1', status => 'failed');
tg_task($c, 'x1', status => 'cancelled');
tg_task($c, 'o1', status => 'queued');
tg_task($c, 'o2', status => 'Success');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/counts");
is($body, '{"pending":2,"running":1,"success":4,"failed":1,"cancelled":1,"total":9}',
    'other statuses are not counted');
tg_task($c, 'counts', status => 'pending');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/counts");
like($body, qr/^\{"pending":3,/, 'a task named counts cannot be read: /counts wins');
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/counts");
is($body, '{"deleted":"counts"}', 'but it can be deleted');

done_testing();
