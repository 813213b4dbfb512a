#!/usr/bin/perl
# taskgate-admin import: a uniqc store in its exact schema (v5, and a v3
# one without shard tables and application_id 0) with the odd rows of
# UNIQC_STORE.md, imported into a real cluster; every task's detail and
# shards compared through the HTTP API with the store; the report file;
# a re-run changes nothing; a newer update_time wins.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use TG;
use TGStore;

my ($c, $w) = tg_setup();
my $dsn = $c->dsn;
my $dir = tg_tmpdir();
my $f = "$dir/tasks.sqlite";
store_create($f);

my $J = JSON::PP->new->canonical;
my (@active, @arch);	# expected: [id, fields...]

# Rows: id, status, submit, update, result, metadata, error.
my $T0 = '2026-05-01T12:00:00.123456+00:00';
my @rows = (
	['uqt_' . ('a' x 32), 'success', $T0, '2026-05-01T12:00:05+00:00',
	    '{"z": 1.50, "a": [1e3, -0, 2.0], "counts": {"11": 7, "00": 3}}', '{"b": 1, "a": {"y": [1, "x"]}}', undef],
	['naive', 'failed', '2026-05-01T00:00:00', '2026-05-01T00:00:01', '', '', 'boom'],
	['zulu', 'running', '2026-05-01T10:00:00Z', '2026-05-01T10:00:00.5Z', 'null', '', undef],
	['offset', 'pending', '2026-05-01T20:00:00+08:00', '2026-05-01T20:00:00-02:30', undef, 'null', undef],
	['nan', 'success', '2026-05-02T00:00:00+00:00', '2026-05-02T00:00:00+00:00',
	    '{"e": NaN, "l": [Infinity, -Infinity, "NaN"]}', '[1, 2]', undef],
	['badjson', 'success', '2026-05-02T00:00:00+00:00', '2026-05-02T00:00:00+00:00', '{"a": 1,', '{}', undef],
	['badtime', 'success', 'yesterday', '2026-05-02T00:00:00+00:00', undef, '{}', undef],
	['weird status', 'WeIrD', '2026-05-03T00:00:00+00:00', '2026-05-03T00:00:00+00:00', '[{"k": 1}, {"k": 2}]',
	    '{"legacy_platform_id": "x-1"}', undef],
	["\xc3\xbc x+y", 'cancelled', '2026-05-03T00:00:00+00:00', '2026-05-03T00:00:00+00:00', '{}', '{}', undef],
	# Ties on submit_time: uniqc lists them by rowid (last first).
	['tie1', 'success', '2026-05-04T00:00:00+00:00', '2026-05-04T00:00:00+00:00', undef, '{}', undef],
	['tie2', 'success', '2026-05-04T00:00:00+00:00', '2026-05-04T00:00:00+00:00', undef, '{}', undef],
	['tie3', 'success', '2026-05-04T00:00:00+00:00', '2026-05-04T00:00:00+00:00', undef, '{}', undef],
	["bad\xfcutf8", 'success', '2026-05-05T00:00:00+00:00', '2026-05-05T00:00:00+00:00', undef, '{}', undef],
	['both', 'success', '2026-05-05T00:00:00+00:00', '2026-05-05T00:00:00+00:00', '{"copy": "active"}', '{}', undef],
);
my $sql = "BEGIN;\n";
for my $r (@rows) {
	$sql .= "INSERT INTO tasks VALUES (" . join(',', sq($r->[0]), sq('originq:WK_C180'), sq($r->[1]), 1000,
	    map { sq($_) } @$r[2 .. 6]) . ");\n";
}
# NULL metadata (NOT NULL in the schema, but older writers): through a copy of the table.
$sql .= "INSERT INTO archived_tasks VALUES ('arch1', 'dummy:local:simulator', 'success', 5, "
    . "'2026-04-01T00:00:00+00:00', '2026-04-01T01:00:00+00:00', '{\"r\": [1,2,3]}', '{\"m\": true}', "
    . "'2026-04-02T00:00:00+00:00', NULL);\n";
