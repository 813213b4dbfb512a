#!/usr/bin/perl
# CORS in the default configuration, through lighttpd, as the uniqc
# original answers it (Starlette's CORSMiddleware with
# allow_origins = the three Vite dev-server origins, allow_credentials,
# allow_methods = allow_headers = "*"): preflights, simple requests, the
# dev server's writes (Vite's changeOrigin proxy keeps the browser's
# Origin and rewrites Host), cors_origins = none; and
# GET /api/backends/live.
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
my $w = tg_lighttpd(dsn => $c->dsn, tag => 'cors');
my $b = $w->{base};
my $port = $w->{port};
my ($st, $h, $body);
my $DEV = 'http://localhost:5173';
my $METHODS = 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT';

# Raw request with the given header lines; the answer's raw head too.
sub raw {
	my ($line, @hd) = @_;
	my $req = "$line HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nConnection: close\r\n"
	    . join('', map { "$_\r\n" } @hd) . "\r\n";
	return tg_raw($port, $req);
}

# --- Preflights.
for my $o ($DEV, 'http://127.0.0.1:5173', 'http://[::1]:5173') {
	($st, $h, $body) = raw('OPTIONS /api/tasks/x/archive', "Origin: $o",
	    'Access-Control-Request-Method: POST',
	    'Access-Control-Request-Headers: content-type,x-requested-with');
	is("$st $body", '200 OK', "preflight from $o: 200 OK");
	is($h->{'content-type'}, 'text/plain; charset=utf-8', '... text/plain');
	is($h->{'content-length'}, 2, '... Content-Length 2');
	is($h->{'access-control-allow-origin'}, $o, '... origin echoed');
	is($h->{'access-control-allow-methods'}, $METHODS, '... all methods');
	is($h->{'access-control-max-age'}, '600', '... max age 600');
	is($h->{'access-control-allow-credentials'}, 'true', '... credentials');
	is($h->{vary}, 'Origin', '... Vary: Origin');
	is($h->{'access-control-allow-headers'}, 'content-type,x-requested-with',
	    '... requested headers echoed as sent');
}
($st, $h, $body) = raw('OPTIONS /api/tasks', "Origin: $DEV", 'Access-Control-Request-Method: GET');
is("$st $body", '200 OK', 'preflight without requested headers');
ok(!exists $h->{'access-control-allow-headers'}, '... no Access-Control-Allow-Headers');
# lighttpd sends only /api to taskgate: any path under it is answered.
($st, $h, $body) = raw('OPTIONS /api/no/such/route', "Origin: $DEV", 'Access-Control-Request-Method: PUT');
is("$st $body", '200 OK', 'preflight of a path no route has: 200 OK (before routing)');
($st, $h, $body) = raw('OPTIONS /api/tasks', 'Origin: http://localhost:5174',
    'Access-Control-Request-Method: GET', 'Access-Control-Request-Headers: content-type');
is("$st $body", '400 Disallowed CORS origin', 'preflight from another origin: 400');
is($h->{'content-type'}, 'text/plain; charset=utf-8', '... text/plain');
is($h->{'content-length'}, 22, '... Content-Length 22');
ok(!exists $h->{'access-control-allow-origin'}, '... no Access-Control-Allow-Origin');
is($h->{'access-control-allow-methods'}, $METHODS, '... the other preflight headers, as Starlette');
is($h->{vary}, 'Origin', '... Vary: Origin');
($st, $h, $body) = raw('OPTIONS /api/tasks', "Origin: $DEV", 'Access-Control-Request-Method: TRACE');
is("$st $body", '400 Disallowed CORS method', 'a method outside Starlette\'s list: 400');
($st, $h, $body) = raw('OPTIONS /api/tasks', 'Origin: https://evil.example', 'Access-Control-Request-Method: get');
is("$st $body", '400 Disallowed CORS origin, method', 'methods are case-sensitive; failures listed');
($st, $h, $body) = raw('OPTIONS /api/tasks', "Origin: $DEV");
is($st, 405, 'OPTIONS without Access-Control-Request-Method: routed (405)');
is($h->{allow}, 'GET', '... with Allow');
is($h->{'access-control-allow-origin'}, $DEV, '... and the simple CORS headers');
($st, $h, $body) = raw('OPTIONS /api/tasks', 'Access-Control-Request-Method: GET');
is("$st $body", '405 {"detail":"Method Not Allowed"}', 'OPTIONS without Origin: 405');

