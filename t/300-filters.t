#!/usr/bin/perl
# SPEC 4.1: filters, order, cursor paging and total=none on GET
# /api/tasks and /api/archive; their 422s and 400s; the 2.1 answers of
# requests without them unchanged.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use URI::Escape qw(uri_escape_utf8);
use TG;

my $json = JSON::PP->new->utf8->canonical;
my ($c, $w) = tg_setup();
my $b = $w->{base};

tg_task($c, 'a', status => 'success', backend => 'originq:WK_C180',
    submit => '2026-11-28T16:44:43.1205Z', update => '2026-11-28T17:00:00Z',
    result => '{"z": 1}', metadata => '{"k": "v", "n": 1, "tags": ["x", "y"]}');
tg_task($c, 'b', status => 'running', backend => 'dummy:local:simulator',
    submit => '2026-11-28T16:44:43.1205Z', update => '2026-11-28T16:50:00Z',
    metadata => '{"k": "w"}');
tg_task($c, 'c', status => 'failed', backend => 'originq:WK_C180',
    submit => '2026-11-29T00:00:00Z', update => '2026-11-29T01:00:00Z',
    result => 'null', metadata => '{"k": "v"}');
tg_task($c, 'd', status => 'pending', backend => 'quafu:ScQ-P10',
    submit => '2026-11-27T10:00:00Z', update => '2026-11-27T10:00:00Z',
    result => '[1]');
tg_task($c, 'e', status => 'weird', backend => 'a,b',
    submit => '2026-11-01T00:00:00Z', update => '2026-11-01T00:00:00Z');

sub get {
	my ($path) = @_;
	my ($st, $h, $body) = tg_http(GET => "$b$path");
	return ($st, $body, $h);
}
sub ids { join ',', $_[0] =~ /"task_id":"([^"]*)"/g }
sub qe { uri_escape_utf8($_[0]) }

my ($st, $body);
# Byte for byte: no 4.1 parameter, the 2.1 answer.
($st, $body) = get('/api/tasks?limit=2&bogus=1');
like($body, qr/^\{"tasks":\[\{"task_id":"c".*\],"total":5,"limit":2,"offset":0\}$/,
    'plain list unchanged');
unlike($body, qr/next_cursor/, 'no next_cursor without cursor');

is(ids((get('/api/tasks?status_in=success,failed'))[1]), 'c,a', 'status_in');
is(ids((get('/api/tasks?status_in=success,failed&status=failed'))[1]), 'c',
    'status_in AND status');
is(ids((get('/api/tasks?backend_in=quafu:ScQ-P10,dummy:local:simulator'))[1]),
    'b,d', 'backend_in');
is(ids((get('/api/tasks?backend_in=a,b'))[1]), '', 'comma splits: no backend "a" or "b"');
is(ids((get('/api/tasks?backend_in=a%2Cb'))[1]), '', '%2C is a comma too (decoded first)');
is(ids((get('/api/tasks?status_in=%00,success'))[1]), 'a', 'a NUL item matches nothing, others still do');
($st, $body) = get('/api/tasks?status_in=%00');
is($body, '{"tasks":[],"total":0,"limit":100,"offset":0}', 'only a NUL item: nothing');
is(ids((get('/api/tasks?has_result=true'))[1]), 'a,d', 'has_result=true (JSON null is no result)');
is(ids((get('/api/tasks?has_result=0'))[1]), 'c,b,e', 'has_result=0');
is(ids((get('/api/tasks?submitted_after=2026-11-28T16:44:43.1205Z'))[1]), 'c',
    'submitted_after is >');
is(ids((get('/api/tasks?submitted_before=2026-11-28T16:44:43.120501Z'))[1]), 'b,a,d,e',
    'submitted_before is <, microseconds');
is(ids((get('/api/tasks?submitted_after=2026-11-29T08:00:00%2B08:00'))[1]), '',
    'offset +08:00 (00:00Z is not after itself)');
is(ids((get('/api/tasks?submitted_after=2026-11-29T07:59:59%2B08:00'))[1]), 'c',
    'offset +08:00');
is(ids((get('/api/tasks?submitted_after=2026-11-28T23:59:59'))[1]), 'c',
    'no offset: UTC');
is(ids((get('/api/tasks?submitted_before=2026-11-28'))[1]), 'd,e', 'a date is its midnight');
is(ids((get('/api/tasks?updated_after=2026-11-28T16:55:00Z&updated_before=2026-11-29T00:30:00Z'))[1]),
    'a', 'updated_after and updated_before');
is(ids((get('/api/tasks?metadata=' . qe('{"k":"v"}')))[1]), 'c,a', 'metadata containment');
is(ids((get('/api/tasks?metadata=' . qe('{"tags":["y"]}')))[1]), 'a', 'metadata: array containment');
is(ids((get('/api/tasks?metadata=' . qe('{}')))[1]), 'c,b,a,d,e', '{} contains all objects');
is(ids((get('/api/tasks?metadata=' . qe('{"k":"\u0000"}')))[1]), '', 'unstorable metadata: nothing');
is(ids((get('/api/tasks?order=asc'))[1]), 'e,d,a,b,c', 'order=asc (seq ascending among equal times)');
is(ids((get('/api/tasks?order=desc'))[1]), 'c,b,a,d,e', 'order=desc');
($st, $body) = get('/api/tasks?total=none&status=success');
is($body =~ /"total":null,"limit":100,"offset":0\}$/ ? 1 : 0, 1, 'total=none');
($st, $body) = get('/api/tasks?has_result=true&limit=1');
like($body, qr/"total":2,"limit":1,/, 'total counts the filters (index count)');
($st, $body) = get('/api/tasks?status_in=success,failed,running&backend_in=originq:WK_C180&limit=0');
is($body, '{"tasks":[],"total":2,"limit":0,"offset":0}', 'total from the counters');

