#!/usr/bin/perl
# The metadata filter read from sql/008's per-key indexes
# (taskgate_index_metadata): every answer byte for byte what the GIN
# index gave before (values of every JSON kind at the indexed key,
# strings too long for the index, numbers 1 and 1.0, several keys,
# cursor pages, the archive), prepare on and off; the plan reads the
# key's index for a scalar pair and not otherwise (auto_explain in the
# cluster's log); a new index is found within a minute without a
# reconnect, a dropped one changes no answer.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep time);
use Digest::MD5 qw(md5_hex);
use URI::Escape qw(uri_escape_utf8);
use TG;

my $c = tg_cluster();
$c->psql_admin(q{ALTER SYSTEM SET log_line_prefix = '[%a] '});
$c->psql_admin(q{ALTER DATABASE taskgate SET session_preload_libraries = 'auto_explain'});
$c->psql_admin(q{ALTER DATABASE taskgate SET auto_explain.log_min_duration = 0});
$c->psql_admin('SELECT pg_reload_conf()');
my $on = tg_lighttpd(dsn => $c->dsn, tag => 'on');
my $off = tg_lighttpd(dsn => $c->dsn, tag => 'off', conf => "prepare = off\n");
my $log = "$c->{dir}/log";

# Filler, so that the planner prefers an index to reading the table.
$c->sql(q{INSERT INTO tasks (task_id, backend, status, submit_time, metadata)
	SELECT 'f' || i, 'be', 'success', '2026-10-01'::timestamptz - i * interval '1 min',
	    jsonb_build_object('circuit', 'fill-' || (i % 500), 'user', 'u' || (i % 50), 'n', i % 7)
	FROM generate_series(1, 20000) i});
my $long = 'L' x 300;
my @meta = ('{"circuit": "bell", "n": 1, "flag": true, "tags": ["bell"]}',
    '{"circuit": "bell", "n": 1.0, "user": "u1"}', '{"circuit": "ghz", "n": 2}',
    '{"circuit": ["bell"]}', '{"circuit": {"name": "bell"}}', '["circuit", "bell"]',
    '"bell"', '{"circuit": 7}', '{"circuit": "7"}', '{"circuit": null}',
    '{"circuit": false}', '{"circuit": "\u00e9\"q"}', qq({"circuit": "$long"}),
    qq({"circuit": "${long}x"}), '{"circuit": 1.5}', '{"we\'ird \"key\"": "x"}', '{}');
my $i = 0;
for my $m (@meta) {
	# pairs of equal submit_time: the cursor's seq tie-break
	tg_task($c, sprintf('m%02d', $i), metadata => $m,
	    status => $i % 3 ? 'success' : 'failed',
	    submit => sprintf('2026-11-%02dT00:00:00Z', 10 + int($i / 2)));
	$i++;
}
for my $k (1 .. 12) {
	tg_task($c, "p$k", metadata => '{"circuit": "bell", "user": "u' . ($k % 3) . '"}',
	    submit => sprintf('2026-11-%02dT12:00:00Z', 1 + int($k / 2)));
	tg_task($c, "z$k", archived => 1, metadata => '{"circuit": "bell"}',
	    submit => sprintf('2026-10-%02dT12:00:00Z', 1 + int($k / 2)));
}
$c->sql(q{INSERT INTO archived_tasks (task_id, backend, status, submit_time, metadata, archived_at)
	SELECT 'af' || i, 'be', 'success', '2026-09-01'::timestamptz - i * interval '1 min',
	    jsonb_build_object('circuit', 'fill-' || (i % 500)), '2026-11-30'
	FROM generate_series(1, 5000) i});
$c->sql('ANALYZE tasks; ANALYZE archived_tasks');

