#!/usr/bin/perl
# SPEC 4.2: /api/tasks/counts with the 4.1 filters and by=backend; the
# plain answer unchanged; counts equal count(*) of the same filters.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use URI::Escape qw(uri_escape_utf8);
use TG;

my $json = JSON::PP->new->utf8->canonical;
my ($c, $w) = tg_setup();
my $b = $w->{base};

tg_task($c, 'a', status => 'success', backend => 'b2', result => '1',
    submit => '2026-11-28T10:00:00Z', metadata => '{"p":"x"}');
tg_task($c, 'b', status => 'failed', backend => 'b2',
    submit => '2026-11-28T11:00:00Z');
tg_task($c, 'c', status => 'pending', backend => 'B1',
    submit => '2026-11-28T12:00:00Z', metadata => '{"p":"x"}');
tg_task($c, 'd', status => 'weird', backend => 'B1',
    submit => '2026-11-28T13:00:00Z');
tg_task($c, 'e', status => 'running', backend => "\x{c3}\x{a9}",
    submit => '2026-11-28T14:00:00Z');
tg_task($c, 'z', status => 'success', backend => 'b2', archived => 1);

sub get { my ($st, $h, $body) = tg_http(GET => "$b$_[0]"); return ($st, $body) }

my ($st, $body) = get('/api/tasks/counts');
is($body, '{"pending":1,"running":1,"success":1,"failed":1,"cancelled":0,"total":4}',
    'plain counts unchanged');
($st, $body) = get('/api/tasks/counts?status=success&backend=b2&order=asc&cursor=x&limit=1');
is($body, '{"pending":1,"running":1,"success":1,"failed":1,"cancelled":0,"total":4}',
    'status, backend, order, cursor are not parameters of counts (ignored)');
($st, $body) = get('/api/tasks/counts?backend_in=b2');
is($body, '{"pending":0,"running":0,"success":1,"failed":1,"cancelled":0,"total":2}',
    'backend_in');
($st, $body) = get('/api/tasks/counts?status_in=success,weird,pending');
is($body, '{"pending":1,"running":0,"success":1,"failed":0,"cancelled":0,"total":2}',
    'status_in (other statuses are not counted)');
($st, $body) = get('/api/tasks/counts?has_result=true');
is($body, '{"pending":0,"running":0,"success":1,"failed":0,"cancelled":0,"total":1}',
    'has_result (counted with the index)');
($st, $body) = get('/api/tasks/counts?submitted_after=2026-11-28T10:30:00Z&submitted_before=2026-11-28T13:30:00Z');
is($body, '{"pending":1,"running":0,"success":0,"failed":1,"cancelled":0,"total":2}',
    'time filters');
($st, $body) = get('/api/tasks/counts?metadata=' . uri_escape_utf8('{"p":"x"}'));
is($body, '{"pending":1,"running":0,"success":1,"failed":0,"cancelled":0,"total":2}',
    'metadata');
($st, $body) = get('/api/tasks/counts?by=backend');
is($body, '{"pending":1,"running":1,"success":1,"failed":1,"cancelled":0,"total":4,"by_backend":{' .
    '"B1":{"pending":1,"running":0,"success":0,"failed":0,"cancelled":0,"total":1},' .
    '"b2":{"pending":0,"running":0,"success":1,"failed":1,"cancelled":0,"total":2},' .
    qq("\x{c3}\x{a9}":{"pending":0,"running":1,"success":0,"failed":0,"cancelled":0,"total":1}}}),
    'by=backend, backends in byte order, from the counters');
($st, $body) = get('/api/tasks/counts?by=backend&has_result=false');
like($body, qr/"by_backend":\{"B1":\{"pending":1,.*"b2":\{"pending":0,"running":0,"success":0,"failed":1,/,
    'by=backend with an index-counted filter');
($st, $body) = get('/api/tasks/counts?by=status');
is($st, 422, 'by=status: 422');
is($body, q({"detail":[{"type":"literal_error","loc":["query","by"],"msg":"Input should be 'backend'","input":"status"}]}),
    '422 body');
($st, $body) = get('/api/tasks/counts?has_result=x&by=y');
like($body, qr/^\{"detail":\[\{"type":"bool_parsing".*\},\{"type":"literal_error","loc":\["query","by"\]/,
    'errors in declaration order');
($st, $body) = get('/api/tasks/counts?backend_in=%00');
is($body, '{"pending":0,"running":0,"success":0,"failed":0,"cancelled":0,"total":0}',
    'NUL: nothing');

# The counters follow writers (status changes, deletes) and agree with count(*).
$c->sql("INSERT INTO tasks (task_id, backend, status) SELECT 'g' || g, 'be' || (g % 7), "
    . "(ARRAY['pending','running','success','failed','cancelled','odd'])[1 + g % 6] FROM generate_series(1, 3000) g");
$c->sql("UPDATE tasks SET status = 'success' WHERE task_id LIKE 'g1%'");
$c->sql("DELETE FROM tasks WHERE task_id LIKE 'g2%'");
($st, $body) = get('/api/tasks/counts?by=backend&backend_in=be1,be2,be3&status_in=success,failed,odd');
my $j = $json->decode($body);
my %want;
for (split /\n/, $c->sql("SELECT backend, status, count(*) FROM tasks WHERE backend IN ('be1','be2','be3') "
    . "AND status IN ('success','failed') GROUP BY 1, 2")) {
	my ($be, $s, $n) = split /\|/;
	$want{$be}{$s} = $n;
}
my $ok = 1;
for my $be ('be1', 'be2', 'be3') {
	for my $s ('success', 'failed') {
		$ok = 0 unless ($j->{by_backend}{$be}{$s} // -1) == ($want{$be}{$s} // 0);
	}
	$ok = 0 unless $j->{by_backend}{$be}{pending} == 0;
}
ok($ok, 'by_backend equals count(*) after updates and deletes') or diag($body);
is($j->{total}, $c->sql("SELECT count(*) FROM tasks WHERE backend IN ('be1','be2','be3') AND status IN ('success','failed')"),
    'total equals count(*)');

done_testing();