# 422s, in declaration order.
($st, $body) = get('/api/tasks?limit=x&has_result=maybe&submitted_after=yesterday&metadata=%7B&order=up&total=some');
is($st, 422, 'bad values: 422');
is($body, '{"detail":[' .
    '{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"},' .
    '{"type":"bool_parsing","loc":["query","has_result"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"},' .
    '{"type":"datetime_from_date_parsing","loc":["query","submitted_after"],"msg":"Input should be a valid datetime or date, invalid date-time format","input":"yesterday"},' .
    '{"type":"json_invalid","loc":["query","metadata"],"msg":"Invalid JSON: Expecting property name enclosed in double quotes at character 1","input":"{"},' .
    '{"type":"literal_error","loc":["query","order"],"msg":"Input should be \'desc\' or \'asc\'","input":"up"},' .
    '{"type":"literal_error","loc":["query","total"],"msg":"Input should be \'exact\' or \'none\'","input":"some"}]}',
    '422 items');
for my $bad ('2026-13-01', '2026-02-30T00:00:00Z', '2026-11-28T24:00:00Z',
    '2026-11-28T10:00:00.1234567Z', '2026-11-28T10:00:00+2400', '2026-11-28T10',
    '0000-01-01', '2026-11-28T10:00:00Zx', '') {
	($st, $body) = get('/api/tasks?updated_before=' . qe($bad));
	is($st, 422, "bad date-time '$bad'");
}
for my $good ('2026-11-28T10:00', '2026-11-28 10:00:00.5', '2026-11-28t10:00:00z',
    '2026-11-28T10:00:00-0530', '2026-11-28T10:00:00+05', '2024-02-29T00:00:00Z') {
	($st, $body) = get('/api/tasks?updated_before=' . qe($good));
	is($st, 200, "date-time '$good'");
}
($st, $body) = get('/api/tasks?archived_after=bad');
is($st, 200, 'archived_after is not a parameter of /api/tasks');

# The archive.
tg_task($c, 'z1', archived => 1, status => 'success', metadata => '{"k":"v"}',
    submit => '2026-10-01T00:00:00Z', archived_at => '2026-11-30T12:00:00Z');
tg_task($c, 'z2', archived => 1, status => 'failed',
    submit => '2026-10-02T00:00:00Z', archived_at => '2026-11-30T13:00:00Z');
