#!/usr/bin/perl
# Serving uniqc's built web UI beside the API: conf/uniqc-ui-lighttpd.conf,
# conf/uniqc-ui-apache.conf and conf/uniqc-ui-nginx.conf as documented
# (paths and ports changed only), each with a stand-in dist/ this test
# writes (an index.html and assets/app.js; nothing of uniqc's): the site
# root and client routes (/tasks/abc) give index.html, assets are served
# as files, /api/... is taskgate's (its JSON 404 for unknown paths, never
# the UI), the UI's same-origin writes are allowed, a CORS preflight of
# the dev-server origin reaches taskgate, and the deployment
# smoke set runs at the site root.
use strict;
use warnings;
use Test::More;
use TG;

my $c = tg_cluster();
my ($u) = getpwnam('www-data') ? ('www-data') : ('nobody');

my $INDEX = qq(<!doctype html>\n<html><head><title>stand-in UI</title>)
    . qq(<script type="module" src="/assets/app.js"></script></head>)
    . qq(<body><div id="root"></div></body></html>\n);
my $APP = qq(document.getElementById("root").textContent = "stand-in";\n);

# A dist/ as `npm run build` leaves it, readable by every user.
sub dist {
	my ($tag) = @_;
	my $d = tg_subdir("ui-$tag/dist");
	tg_subdir("ui-$tag/dist/assets");
	tg_write("$d/index.html", $INDEX, 0644);
	tg_write("$d/assets/app.js", $APP, 0644);
	return $d;
}

sub app_conf {
	my ($d) = @_;
	return tg_write("$d/taskgate.conf", "database = " . $c->dsn .
	    "\nmax_body_size = 1024\n", 0644);
}

# The same checks through every server.
sub ui_checks {
	my ($w, $tag) = @_;
	my $b = $w->{base};
	my ($st, $h, $body);
	for my $p ('/', '/index.html', '/tasks/abc', '/archive', '/tasks/abc/shards?x=1') {
		($st, $h, $body) = tg_http(GET => "$b$p");
		is("$st", 200, "$tag: GET $p 200");
		is($body, $INDEX, "$tag: GET $p is index.html");
		like($h->{'content-type'} // '', qr{^text/html}, "$tag: GET $p text/html");
	}
	($st, $h, $body) = tg_http(GET => "$b/assets/app.js");
	is("$st $body", "200 $APP", "$tag: the asset itself");
	like($h->{'content-type'} // '', qr{javascript}, "$tag: asset is JavaScript");
	($st, $h, $body) = tg_http(GET => "$b/api/nope");
	is("$st $body", '404 {"detail":"Not Found"}', "$tag: unknown API path: taskgate's 404, not the UI");
	($st, $h, $body) = tg_http(GET => "$b/api/backends/live");
	is("$st $body", '200 []', "$tag: backends/live");
	($st, $h, $body) = tg_http(GET => "$b/api/tasks/counts");
	is($st, 200, "$tag: counts");
	like($body, qr/^\{"pending":\d+,/, "$tag: counts are taskgate's JSON");
	tg_task($c, "ui-$tag");
	($st, $h, $body) = tg_http(POST => "$b/api/tasks/ui-$tag/archive",
	    headers => { Origin => $b }, body => '');
	is("$st $body", qq(200 {"archived":"ui-$tag"}), "$tag: the UI's same-origin write");
	($st, $h, $body) = tg_http(POST => "$b/api/tasks/ui-$tag/archive",
	    headers => { Origin => 'http://evil.example' }, body => '');
	is("$st $body", '403 {"detail":"Forbidden"}', "$tag: another page's write refused");
	# The dev server's page (default cors_origins) through this server.
	($st, $h, $body) = tg_http(OPTIONS => "$b/api/tasks/x/archive", headers => {
	    Origin => 'http://localhost:5173', 'Access-Control-Request-Method' => 'POST',
	    'Access-Control-Request-Headers' => 'content-type' });
	is("$st $body", '200 OK', "$tag: CORS preflight reaches taskgate");
	is(join(' ', map { $h->{"access-control-allow-$_"} // '-' } qw(origin credentials headers)),
	    'http://localhost:5173 true content-type', "$tag: ... with its headers");
	like($h->{'content-type'} // '', qr{^text/plain}, "$tag: ... text/plain");
	tg_smoke($c, $b, "ui$tag");
}

# --- lighttpd: the example included from a minimal main configuration
# (Debian's main lighttpd.conf provides the MIME types the same way).
{
	my $d = tg_subdir('ui-lighttpd');
	my $www = dist('lighttpd');
	my $conf = app_conf($d);
	my $port = tg_free_port();
	my $site = tg_conf_template('uniqc-ui-lighttpd.conf',
	    ['/var/www/uniqc-ui', $www],
	    ['/usr/local/bin/taskgate', tg_bin_copy()],
	    ['/run/lighttpd/taskgate.sock', "$d/taskgate.sock"],
	    ['/etc/taskgate/taskgate.conf', $conf]);
	my $mime = -x '/usr/share/lighttpd/create-mime.conf.pl' ?
	    qq(include_shell "/usr/share/lighttpd/create-mime.conf.pl"\n) :
	    qq(mimetype.assign = ( ".html" => "text/html", ".js" => "text/javascript" )\n);
	tg_write("$d/lighttpd.conf", qq(server.bind = "127.0.0.1"\nserver.port = $port\n)
	    . qq(server.errorlog = "$d/error.log"\n$mime$site));
	tg_spawn(cmd => ['lighttpd', '-D', '-f', "$d/lighttpd.conf"], log => "$d/stdout.log");
	tg_wait_port($port) or die "lighttpd did not start: " . `cat $d/error.log $d/stdout.log`;
	ui_checks({ base => "http://127.0.0.1:$port" }, 'lighttpd');
}

# --- Apache + mod_fcgid.
SKIP: {
	tg_skip_unless(1, 'apache2', 'mod_fcgid');
	my $d = tg_subdir('ui-apache');
	my $www = dist('apache');
	my $bin = tg_copy_bin("$d/taskgate");
	my $conf = app_conf($d);
	my $port = tg_free_port();
	my $w = tg_apache(tag => '-ui', port => $port, docroot => $www,
	    modules => ['fcgid'],
	    site => tg_conf_template('uniqc-ui-apache.conf',
		['*:80', "*:$port"],
		['/var/www/uniqc-ui', $www],
		['/etc/taskgate/taskgate.conf', $conf],
		['/usr/local/bin/taskgate', $bin]));
	ui_checks($w, 'apache');
}

# --- nginx + spawn-fcgi.
SKIP: {
	tg_skip_unless(1, 'nginx', 'spawn-fcgi');
	my $d = tg_subdir('ui-nginx');
	my $www = dist('nginx');
	my $bin = tg_copy_bin("$d/taskgate");
	my $conf = app_conf($d);
	my $sock = "$d/taskgate.sock";
	tg_spawn_fcgi(socket => $sock, bin => $bin, args => ['-c', $conf],
	    sockuser => $u, log => "$d/taskgate.log");
	my $port = tg_free_port();
	my $w = tg_nginx(tag => '-ui', port => $port,
	    site => "types { text/html html; text/javascript js; }\n"
	    . tg_conf_template('uniqc-ui-nginx.conf',
		['listen 80;', "listen 127.0.0.1:$port;"],
		['/var/www/uniqc-ui', $www],
		['unix:/run/taskgate/taskgate.sock', "unix:$sock"]));
	ui_checks($w, 'nginx');
}

done_testing();
