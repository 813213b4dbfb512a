#!/usr/bin/perl
# Times at the ends of PostgreSQL's timestamptz range and its infinities,
# through the real server: written exactly, no garbage from an int64
# overflow (and, on an ASan+UBSan build, no UB report).
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};
tg_task($c, 'late', submit => '294276-12-31 23:59:59.999999+00',
    update => '4714-11-24 00:00:00+00 BC');
tg_task($c, 'inf', submit => 'infinity', update => '-infinity');
tg_shard($c, 'late', 0, submit => '294276-12-31 23:59:59+00', update => '2000-01-01 00:00:00+00');

my ($st, $h, $body) = tg_http(GET => "$b/api/tasks/late");
is($st, 200, 'latest time: 200');
like($body, qr/"submit_time":"294276-12-31T23:59:59\.999999\+00:00","update_time":"-4713-11-24T00:00:00\+00:00"/,
    'latest and earliest timestamptz written exactly');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/inf");
like($body, qr/"submit_time":"infinity","update_time":"-infinity"/, 'infinities');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/late/shards");
like($body, qr/"submit_time":"294276-12-31T23:59:59\+00:00","update_time":"2000-01-01T00:00:00\+00:00"/,
    'shard times too');
($st, $h, $body) = tg_http(GET => "$b/api/tasks?limit=-1");
is($st, 200, 'list: 200');
like($body, qr/"task_id":"inf".*"task_id":"late"/s, 'list order: infinity first');
ok($c->sql("UPDATE tasks SET status = 'success' WHERE task_id = 'late' RETURNING 1") == 1, 'fixture');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/late/archive");
is($st, 200, 'archive a task with extreme times');
($st, $h, $body) = tg_http(GET => "$b/api/archive/late");
like($body, qr/"submit_time":"294276-12-31T23:59:59\.999999\+00:00".*"archived_at":"\d{4}-/, 'archived detail');
done_testing();