is(ids((get('/api/archive?archived_after=2026-11-30T12:30:00Z'))[1]), 'z2', 'archived_after');
is(ids((get('/api/archive?archived_before=2026-11-30T12:30:00Z'))[1]), 'z1', 'archived_before');
($st, $body) = get('/api/archive?metadata=' . qe('{"k":"v"}') . '&total=exact');
is(ids($body), 'z1', 'archive metadata');
like($body, qr/"total":1,"count":2,"limit":100,"offset":0\}$/, 'archive total and count');
($st, $body) = get('/api/archive?archived_after=x');
is($st, 422, 'archive: bad archived_after');

# Cursor paging.
sub walk {
	my ($q, $limit) = @_;
	my (@seen, $cur);
	my $url = "/api/tasks?limit=$limit&cursor=" . ($q ? "&$q" : '');
	for (my $i = 0; $i < 100; $i++) {
		my ($s, $bd) = get($url);
		die "walk $url: $s $bd" unless $s == 200;
		my $j = $json->decode($bd);
		push @seen, map { $_->{task_id} } @{ $j->{tasks} };
		last unless defined $j->{next_cursor};
		$url = "/api/tasks?limit=$limit&cursor=$j->{next_cursor}" . ($q ? "&$q" : '');
	}
	return join ',', @seen;
}
is(walk('', 2), 'c,b,a,d,e', 'cursor walk, pages of 2');
is(walk('', 1), 'c,b,a,d,e', 'cursor walk, pages of 1 (equal times split)');
is(walk('order=asc', 2), 'e,d,a,b,c', 'cursor walk ascending');
is(walk('status_in=success,running,pending', 1), 'b,a,d', 'cursor walk with a filter');
($st, $body) = get('/api/tasks?limit=2&cursor=');
my $j = $json->decode($body);
like($j->{next_cursor}, qr/^[A-Za-z0-9_-]+$/, 'cursor is URL-safe');
like($body, qr/"total":5,"limit":2,"offset":0,"next_cursor":"[^"]+"\}$/, 'next_cursor ends the answer');
my $cur = $j->{next_cursor};
($st, $body) = get("/api/tasks?limit=2&cursor=$cur&status=success");
is($st, 400, 'cursor with other filters: 400');
is($body, '{"detail":"Invalid cursor"}', 'Invalid cursor');
($st, $body) = get("/api/tasks?limit=2&cursor=$cur&order=asc");
is($st, 400, 'cursor with another order: 400');
($st, $body) = get("/api/archive?limit=2&cursor=$cur");
is($st, 400, 'a tasks cursor on the archive: 400');
my $m = $cur;
substr($m, 5, 1) = substr($m, 5, 1) eq 'A' ? 'B' : 'A';
($st, $body) = get("/api/tasks?limit=2&cursor=$m");
is($st, 400, 'mangled cursor: 400');
($st, $body) = get("/api/tasks?limit=2&cursor=x%00y");
is($st, 400, 'garbage cursor: 400');
($st, $body) = get("/api/tasks?limit=2&cursor=$cur&offset=1");
is($st, 422, 'cursor with offset: 422');
is($body, qq({"detail":[{"type":"value_error","loc":["query","cursor"],"msg":"Value error, cursor cannot be combined with a non-zero offset","input":"$cur"}]}),
    'cursor + offset 422 body');
($st, $body) = get("/api/tasks?limit=2&cursor=$cur&offset=0");
is(ids($body), 'a,d', 'offset=0 is fine');
($st, $body) = get("/api/tasks?limit=0&cursor=$cur");
like($body, qr/^\{"tasks":\[\],"total":5,"limit":0,"offset":0,"next_cursor":"\Q$cur\E"\}$/,
    'limit=0: the same position');
($st, $body) = get("/api/tasks?limit=-1&cursor=$cur");
is(ids($body), 'a,d,e', 'limit=-1: the rest');
like($body, qr/"next_cursor":null\}$/, 'then null');
($st, $body) = get("/api/tasks?limit=5&cursor=");
like($body, qr/"next_cursor":null\}$/, 'a page that holds the rest: null');
($st, $body) = get("/api/tasks?status=nothing&cursor=");
is($body, '{"tasks":[],"total":0,"limit":100,"offset":0,"next_cursor":null}', 'empty result');