sub qe { uri_escape_utf8($_[0]) }
my @filters = ('{"circuit":"bell"}', '{"circuit":"ghz"}', '{"circuit":7}',
    '{"circuit":"7"}', '{"circuit":null}', '{"circuit":false}',
    '{"circuit":"\u00e9\"q"}', qq({"circuit":"$long"}), qq({"circuit":"${long}x"}),
    '{"circuit":["bell"]}', '{"circuit":{"name":"bell"}}', '{"circuit":1.5}',
    '{"n":1}', '{"circuit":"bell","user":"u1"}', '{"user":"u1","circuit":"bell"}',
    '{"we\'ird \"key\"":"x"}', '{"circuit":"fill-7"}');
my @urls;
for my $f (@filters) {
	push @urls, "/api/tasks?metadata=" . qe($f), "/api/archive?metadata=" . qe($f);
}
my $bell = qe('{"circuit":"bell"}');
push @urls, "/api/tasks?metadata=$bell&order=asc&limit=5",
    "/api/tasks?metadata=$bell&status=success&offset=2&limit=3",
    "/api/tasks?metadata=$bell&status_in=success,failed&limit=4",
    "/api/tasks?metadata=$bell&submitted_before=2026-11-05T00:00:00Z",
    "/api/tasks?metadata=$bell&updated_before=2100-01-01T00:00:00Z&limit=3",
    "/api/tasks/counts?metadata=$bell";

