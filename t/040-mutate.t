#!/usr/bin/perl
# Delete, bulk-delete, bulk-archive, per-task archive, restore, archive
# delete, archive-expired: outcomes, order, shards moving atomically.
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};
my ($st, $h, $body);
my %J = ('Content-Type' => 'application/json');

sub post { my ($p, $body) = @_; tg_http(POST => "$b$p", body => $body, headers => \%J) }
sub count { my ($sql) = @_; $c->sql($sql) }

for my $i (1 .. 6) {
	tg_task($c, "t$i", submit => "2026-11-0${i}T00:00:00Z");
	tg_shard($c, "t$i", $_) for 0 .. 1;
}

# DELETE one, with its shards.
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/t1");
is($st, 200, 'delete 200');
is($body, '{"deleted":"t1"}', 'delete body');
is(count("SELECT count(*) FROM task_shards WHERE uniqc_task_id = 't1'"), 0, 'shards deleted too');
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/t1");
is($st, 404, 'second delete 404');
is($body, q({"detail":"Task 't1' not found"}), '404 body');

# bulk-delete: order kept, duplicates and unknown ids in missing.
($st, $h, $body) = post('/api/tasks/bulk-delete', '{"task_ids":["t3","nope","t2","t3","t1"],"extra":1}');
is($st, 200, 'bulk-delete 200');
is($body, '{"deleted":["t3","t2"],"missing":["nope","t3","t1"],"count":2}', 'bulk-delete body');
is(count("SELECT count(*) FROM tasks WHERE task_id IN ('t2','t3')"), 0, 'rows gone');
is(count("SELECT count(*) FROM task_shards WHERE uniqc_task_id IN ('t2','t3')"), 0, 'shards gone');
($st, $h, $body) = post('/api/tasks/bulk-delete', '{}');
is($body, '{"deleted":[],"missing":[],"count":0}', '{} is an empty list');
($st, $h, $body) = post('/api/tasks/bulk-delete', '{"task_ids":["a\u0000b","\ud800"]}');
is($body, qq({"deleted":[],"missing":["a\\u0000b","\x{ef}\x{bf}\x{bd}"],"count":0}),
    'ids that cannot be stored are missing');