# Concurrent writers while a reader walks with the cursor: every row
# that existed at the start and was neither deleted nor archived during
# the walk is seen exactly once; nothing is seen twice.
$c->sql("INSERT INTO tasks (task_id, backend, status, submit_time) SELECT 'w' || g, 'be', "
    . "CASE WHEN g % 3 = 0 THEN 'failed' ELSE 'success' END, "
    . "'2025-01-01'::timestamptz + (g / 4) * interval '1 minute' FROM generate_series(1, 2000) g");
my %start = map { $_ => 1 } split /\n/, $c->sql('SELECT task_id FROM tasks');
my @pids;
for my $k (0 .. 2) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $dsn = $c->dsn;
		for my $i (1 .. 150) {
			my $sql = $k == 0
			    ? "INSERT INTO tasks (task_id, backend, status, submit_time) SELECT 'n$i-' || g, 'be', 'pending', '2025-01-01'::timestamptz + (random() * 600) * interval '1 minute' FROM generate_series(1, 5) g"
			    : $k == 1
			    ? "WITH v AS (DELETE FROM tasks WHERE task_id IN (SELECT task_id FROM tasks WHERE task_id LIKE 'w%' ORDER BY random() LIMIT 2) RETURNING *) INSERT INTO archived_tasks (task_id, backend, status, submit_time, archived_at) SELECT task_id, backend, status, submit_time, now() FROM v"
			    : "DELETE FROM tasks WHERE task_id IN (SELECT task_id FROM tasks WHERE task_id LIKE 'w%' ORDER BY random() LIMIT 2)";
			system('psql', '-X', '-q', '-At', '-c', $sql, $dsn) == 0 or POSIX::_exit(1);
		}
		POSIX::_exit(0);
	}
	push @pids, $pid;
}
# What the writers have done so far, as a number that only grows: the
# rows they inserted (never deleted: the deleters take only w rows) and
# the rows archived. The net row count would not do: five inserts
# against two archived and two deleted rows per round can leave it
# where it was.
my $work = "SELECT (SELECT count(*) FROM tasks WHERE task_id LIKE 'n%') + (SELECT count(*) FROM archived_tasks)";
my $n0 = $c->sql($work);
my %seen;
my ($dups, $url, $pages) = (0, '/api/tasks?limit=37&cursor=', 0);
for (;;) {
	my ($s, $bd) = get($url);
	die "$s $bd" unless $s == 200;
	my $jj = $json->decode($bd);
	$dups++ for grep { $seen{$_}++ } map { $_->{task_id} } @{ $jj->{tasks} };
	$pages++;
	last unless defined $jj->{next_cursor};
	$url = "/api/tasks?limit=37&cursor=$jj->{next_cursor}";
}
my $n1 = $c->sql($work);
cmp_ok($n1, '>', $n0, "writers wrote during the walk ($n0 rows inserted or archived at its start, $n1 at its end)");
my $bad = 0;
for (@pids) { waitpid($_, 0); $bad++ if $? }
is($bad, 0, 'writers ran');
cmp_ok($pages, '>', 50, "the walk took $pages pages while writers wrote");
is($dups, 0, 'no row seen twice');
my %gone = map { $_ => 1 } split /\n/, $c->sql('SELECT task_id FROM archived_tasks');
my %now = map { $_ => 1 } split /\n/, $c->sql('SELECT task_id FROM tasks');
my @missed = grep { !$seen{$_} && $now{$_} } keys %start;
is(scalar(@missed), 0, 'every row of the start that is still there was seen')
    or diag("missed: @missed[0 .. 9]");
cmp_ok(scalar(grep { !$now{$_} } keys %start), '>', 100, 'writers archived and deleted rows meanwhile');

