#!/usr/bin/perl
# Routing and error shapes through lighttpd + FastCGI: health, version,
# 404, 405 with Allow, HEAD, 307 with absolute Location.
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup();
my $b = $w->{base};
my ($st, $h, $body);

($st, $h, $body) = tg_http(GET => "$b/api/health");
is($st, 200, 'health 200');
is($body, '{"status":"ok"}', 'health body');
like($h->{'content-type'}, qr{^application/json}, 'JSON content type');
is($h->{'content-length'}, length($body), 'Content-Length matches');

($st, $h, $body) = tg_http(GET => "$b/api/version");
is($st, 200, 'version 200');
like($body, qr/^\{"version":"\d+\.\d+\.\d+","github_url":"https?:[^"]+","docs_url":"https?:[^"]+"\}$/,
    'version keys in order');

for my $p ('/api/nope', '/api/tasks/a/b/c', '/api/Tasks', '/api/') {
	($st, $h, $body) = tg_http(GET => "$b$p");
	is($st, 404, "404 for $p");
	is($body, '{"detail":"Not Found"}', "404 body for $p");
}

my @allow = (
	['POST', '/api/tasks/x', 'GET'],
	['PUT', '/api/tasks', 'GET'],
	['POST', '/api/tasks/counts', 'GET'],
	['GET', '/api/tasks/bulk-archive/x', undef],
	['GET', '/api/tasks/x/archive', 'POST'],
	['PATCH', '/api/archive/restore/x', 'POST'],
	['DELETE', '/api/health', 'GET'],
	['HEAD', '/api/tasks', 'GET'],
	['GET', '/api/tasks/bulk-delete/x', undef],
);
for my $a (@allow) {
	my ($m, $p, $allow) = @$a;
	($st, $h, $body) = tg_http($m => "$b$p");
	if (!defined $allow) {
		is($st, 404, "$m $p is 404");
		next;
	}
	is($st, 405, "$m $p is 405");
	is($h->{allow}, $allow, "$m $p: Allow $allow");
	is($body, '{"detail":"Method Not Allowed"}', "$m $p body")
	    unless $m eq 'HEAD';
}

# 307 to the same URL without the slash, absolute, query kept.
my $host = "127.0.0.1:$w->{port}";
for my $r (['/api/tasks/', '/api/tasks'],
    ['/api/tasks/?limit=5&status=a+b', '/api/tasks?limit=5&status=a+b'],
    ['/api/tasks/x/', '/api/tasks/x'],
    ['/api/tasks//', '/api/tasks'],
    ['/api/tasks/x/shards/', '/api/tasks/x/shards'],
    ['/api/archive/', '/api/archive']) {
	($st, $h, $body) = tg_http(GET => "$b$r->[0]");
	is($st, 307, "307 for $r->[0]");
	is($h->{location}, "http://$host$r->[1]", "Location for $r->[0]");
	is($body, '', "empty body for $r->[0]");
}
($st, $h) = tg_http(POST => "$b/api/tasks/bulk-delete/");
is($st, 307, 'POST with trailing slash redirects too');

# GET /api/tasks/bulk-delete is a lookup of that id.
($st, $h, $body) = tg_http(GET => "$b/api/tasks/bulk-delete");
is($st, 404, 'GET bulk-delete is a task lookup');
is($body, q({"detail":"Task 'bulk-delete' not found"}), 'lookup 404 body');

# %2F inside an id is a '/': x%2Fshards routes to the shards of x.
tg_task($c, 'x');
($st, $h, $body) = tg_http(GET => "$b/api/tasks/x%2Fshards");
is($st, 200, '%2F is a slash');
is($body, '{"task_id":"x","shard_count":0,"shards":[]}', 'shards of x');

done_testing();
