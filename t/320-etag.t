#!/usr/bin/perl
# SPEC 4.3: a strong ETag and Cache-Control: no-cache on every GET 200;
# If-None-Match with the current tag is a 304 without the answer being
# computed; any committed write to the four tables (plain SQL included)
# changes the tag, an uncommitted or rolled back one does not.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use TG;

my ($c, $w) = tg_setup(conf => "statement_timeout = 1500\n");
my $b = $w->{base};
tg_task($c, 'a', status => 'success');
tg_shard($c, 'a', 0);
tg_task($c, 'z', archived => 1);

sub get {
	my ($path, $inm) = @_;
	my ($st, $h, $body) = tg_http(GET => "$b$path",
	    headers => defined $inm ? { 'If-None-Match' => $inm } : {});
	return ($st, $h, $body);
}
sub tag { my ($st, $h) = get($_[0]); return $h->{etag} }

my @routes = ('/api/tasks', '/api/tasks?status_in=success&cursor=',
    '/api/tasks/counts', '/api/tasks/counts?by=backend', '/api/tasks/a',
    '/api/tasks/a/shards', '/api/archive', '/api/archive/z', '/api/health',
    '/api/version');
for my $r (@routes) {
	my ($st, $h, $body) = get($r);
	is($st, 200, "$r 200");
	like($h->{etag} // '', qr/^"[!#-~]+"$/, "$r: a strong ETag");
	is($h->{'cache-control'}, 'no-cache', "$r: Cache-Control: no-cache");
	my ($st2, $h2, $body2) = get($r, $h->{etag});
	is($st2, 304, "$r: If-None-Match with it: 304");
	is($body2 // '', '', "$r: 304 has no body");
	is($h2->{etag}, $h->{etag}, "$r: 304 carries the same ETag");
	is($h2->{'content-type'}, undef, "$r: 304 has no Content-Type");
}
my $t0 = tag('/api/tasks');
is((get('/api/tasks', "W/$t0"))[0], 304, 'weak comparison: W/"..." matches');
is((get('/api/tasks', qq("x", $t0)))[0], 304, 'a list of tags');
is((get('/api/tasks', '*'))[0], 200, '* is not honoured: 200');
is((get('/api/tasks', qq(*, $t0)))[0], 304, '* beside the tag: the tag matches');
# A tag names its URL: taken from one answer, it matches no other request
# (in review: a 404 or 422 became a 304).
is((get('/api/tasks/nope', $t0))[0], 404, "another URL's tag: the 404 stays");
is((get('/api/tasks?limit=x', $t0))[0], 422, "another URL's tag: the 422 stays");
is((get('/api/tasks?limit=1', $t0))[0], 200, "another query's tag: 200");
isnt(tag('/api/tasks?limit=1'), $t0, 'each URL its own tag');
is((get('/api/tasks', '"nope"'))[0], 200, 'another tag: 200');
is((get('/api/tasks', $t0 =~ s/"$/0"/r))[0], 200, 'a longer tag: 200');
my ($st, $h) = get('/api/tasks/nope');
is($st, 404, 'a 404');
is($h->{etag}, undef, '404 has no ETag');
($st, $h) = get('/api/tasks?limit=x');
is($h->{etag}, undef, '422 has no ETag');
($st, $h) = tg_http(POST => "$b/api/tasks/bulk-delete", body => '{"task_ids":["none"]}',
    headers => { 'Content-Type' => 'application/json', 'If-None-Match' => $t0 });
is($st, 200, 'POST with If-None-Match: not a 304');
is($h->{etag}, undef, 'POST answers carry no ETag');
isnt(tag('/api/tasks'), $t0, 'a bulk-delete that deleted nothing still ran a DELETE: the tag moved (coarse)');

# Each table, written with plain SQL, changes the tag.
for my $sql ("UPDATE tasks SET result = '1' WHERE task_id = 'a'",
    "UPDATE task_shards SET status = 'x'",
    "INSERT INTO archived_task_shards (uniqc_task_id, shard_index, platform_task_id, backend, status, archived_at) VALUES ('z', 0, 'p', 'b', 's', now())",
    "DELETE FROM archived_tasks WHERE task_id = 'nothing'",
    "TRUNCATE archived_task_shards") {
	my $before = tag('/api/tasks/counts');
	$c->sql($sql);
	my ($s2) = get('/api/tasks/counts', $before);
	is($s2, 200, "after '$sql': 200");
	isnt(tag('/api/tasks/counts'), $before, 'and a new tag');
}
my $before = tag('/api/tasks');
$c->sql("BEGIN; INSERT INTO tasks (task_id, backend, status) VALUES ('rb', 'b', 'pending'); ROLLBACK;");
is(tag('/api/tasks'), $before, 'a rolled back write leaves the tag');
is((get('/api/tasks/version'))[0], 404, 'sanity');

# A write that has not committed yet does not change the tag; its commit
# does (the tag is never newer than the answer it comes with).
$before = tag('/api/tasks');
my $pid = fork // die;
if ($pid == 0) {
	exec('psql', '-X', '-q', '-c', "BEGIN; INSERT INTO tasks (task_id, backend, status) VALUES ('late', 'b', 'pending'); SELECT pg_sleep(3); COMMIT;", $c->dsn) or POSIX::_exit(1);
}
sleep 1;
($st, $h, my $body) = get('/api/tasks');
is($h->{etag}, $before, 'during the open transaction: the same tag');
unlike($body, qr/"late"/, 'and the answer without the row');
waitpid($pid, 0);
($st, $h, $body) = get('/api/tasks', $before);
is($st, 200, 'after its commit the old tag is a 200');
like($body, qr/"late"/, 'with the row');
isnt($h->{etag}, $before, 'and a new tag');

# Working out a 304 does not compute the answer: with the tasks table
# locked, the 304 still comes at once; the answer itself waits.
my $tag = tag('/api/tasks');
$pid = fork // die;
if ($pid == 0) {
	exec('psql', '-X', '-q', '-c', "BEGIN; LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;", $c->dsn) or POSIX::_exit(1);
}
sleep 1;
my $t = time;
($st) = get('/api/tasks', $tag);
is($st, 304, 'tasks locked: 304');
cmp_ok(time - $t, '<', 1.2, '... without waiting for the lock');
($st) = get('/api/tasks');
is($st, 503, 'the answer itself waits for the lock (statement_timeout: 503)');
waitpid($pid, 0);

done_testing();