# updated_before / archived_before read the rows submitted before the
# bound from the order index and the rows updated (archived) before
# they were submitted from the partial indexes of sql/006, merged: both
# kinds listed, in list order (equal submit times by seq), across
# cursor pages, offsets, both orders, the total and a dry run's sample.
tg_task($c, 'n2', submit => '2030-01-05T00:00:00Z', update => '2030-01-05T00:00:00Z');
tg_task($c, 'n1', submit => '2030-01-10T00:00:00Z', update => '2030-01-10T01:00:00Z');
tg_task($c, 'n3', submit => '2030-01-20T00:00:00Z', update => '2030-01-25T00:00:00Z');
tg_task($c, 'o1', submit => '2030-01-30T00:00:00Z', update => '2030-01-02T00:00:00Z');
tg_task($c, 'o2', submit => '2030-01-12T00:00:00Z', update => '2030-01-01T00:00:00Z');
tg_task($c, 'o3', submit => '2030-01-30T00:00:00Z', update => '2030-01-03T00:00:00Z');
my $ub = 'submitted_after=2029-12-31&updated_before=2030-01-15';
is(ids((get("/api/tasks?$ub"))[1]), 'o3,o1,o2,n1,n2', 'updated_before: rows updated before they were submitted too, in order');
is(ids((get("/api/tasks?$ub&order=asc"))[1]), 'n2,n1,o2,o1,o3', '... ascending');
is(walk($ub, 1), 'o3,o1,o2,n1,n2', '... cursor walk, pages of 1');
is(walk("$ub&order=asc", 2), 'n2,n1,o2,o1,o3', '... cursor walk ascending, pages of 2');
($st, $body) = get("/api/tasks?$ub&limit=2&offset=1");
is(ids($body), 'o1,o2', '... limit and offset');
like($body, qr/"total":5,"limit":2,"offset":1\}$/, '... total');
is(ids((get("/api/tasks?$ub&submitted_before=2030-01-11"))[1]), 'n1,n2', 'with a tighter submitted_before');
is(ids((get("/api/tasks?$ub&submitted_before=2030-01-31&status_in=success,pending"))[1]), 'o3,o1,o2,n1,n2',
    'with a looser submitted_before and status_in');
($st, undef, $body) = tg_http(POST => "$b/api/tasks/bulk-delete", body => '{"filter":{"submitted_after":"2029-12-31",'
    . '"updated_before":"2030-01-15"},"dry_run":true}', headers => { 'Content-Type' => 'application/json' });
is($body, '{"dry_run":true,"matched":5,"sample":["o3","o1","o2","n1","n2"]}', 'dry run sample');
tg_task($c, 'za1', archived => 1, submit => '2030-02-10T00:00:00Z', update => '2030-02-10T00:00:00Z',
    archived_at => '2030-02-01T00:00:00Z');
tg_task($c, 'za2', archived => 1, submit => '2030-02-03T00:00:00Z', update => '2030-02-03T00:00:00Z',
    archived_at => '2030-02-04T00:00:00Z');
tg_task($c, 'za3', archived => 1, submit => '2030-02-08T00:00:00Z', update => '2030-02-08T00:00:00Z',
    archived_at => '2030-02-20T00:00:00Z');
tg_task($c, 'za4', archived => 1, submit => '2030-02-12T00:00:00Z', update => '2030-02-02T00:00:00Z',
    archived_at => '2030-02-13T00:00:00Z');
my $sa = 'submitted_after=2030-01-31';
is(ids((get("/api/archive?$sa&archived_before=2030-02-05"))[1]), 'za1,za2', 'archived_before: archived before submitted too');
is(ids((get("/api/archive?$sa&archived_before=2030-02-05&order=asc"))[1]), 'za2,za1', '... ascending');
is(ids((get("/api/archive?$sa&updated_before=2030-02-05"))[1]), 'za4,za2', 'archive updated_before');
is(ids((get("/api/archive?$sa&updated_before=2030-02-05&archived_before=2030-02-15"))[1]), 'za4,za2',
    'both: split at updated_before');
is(ids((get("/api/archive?$sa&updated_before=2030-02-15&archived_before=2030-02-05"))[1]), 'za1,za2',
    'both: split at archived_before');
{
	my (@seen, $cur);
	my $u = "/api/archive?limit=1&cursor=&$sa&archived_before=2030-02-05";
	for (1 .. 5) {
		my $j = $json->decode((get($u))[1]);
		push @seen, map { $_->{task_id} } @{ $j->{tasks} };
		last unless defined $j->{next_cursor};
		$u = "/api/archive?limit=1&cursor=$j->{next_cursor}&$sa&archived_before=2030-02-05";
	}
	is(join(',', @seen), 'za1,za2', 'archive cursor walk across both parts');
}

