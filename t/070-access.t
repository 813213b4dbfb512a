#!/usr/bin/perl
# Access control through lighttpd: loopback-only writes by default, bearer
# tokens with read and write scopes, auth_reads, REMOTE_USER from
# lighttpd's own Basic auth, write refusal for foreign browser origins,
# CORS headers and preflight; tokens never in the log.
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
my $dsn = $c->dsn;
my ($st, $h, $body);
my %J = ('Content-Type' => 'application/json');
my $RT = 'rt-' . ('a1' x 12);
my $WT = 'wt-' . ('b2' x 12);
my $WT2 = 'wt2-' . ('c3' x 12);
my $forbidden = '{"detail":"Forbidden"}';
my $unauth = '{"detail":"Not authenticated"}';

sub fresh { $c->sql("DELETE FROM tasks; DELETE FROM archived_tasks"); tg_task($c, $_) for @_ }
sub n_tasks { $c->sql("SELECT count(*) FROM tasks") . '/' . $c->sql("SELECT count(*) FROM archived_tasks") }
sub bearer { return { Authorization => "Bearer $_[0]", %{ $_[1] || {} } } }

# Every route that changes data, as [method, path, body].
my @writes = (
	['DELETE', '/api/tasks/t1'],
	['POST', '/api/tasks/bulk-delete', '{"task_ids":["t1"]}'],
	['POST', '/api/tasks/bulk-archive', '{"task_ids":["t1"]}'],
	['POST', '/api/tasks/archive-expired?hours=-1&terminal_only=false'],
	['POST', '/api/tasks/t1/archive'],
	['DELETE', '/api/archive/a1'],
	['POST', '/api/archive/restore/a1'],
);
sub wreq {
	my ($base, $wr, $hd) = @_;
	my ($m, $p, $bd) = @$wr;
	return tg_http($m => "$base$p", headers => { %J, %{ $hd || {} } },
	    defined $bd ? (body => $bd) : ());
}
sub fixtures { fresh('t1'); tg_task($c, 'a1', archived => 1) }

# --- 1. Defaults (what the acceptance suite sees): loopback may write.
my $w = tg_lighttpd(dsn => $dsn, tag => 'default');
my $b = $w->{base};
for my $wr (@writes) {
	fixtures();
	($st, $h, $body) = wreq($b, $wr);
	is($st, 200, "default, loopback: $wr->[0] $wr->[1] allowed");
}
fixtures();
($st, $h, $body) = tg_http(GET => "$b/api/tasks", headers => { Origin => 'https://ui.example' });
is($st, 200, 'default: cross-origin read answered');
ok(!exists $h->{'access-control-allow-origin'}, 'default: no CORS headers');
($st, $h, $body) = tg_http(OPTIONS => "$b/api/tasks", headers => { Origin => 'https://ui.example',
    'Access-Control-Request-Method' => 'GET' });
is("$st $body", '400 Disallowed CORS origin', 'default: preflight from an unlisted origin is 400 (as Starlette)');
ok(!exists $h->{'access-control-allow-origin'}, '... without Access-Control-Allow-Origin');
($st, $h, $body) = tg_http(OPTIONS => "$b/api/tasks", headers => { Origin => 'https://ui.example' });
is($st, 405, 'default: OPTIONS without Access-Control-Request-Method stays 405');
is($h->{allow}, 'GET', 'with Allow');
for my $wr (@writes) {
	fixtures();
	($st, $h, $body) = wreq($b, $wr, { Origin => 'https://evil.example' });
	is("$st $body", "403 $forbidden", "foreign Origin cannot write on loopback rights: $wr->[0] $wr->[1]");
}
is(n_tasks(), '1/1', 'nothing changed by refused writes');
($st, $h, $body) = wreq($b, $writes[0], { Origin => "http://127.0.0.1:$w->{port}" });
is($st, 200, 'same-origin page may write');
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/x", headers => { Authorization => "Bearer $WT" });
is($st, 401, 'default: an unknown bearer token is 401');
is($h->{'www-authenticate'}, 'Bearer realm="taskgate", error="invalid_token"', 'invalid_token challenge');
is($body, '{"detail":"Invalid token"}', '401 body');
($st, $h, $body) = tg_http(DELETE => "$b/api/tasks/x", headers => { Authorization => 'Basic dTpw' });
is($st, 404, 'Basic credentials are ignored (the web server\'s business)');

