#!/usr/bin/perl
# SPEC 4.4: the lookup reads its rows as they come (db_stream), and
# writes the answer while PostgreSQL is still finding the later ids.
# Through the real binary, with prepared statements and with
# prepare = off:
#  - a lookup of 1 200 ids (known, unknown, repeated, archived) answers
#    each as the list and the archive describe it, in the order given;
#  - a statement that fails after a hundred rows came (schema "boom",
#    whose tasks view divides by zero at one row) answers the error alone,
#    as the detail of that task does, never a 200 cut short, and the
#    same processes answer the next lookup;
#  - the first lookup after a database restart answers 200 (it
#    reconnects and sends the statement again before its first row).
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
$c->sql(q{INSERT INTO tasks (task_id, backend, status, shots, submit_time,
	update_time, metadata)
	SELECT 't' || lpad(i::text, 4, '0'), 'be' || (i % 3), 'running', i,
	    timestamptz '2026-11-01T00:00:00Z' + i * interval '1 minute',
	    timestamptz '2026-11-02T00:00:00Z' + i * interval '1 second',
	    jsonb_build_object('n', i, 'circuit', repeat('h q[0];', 20))
	FROM generate_series(1, 1200) AS i});
tg_task($c, 'z1', status => 'failed', backend => 'bz', archived => 1,
    submit => '2026-10-01T00:00:00Z', update => '2026-10-01T00:00:00Z',
    archived_at => '2026-10-02T00:00:00.5Z');
$c->sql('CREATE SCHEMA boom');
$c->sql(q{CREATE VIEW boom.tasks AS SELECT task_id, seq, backend, status,
	CASE WHEN task_id = 't1100' THEN (1 / (seq - seq))::bigint
	ELSE shots END
	AS shots, submit_time, update_time, result, metadata, error_message,
	has_result FROM public.tasks});
# Only the rows looked up are computed (nested loops over the id
# index): a hash join would compute the view's every row, t1100's too.
$c->sql(q{DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET enable_hashjoin = off',
	current_database()); EXECUTE format('ALTER DATABASE %I SET enable_mergejoin = off',
	current_database()); END $$});
$c->sql("CREATE VIEW boom.$_ AS SELECT * FROM public.$_")
    for qw(task_shards task_counts archived_tasks archived_task_shards
    taskgate_changes);

my %w = (prepared => tg_lighttpd(dsn => $c->dsn, tag => 'p', procs => 2),
    unprepared => tg_lighttpd(dsn => $c->dsn, tag => 'u', procs => 2,
	conf => "prepare = off\n"));
my %boom = (prepared => tg_lighttpd(dsn => $c->dsn, tag => 'bp', procs => 2,
	conf => "schema = boom\n"),
    unprepared => tg_lighttpd(dsn => $c->dsn, tag => 'bu', procs => 2,
	conf => "schema = boom\nprepare = off\n"));
my @kinds = sort keys %w;
my $J = { 'Content-Type' => 'application/json' };

sub lookup {
	my ($base, @ids) = @_;
	my ($st, $h, $body) = tg_http(POST => "$base/api/tasks/lookup",
	    headers => $J,
	    body => '{"task_ids":[' . join(',', map { qq("$_") } @ids) . ']}');
	return ($st, $body);
}

# Each summary as the list and the archive give it.
my %sum;
{
	my ($st, $h, $body) = tg_http(GET => "$w{prepared}{base}/api/tasks?limit=-1");
	is($st, 200, 'the whole list');
	$sum{$1} = $& while $body =~ /\{"task_id":"([^"]+)"[^{}]*\{[^{}]*\}[^{}]*\}/g;
	($st, $h, $body) = tg_http(GET => "$w{prepared}{base}/api/archive");
	$sum{$1} = $& while $body =~ /\{"task_id":"([^"]+)"[^{}]*\{[^{}]*\}[^{}]*\}/g;
}
is(scalar(keys %sum), 1201, 'a summary for each task');
like($sum{t0007}, qr/^\{"task_id":"t0007","backend":"be1","status":"running","shots":7,.*"metadata":\{"n":7,"circuit":"(h q\[0\];){20}"\},"archived_at":null\}$/,
    'a summary as the list gives it');

# Known ids from the last to the first, an unknown one and a repeat of
# an earlier one every 50, the archived one in the middle.
my @ids;
for my $i (reverse 1 .. 1200) {
	push @ids, sprintf('t%04d', $i);
	push @ids, "nope$i", sprintf('t%04d', $i + 1) if $i % 50 == 0 && $i < 1200;
	push @ids, 'z1' if $i == 600;
}
my (%seen, @want);
for my $id (@ids) {
	next if $seen{$id}++;
	push @want, qq("$id":) . ($sum{$id} // 'null');
}
my $want = '{"tasks":{' . join(',', @want) . '}}';
cmp_ok(length($want), '>', 300_000, 'the answer is larger than a few of libpq\'s reads');
for my $k (@kinds) {
	my ($st, $body) = lookup($w{$k}{base}, @ids);
	is($st, 200, "$k: a lookup of " . scalar(@ids) . ' ids');
	ok($body eq $want, "$k: each id once, in the order given, as the list describes it")
	    or diag(substr($body, 0, 300));
}

# A statement that fails midway: t1100 is the 101st id.
my @late = map { sprintf('t%04d', $_) } 1000 .. 1200;
for my $k (@kinds) {
	my $b = $boom{$k}{base};
	my ($dst, $dh, $dbody) = tg_http(GET => "$b/api/tasks/t1100");
	like($dst, qr/^5\d\d$/, "$k: the detail of the broken row fails ($dst)");
	like($dbody, qr/^\{"detail":"[^"]+"\}$/, "$k: with a detail");
	for my $try (1 .. 4) {
		my ($st, $body) = lookup($b, @late);
		is($st, $dst, "$k: a lookup that fails midway answers as the detail ($try)");
		is($body, $dbody, "$k: its error alone, no rows ($try)");
		($st, $body) = lookup($b, grep { $_ ne 't1100' } @late);
		is($st, 200, "$k: the next lookup is served ($try)");
		like($body, qr/^\{"tasks":\{"t1000":\{"task_id":"t1000",.*"t1200":\{"task_id":"t1200",[^{}]*\{[^{}]*\}[^{}]*\}\}\}$/,
		    "$k: whole ($try)");
	}
}

for my $mode ('fast', 'immediate') {
	for my $k (@kinds) {
		my ($st) = lookup($w{$k}{base}, 't0001');
		is($st, 200, "$k: a lookup before the $mode restart");
	}
	$c->stop($mode);
	$c->start;
	for my $k (@kinds) {
		my ($st, $body) = lookup($w{$k}{base}, 't0002', 'nope', 't0001');
		is($st, 200, "$k: the first lookup after a $mode restart is 200")
		    or diag($body);
		is($body, qq({"tasks":{"t0002":$sum{t0002},"nope":null,"t0001":$sum{t0001}}}),
		    "$k: and whole");
	}
}

done_testing();
