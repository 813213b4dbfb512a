#!/usr/bin/perl
# SPEC 4.3 without a round trip of its own: a GET without If-None-Match
# sends the change counter (DB_ETAG) ahead of its first statement, in the
# same pipeline.  What must hold:
#  - the tag a 200 carries is the one a following If-None-Match request
#    is answered 304 for (and the one the sequential path, taken when
#    If-None-Match is present, computes), on every GET route: detail,
#    shards, lists (fixed statements, filtered ones, streamed past
#    stream_threshold), counts, the archive; prepare on and off alike;
#    another URL's tag is a 200 (or the 404) there;
#  - in the server's statement log (log_statement = all, each line with
#    its virtual transaction id): the tag is read before the answer's
#    first statement, in the same transaction (one pipeline, one sync:
#    one round trip), and with If-None-Match before it in a transaction
#    of its own (a 304 runs nothing else); a 404 for an id no task can
#    have runs no statement at all.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use TG;

my $c = tg_cluster();
$c->psql_admin(q{ALTER SYSTEM SET log_line_prefix = '[%a] %v '});
$c->psql_admin(q{ALTER DATABASE taskgate SET log_statement = 'all'});
$c->psql_admin('SELECT pg_reload_conf()');
# stream_threshold at its minimum: the default list of 120 tasks with
# some metadata (over 8 KiB) is streamed, its headers sent mid-list
# (and lighttpd passing it on as it comes: chunked, no Content-Length).
my $lc = "server.stream-response-body = 2\n";
my $on = tg_lighttpd(dsn => $c->dsn, tag => 'on', lighttpd_conf => $lc,
    conf => "stream_threshold = 8192\n");
my $off = tg_lighttpd(dsn => $c->dsn, tag => 'off', lighttpd_conf => $lc,
    conf => "stream_threshold = 8192\nprepare = off\n");
my $meta = '{"note":"' . ('m' x 80) . '"}';
$c->sql(join '', map { sprintf("INSERT INTO tasks (task_id, backend, status, "
    . "shots, metadata) VALUES ('t%03d', 'be%d', 'success', 1, '%s');\n",
    $_, $_ % 3, $meta) } 1 .. 120);
tg_shard($c, 't001', 0);
tg_task($c, 'z', archived => 1);

sub get {
	my ($w, $path, $inm) = @_;
	return tg_http(GET => "$w->{base}$path",
	    headers => defined $inm ? { 'If-None-Match' => $inm } : {});
}

my @routes = ('/api/tasks/t007', '/api/tasks/t001/shards', '/api/tasks',
    '/api/tasks?limit=3', '/api/tasks?status=success&backend=be1',
    '/api/tasks?status_in=success&order=asc',
    '/api/tasks?status_in=success&cursor=&limit=5', '/api/tasks/counts',
    '/api/tasks/counts?by=backend', '/api/archive', '/api/archive/z',
    '/api/archive?status=success', '/api/tasks?status=%00');
my %tag;
for my $w ($on, $off) {
	my $m = $w == $on ? 'prepare on' : 'prepare off';
	for my $r (@routes) {
		my ($st, $h, $body) = get($w, $r);
		is($st, 200, "$m $r: 200");
		my $t = $h->{etag} // '';
		like($t, qr/^"[^"]+\.[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]{8}"$/,
		    "$m $r: a tag from the counter");
		my ($st2, $h2, $body2) = get($w, $r, $t);
		is($st2, 304, "$m $r: its tag with If-None-Match: 304");
		is($h2->{etag}, $t, "$m $r: the 304 carries it");
		my ($st3, $h3, $body3) = get($w, $r, '"other"');
		is($st3, 200, "$m $r: another tag: 200");
		is($h3->{etag}, $t, "$m $r: the sequential tag is the same");
		is($body3, $body, "$m $r: and the same answer");
		$tag{$m}{$r} = $t;
	}
	# lighttpd sets a Content-Length when the whole answer came before
	# it sent the headers (a busy machine): a list taskgate streams is
	# chunked in some of five tries, one it buffers in none.
	my ($st, $h, $body);
	for (1 .. 5) {
		($st, $h, $body) = get($w, '/api/tasks');
		last if ($h->{'transfer-encoding'} // '') eq 'chunked';
	}
	is($h->{'transfer-encoding'} // '', 'chunked',
	    "$m: the default list is streamed (its ETag set before the first flush)");
	is($h->{'content-length'}, undef, "$m: ... without a Content-Length");
	($st, $h) = get($w, '/api/tasks/t007');
	like($h->{'content-length'} // '', qr/^\d+$/,
	    "$m: (a detail is not streamed: Content-Length)");
	is(scalar(() = $body =~ /"task_id"/g), 100, "$m: all of its 100 rows");
	is((get($w, '/api/tasks/t008', $tag{$m}{'/api/tasks/t007'}))[0], 200,
	    "$m: the tag of another detail: 200");
	is((get($w, '/api/tasks/nope', $tag{$m}{'/api/tasks/t007'}))[0], 404,
	    "$m: the tag of another URL on a 404: the 404");
	($st, $h) = get($w, '/api/tasks/nope');
	is($st, 404, "$m: a 404");
	is($h->{etag}, undef, "$m: without an ETag");
	($st, $h) = get($w, '/api/tasks/' . ('x' x 1100));
	is($st, 404, "$m: a 404 for an id longer than any stored");
	is($h->{etag}, undef, "$m: without an ETag");
}
is_deeply($tag{'prepare off'}, $tag{'prepare on'},
    'prepare on and off give each URL the same tag');