$sql .= "INSERT INTO archived_tasks VALUES ('arch-naive', 'dummy:local:simulator', 'failed', 0, "
    . "'2026-04-01T00:00:00', '2026-04-01T00:00:00', NULL, '{}', '2026-04-03T00:00:00', 'err');\n";
$sql .= "INSERT INTO archived_tasks VALUES ('both', 'dummy:local:simulator', 'success', 0, "
    . "'2026-05-05T00:00:00+00:00', '2026-05-05T00:00:00+00:00', '{\"copy\": \"archived\"}', '{}', "
    . "'2026-05-06T00:00:00+00:00', NULL);\n";
# Shards.
my $A = 'uqt_' . ('a' x 32);
$sql .= "INSERT INTO task_shards VALUES ('$A', 0, 'plat-0', 'originq:WK_C180', 2, 0, 'success', '{\"c\": NaN}', NULL, "
    . "'2026-05-01T12:00:00+00:00', '2026-05-01T12:00:01.000001+00:00');\n";
$sql .= "INSERT INTO task_shards VALUES ('$A', 1, 'plat-1', 'originq:WK_C180', 3, 2, 'failed', NULL, 'shard err', "
    . "'2026-05-01T12:00:00', '2026-05-01T12:00:02Z');\n";
$sql .= "INSERT INTO task_shards VALUES ('badjson', 0, 'p', 'b', 1, 0, 'success', NULL, NULL, "
    . "'2026-05-01T12:00:00', '2026-05-01T12:00:02Z');\n";
$sql .= "INSERT INTO task_shards VALUES ('naive', 0, 'p-n', 'b', 1, 0, 'success', NULL, NULL, "
    . "'bad time', '2026-05-01T12:00:02Z');\n";
$sql .= "INSERT INTO archived_task_shards VALUES ('arch1', 0, 'ap-0', 'dummy', 1, 0, 'success', '{}', NULL, "
    . "'2026-04-01T00:00:00+00:00', '2026-04-01T00:30:00+00:00', '2026-04-02T00:00:00+00:00');\n";
$sql .= "INSERT INTO archived_task_shards VALUES ('ghost', 0, 'gp', 'dummy', 1, 0, 'success', NULL, NULL, "
    . "'2026-04-01T00:00:00+00:00', '2026-04-01T00:30:00+00:00', '2026-04-02T00:00:00+00:00');\n";
$sql .= "COMMIT;\n";
store_sql($f, $sql);

my $rep = "$dir/report.jsonl";
my ($rc, $out) = tg_admin('-d', $dsn, 'import', $f, '--report', $rep);
is($rc, 1, 'import: exit 1 (rows reported)') or diag $out;
like($out, qr/^taskgate-admin: import \Q$f\E: ok, 17 tasks read, 13 new, 0 updated, .* reported/m,
    'one-line summary') or diag $out;