# IPv6: the default trusts ::1 too; write_networks = ::1 trusts only it.
my $p6 = tg_free_port();
my $w6 = tg_lighttpd(dsn => $dsn, tag => 'v6', conf => "write_networks = ::1\n",
    lighttpd_conf => "\$SERVER[\"socket\"] == \"[::1]:$p6\" { }\n");
fixtures();
($st, $h, $body) = tg_http(DELETE => "http://127.0.0.1:$w6->{port}/api/tasks/t1");
is("$st $body", "403 $forbidden", 'write_networks = ::1: 127.0.0.1 refused');
($st, $h, $body) = tg_http(DELETE => "http://[::1]:$p6/api/tasks/t1");
is("$st $body", '200 {"deleted":"t1"}', 'write_networks = ::1: [::1] writes (through lighttpd over IPv6)');
my $p6d = tg_free_port();
my $w6d = tg_lighttpd(dsn => $dsn, tag => 'v6d', lighttpd_conf => "\$SERVER[\"socket\"] == \"[::1]:$p6d\" { }\n");
fixtures();
($st, $h, $body) = tg_http(DELETE => "http://[::1]:$p6d/api/tasks/t1");
is($st, 200, 'default: [::1] may write');

# --- 2. Tokens; loopback not trusted; one CORS origin.
my $w2 = tg_lighttpd(dsn => $dsn, tag => 'tokens', conf => "write_networks = 10.0.0.0/8\n"
    . "read_tokens = $RT\nwrite_tokens = $WT, $WT2\ncors_origins = https://ui.example\n");
my $b2 = $w2->{base};
for my $wr (@writes) {
	fixtures();
	($st, $h, $body) = wreq($b2, $wr);
	is("$st $body", "401 $unauth", "no token: 401 for $wr->[0] $wr->[1]");
	is($h->{'www-authenticate'}, 'Bearer realm="taskgate"', 'challenge');
	($st, $h, $body) = wreq($b2, $wr, bearer($RT));
	is("$st $body", "403 $forbidden", "read token: 403 for $wr->[0] $wr->[1]");
	is($h->{'www-authenticate'}, 'Bearer realm="taskgate", error="insufficient_scope"', 'insufficient_scope');
	is(n_tasks(), '1/1', 'nothing changed');
	($st, $h, $body) = wreq($b2, $wr, bearer($WT));
	is($st, 200, "write token: $wr->[0] $wr->[1] allowed");
}
fixtures();
($st, $h, $body) = wreq($b2, $writes[0], bearer($WT2, { Origin => 'https://evil.example' }));
is($st, 200, 'second write token; a token works from any origin (no ambient right)');
fixtures();
($st, $h, $body) = wreq($b2, $writes[0], bearer("${WT}x"));
is($st, 401, 'token with a suffix: 401');
($st, $h, $body) = wreq($b2, $writes[0], bearer(substr($WT, 0, -1)));
is($st, 401, 'token prefix: 401');
($st, $h, $body) = wreq($b2, $writes[0], bearer(''));
is($st, 401, 'empty token: 401');
($st, $h, $body) = tg_http(GET => "$b2/api/tasks/t1");
is($st, 200, 'reads need no token');
($st, $h, $body) = tg_http(GET => "$b2/api/tasks/t1", headers => bearer($RT));
is($st, 200, 'read token reads');
($st, $h, $body) = tg_http(GET => "$b2/api/tasks/t1", headers => bearer('x' x 30));
is("$st $body", '401 {"detail":"Invalid token"}', 'a wrong token is 401 on reads too');
($st, $h, $body) = tg_http(GET => "$b2/api/health", headers => bearer('x' x 30));
is($st, 200, 'health is always open');
is(n_tasks(), '1/1', 'state intact');

