#!/usr/bin/perl
# Typed rows (issue 9): every statement's columns are checked against
# the layout sql.c declares for it, and a statement whose columns
# disagree answers 500 with a log line naming the statement, the column,
# the type found and the type expected -- never a 200 with zeros.  The
# `schema` setting points taskgate at schema "bad", whose tasks,
# task_shards and task_counts are views over the real tables with one
# column of another type each (shots numeric, shard_index text, status
# char(12)): before typed rows these answered 200 with shots 0, every
# shard_index 0 and all counts 0.  The archive's views are faithful.  Checked with prepared
# statements (PostgreSQL's description, before the statement runs), with
# prepare = off (the first result), for the statements built at run time
# (filtered list and counts), and after the view is put right (the next
# request answers).  The same data through schema public answers as
# always.
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
tg_task($c, 't1', status => 'success', backend => 'be', shots => 1000,
    result => '{"counts":{"00":7}}', submit => '2026-11-28T10:00:00Z',
    update => '2026-11-28T10:00:01Z');
tg_task($c, 't2', status => 'running', backend => 'be', shots => 5,
    submit => '2026-11-28T11:00:00Z', update => '2026-11-28T11:00:00Z');
tg_task($c, 'z', status => 'failed', backend => 'bz', archived => 1,
    submit => '2026-11-27T00:00:00Z', update => '2026-11-27T00:00:00Z',
    archived_at => '2026-11-30T00:00:00Z');
tg_shard($c, 't1', 0);
tg_shard($c, 't1', 1);

my $tcols = 'task_id, seq, backend, status, %s, submit_time, update_time, '
    . 'result, metadata, error_message, has_result';
sub tasks_view {
	my ($shots) = @_;
	return sprintf("CREATE VIEW bad.tasks AS SELECT $tcols FROM public.tasks",
	    $shots);
}
$c->sql('CREATE SCHEMA bad');
$c->sql(tasks_view('shots::numeric AS shots'));
$c->sql(q{CREATE VIEW bad.task_shards AS SELECT uniqc_task_id,
	shard_index::text AS shard_index, platform_task_id, backend,
	circuit_count, sub_index_offset, status, result, error_message,
	submit_time, update_time FROM public.task_shards});
$c->sql(q{CREATE VIEW bad.task_counts AS SELECT archived, status::char(12)
	AS status, backend, n FROM public.task_counts});
$c->sql("CREATE VIEW bad.$_ AS SELECT * FROM public.$_")
    for qw(archived_tasks archived_task_shards taskgate_changes);

my $good = tg_lighttpd(dsn => $c->dsn, tag => 'good');
my $bad = tg_lighttpd(dsn => $c->dsn, tag => 'bad', conf => "schema = bad\n");
my $off = tg_lighttpd(dsn => $c->dsn, tag => 'off',
    conf => "schema = bad\nprepare = off\n");
my $J = { 'Content-Type' => 'application/json' };

