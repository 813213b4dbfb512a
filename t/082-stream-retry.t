#!/usr/bin/perl
# A list (streamed, db_stream) after a database restart: like any other
# read, it reconnects and retries once before its first row, so the first
# list once the database is back answers 200, not 503.  With prepared
# statements and with prepare = off.
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
tg_task($c, "t$_") for 1 .. 3;
my %w = (prepared => tg_lighttpd(dsn => $c->dsn, tag => 'p'),
    unprepared => tg_lighttpd(dsn => $c->dsn, tag => 'u', conf => "prepare = off\n"));
my @kinds = sort keys %w;

for my $mode ('fast', 'immediate') {
	for my $k (@kinds) {
		my ($st, $h, $body) = tg_http(GET => "$w{$k}{base}/api/tasks");
		is($st, 200, "$k: list before the restart");
	}
	$c->stop($mode);
	$c->start;
	for my $k (@kinds) {
		my ($st, $h, $body) = tg_http(GET => "$w{$k}{base}/api/tasks?limit=-1");
		is($st, 200, "$k: the first list after a $mode restart is 200") or diag($body);
		like($body, qr/^\{"tasks":\[\{"task_id":"t3".*\],"total":3,/, "$k: all rows");
		($st, $h, $body) = tg_http(GET => "$w{$k}{base}/api/archive");
		is($st, 200, "$k: archive list too");
	}
}

done_testing();
