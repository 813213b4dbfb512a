#!/usr/bin/perl
# What each server sends, through its conf/ example under /taskgate with
# t/lib/env-dump.pl in place of the binary: REQUEST_URI raw (with %2F and
# the query), HTTP_HOST with the port, and each one's own SCRIPT_NAME /
# PATH_INFO split, which taskgate ignores because REQUEST_URI is there
# (rebuilt from them, %2F and %20 would already be decoded on most).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use TG;

# The answers here are env-dump.pl's, not taskgate's: not for t/999.
delete $ENV{TG_OPENAPI_LOG};

my $dump = tg_srcdir() . '/t/lib/env-dump.pl';
my $path = '/taskgate/api/tasks/a%2Fb/c%20d';
my $query = 'q=%20x&y=1';
my %seen;

sub check {
	my ($name, $w, $expect, $hosts) = @_;
	my ($st, $h, $body) = tg_http(GET => "$w->{base}$path?$query");
	is($st, 200, "$name: answered") or return diag $body;
	my $e = eval { decode_json($body) } || {};
	is($e->{REQUEST_URI}, "$path?$query", "$name: REQUEST_URI raw, with the query");
	is($e->{QUERY_STRING}, $query, "$name: QUERY_STRING raw");
	is($e->{HTTP_HOST}, "127.0.0.1:$w->{port}", "$name: (first) HTTP_HOST keeps the port");
	is($e->{'HTTP_HOST#'}, $hosts, "$name: HTTP_HOST sent " . ($hosts // 'as environment'));
	is_deeply([ $e->{SCRIPT_NAME}, $e->{PATH_INFO} ], $expect,
	    "$name: SCRIPT_NAME, PATH_INFO as this server splits them");
}

SKIP: {
	tg_skip_unless(6, 'lighttpd');
	my $d = tg_subdir('vars-lighttpd');
	mkdir "$d/www";
	my $bin = tg_copy_bin("$d/dump");
	system('cp', $dump, $bin);
	my $port = tg_free_port();
	tg_write("$d/lighttpd.conf", <<"CONF" . tg_conf_template('lighttpd.conf',
server.document-root = "$d/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$d/error.log"
CONF
	    ['"/api" =>', '"/taskgate/api" =>'], ['/usr/local/bin/taskgate', $bin],
	    ['/run/lighttpd/taskgate.sock', "$d/s.sock"]));
	tg_spawn(cmd => ['lighttpd', '-D', '-f', "$d/lighttpd.conf"], log => "$d/out.log");
	tg_wait_port($port) or die `cat $d/error.log`;
	# The split at the fastcgi.server key; PATH_INFO decoded even with
	# url-normalize off (so %2F is lost there).
	check('lighttpd', { base => "http://127.0.0.1:$port", port => $port },
	    ['/taskgate/api', '/tasks/a/b/c d'], 1);
}

SKIP: {
	tg_skip_unless(6, 'nginx', 'spawn-fcgi');
	my $d = tg_subdir('vars-nginx');
	my $bin = tg_copy_bin("$d/dump");
	system('cp', $dump, $bin);
	my ($u) = getpwnam('www-data') ? ('www-data') : ('nobody');
	tg_spawn_fcgi(socket => "$d/s.sock", bin => $bin, sockuser => $u,
	    log => "$d/app.log");
	my $port = tg_free_port();
	my $w = tg_nginx(tag => '-vars', port => $port,
	    site => tg_conf_template('nginx.conf', ['listen 80;', "listen 127.0.0.1:$port;"],
		['location /api {', 'location /taskgate/api {'],
		['unix:/run/taskgate/taskgate.sock', "unix:$d/s.sock"]));
	# No fastcgi_split_path_info: SCRIPT_NAME is the whole path, decoded
	# (%2F became '/'), and there is no PATH_INFO.  HTTP_HOST twice: the
	# example's $http_host first, then Debian's fastcgi_params' $host.
	check('nginx', $w, ['/taskgate/api/tasks/a/b/c d', undef], 2);
}

SKIP: {
	tg_skip_unless(6, 'apache2', 'mod_fcgid');
	my $d = tg_subdir('vars-fcgid');
	my $bin = tg_copy_bin("$d/dump");
	system('cp', $dump, $bin);
	my $www = tg_subdir('vars-fcgid/www');
	my $port = tg_free_port();
	my $w = tg_apache(tag => '-vars-fcgid', port => $port, docroot => $www,
	    modules => ['fcgid'],
	    site => tg_conf_template('apache-fcgid.conf', ['*:80', "*:$port"],
		['/var/www/html', $www], ['/usr/local/bin/taskgate', $bin],
		['<Location /api>', '<Location /taskgate/api>'],
		['Alias / ', 'Alias /taskgate/ '],
		['/usr/local/share/taskgate/www', tg_www_copy("$d/dashboard")]));
	# FcgidWrapper virtual: with the dashboard's Alias of /taskgate/ (a
	# real directory), the split falls after the first path segment
	# under it; PATH_INFO decoded except %2F (AllowEncodedSlashes
	# NoDecode).  taskgate reads REQUEST_URI, so the split does not
	# matter to it.
	check('apache-fcgid', $w, ['/taskgate/api', '/tasks/a%2Fb/c d'], 1);
}

SKIP: {
	tg_skip_unless(6, 'apache2');
	my $lib = tg_subdir('vars-cgi/lib');
	my $bin = tg_copy_bin("$lib/taskgate.cgi");
	system('cp', $dump, $bin);
	my $www = tg_subdir('vars-cgi/www');
	my $port = tg_free_port();
	my $w = tg_apache(tag => '-vars-cgi', port => $port, docroot => $www,
	    modules => ['cgid'],
	    site => tg_conf_template('apache-cgi.conf', ['*:80', "*:$port"],
		['/var/www/html', $www], ['ScriptAlias /api ', 'ScriptAlias /taskgate/api '],
		['/usr/local/lib/taskgate', $lib]));
	# ScriptAlias: SCRIPT_NAME is the alias, PATH_INFO the rest, decoded
	# except %2F (AllowEncodedSlashes NoDecode).
	check('apache-cgi', $w, ['/taskgate/api', '/tasks/a%2Fb/c d'], undef);
}

done_testing();