sub slurp { my ($p) = @_; open(my $f, '<', $p) or return ''; local $/; return <$f> // '' }
sub applog { my ($w) = @_; return slurp("$w->{dir}/stdout.log") . slurp($w->{errlog}) }

# The answers through the real tables.
my $t1 = '{"task_id":"t1","backend":"be","status":"success","shots":1000,"submit_time":"2026-11-28T10:00:00+00:00","update_time":"2026-11-28T10:00:01+00:00"';
my $t2 = '{"task_id":"t2","backend":"be","status":"running","shots":5,"submit_time":"2026-11-28T11:00:00+00:00","update_time":"2026-11-28T11:00:00+00:00"';
my $tail = ',"metadata":{},"archived_at":null}';
my $shard = '{"uniqc_task_id":"t1","shard_index":%d,"platform_task_id":"p-t1-%d","backend":"originq:WK_C180","circuit_count":1,"sub_index_offset":0,"status":"success","error_message":null,"submit_time":"2026-11-28T16:44:43.120500+00:00","update_time":"2026-11-28T16:44:43+00:00"}';
my %want = (
	'/api/tasks/t1' => qq($t1,"result":{"counts":{"00":7}}$tail),
	'/api/tasks?limit=5' => qq({"tasks":[$t2,"has_result":false$tail,$t1,"has_result":true$tail],"total":2,"limit":5,"offset":0}),
	'/api/tasks?order=asc' => qq({"tasks":[$t1,"has_result":true$tail,$t2,"has_result":false$tail],"total":2,"limit":100,"offset":0}),
	'/api/tasks/t1/shards' => '{"task_id":"t1","shard_count":2,"shards":['
	    . sprintf($shard, 0, 0) . ',' . sprintf($shard, 1, 1) . ']}',
	'/api/tasks/counts' => '{"pending":0,"running":1,"success":1,"failed":0,"cancelled":0,"total":2}',
	'/api/tasks/counts?by=backend' => '{"pending":0,"running":1,"success":1,"failed":0,"cancelled":0,"total":2,"by_backend":{"be":{"pending":0,"running":1,"success":1,"failed":0,"cancelled":0,"total":2}}}',
);
# What each broken one's log line says.
my %why = (
	'/api/tasks/t1' => qr/columns of DB_GET: column shots is numeric, the task detail rows need int8/,
	'/api/tasks?limit=5' => qr/columns of DB_LIST: column shots is numeric, the task summary rows need int8/,
	'/api/tasks?order=asc' => qr/columns of DB_F_LIST: column shots is numeric, the task summary with seq rows need int8/,
	'/api/tasks/t1/shards' => qr/columns of DB_SHARDS: column shard_index is text, the shard rows need int4/,
	'/api/tasks/counts' => qr/columns of DB_COUNTS: column status is bpchar, the count by status rows need text/,
	'/api/tasks/counts?by=backend' => qr/columns of DB_F_CGROUP: column status is bpchar, the count by status and backend rows need text/,
);

for my $u (sort keys %want) {
	my ($st, undef, $body) = tg_http(GET => "$good->{base}$u");
	is($st, 200, "schema public: $u 200");
	is($body, $want{$u}, "schema public: $u body");
}
my ($st, $h, $body) = tg_http(POST => "$good->{base}/api/tasks/lookup",
    body => '{"task_ids":["t2"]}', headers => $J);
is($body, qq({"tasks":{"t2":$t2,"has_result":false$tail}}), 'schema public: lookup');

for my $w ($bad, $off) {
	my $name = $w == $bad ? 'prepared' : 'prepare = off';
	for my $u (sort keys %want) {
		my $before = () = applog($w) =~ /error req=\d+ "GET /g;
		for my $try (1, 2) {
			($st, $h, $body) = tg_http(GET => "$w->{base}$u");
			is($st, 500, "$name: $u is a 500 (try $try)");
			is($body, '{"detail":"Internal Server Error"}',
			    "$name: $u: the 500's body, no rows");
		}
		# (the web server writes the lines out in its own time)
		my @lines;
		for (1 .. 50) {
			@lines = grep { /error req=\d+ "GET / } split /\n/,
			    applog($w);
			last if @lines >= $before + 2;
			select(undef, undef, undef, 0.1);
		}
		splice(@lines, 0, $before);
		is(scalar(@lines), 2, "$name: $u: one error line per request");
		like($_, qr/" 500 [\d.]+ms \($why{$u}\)$/,
		    "$name: $u: the line says why") for @lines;
	}
	# (numeric UNION int8, the archive's, is numeric)
	($st, $h, $body) = tg_http(POST => "$w->{base}/api/tasks/lookup",
	    body => '{"task_ids":["t2"]}', headers => $J);
	is($st, 500, "$name: lookup 500");
	like(applog($w), qr/columns of DB_LOOKUP: column shots is numeric, the lookup rows need int8/,
	    "$name: lookup: the line says why");
	# What reads the faithful views answers.
	($st, $h, $body) = tg_http(GET => "$w->{base}/api/archive/z");
	is($st, 200, "$name: the archive's detail answers");
	like($body, qr/^\{"task_id":"z","backend":"bz","status":"failed","shots":0,/,
	    "$name: the archive's detail body");
	($st, $h, $body) = tg_http(GET => "$w->{base}/api/archive");
	is($st, 200, "$name: the archive's list answers");
	like($h->{etag} // '', qr/^"[^"]+\.[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]{8}"$/,
	    "$name: with an ETag (the change counter's columns are right)");
}

# Put right, the view is seen by the next request: the failed prepared
# statement was deallocated, the unnamed one is checked again.
$c->sql('DROP VIEW bad.tasks');
$c->sql(tasks_view('shots'));
for my $w ($bad, $off) {
	my $name = $w == $bad ? 'prepared' : 'prepare = off';
	for my $u ('/api/tasks/t1', '/api/tasks?limit=5', '/api/tasks?order=asc') {
		($st, $h, $body) = tg_http(GET => "$w->{base}$u");
		is($st, 200, "$name, view put right: $u 200");
		is($body, $want{$u}, "$name, view put right: $u body");
	}
	($st, $h, $body) = tg_http(GET => "$w->{base}/api/tasks/t1/shards");
	is($st, 500, "$name: the shards' view is still wrong");
}

unlike(applog($good), qr/error req=/, 'schema public: no error logged');
done_testing();
