#!/usr/bin/perl
# The change counter not there (sql/004 not applied, or taskgate_changes
# dropped or not granted): a GET still answers, without an ETag, as it
# did when the tag had a round trip of its own.  DB_ETAG rides ahead of
# the answer's statement in one pipeline (t/321), so its failure aborts
# that pipeline; the answer is then computed again the sequential way.
# Prepare on and off, a detail, a list streamed past stream_threshold, a
# filtered list, counts; a 404 stays a 404; the tag comes back when the
# table does.  A GET that fails for another reason runs once.
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
my $on = tg_lighttpd(dsn => $c->dsn, tag => 'on',
    conf => "stream_threshold = 8192\n");
my $off = tg_lighttpd(dsn => $c->dsn, tag => 'off',
    conf => "stream_threshold = 8192\nprepare = off\n");
my $meta = '{"note":"' . ('m' x 80) . '"}';
$c->sql(join '', map { sprintf("INSERT INTO tasks (task_id, backend, status, "
    . "shots, metadata) VALUES ('t%03d', 'be%d', 'success', %d, '%s');\n",
    $_, $_ % 3, $_, $meta) } 1 .. 120);

my @routes = ('/api/tasks/t007', '/api/tasks', '/api/tasks?status_in=success&limit=3',
    '/api/tasks/counts', '/api/archive');
my %want;
for my $r (@routes) {
	my ($st, $h, $body) = tg_http(GET => "$on->{base}$r");
	is($st, 200, "with the counter $r: 200");
	like($h->{etag} // '', qr/^"/, "with the counter $r: an ETag");
	$want{$r} = $body;
}
# Connections of the running processes have DB_ETAG prepared already;
# dropping the table makes it fail from now on.
$c->sql('ALTER TABLE taskgate_changes RENAME TO taskgate_changes_away');
for my $w ($on, $off) {
	my $m = $w == $on ? 'prepare on' : 'prepare off';
	for my $r (@routes) {
		my ($st, $h, $body) = tg_http(GET => "$w->{base}$r");
		is($st, 200, "$m, no counter, $r: 200");
		ok(!defined $h->{etag}, "$m, no counter, $r: no ETag");
		is($body, $want{$r}, "$m, no counter, $r: the same answer");
	}
	my ($st, $h, $body) = tg_http(GET => "$w->{base}/api/tasks/nope");
	is($st, 404, "$m, no counter: a missing task is still a 404");
	($st, $h, $body) = tg_http(GET => "$w->{base}/api/tasks/t007",
	    headers => { 'If-None-Match' => '"x"' });
	is($st, 200, "$m, no counter, If-None-Match: 200");
	is($body, $want{'/api/tasks/t007'}, "$m, no counter, If-None-Match: the answer");
}
$c->sql('ALTER TABLE taskgate_changes_away RENAME TO taskgate_changes');
for my $w ($on, $off) {
	my ($st, $h) = tg_http(GET => "$w->{base}/api/tasks/t007");
	is($st, 200, 'counter back: 200');
	like($h->{etag} // '', qr/^"/, 'counter back: the ETag again');
}

# Only a failing DB_ETAG makes the answer run again: a GET whose own
# statement fails (task_shards not there) fails once, its statement run
# once (the cluster's log has one error for it, not two), tag or not.
$c->sql('ALTER TABLE task_shards RENAME TO task_shards_away');
my $pglog = "$c->{dir}/log";
sub shard_errors {
	open my $fh, '<', $pglog or die "$pglog: $!";
	return scalar grep { /ERROR: .*"task_shards" does not exist/ } <$fh>;
}
for my $w ($on, $off) {
	my $m = $w == $on ? 'prepare on' : 'prepare off';
	for my $inm (undef, '"x"') {
		my $n0 = shard_errors();
		my ($st, $h, $body) = tg_http(GET => "$w->{base}/api/tasks/t007/shards",
		    headers => $inm ? { 'If-None-Match' => $inm } : {});
		my $k = $inm ? 'with If-None-Match' : 'tag riding along';
		is($st, 500, "$m, $k, no task_shards: 500");
		is(shard_errors() - $n0, 1, "$m, $k: the failing statement ran once");
	}
}
$c->sql('ALTER TABLE task_shards_away RENAME TO task_shards');
my ($st) = tg_http(GET => "$on->{base}/api/tasks/t007/shards");
is($st, 200, 'task_shards back: 200');
done_testing();
