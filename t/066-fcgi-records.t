#!/usr/bin/perl
# The FastCGI records of an answer (src/gw.c, gw_write).  libfcgi's
# output stream holds 8 KiB, so a large body used to go out as one record
# and one write per 8 KiB (56 of each for a lookup of 1 000 ids); a piece
# of 16 KiB or more is now written as records of up to 64 KiB, after what
# the stream holds.  Checked on the wire with a raw FastCGI client: the
# records are well formed (version 1, the request's id, padded to 8
# bytes, the stream ended by an empty record, then FCGI_END_REQUEST), the
# large ones are few, a small answer is still one record, and the bytes
# are the answer, whole and in order.
use strict;
use warnings;
use Test::More;
use TG;
use TGFcgi;

tg_need('spawn-fcgi');

my $c = tg_cluster();
my $cfg = tg_tmpdir() . '/tg.conf';
tg_write($cfg, "database = " . $c->dsn . "\n");
my $sock = tg_tmpdir() . '/tg.sock';
tg_spawn_fcgi(socket => $sock, env => { TASKGATE_CONFIG => $cfg },
    log => tg_tmpdir() . '/spawn.log');

my ($detail, $list) = tg_large_tasks($c, 'l', 'be:list', 3001, 20001, 2999, 70001, 5);
tg_task($c, 'small', backend => 'be:small', submit => '2026-11-20T00:00:00Z',
    update => '2026-11-20T00:00:00Z', metadata => '{"k": "v"}');

sub get {
	my ($uri) = @_;
	my ($path, $q) = split /\?/, $uri, 2;
	my %env = (GATEWAY_INTERFACE => 'CGI/1.1', REQUEST_METHOD => 'GET',
	    SCRIPT_NAME => '', PATH_INFO => $path, REQUEST_URI => $uri,
	    QUERY_STRING => $q // '', REMOTE_ADDR => '127.0.0.1',
	    SERVER_NAME => 'localhost', SERVER_PORT => '80', HTTP_HOST => 'localhost');
	my @r;
	my ($st, $h, $body) = fcgi_request($sock, \%env, '', records => \@r);
	return ($st, $body, \@r);
}

# Every record well formed, the STDOUT records before an empty one and
# FCGI_END_REQUEST last; returns the STDOUT records' content lengths.
sub check_records {
	my ($name, $r) = @_;
	my @bad = grep { $_->[0] != 1 || $_->[2] != 1 || $_->[4] > 7 ||
	    (8 + $_->[3] + $_->[4]) % 8 != 0 } @$r;
	is(scalar @bad, 0, "$name: version 1, id 1, padded to 8 bytes")
	    or diag explain \@bad;
	my @types = map { $_->[1] } @$r;
	is(join(',', @types[-2, -1]), '6,3', "$name: an FCGI_STDOUT record, then FCGI_END_REQUEST");
	is($r->[-2][3], 0, "$name: ... the STDOUT record an empty one (end of stream)");
	my @out = map { $_->[3] } grep { $_->[1] == 6 } @$r[0 .. $#$r - 2];
	is(scalar(grep { $_ == 0 } @out), 0, "$name: no empty STDOUT record before the end");
	return @out;
}

my ($st, $body, $r) = get('/api/tasks/l-big');
is($st, 200, 'large detail 200');
ok($body eq $detail, sprintf('large detail: the bytes are the answer (%d, want %d)',
    length $body, length $detail));
my @out = check_records('large detail', $r);
my $most = (sort { $b <=> $a } @out)[0];
cmp_ok($most, '>', 8192, "large detail: records larger than libfcgi's 8 KiB ($most bytes)");
cmp_ok($most, '<=', 65535, '... and no larger than a record holds');
my $few = 2 + int((length($detail) + 65527) / 65528);
cmp_ok(scalar @out, '<=', $few, sprintf('large detail: %d STDOUT records for %d bytes (at most %d)',
    scalar @out, length $detail, $few));

($st, $body, $r) = get('/api/tasks?backend=be:list');
is($st, 200, 'streamed list 200');
ok($body eq $list, sprintf('streamed list: the bytes are the answer, in order (%d, want %d)',
    length $body, length $list));
@out = check_records('streamed list', $r);
cmp_ok((sort { $b <=> $a } @out)[0], '>', 8192, 'streamed list: its large pieces in large records');

($st, $body, $r) = get('/api/tasks/small');
is("$st $body", '200 {"task_id":"small","backend":"be:small","status":"success","shots":0,"submit_time":"2026-11-20T00:00:00+00:00","update_time":"2026-11-20T00:00:00+00:00","result":null,"metadata":{"k":"v"},"archived_at":null}',
    'small detail exact');
@out = check_records('small detail', $r);
is(scalar @out, 1, 'small detail: headers and body in one record, as libfcgi writes it');

done_testing();