# The report: one JSON line per row that could not go in as it was.
open my $fh, '<', $rep or die;
my @rep = map { decode_json($_) } <$fh>;
close $fh;
my %why = map { (($_->{task_id} // '') . (defined $_->{shard_index} ? "#$_->{shard_index}" : '') . "\@$_->{table}") => $_->{reason} } @rep;
like($why{'badjson@tasks'}, qr/skipped: result_json is not valid JSON/, 'invalid JSON: task skipped');
like($why{'badjson#0@task_shards'}, qr/its task was skipped/, '... and its shard reported');
like($why{'badtime@tasks'}, qr/skipped: submit_time is not a time/, 'a non-time: skipped');
like($why{'nan@tasks'}, qr/3 NaN\/Infinity token\(s\) imported as null/, 'NaN tokens reported');
like($why{"$A#0\@task_shards"}, qr/1 NaN/, 'NaN in a shard reported');
like($why{'naive#0@task_shards'}, qr/shard skipped: submit_time is not a time/, 'bad shard time: shard skipped');
like($why{'both@archived_tasks'}, qr/also in tasks, whose copy is kept/, 'id in both tables: the active copy wins');
like($why{'ghost#0@archived_task_shards'}, qr/orphan shard/, 'orphan archived shard reported');
is_deeply([map { $_->{task_id_hex} // () } @rep], ['626164fc75746638'], 'an id that is not UTF-8: reported in hex');
is(scalar(@rep), 9, 'nine rows reported') or diag explain \@rep;

# Every task through the API, compared with the store.
sub api { my ($p) = @_; my ($s, undef, $b) = tg_http(GET => "$w->{base}$p"); return ($s, $s == 200 ? decode_json($b) : $b) }
sub pct { my $s = shift; utf8::encode($s) if utf8::is_utf8($s); $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $s }
sub compact { my $s = shift; my $o = ''; while ($s =~ /\G("(?:[^"\\]|\\.)*"|[^"\s]+|\s+)/gc) { my $t = $1; $o .= $t unless $t =~ /^\s+$/ } $o }
my %iso = (
	$T0 => '2026-05-01T12:00:00.123456+00:00',
	'2026-05-01T00:00:00' => '2026-05-01T00:00:00+00:00',
	'2026-05-01T00:00:01' => '2026-05-01T00:00:01+00:00',
	'2026-05-01T10:00:00Z' => '2026-05-01T10:00:00+00:00',
	'2026-05-01T10:00:00.5Z' => '2026-05-01T10:00:00.500000+00:00',
	'2026-05-01T20:00:00+08:00' => '2026-05-01T12:00:00+00:00',
	'2026-05-01T20:00:00-02:30' => '2026-05-01T22:30:00+00:00',
);
my %res = ($A => '{"z":1.50,"a":[1e3,-0,2.0],"counts":{"11":7,"00":3}}', nan => '{"e":null,"l":[null,null,"NaN"]}',
    'weird status' => '[{"k":1},{"k":2}]', "\xc3\xbc x+y" => '{}', both => '{"copy":"active"}');
my %meta = ($A => {b => 1, a => {y => [1, 'x']}}, offset => undef, nan => [1, 2],
    'weird status' => {legacy_platform_id => 'x-1'});
for my $r (@rows) {
	my ($id, $st, $sub, $upd) = @$r;
	next if $id =~ /^bad/;
	utf8::decode(my $u = $id);
	my ($s, $d) = api('/api/tasks/' . pct($id));
	is($s, 200, "task $id is active") or next;
	is($d->{status}, $st, "$id: status");
	is($d->{backend}, 'originq:WK_C180', "$id: backend");
	is($d->{shots}, 1000, "$id: shots");
	is($d->{submit_time}, $iso{$sub} // $sub, "$id: submit_time, same instant");
	is($d->{update_time}, $iso{$upd} // $upd, "$id: update_time");
	is(defined $d->{result} ? compact(JSON::PP->new->allow_nonref->canonical(0)->encode($d->{result})) : undef,
	    undef, "$id: no result") unless exists $res{$id};
	is($J->encode($d->{metadata}), $J->encode(exists $meta{$id} ? $meta{$id} : {}), "$id: metadata");
}
# Result text: compare the raw body (key order, number text).
for my $id (sort keys %res) {
	my ($s, undef, $b) = tg_http(GET => "$w->{base}/api/tasks/" . pct($id));
	my $want = $res{$id};
	utf8::encode($want);
	like($b, qr/"result":\Q$want\E,"metadata"/, "$id: result text as written (compact)");
}
my ($s, $d) = api('/api/tasks/badjson');
is($s, 404, 'skipped task not imported');
($s, $d) = api("/api/tasks/$A/shards");
is($d->{shard_count}, 2, 'shards of a task');
is_deeply([map { [$_->{shard_index}, $_->{platform_task_id}, $_->{circuit_count}, $_->{sub_index_offset}, $_->{status},
    $_->{error_message}, $_->{submit_time}, $_->{update_time}] } @{ $d->{shards} }],
    [[0, 'plat-0', 2, 0, 'success', undef, '2026-05-01T12:00:00+00:00', '2026-05-01T12:00:01.000001+00:00'],
     [1, 'plat-1', 3, 2, 'failed', 'shard err', '2026-05-01T12:00:00+00:00', '2026-05-01T12:00:02+00:00']],
    '... every column');
is($c->sql("SELECT result::text FROM task_shards WHERE uniqc_task_id = '$A' AND shard_index = 0"), '{"c": null}',
    'shard result with NaN stored as null, text kept');
($s, $d) = api('/api/tasks/naive/shards');
is($d->{shard_count}, 0, 'a bad shard is left out, its task is in');
is($c->sql("SELECT error_message FROM tasks WHERE task_id = 'naive'"), 'boom', 'error_message kept');
($s, $d) = api('/api/archive/arch1');
is($s, 200, 'archived task in the archive');
is($d->{archived_at}, '2026-04-02T00:00:00+00:00', '... archived_at');
is($d->{submit_time}, '2026-04-01T00:00:00+00:00', '... submit_time');
is_deeply($d->{result}, {r => [1, 2, 3]}, '... result');
is($c->sql("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 'arch1'"), '1', '... with its shard');
($s, $d) = api('/api/archive/arch-naive');
is($d->{archived_at}, '2026-04-03T00:00:00+00:00', 'naive archived_at is UTC');
($s, $d) = api('/api/archive/both');
is($s, 404, 'the archived copy of an id also active is not imported');
is($c->sql("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 'ghost'"), '0', 'orphan not imported');
($s, $d) = api('/api/tasks?limit=-1');
my @ids = map { $_->{task_id} } @{ $d->{tasks} };
my @ties = grep { /^tie/ } @ids;
is("@ties", 'tie3 tie2 tie1', 'ties on submit_time list as in uniqc (last rowid first)');
($s, $d) = api('/api/tasks/counts');
is($d->{total}, 10, 'counts from the counters: 10 of the five statuses');

# A re-run changes nothing: no row is rewritten (xmin), counters the same.
my $state = "SELECT string_agg(task_id || ':' || seq || ':' || xmin, ',' ORDER BY task_id) FROM tasks "
    . "UNION ALL SELECT string_agg(task_id || ':' || seq || ':' || xmin, ',' ORDER BY task_id) FROM archived_tasks "
    . "UNION ALL SELECT string_agg(uniqc_task_id || shard_index || ':' || xmin, ',' ORDER BY 1) FROM task_shards "
    . "UNION ALL SELECT string_agg(uniqc_task_id || shard_index || ':' || xmin, ',' ORDER BY 1) FROM archived_task_shards "
    . "UNION ALL SELECT string_agg(status || backend || n, ',' ORDER BY status, backend, slot) FROM task_counts";
my $before = $c->sql($state);
($rc, $out) = tg_admin('-d', $dsn, '-q', 'import', $f, '--report', "$dir/rep2");
is($rc, 1, 're-run: exit 1 again (the same rows reported)');
is($out, '', '-q: nothing on stderr but errors');
is($c->sql($state), $before, 're-run changes nothing');
($rc, $out) = tg_admin('-d', $dsn, 'check');
is($rc, 0, 'check: counters consistent after the import') or diag $out;

# A newer update_time wins; an older one does not.
store_sql($f, "UPDATE tasks SET status = 'failed', update_time = '2026-06-01T00:00:00+00:00' WHERE task_id = 'zulu';"
    . "UPDATE tasks SET status = 'failed', update_time = '2026-04-01T00:00:00+00:00' WHERE task_id = 'tie1';"
    . "UPDATE task_shards SET status = 'retried', update_time = '2026-06-01T00:00:00Z' WHERE uniqc_task_id = '$A' AND shard_index = 1;");
($rc, $out) = tg_admin('-d', $dsn, 'import', $f);
like($out, qr/ 1 updated,/, 'second import: one task updated') or diag $out;
($s, $d) = api('/api/tasks/zulu');
is($d->{status}, 'failed', 'newer update_time in the store wins');
is($d->{update_time}, '2026-06-01T00:00:00+00:00', '... with its time');
($s, $d) = api('/api/tasks/tie1');
is($d->{status}, 'success', 'an older update_time in the store does not');
is($c->sql("SELECT status FROM task_shards WHERE uniqc_task_id = '$A' AND shard_index = 1"), 'retried',
    'a newer shard wins too');
($s, $d) = api('/api/tasks/counts');
is($d->{running}, 0, 'counters follow the update (running -> failed)');
($rc, $out) = tg_admin('-d', $dsn, 'check');
is($rc, 0, 'check: still consistent') or diag $out;

# An older store: version 3, application_id 0, no shard tables; its
# archived_tasks has error_message after archived_at.
my $f3 = "$dir/old.sqlite";
store_create($f3, version => 3, appid => 0);
store_sql($f3, "INSERT INTO tasks VALUES ('old-1', 'dummy', 'success', 1, '2025-01-01T00:00:00', "
    . "'2025-01-01T00:00:00', '{\"x\": 1}', '{}', 'old err');\n"
    . "INSERT INTO archived_tasks VALUES ('old-2', 'dummy', 'failed', 2, '2025-01-01T00:00:00', "
    . "'2025-01-01T00:00:00', NULL, '{}', '2025-02-01T00:00:00+01:00', 'arch err');");
($rc, $out) = tg_admin('-d', $dsn, 'import', $f3);
is($rc, 0, 'v3 store, application_id 0: exit 0') or diag $out;
is($c->sql("SELECT status || ' ' || error_message FROM tasks WHERE task_id = 'old-1'"), 'success old err', 'v3 active task');
is($c->sql("SELECT error_message || ' ' || archived_at FROM archived_tasks WHERE task_id = 'old-2'"),
    'arch err 2025-01-31 23:00:00+00', 'v3 archived task: columns read by name');
is($c->sql('SELECT count(*) FROM taskgate_import_sources'), '2', 'two stores, two sources');

# Not a uniqc store.
my $fx = "$dir/other.sqlite";
store_create($fx, appid => 1234);
($rc, $out) = tg_admin('-d', $dsn, 'import', $fx);
is($rc, 2, 'another application_id: exit 2');
like($out, qr/not a uniqc store \(application_id 0x000004D2\)/, '... and why');
tg_write("$dir/junk", "not sqlite at all" x 100);
($rc, $out) = tg_admin('-d', $dsn, 'import', "$dir/junk");
is($rc, 2, 'not a database: exit 2');
($rc, $out) = tg_admin('-d', $dsn, 'import', "$dir/missing.sqlite");
is($rc, 2, 'a missing file: exit 2');
ok(!-e "$dir/missing.sqlite", '... and it is not created');
($rc, $out) = tg_admin('-d', 'host=127.0.0.1 port=1 connect_timeout=2', 'import', $f);
is($rc, 2, 'database unreachable: exit 2');
like($out, qr/cannot connect/, '... and why');

# No leaks, no invalid reads: import, sync and check under valgrind.
SKIP: {
	skip 'valgrind not installed', 3 unless -x '/usr/bin/valgrind';
	skip 'ASan build', 3 if `nm '$ENV{TG_BUILDDIR}/src/taskgate-admin' 2>/dev/null` =~ /__asan_init/;
	for my $cmd (['import', $f], ['sync', $f, '--mirror', '--report', "$dir/vg.jsonl"], ['check']) {
		my ($vrc, $vout) = tg_admin('-d', $dsn, @$cmd) ;
		my $bin = "$ENV{TG_BUILDDIR}/src/taskgate-admin";
		my $q = join ' ', map { "'$_'" } '-d', $dsn, @$cmd;
		my $log = `valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 '$bin' $q 2>&1`;
		isnt($? >> 8, 99, "valgrind: $cmd->[0] clean") or diag $log;
	}
}

done_testing();