sub get {
	my ($w, $path) = @_;
	my ($st, $h, $body) = tg_http(GET => "$w->{base}$path");
	return ($st, $body);
}
# Every page with the cursor, the rows' ids joined.
sub pages {
	my ($w, $q) = @_;
	my ($cur, @ids, $n) = ('', ());
	while (defined $cur && ++$n < 50) {
		my ($st, $body) = get($w, "$q&limit=4&cursor=" . qe($cur));
		return "status $st" if $st != 200;
		push @ids, $body =~ /"task_id":"([^"]*)"/g;
		($cur) = $body =~ /"next_cursor":"([^"]*)"/;
	}
	return join ',', @ids;
}
sub answers {
	my ($w) = @_;
	my %a = map { $_ => join(' ', get($w, $_)) } @urls;
	$a{"pages $_"} = pages($w, $_) for "/api/tasks?metadata=$bell",
	    "/api/archive?metadata=$bell", "/api/tasks?metadata=$bell&order=asc",
	    "/api/tasks?metadata=" . qe('{"circuit":"bell","user":"u1"}');
	return \%a;
}
sub logsize { -s $log // 0 }
# The plans auto_explain logged for taskgate's statements since $at.
sub plans {
	my ($at) = @_;
	sleep 0.3;
	open my $f, '<', $log or die "$log: $!";
	seek $f, $at, 0;
	local $/;
	my $t = <$f> // '';
	return join "\n", grep { /^\[taskgate\]/ } split /\n(?=\[)/, $t;
}
sub reconnect {
	$c->sql(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'taskgate'});
	sleep 0.3;
}

my %before = map { $_ => answers($_) } $on, $off;
is(scalar(grep { /^200 / } values %{$before{$on}}), scalar(@urls),
    'every URL answers 200 without the indexes');
like($before{$on}{"pages /api/tasks?metadata=$bell"}, qr/^(?:[mp]\d+,){13}[mp]\d+$/,
    'the cursor pages hold the 14 tasks of circuit bell');
is(join(',', $before{$on}{"/api/tasks?metadata=" . qe('{"n":1}')} =~ /"task_id":"(m\d+)"/g),
    'm01,m00', '{"n":1} matches 1 and 1.0');

$c->sql(q{SELECT taskgate_index_metadata('circuit'); SELECT taskgate_index_metadata('n');
	SELECT taskgate_index_metadata('we''ird "key"'); ANALYZE tasks; ANALYZE archived_tasks});
ok(!eval { $c->sql(q{SELECT taskgate_index_metadata(repeat('k', 129))}); 1 },
    'taskgate_index_metadata: a key over 128 bytes is refused');
is($c->sql(q{SELECT count(*) FROM pg_indexes WHERE indexname ~ '_meta_[0-9a-f]{32}$'}), 6,
    'taskgate_index_metadata: an index on each table per key');
reconnect();
# The keys are read at the first metadata filter on a connection, not
# at connect (a CGI process connects for every request).
my $at0 = logsize();
get($on, '/api/tasks?limit=1');
unlike(plans($at0), qr/taskgate metadata key/, 'a fresh connection: a list without metadata reads no keys');
$at0 = logsize();
get($on, "/api/tasks?limit=1&metadata=" . qe('{"circuit":"bell"}'));
like(plans($at0), qr/taskgate metadata key/, '... the first metadata filter reads them');
for my $w ($on, $off) {
	my $m = $w == $on ? 'prepare on' : 'prepare off';
	my $a = answers($w);
	for my $u (sort keys %$a) {
		is($a->{$u}, $before{$w}{$u}, "$m, indexed: $u as before");
	}
}

my $ci = 'tasks_meta_' . md5_hex('circuit');
# The key's index, in list order or as a bitmap (the planner's choice
# for a few rows).
sub reads { my $i = shift; qr/(?:Index Scan (?:Backward )?using|Bitmap Index Scan on) \Q$i\E/ }
for my $w ($on, $off) {
	my $m = $w == $on ? 'prepare on' : 'prepare off';
	my $at = logsize();
	get($w, "/api/tasks?metadata=$bell&total=none");
	like(plans($at), reads($ci), "$m: a scalar pair reads the key's index");
	unlike(plans($at), qr/metadata \@>/, "$m: the whole filter: no containment test");
	$at = logsize();
	get($w, "/api/archive?metadata=$bell&total=none");
	like(plans($at), reads("archived_$ci"), "$m: the archive's too");
	$at = logsize();
	get($w, '/api/tasks?total=none&metadata=' . qe('{"circuit":"bell","user":"u1"}'));
	like(plans($at), qr/\Q$ci\E.*metadata \@>|metadata \@>.*\Q$ci\E/s,
	    "$m: two pairs: the key's index and the containment test");
	$at = logsize();
	get($w, '/api/tasks?total=none&metadata=' . qe(qq({"circuit":"$long"})));
	unlike(plans($at), qr/_meta_/, "$m: a string over 256 bytes: not from the key's index");
	$at = logsize();
	get($w, '/api/tasks?total=none&metadata=' . qe('{"circuit":["bell"]}'));
	unlike(plans($at), qr/_meta_/, "$m: an array value: not from the key's index");
}

# A new task is in the index's answer at once (PostgreSQL keeps it).
tg_task($c, 'new', metadata => '{"circuit": "bell"}', submit => '2026-12-01T00:00:00Z');
my ($st, $body) = get($on, "/api/tasks?metadata=$bell&limit=1");
like($body, qr/^\{"tasks":\[\{"task_id":"new"/, 'a task inserted after: first');
$c->sql(q{DELETE FROM tasks WHERE task_id = 'new'});

# Dropped: the answers stay (taskgate still names the key until it
# reads the catalog again; the statement is the same test).
$c->sql(q{SELECT taskgate_drop_metadata_index('circuit')});
is($c->sql(q{SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%meta_' || md5('circuit')}), 0,
    'taskgate_drop_metadata_index drops both');
my $a = answers($on);
is($a->{$_}, $before{$on}{$_}, "index dropped: $_ as before") for sort keys %$a;

# A new index without a reconnect: used within DB_META_REFRESH_S (60 s).
my $ui = 'tasks_meta_' . md5_hex('user');
my $u1 = '/api/tasks?total=none&metadata=' . qe('{"user":"u7"}');
my $at = logsize();
get($on, $u1);
unlike(plans($at), qr/\Q$ui\E/, 'key user: no index yet');
$c->sql(q{SELECT taskgate_index_metadata('user'); ANALYZE tasks});
my ($t0, $seen) = (time, 0);
while (!$seen && time - $t0 < 75) {
	$at = logsize();
	get($on, $u1);
	$seen = plans($at) =~ reads($ui);
	sleep 2 unless $seen;
}
ok($seen, sprintf('a new index is used without a reconnect (after %.0f s)', time - $t0));
is(join(' ', get($on, $u1)), join(' ', get($off, $u1)), 'the same answer as the other web');

done_testing();