# bulk-archive: task and shards move with one archived_at.
($st, $h, $body) = post('/api/tasks/bulk-archive', '{"task_ids":["t4","t5","t4","gone"]}');
is($st, 200, 'bulk-archive 200');
is($body, '{"archived":["t4","t5"],"missing":["t4","gone"],"count":2}', 'bulk-archive body');
is(count("SELECT count(*) FROM tasks WHERE task_id IN ('t4','t5')"), 0, 'left the active table');
is(count("SELECT count(*) FROM archived_tasks WHERE task_id IN ('t4','t5')"), 2, 'in the archive');
is(count("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id IN ('t4','t5')"), 4, 'shards archived');
is(count("SELECT count(DISTINCT archived_at) FROM (SELECT archived_at FROM archived_tasks WHERE task_id IN ('t4','t5') UNION ALL SELECT archived_at FROM archived_task_shards WHERE uniqc_task_id IN ('t4','t5')) x"), 1, 'one archived_at');
is(count("SELECT count(*) FROM task_shards WHERE uniqc_task_id IN ('t4','t5')"), 0, 'no shards left behind');
($st, $h, $body) = tg_http(GET => "$b/api/archive/t4");
like($body, qr/^\{"task_id":"t4",.*"submit_time":"2026-11-04T00:00:00\+00:00",.*"archived_at":"\d{4}-/, 'archived detail keeps its data');

# Conflicts: an active task whose archived copy exists.
tg_task($c, 'dup');
tg_task($c, 'dup', archived => 1, status => 'failed');
tg_shard($c, 'dup', 0);
($st, $h, $body) = post('/api/tasks/bulk-archive', '{"task_ids":["dup","t6"]}');
is($body, '{"archived":["t6"],"missing":[],"count":1,"conflicts":["dup"]}', 'conflicts listed');
is(count("SELECT status FROM archived_tasks WHERE task_id = 'dup'"), 'failed', 'archived copy untouched');
is(count("SELECT count(*) FROM tasks t JOIN task_shards s ON s.uniqc_task_id = t.task_id WHERE t.task_id = 'dup'"), 1, 'active copy and shard untouched');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/dup/archive");
is($st, 409, 'per-task archive of a conflicting id: 409');
is($body, q({"detail":"Task 'dup' is already archived"}), '409 body');

# Per-task archive.
tg_task($c, 'one');
tg_shard($c, 'one', 0);
($st, $h, $body) = tg_http(POST => "$b/api/tasks/one/archive");
is($st, 200, 'archive one');
is($body, '{"archived":"one"}', 'archive one body');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/one/archive");
is($st, 404, 'archive one again: 404');
is($body, q({"detail":"Task 'one' not found"}), 'archive one 404');

# Restore.
($st, $h, $body) = tg_http(POST => "$b/api/archive/restore/one");
is($st, 200, 'restore');
is($body, '{"restored":"one"}', 'restore body');
is(count("SELECT count(*) FROM task_shards WHERE uniqc_task_id = 'one'"), 1, 'shards restored');
is(count("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 'one'"), 0, 'archived shards moved');
($st, $h, $body) = tg_http(POST => "$b/api/archive/restore/one");
is($st, 404, 'restore again: 404');
is($body, q({"detail":"Archived task 'one' not found"}), 'restore 404 body');
($st, $h, $body) = tg_http(POST => "$b/api/archive/restore/dup");
is($st, 409, 'restore over an active task: 409');
is($body, q({"detail":"Task 'dup' already exists among active tasks"}), '409 body');
is(count("SELECT count(*) FROM archived_tasks WHERE task_id = 'dup'"), 1, 'nothing lost');

# Archive delete.
($st, $h, $body) = tg_http(DELETE => "$b/api/archive/t4");
is($body, '{"deleted":"t4"}', 'archive delete');
is(count("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 't4'"), 0, 'archived shards deleted');
($st, $h, $body) = tg_http(DELETE => "$b/api/archive/t4");
is($st, 404, 'archive delete again');
is($body, q({"detail":"Archived task 't4' not found"}), 'archive delete 404');

# archive-expired.
$c->sql("DELETE FROM tasks; DELETE FROM archived_tasks; DELETE FROM archived_task_shards");
tg_task($c, 'old_ok', status => 'success', submit => '2026-01-03T00:00:00Z', update => '2000-01-01T00:00:00Z');
tg_task($c, 'old_fail', status => 'failed', submit => '2026-01-02T00:00:00Z', update => '2000-01-01T00:00:00Z');
tg_task($c, 'old_run', status => 'running', submit => '2026-01-04T00:00:00Z', update => '2000-01-01T00:00:00Z');
tg_task($c, 'new_ok', status => 'success', submit => '2026-01-05T00:00:00Z');
tg_task($c, 'new_pend', status => 'pending', submit => '2026-01-01T00:00:00Z');
tg_task($c, 'old_odd', status => 'weird', submit => '2026-01-06T00:00:00Z', update => '2000-01-01T00:00:00Z');
tg_shard($c, 'old_ok', 0);
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired");
is($st, 200, 'archive-expired defaults');
is($body, '{"archived":["old_ok","old_fail"],"count":2,"hours":72,"terminal_only":true,"skipped_running":["old_odd","old_run","new_pend"]}',
    'terminal_only: non-terminal tasks skipped whatever their age, list order');
is(count("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 'old_ok'"), 1, 'shards moved');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=1&terminal_only=FALSE");
is($body, '{"archived":["old_odd","old_run"],"count":2,"hours":1,"terminal_only":false,"skipped_running":[]}',
    'terminal_only=false archives every old task');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=-1&terminal_only=0");
is($body, '{"archived":["new_ok","new_pend"],"count":2,"hours":-1,"terminal_only":false,"skipped_running":[]}',
    'negative hours: cutoff in the future');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=x&terminal_only=maybe");
is($st, 422, 'bad parameters: 422');
is($body, '{"detail":[{"type":"int_parsing","loc":["query","hours"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"},{"type":"bool_parsing","loc":["query","terminal_only"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]}',
    'both errors');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=99999999999");
is($st, 422, 'cutoff out of range: 422, not 500');
like($body, qr/"loc":\["query","hours"\]/, 'names hours');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?terminal_only=%20true");
is($st, 422, 'booleans are not trimmed');

# bulk-archive gives archive seq values in the order given (SPEC 2.4): among
# equal submit_times the last id given is listed first in /api/archive,
# whichever of them was inserted first.
for my $pair (['sq1', 'sp1', '2020-01-01T00:00:00Z'], ['sp2', 'sq2', '2020-01-02T00:00:00Z']) {
	my ($first, $second, $t) = @$pair;
	tg_task($c, $first, submit => $t);
	tg_task($c, $second, submit => $t);
}
($st, $h, $body) = post('/api/tasks/bulk-archive', '{"task_ids":["sq1","sp1","sq2","sp2"]}');
is($body, '{"archived":["sq1","sp1","sq2","sp2"],"missing":[],"count":4}', 'bulk-archive of equal submit times');
($st, $h, $body) = tg_http(GET => "$b/api/archive?limit=-1");
my @order = grep { /^s[pq][12]$/ } $body =~ /"task_id":"([^"]*)"/g;
is("@order", 'sp2 sq2 sp1 sq1', 'archive lists the last given first among equal submit_time');

# archive-expired archives in list order, one task after the other in the
# original: among equal submit_times the one listed first in /api/tasks
# gets the older archive seq, so /api/archive lists the two the other way.
tg_task($c, $_, submit => '2020-01-05T00:00:00Z', update => '2020-01-05T00:00:00Z') for qw(exA exB);
($st, $h, $body) = tg_http(GET => "$b/api/tasks?limit=-1");
@order = grep { /^ex[AB]$/ } $body =~ /"task_id":"([^"]*)"/g;
is("@order", 'exB exA', 'active list: the later insert first');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=1");
like($body, qr/"archived":\[[^]]*"exB","exA"/, 'archive-expired answers in list order');
($st, $h, $body) = tg_http(GET => "$b/api/archive?limit=-1");
@order = grep { /^ex[AB]$/ } $body =~ /"task_id":"([^"]*)"/g;
is("@order", 'exA exB', 'archive lists them as the original archived them (list order)');

done_testing();
