#!/usr/bin/perl
# SPEC 4.5: bulk-delete and bulk-archive by filter: dry run with matched
# and sample, the max_affected guard (409, nothing changes), the id
# form's answer, the 422s; the id form unchanged.
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};
my $J = { 'Content-Type' => 'application/json' };

$c->sql("INSERT INTO tasks (task_id, backend, status, submit_time, metadata) SELECT 't' || lpad(g::text, 2, '0'), "
    . "CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END, CASE WHEN g % 3 = 0 THEN 'failed' ELSE 'success' END, "
    . "'2026-11-01'::timestamptz + g * interval '1 hour', jsonb_build_object('g', g % 5) FROM generate_series(1, 30) g");
tg_shard($c, 't03', 0);

sub post {
	my ($op, $body) = @_;
	my ($st, $h, $bd) = tg_http(POST => "$b/api/tasks/$op", body => $body, headers => $J);
	return ($st, $bd);
}
sub n { $c->sql("SELECT count(*) FROM tasks") }

my ($st, $body) = post('bulk-delete', '{"filter":{"status_in":["failed"]},"dry_run":true}');
is($st, 200, 'dry run');
is($body, '{"dry_run":true,"matched":10,"sample":["t30","t27","t24","t21","t18","t15","t12","t09","t06","t03"]}',
    'matched and sample in list order');
is(n(), 30, 'a dry run changes nothing');
($st, $body) = post('bulk-archive', '{"filter":{},"dry_run":true}');
is($body, '{"dry_run":true,"matched":30,"sample":["t30","t29","t28","t27","t26","t25","t24","t23","t22","t21","t20","t19","t18","t17","t16","t15","t14","t13","t12","t11"]}',
    'empty filter: everything, a sample of 20');

($st, $body) = post('bulk-delete', '{"filter":{"status_in":["failed"]},"max_affected":9}');
is($st, 409, 'more than max_affected: 409');
is($body, '{"detail":"Filter matches 10 tasks, more than max_affected 9"}', '409 detail');
is(n(), 30, 'nothing deleted');
($st, $body) = post('bulk-archive', '{"filter":{"status_in":["failed"]},"max_affected":3}');
is($st, 409, 'archive: 409');
is($c->sql("SELECT count(*) FROM archived_tasks"), 0, 'nothing archived');

($st, $body) = post('bulk-delete', '{"filter":{"status_in":["failed"],"backend":"even","submitted_before":"2026-11-02T00:00:00Z"},"max_affected":10}');
is($st, 200, 'delete by filter');
is($body, '{"deleted":["t18","t12","t06"],"missing":[],"count":3}', 'the id form answer, list order');
is(n(), 27, 'deleted');
tg_task($c, 't15', archived => 1, status => 'old copy');
($st, $body) = post('bulk-archive', '{"filter":{"status_in":["failed"]},"max_affected":10}');
is($st, 200, 'archive by filter');
is($body, '{"archived":["t30","t27","t24","t21","t09","t03"],"missing":[],"count":6,"conflicts":["t15"]}',
    'archived, conflicts');
is($c->sql("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 't03'"), 1, 'shards moved along');
is($c->sql("SELECT string_agg(task_id, ',' ORDER BY seq) FROM archived_tasks WHERE task_id <> 't15'"),
    't30,t27,t24,t21,t09,t03', 'archive seq in the order of the answer, as the id form given that list (the last listed first among equal submit_times)');
($st, $body) = post('bulk-delete', '{"filter":{"metadata":{"g":0},"has_result":false,"updated_after":"2000-01-01"},"max_affected":100}');
is($body, '{"deleted":["t25","t20","t15","t10","t05"],"missing":[],"count":5}', 'metadata, has_result, updated_after (t15 stayed: its conflict)');
($st, $body) = post('bulk-delete', '{"filter":{"status":"nothing"},"max_affected":0}');
is($body, '{"deleted":[],"missing":[],"count":0}', 'nothing matches, max_affected 0');
($st, $body) = post('bulk-delete', '{"filter":{"status_in":["\u0000"]},"max_affected":0}');
is($body, '{"deleted":[],"missing":[],"count":0}', 'an unstorable value matches nothing');

