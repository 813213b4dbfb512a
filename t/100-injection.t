#!/usr/bin/perl
# SQL safety: classic injection payloads through every parameter (path
# ids, status/backend filters, limit/offset, hours, terminal_only, bulk
# bodies, including text[] literal syntax) get ordinary answers, and the
# tables are unchanged afterwards (row counts and a checksum of every row).
use strict;
use warnings;
use utf8;
use Test::More;
use JSON::PP;
use Encode qw(encode_utf8);
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};
my ($st, $h, $body);
my %J = ('Content-Type' => 'application/json');
my $json = JSON::PP->new->utf8->canonical;
my $jn = JSON::PP->new->ascii->canonical;

my @payloads = (
	q{' OR '1'='1}, q{' OR 1=1 --}, q{'; DROP TABLE tasks; --}, q{"; DROP TABLE tasks; --},
	q{\\}, q{\\'}, q{%27}, q{%2527}, q{' UNION SELECT task_id FROM archived_tasks --},
	"\x{2019} OR \x{2019}1\x{2019}=\x{2019}1", "\x{FF07} OR 1=1--", "\x{02BC}; DELETE FROM tasks; --",
	q{$1}, q{$1::text}, q{$$}, q{$$ OR $$1$$=$$1}, q{1; SELECT pg_sleep(10)}, q{) OR (1=1},
	q{t1","t2}, q{t1\\",\\"t2}, q{{t1,t2}}, q{t1,t2}, q{"t1"}, q{NULL}, q{{}}, q{ t1}, q{t1 },
	q{t1'--}, q{%}, q{_}, q{t_}, q{t%}, q{*}, qq{t1\x{0}}, q{E'\\x74\\x31'}, q{::regclass},
);
my @stored = (q{' OR '1'='1}, q{t1","t2}, q{\\}, q{NULL}, q{$1}, q{%});
my %stored = map { $_ => 1 } @stored;

tg_task($c, $_, status => 'success', backend => 'dummy:local:simulator') for 't1', 't2', 't3';
tg_shard($c, 't1', 0);
tg_task($c, 'a1', archived => 1);
tg_shard($c, 'a1', 0, archived => 1);
tg_task($c, $_, status => $_, backend => $_) for @stored;

my $sum_sql = "SELECT count(*) || ':' || md5(string_agg(x, '|' ORDER BY x)) FROM ("
    . "SELECT 't' || t::text x FROM tasks t UNION ALL SELECT 's' || s::text FROM task_shards s UNION ALL "
    . "SELECT 'a' || a::text FROM archived_tasks a UNION ALL SELECT 'b' || b::text FROM archived_task_shards b UNION ALL "
    . "SELECT 'r' || tablename FROM pg_tables WHERE schemaname = 'public') z";
my $before = $c->sql($sum_sql);
like($before, qr/^\d+:[0-9a-f]{32}$/, "checksum before: $before");

sub enc { my $s = encode_utf8(shift); $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/eg; $s }

# Path ids: reads and writes; nothing that is not stored can be found.
for my $p (@payloads) {
	my $e = enc($p);
	my $name = "id " . $jn->encode($p);
	for my $r (['GET', "/api/tasks/$e"], ['GET', "/api/tasks/$e/shards"], ['GET', "/api/archive/$e"]) {
		($st, $h, $body) = tg_http($r->[0] => "$b$r->[1]");
		my $want = $stored{$p} && $r->[1] !~ m{^/api/archive} ? 200 : 404;
		is($st, $want, "$name: $r->[0] $r->[1] -> $want");
		if ($want == 200 && $r->[1] !~ /shards$/) {
			is($json->decode($body)->{task_id}, $p, "$name: exactly that task");
		}
	}
	next if $stored{$p};
	for my $r (['DELETE', "/api/tasks/$e"], ['POST', "/api/tasks/$e/archive"],
	    ['DELETE', "/api/archive/$e"], ['POST', "/api/archive/restore/$e"]) {
		($st, $h, $body) = tg_http($r->[0] => "$b$r->[1]");
		is($st, 404, "$name: $r->[0] -> 404");
		like($body, qr/^\{"detail":"(Archived task|Task) '.*' not found"\}$/s, "$name: ordinary 404 body");
	}
}
is($c->sql($sum_sql), $before, 'path ids: tables unchanged');

# Filters: exact equality, nothing more.
for my $p (@payloads) {
	for my $k ('status', 'backend') {
		for my $list ('/api/tasks', '/api/archive') {
			($st, $h, $body) = tg_http(GET => "$b$list?$k=" . enc($p) . '&limit=-1');
			my $d = eval { $json->decode($body) } // {};
			my $want = $stored{$p} && $list eq '/api/tasks' ? 1 : 0;
			is("$st $d->{total}", "200 $want", "$list $k=" . $jn->encode($p) . ": $want match");
			is(scalar(@{ $d->{tasks} || [] }), $want, 'rows agree');
		}
	}
}
($st, $h, $body) = tg_http(GET => "$b/api/tasks?status=" . enc(q{' OR '1'='1}) . '&backend=' . enc(q{' OR '1'='1}));
is($json->decode($body)->{total}, 1, 'both filters: still exact');

# Integers and booleans: 422, never SQL.
for my $p (@payloads, '1; DROP TABLE tasks', '1 OR 1=1', '0x10', '1e3', '1--', '10 ; --') {
	my $e = enc($p);
	for my $q ("limit=$e", "offset=$e") {
		($st, $h, $body) = tg_http(GET => "$b/api/tasks?$q");
		is($st, 422, "$q: 422");
		like($body, qr/^\{"detail":\[\{"type":"int_parsing","loc":\["query","(limit|offset)"\]/, 'int_parsing');
	}
	($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=$e");
	is($st, 422, "hours=$e: 422");
	($st, $h, $body) = tg_http(POST => "$b/api/tasks/archive-expired?hours=1&terminal_only=$e");
	is($st, 422, "terminal_only=$e: 422");
}
is($c->sql($sum_sql), $before, 'query parameters: tables unchanged');

# Bulk bodies: every payload (and the text[] literal tricks) is one id.
my @probe = grep { !$stored{$_} } @payloads;
for my $route ('bulk-delete', 'bulk-archive') {
	($st, $h, $body) = tg_http(POST => "$b/api/tasks/$route", headers => \%J,
	    body => $json->encode({ task_ids => \@probe }));
	is($st, 200, "$route with every payload: 200");
	my $d = $json->decode($body);
	my $done = $route eq 'bulk-delete' ? 'deleted' : 'archived';
	is(scalar(@{ $d->{$done} }), 0, "$route: nothing $done");
	is_deeply($d->{missing}, \@probe, "$route: every payload missing, in order, as sent");
	for my $p (@probe) {
		($st, $h, $body) = tg_http(POST => "$b/api/tasks/$route", headers => \%J,
		    body => $json->encode({ task_ids => [$p], $p => $p }));
		is($json->decode($body)->{count}, 0, "$route " . $jn->encode($p) . ': count 0');
	}
}
is($c->sql($sum_sql), $before, 'bulk bodies: tables unchanged');
($st) = tg_http(POST => "$b/api/tasks/archive-expired?hours=1000000&terminal_only=true");
is($st, 200, 'archive-expired with a harmless cutoff');
is($c->sql($sum_sql), $before, 'tables unchanged after everything');
is($c->sql("SELECT count(*) FROM tasks"), 3 + @stored, 'all active tasks still there');

# Stored payload ids are data like any other: exactly that row goes.
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/" . enc(q{' OR '1'='1}));
is("$st $body", q{200 {"deleted":"' OR '1'='1"}}, 'deleting the stored id works ...');
is($c->sql("SELECT count(*) FROM tasks"), 2 + @stored, '... and removes one row');
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-archive", headers => \%J, body => '{"task_ids":["t1\",\"t2"]}');
is($body, '{"archived":["t1\",\"t2"],"missing":[],"count":1}', 'an id with array-literal syntax archives itself only');
is($c->sql("SELECT string_agg(task_id, ',' ORDER BY task_id) FROM tasks WHERE task_id IN ('t1','t2','t3')"), 't1,t2,t3', 't1 and t2 untouched');
done_testing();