# The statement log: what one request ran, as [vxid, sql] in order.
my $log = "$c->{dir}/log";
sub logsize { return -s $log // 0 }
sub ran {
	my ($w, $path, $inm, $want_st) = @_;
	get($w, $path);		# connected, prepared
	my $at = logsize();
	my ($st) = get($w, $path, $inm);
	is($st, $want_st, "$path: $want_st");
	sleep 0.3;
	open my $f, '<', $log or die "$log: $!";
	seek $f, $at, 0;
	my @r;
	while (<$f>) {
		next unless /^\[taskgate\] (\S+) LOG:  execute [^:]+: (.*)/;
		push @r, [$1, $2];
	}
	return @r;
}
sub is_tag { return $_[0][1] =~ /FROM taskgate_changes/ }
sub is_setup { return $_[0][1] =~ /set_config/ }

for my $w ($on, $off) {
	my $m = $w == $on ? 'prepare on' : 'prepare off';
	my @r = grep { !is_setup($_) } ran($w, '/api/tasks/t007', undef, 200);
	is(scalar(@r), 2, "$m detail: two statements") or diag explain \@r;
	ok(@r && is_tag($r[0]), "$m detail: the tag first");
	ok(@r > 1 && $r[1][1] =~ /FROM tasks/ && !is_tag($r[1]),
	    "$m detail: then the task");
	ok(@r > 1 && $r[0][0] eq $r[1][0],
	    "$m detail: one transaction (one pipeline, one round trip)");

	@r = grep { !is_setup($_) } ran($w, '/api/tasks', undef, 200);
	ok(@r >= 2 && is_tag($r[0]) && $r[0][0] eq $r[1][0] && !is_tag($r[1]),
	    "$m streamed list: the tag ahead of the rows, in their transaction")
	    or diag explain \@r;
	is(scalar(grep { is_tag($_) } @r), 1, "$m streamed list: one tag read");

	@r = grep { !is_setup($_) }
	    ran($w, '/api/tasks?status_in=success&limit=5', undef, 200);
	ok(@r >= 2 && is_tag($r[0]) && $r[0][0] eq $r[1][0],
	    "$m filtered list: the tag ahead of it, in its transaction")
	    or diag explain \@r;

	@r = grep { !is_setup($_) } ran($w, '/api/tasks/t007', '"x"', 200);
	ok(@r == 2 && is_tag($r[0]) && $r[0][0] ne $r[1][0],
	    "$m If-None-Match: the tag first, alone") or diag explain \@r;

	@r = grep { !is_setup($_) }
	    ran($w, '/api/tasks/t007', $tag{$m}{'/api/tasks/t007'}, 304);
	ok(@r == 1 && is_tag($r[0]), "$m 304: only the tag is read")
	    or diag explain \@r;

	@r = ran($w, '/api/tasks/' . ('x' x 1100), undef, 404);
	is(scalar(@r), 0, "$m unstorable id: no statement")
	    or diag explain \@r;

	@r = grep { !is_setup($_) } ran($w, '/api/tasks?status=%00', undef, 200);
	ok(@r == 1 && is_tag($r[0]),
	    "$m a filter naming nothing: the tag alone") or diag explain \@r;
}

done_testing();