# 422s.
($st, $body) = post('bulk-delete', '{"filter":{"status_in":["failed"]}}');
is($st, 422, 'a real run needs max_affected');
is($body, '{"detail":[{"type":"missing","loc":["body","max_affected"],"msg":"Field required","input":{"filter":{"status_in":["failed"]}}}]}',
    'missing max_affected');
($st, $body) = post('bulk-delete', '{"task_ids":["t01"],"filter":{},"max_affected":1}');
is($st, 422, 'task_ids and filter: 422');
like($body, qr/^\{"detail":\[\{"type":"value_error","loc":\["body"\],"msg":"Value error, give task_ids or filter, not both"/, 'both');
# A body with a filter is built as a tree: at most 64 KiB (in review: the
# 413 named task ids the body did not have).
my $pad = 'a' x 70000;
($st, $body) = post('bulk-delete', qq({"filter":{"status":"x"},"dry_run":true,"pad":"$pad"}));
is($st, 413, 'a filter body over 64 KiB: 413');
is($body, '{"detail":"Request body too large: a body with a filter is at most 64 KiB"}', 'the 413 says why');
($st, $body) = post('bulk-delete', '{"filter":{},"task_ids":[' . join(',', ('"x"') x 20000) . ']}');
is($st, 422, 'a large body with both forms: still the 422 of both');
like($body, qr/^\{"detail":\[\{"type":"value_error","loc":\["body"\],"msg":"Value error, give task_ids or filter, not both","input":\{"filter":\{\},"task_ids":\["x",/, 'value_error, the body echoed');
($st, $body) = post('bulk-archive', '{"filter":{"stat":"x","archived_after":"2026-01-01"},"dry_run":true}');
is($body, '{"detail":[{"type":"extra_forbidden","loc":["body","filter","stat"],"msg":"Extra inputs are not permitted","input":"x"},{"type":"extra_forbidden","loc":["body","filter","archived_after"],"msg":"Extra inputs are not permitted","input":"2026-01-01"}]}',
    'unknown filter keys');
($st, $body) = post('bulk-delete', '{"filter":{"status_in":"failed","backend_in":["a",1],"has_result":"yes","submitted_after":"soon","metadata":null},"dry_run":1,"max_affected":-1}');
is($body, '{"detail":[' .
    '{"type":"list_type","loc":["body","filter","status_in"],"msg":"Input should be a valid list","input":"failed"},' .
    '{"type":"string_type","loc":["body","filter","backend_in",1],"msg":"Input should be a valid string","input":1},' .
    '{"type":"bool_type","loc":["body","filter","has_result"],"msg":"Input should be a valid boolean","input":"yes"},' .
    '{"type":"datetime_from_date_parsing","loc":["body","filter","submitted_after"],"msg":"Input should be a valid datetime or date, invalid date-time format","input":"soon"},' .
    '{"type":"bool_type","loc":["body","dry_run"],"msg":"Input should be a valid boolean","input":1},' .
    '{"type":"int_type","loc":["body","max_affected"],"msg":"Input should be a valid integer greater than or equal to 0","input":-1}]}',
    'value errors');
($st, $body) = post('bulk-delete', '{"filter":[1]}');
like($body, qr/"type":"model_attributes_type","loc":\["body","filter"\]/, 'filter not an object');

# The id form is unchanged (dry_run and max_affected are extra keys there).
($st, $body) = post('bulk-delete', '{"task_ids":["t01","t01","zz"],"dry_run":true}');
is($body, '{"deleted":["t01"],"missing":["t01","zz"],"count":1}', 'id form: dry_run ignored');
($st, $body) = post('bulk-delete', '{"filter":null,"task_ids":["t02"]}');
is($body, '{"deleted":["t02"],"missing":[],"count":1}', 'filter null: the id form');

# Writes need write access: from a network outside write_networks, 403.
my $w2 = tg_lighttpd(dsn => $c->dsn, conf => "write_networks = none\n", tag => 'ro');
my ($s2) = tg_http(POST => "$w2->{base}/api/tasks/bulk-delete",
    body => '{"filter":{},"dry_run":true}', headers => $J);
is($s2, 403, 'by filter (even a dry run) has the write routes\' access rules');

done_testing();