# updated_after T reads the rows submitted after T from the order index
# and those submitted at or before T and updated after it (running
# across T) from sql/007's range index, merged: both kinds, in list
# order, across cursor pages and offsets, both orders, with the total;
# rows updated before they were submitted (whose ranges hold T too, r2)
# only when updated after T.
tg_task($c, 's1', submit => '2031-01-10T00:00:00Z', update => '2031-01-20T00:00:00Z');
tg_task($c, 's2', submit => '2031-01-05T00:00:00Z', update => '2031-01-16T00:00:00Z');
tg_task($c, 's3', submit => '2031-01-12T00:00:00Z', update => '2031-01-14T00:00:00Z');
tg_task($c, 'p1', submit => '2031-01-20T00:00:00Z', update => '2031-01-21T00:00:00Z');
tg_task($c, 'p2', submit => '2031-01-18T00:00:00Z', update => '2031-01-18T00:00:00Z');
tg_task($c, 'q1', submit => '2031-01-25T00:00:00Z', update => '2031-01-01T00:00:00Z');
tg_task($c, 'q2', submit => '2031-01-26T00:00:00Z', update => '2031-01-16T00:00:00Z');
tg_task($c, 'q3', submit => '2031-01-15T00:00:00Z', update => '2031-01-15T00:00:01Z');
tg_task($c, 'q4', submit => '2031-01-15T00:00:00Z', update => '2031-01-15T00:00:00Z');
tg_task($c, 'r1', submit => '2031-01-14T00:00:00Z', update => '2031-01-13T00:00:00Z');
tg_task($c, 'r2', submit => '2031-01-16T00:00:00Z', update => '2031-01-14T00:00:00Z');
my $ua = 'submitted_after=2030-12-31&updated_after=2031-01-15';
my $want = join ',', split /\n/, $c->sql("SELECT task_id FROM tasks WHERE "
    . "submit_time > '2030-12-31' AND update_time > '2031-01-15' ORDER BY submit_time, seq");
is($want, 's2,s1,q3,p2,p1,q2', 'the rows updated after T (by SQL)');
my $rev = join ',', reverse split /,/, $want;
is(ids((get("/api/tasks?$ua&order=asc"))[1]), $want, 'updated_after ascending: across T, then after it');
is(ids((get("/api/tasks?$ua"))[1]), $rev, '... descending');
is(walk("$ua&order=asc", 1), $want, '... cursor walk ascending, pages of 1');
is(walk($ua, 2), $rev, '... cursor walk descending, pages of 2');
($st, $body) = get("/api/tasks?$ua&order=asc&limit=2&offset=1");
is(ids($body), 's1,q3', '... limit and offset');
like($body, qr/"total":6,"limit":2,"offset":1\}$/, '... total');
is(ids((get("/api/tasks?$ua&order=asc&submitted_after=2031-01-15"))[1]), 'p2,p1,q2',
    'with submitted_after at T: no split, the same rows');
is(ids((get("/api/tasks?$ua&order=asc&status_in=success,pending"))[1]), $want,
    'with status_in (a branch per value and part)');
($st, undef, $body) = tg_http(POST => "$b/api/tasks/bulk-delete", body => '{"filter":{"submitted_after":"2030-12-31",'
    . '"updated_after":"2031-01-15"},"dry_run":true}', headers => { 'Content-Type' => 'application/json' });
is($body, qq({"dry_run":true,"matched":6,"sample":[) . join(',', map { "\"$_\"" } split /,/, $rev) . ']}',
    'dry run sample');
tg_task($c, 'zs1', archived => 1, submit => '2031-02-01T00:00:00Z', update => '2031-02-10T00:00:00Z');
tg_task($c, 'zs2', archived => 1, submit => '2031-02-06T00:00:00Z', update => '2031-02-07T00:00:00Z');
tg_task($c, 'zs3', archived => 1, submit => '2031-02-02T00:00:00Z', update => '2031-02-03T00:00:00Z');
is(ids((get("/api/archive?submitted_after=2031-01-31&updated_after=2031-02-05&order=asc"))[1]), 'zs1,zs2',
    'the archive: updated_after across T too');

done_testing();