# --- Simple requests.
($st, $h, $body) = raw('GET /api/tasks/counts', "Origin: $DEV");
is($st, 200, 'GET from the dev origin');
is($h->{'access-control-allow-origin'}, $DEV, '... Access-Control-Allow-Origin');
is($h->{'access-control-allow-credentials'}, 'true', '... credentials');
is($h->{vary}, 'Origin', '... Vary');
is($h->{'content-type'}, 'application/json', '... still JSON');
($st, $h, $body) = raw('GET /api/tasks/nope', "Origin: $DEV");
is($st, 404, 'an error from the dev origin ...');
is($h->{'access-control-allow-origin'}, $DEV, '... carries CORS headers too');
($st, $h, $body) = raw('GET /api/tasks/counts', 'Origin: https://evil.example');
is($st, 200, 'GET from another origin is answered');
is(join(',', grep { /^access-control|^vary$/ } sort keys %$h), '', '... without any CORS header');

# --- Writes from the dev server: trusted like the original.
tg_task($c, 'dev1');
($st, $h, $body) = raw('POST /api/tasks/x/archive', "Origin: $DEV", 'Content-Length: 0');
is("$st $body", q(404 {"detail":"Task 'x' not found"}), 'dev origin, Host rewritten (changeOrigin): write runs (404)');
($st, $h, $body) = raw('POST /api/tasks/dev1/archive', "Origin: http://[::1]:5173", 'Content-Length: 0');
is("$st $body", '200 {"archived":"dev1"}', 'dev origin [::1]: archive done');
is($h->{'access-control-allow-origin'}, 'http://[::1]:5173', '... the page can read the answer');
($st, $h, $body) = raw('POST /api/tasks/x/archive', 'Origin: http://localhost:3000', 'Content-Length: 0');
is("$st $body", '403 {"detail":"Forbidden"}', 'another origin still may not use loopback rights');
is($c->sql("SELECT count(*) FROM archived_tasks WHERE task_id = 'dev1'"), 1, 'archived once');

# --- GET /api/backends/live: taskgate knows no cloud backends.
($st, $h, $body) = tg_http(GET => "$b/api/backends/live");
is("$st $body", '200 []', 'backends/live: []');
is($h->{'content-type'}, 'application/json', '... JSON');
($st, $h, $body) = tg_http(GET => "$b/api/backends/live?refresh=true");
is("$st $body", '200 []', '... whatever the query');
($st, $h, $body) = tg_http(POST => "$b/api/backends/live", body => '');
is("$st $body " . ($h->{allow} // ''), '405 {"detail":"Method Not Allowed"} GET', 'POST: 405, Allow: GET');
($st, $h, $body) = tg_http(HEAD => "$b/api/backends/live");
is($st, 405, 'HEAD: 405');
($st, $h, $body) = tg_http(GET => "$b/api/backends/live/?x=1");
is("$st " . ($h->{location} // ''), "307 $b/api/backends/live?x=1", 'trailing slash: 307');
($st, $h, $body) = tg_http(GET => "$b/api/backends");
is("$st $body", '404 {"detail":"Not Found"}', '/api/backends itself is not served');

# --- cors_origins = none: no CORS, and the dev origin is foreign.
my $off = tg_lighttpd(dsn => $c->dsn, tag => 'corsoff', conf => "cors_origins = none\n");
$port = $off->{port};
($st, $h, $body) = raw('OPTIONS /api/tasks', "Origin: $DEV", 'Access-Control-Request-Method: GET');
is("$st $body", '405 {"detail":"Method Not Allowed"}', 'none: a preflight is an ordinary OPTIONS (405)');
($st, $h, $body) = raw('GET /api/tasks/counts', "Origin: $DEV");
ok(!exists $h->{'access-control-allow-origin'}, 'none: no CORS headers');
($st, $h, $body) = raw('POST /api/tasks/x/archive', "Origin: $DEV", 'Content-Length: 0');
is("$st $body", '403 {"detail":"Forbidden"}', 'none: the dev origin may not write on loopback rights');

done_testing();