# CORS.
my %O = (Origin => 'https://ui.example');
($st, $h, $body) = tg_http(GET => "$b2/api/tasks", headers => \%O);
is($h->{'access-control-allow-origin'}, 'https://ui.example', 'allowed origin echoed');
is($h->{vary}, 'Origin', 'Vary: Origin');
($st, $h, $body) = tg_http(GET => "$b2/api/tasks", headers => { Origin => 'https://ui.example.evil' });
ok(!exists $h->{'access-control-allow-origin'}, 'other origin: no CORS header');
($st, $h, $body) = wreq($b2, $writes[0], \%O);
is($st, 401, '401 for an allowed origin ...');
is($h->{'access-control-allow-origin'}, 'https://ui.example', '... carries CORS headers (the page can read it)');
# The preflight is Starlette's (t/071-cors.t has the details): 200 "OK"
# for any path, every method, the requested headers echoed.
($st, $h, $body) = tg_http(OPTIONS => "$b2/api/tasks/t1", headers => { %O,
    'Access-Control-Request-Method' => 'DELETE', 'Access-Control-Request-Headers' => 'authorization' });
is("$st $body", '200 OK', 'preflight: 200 OK');
is($h->{'access-control-allow-origin'}, 'https://ui.example', 'preflight: origin');
is($h->{'access-control-allow-methods'}, 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT', 'preflight: all methods');
is($h->{'access-control-allow-headers'}, 'authorization', 'preflight: requested headers echoed');
is($h->{'access-control-max-age'}, '600', 'preflight: max age');
($st, $h, $body) = tg_http(OPTIONS => "$b2/api/nope", headers => { %O, 'Access-Control-Request-Method' => 'GET' });
is("$st $body", '200 OK', 'preflight of an unknown path: answered before routing');
($st, $h, $body) = tg_http(OPTIONS => "$b2/api/tasks/t1", headers => \%O);
is("$st $body", '405 {"detail":"Method Not Allowed"}', 'OPTIONS from an allowed origin without the preflight header: 405');
($st, $h, $body) = tg_http(OPTIONS => "$b2/api/tasks/t1", headers => { Origin => 'https://evil.example' });
is("$st $body", '405 {"detail":"Method Not Allowed"}', 'OPTIONS from another origin: 405');
($st, $h, $body) = tg_http(OPTIONS => "$b2/api/tasks/t1");
is($st, 405, 'OPTIONS without Origin: 405');

# --- 3. auth_reads: reads need a token too; loopback trusted for nothing.
my $w3 = tg_lighttpd(dsn => $dsn, tag => 'reads', conf => "auth_reads = on\nwrite_networks = none\n"
    . "read_tokens = $RT\n");
my $b3 = $w3->{base};
($st, $h, $body) = tg_http(GET => "$b3/api/tasks");
is("$st $body", "401 $unauth", 'auth_reads: list without token 401');
is($h->{'www-authenticate'}, 'Bearer realm="taskgate"', 'challenge');
($st, $h, $body) = tg_http(GET => "$b3/api/archive/a1");
is($st, 401, 'auth_reads: archive detail 401');
($st, $h, $body) = tg_http(GET => "$b3/api/tasks", headers => bearer($RT));
is($st, 200, 'auth_reads: read token lists');
($st, $h, $body) = wreq($b3, $writes[1], bearer($RT));
is($st, 403, 'auth_reads: read token cannot write');
($st, $h, $body) = tg_http(GET => "$b3/api/health");
is($st, 200, 'auth_reads: health open');
($st, $h, $body) = tg_http(GET => "$b3/api/nope");
is($st, 404, 'auth_reads: unknown path still 404');

# --- 4. REMOTE_USER from lighttpd's Basic auth.
my $d4 = tg_tmpdir() . '/users';
open my $uf, '>', $d4 or die;
print $uf "alice:apw\nbob:bpw\n";
close $uf;
my $w4 = tg_lighttpd(dsn => $dsn, tag => 'ru', conf => "trust_remote_user = on\nwrite_users = alice\n"
    . "write_networks = none\n", lighttpd_pre => qq(server.modules = ( "mod_auth", "mod_authn_file" )\n), lighttpd_conf => <<"L");
auth.backend = "plain"
auth.backend.plain.userfile = "$d4"
auth.require = ( "/api/tasks" => ( "method" => "basic", "realm" => "tg", "require" => "valid-user" ) )
L
my $b4 = $w4->{base};
use MIME::Base64;
sub basic { return { Authorization => 'Basic ' . encode_base64($_[0], ''), %{ $_[1] || {} } } }
fixtures();
($st, $h, $body) = tg_http(DELETE => "$b4/api/tasks/t1");
is($st, 401, 'no credentials: the web server refuses');
($st, $h, $body) = tg_http(DELETE => "$b4/api/tasks/t1", headers => basic('bob:bpw'));
is("$st $body", "403 $forbidden", 'bob (not in write_users): 403');
($st, $h, $body) = tg_http(GET => "$b4/api/tasks/t1", headers => basic('bob:bpw'));
is($st, 200, 'bob reads');
($st, $h, $body) = tg_http(DELETE => "$b4/api/tasks/t1", headers => basic('alice:apw', { Origin => 'https://evil.example' }));
is($st, 403, 'alice from a foreign page: 403 (browsers resend Basic credentials)');
is(n_tasks(), '1/1', 'nothing changed');
($st, $h, $body) = tg_http(DELETE => "$b4/api/tasks/t1", headers => basic('alice:apw'));
is("$st $body", '200 {"deleted":"t1"}', 'alice writes');
($st, $h, $body) = tg_http(POST => "$b4/api/archive/restore/a1");
is($st, 403, 'no REMOTE_USER (path not protected), loopback untrusted: 403');

# --- Tokens never reach the log; a bad token configuration names no token.
my $log = '';
for my $x ($w, $w2, $w3, $w4) { for my $lf ($x->{errlog}, "$x->{dir}/stdout.log") { open my $f, "<", $lf or next; local $/; $log .= <$f> // "" } }
like($log, qr/"DELETE \/api\/tasks\/t1" 401/, 'requests are logged (method, path, status)');
for my $t ($RT, $WT, $WT2, 'x' x 30, 'dTpw', encode_base64('alice:apw', '')) {
	unlike($log, qr/\Q$t\E/, 'no token or credential in the log');
}
my $bad = tg_tmpdir() . '/bad.conf';
open my $bf, '>', $bad or die;
print $bf "write_tokens = shortsecret\n";
close $bf;
my $out = `'$ENV{TG_BIN}' -t -c $bad 2>&1`;
isnt($? >> 8, 0, 'a token under 16 bytes is a configuration error');
like($out, qr/write_tokens: every token must be at least 16 bytes/, 'named');
unlike($out, qr/shortsecret/, 'without the token');

# --- CGI mode from a non-loopback REMOTE_ADDR.
{
	my $cf = tg_tmpdir() . '/cgi.conf';
	open my $f, '>', $cf or die;
	print $f "database = $dsn\n";
	close $f;
	fixtures();
	local %ENV = (%ENV, TASKGATE_CONFIG => $cf, REQUEST_METHOD => 'DELETE',
	    REQUEST_URI => '/api/tasks/t1', QUERY_STRING => '', REMOTE_ADDR => '192.0.2.7');
	my $o = `'$ENV{TG_BIN}' </dev/null 2>/dev/null`;
	like($o, qr/^Status: 403 .*\r\n\r\n\Q$forbidden\E\z/s, 'CGI: DELETE from 192.0.2.7 is 403');
	$ENV{REQUEST_METHOD} = 'GET';
	$o = `'$ENV{TG_BIN}' </dev/null 2>/dev/null`;
	like($o, qr/^Status: 200 /, 'CGI: GET from 192.0.2.7 is 200');
	$ENV{REMOTE_ADDR} = '::1';
	$ENV{REQUEST_METHOD} = 'DELETE';
	$o = `'$ENV{TG_BIN}' </dev/null 2>/dev/null`;
	like($o, qr/^Status: 200 /, 'CGI: DELETE from ::1 is 200');
}

done_testing();
