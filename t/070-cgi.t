#!/usr/bin/perl
# The binary as a plain CGI program (no socket on fd 0): one request from
# the environment, the response on stdout.  Configuration errors answer a
# JSON 500 instead of crashing; an unreachable database answers 503.
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
my $dir = tg_tmpdir();
my $bin = tg_bin();

sub conf {
	my ($name, $text) = @_;
	open my $f, '>', "$dir/$name" or die;
	print $f $text;
	close $f;
	return "$dir/$name";
}
my $good = conf('good.conf', "database = " . $c->dsn . "\n");

# Runs one CGI request; returns (status, {headers}, body, raw).
sub cgi {
	my (%o) = @_;
	my %env = (GATEWAY_INTERFACE => 'CGI/1.1', SERVER_PROTOCOL => 'HTTP/1.1',
	    REQUEST_METHOD => $o{method} // 'GET', REQUEST_URI => $o{uri},
	    QUERY_STRING => (($o{uri} // '') =~ /\?(.*)/ ? $1 : ''),
	    SERVER_NAME => 'cgi.example', SERVER_PORT => '8000',
	    REMOTE_ADDR => '127.0.0.1', TASKGATE_CONFIG => $o{conf} // $good,
	    %{ $o{env} || {} });
	delete $env{REQUEST_URI} unless defined $o{uri};
	my $in = "$dir/stdin";
	open my $f, '>', $in or die;
	print $f $o{body} // '';
	close $f;
	local %ENV = %env;
	my $out = `'$bin' <$in 2>>$dir/stderr`;
	my ($head, $body) = split /\r\n\r\n/, $out, 2;
	my %h;
	for (split /\r\n/, $head // '') { my ($k, $v) = split /:\s*/, $_, 2; $h{lc $k} = $v }
	my ($st) = ($h{status} // '') =~ /^(\d+)/;
	return ($st // 0, \%h, $body // '', $out);
}

my ($st, $h, $body, $raw) = cgi(uri => '/api/health');
# (SPEC 4.3: every GET 200 carries a strong ETag and Cache-Control.)
like($raw, qr/\AStatus: 200 OK\r\nContent-Type: application\/json\r\nETag: "[0-9.]+\.static\.[0-9a-f]{8}"\r\nCache-Control: no-cache\r\nContent-Length: 15\r\n\r\n\{"status":"ok"\}\z/,
    'CGI response, byte for byte');

tg_task($c, 'cgi1', status => 'pending');
($st, $h, $body) = cgi(uri => '/cgi-bin/taskgate/api/tasks?status=pending');
is($st, 200, 'CGI list under a prefix');
like($body, qr/^\{"tasks":\[\{"task_id":"cgi1",/, 'CGI list body');
($st, $h, $body) = cgi(uri => '/cgi-bin/taskgate/api/tasks/?x=1');
is($st, 307, 'CGI redirect');
is($h->{location}, 'http://cgi.example:8000/cgi-bin/taskgate/api/tasks?x=1',
    'Location from SERVER_NAME and SERVER_PORT, prefix and query kept');
($st, $h, $body) = cgi(uri => undef, env => { SCRIPT_NAME => '/tg.cgi',
    PATH_INFO => '/api/tasks/cgi1' });
is($st, 200, 'no REQUEST_URI: SCRIPT_NAME + PATH_INFO');

my $body_ok = '{"task_ids":["cgi1","x"]}';
($st, $h, $body) = cgi(method => 'POST', uri => '/api/tasks/bulk-delete',
    body => $body_ok, env => { CONTENT_TYPE => 'application/json',
    CONTENT_LENGTH => length($body_ok) + 10 });
is($st, 400, 'body shorter than CONTENT_LENGTH: 400');
is($body, '{"detail":"Request body incomplete: fewer bytes than Content-Length"}', '400 body');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'cgi1'"), 1, 'nothing deleted');
($st, $h, $body) = cgi(method => 'POST', uri => '/api/tasks/bulk-delete',
    body => $body_ok, env => { CONTENT_TYPE => 'application/json',
    CONTENT_LENGTH => length($body_ok) });
is($body, '{"deleted":["cgi1"],"missing":["x"],"count":1}', 'CGI bulk-delete');
($st, $h, $body) = cgi(method => 'POST', uri => '/api/tasks/bulk-delete',
    body => $body_ok, env => { CONTENT_TYPE => 'application/json' });
is($st, 200, 'no CONTENT_LENGTH: body read to the end');

# Configuration errors.
my $bad = conf('bad.conf', "# ok\nmax_body_size = 12x\n");
($st, $h, $body) = cgi(uri => '/api/health', conf => $bad);
is($st, 500, 'bad config: 500');
is($body, qq({"detail":"Server misconfigured: $bad:2: max_body_size must be an integer from 1 to 1073741824"}),
    'names file, line and problem');
my $unk = conf('unk.conf', "databse = x\n");
($st, $h, $body) = cgi(uri => '/api/health', conf => $unk);
is($body, qq({"detail":"Server misconfigured: $unk:1: unknown key \\"databse\\""}), 'unknown key');
($st, $h, $body) = cgi(uri => '/api/health', conf => "$dir/none.conf");
is($st, 500, 'missing explicit config: 500');
like($body, qr/none\.conf: No such file or directory/, 'says why');
{
	local $ENV{TASKGATE_CONFIG} = $bad;
	my $out = `'$bin' -t 2>&1`;
	isnt($? >> 8, 0, 'taskgate -t fails on a bad config');
	like($out, qr/bad\.conf:2: max_body_size/, 'and says why');
	$out = `'$bin' -t -c $good 2>&1`;
	is($? >> 8, 0, 'taskgate -t -c good.conf succeeds');
	like(`'$bin' -V`, qr/^taskgate \d+\.\d+\.\d+$/m, '-V prints the version');
}

# Database unreachable: 503 with Retry-After, quickly.
my $port = tg_free_port();
my $down = conf('down.conf', "database = host=127.0.0.1 port=$port dbname=x connect_timeout=2\nretry_after = 7\n");
my $t0 = time;
($st, $h, $body) = cgi(uri => '/api/tasks', conf => $down);
is($st, 503, 'database down: 503');
is($body, '{"detail":"Database unavailable"}', '503 body');
is($h->{'retry-after'}, '7', 'Retry-After from the config');
cmp_ok(time - $t0, '<=', 5, 'answered within the connect timeout');
($st, $h, $body) = cgi(uri => '/api/health', conf => $down);
is($st, 200, 'health does not need the database');

done_testing();
