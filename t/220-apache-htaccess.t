#!/usr/bin/perl
# conf/htaccess as documented (shared hosting): the binary as
# taskgate.fcgi with taskgate.conf beside it and the .htaccess, in the
# document root and in a /taskgate/ subdirectory, through a real Apache
# 2.4 with the AllowOverride it documents.  Plain CGI (mod_cgid, mod_fcgid absent:
# the .htaccess falls back to cgi-script), then FastCGI (mod_fcgid loaded:
# fcgid-script) with the same files.  The smoke set at both mounts;
# taskgate.conf is denied to the web.  Then conf/apache-cgi.conf
# (ScriptAlias in a vhost, mod_cgid) at the root and under /taskgate.
use strict;
use warnings;
use Test::More;
use TG;

tg_need('apache2');

my $c = tg_cluster();
my $ht = tg_conf_template('htaccess');

# Installs the shared-hosting layout into DIR.
sub install {
	my ($dir) = @_;
	tg_write("$dir/.htaccess", $ht, 0644);
	tg_copy_bin("$dir/taskgate.fcgi");
	tg_write("$dir/taskgate.conf", "database = " . $c->dsn .
	    "\nmax_body_size = 1024\n", 0644);
	tg_www_copy($dir);
}

my @modes = (['cgi', ['cgid', 'rewrite']]);
push @modes, ['fcgid', ['fcgid', 'rewrite']]
    if -f tg_apache_modules() . '/mod_fcgid.so';
for my $m (@modes) {
	my ($mode, $mods) = @$m;
	my $www = tg_subdir("ht-$mode");
	install($www);
	install(tg_subdir("ht-$mode/taskgate"));
	my $w = tg_apache(tag => "-ht-$mode", docroot => $www,
	    # The minimum conf/htaccess documents (hosts often allow All).
	    allowoverride => 'FileInfo AuthConfig Options=ExecCGI,Indexes',
	    modules => $mods);
	my $b = $w->{base};

	tg_smoke($c, $b, "h${mode}root");
	tg_smoke($c, "$b/taskgate", "h${mode}sub");
	tg_dashboard_smoke($b, "h${mode}root");
	tg_dashboard_smoke("$b/taskgate", "h${mode}sub");

	my ($st, $h, $body) = tg_http(GET => "$b/taskgate/taskgate.conf");
	is($st, 403, "$mode: taskgate.conf in the subdirectory is denied");
	unlike($body, qr/database/, "$mode: ... and not shown");
	($st, $h, $body) = tg_http(GET => "$b/taskgate.conf");
	is($st, 403, "$mode: taskgate.conf in the document root is denied");
	($st, $h, $body) = tg_http(GET => "$b/taskgate/.htaccess");
	is($st, 403, "$mode: .htaccess is not served");
	# The binary itself outside /api: taskgate's own 404, not a download.
	($st, $h, $body) = tg_http(GET => "$b/taskgate/taskgate.fcgi");
	is("$st $body", '404 {"detail":"Not Found"}', "$mode: the binary URL runs it (no API path: 404)");
	# A body refused from CONTENT_LENGTH alone, 20 times: under mod_cgid
	# the response used to be lost when taskgate exited without reading
	# the body (Apache: "Error writing request body to script").
	my $big = '{"task_ids":[' . join(',', map { qq("b$_") } 1 .. 3000) . ']}';
	my %r;
	for (1 .. 20) {
		($st, $h, $body) = tg_http(POST => "$b/taskgate/api/tasks/bulk-delete",
		    headers => { 'Content-Type' => 'application/json' }, body => $big);
		$r{"$st $body"}++;
	}
	is_deeply(\%r, { '413 {"detail":"Request body too large"}' => 20 },
	    "$mode: 20 oversized bodies, 20 JSON 413s");
	# Which handler ran: CGI processes serve one request each (req=1).
	my $log = `cat $w->{errlog}`;
	if ($mode eq 'cgi') {
		unlike($log, qr/taskgate\[\d+\]: info req=2 /, 'cgi: one request per process');
		like($log, qr/taskgate\[\d+\]: info req=1 "GET \/taskgate\/api\/tasks/, 'cgi: requests logged');
	} else {
		like($log, qr/taskgate\[\d+\]: info req=[2-9]\d* "GET \/taskgate\/api\/tasks/,
		    'fcgid: long-lived processes serve several requests');
	}
	unlike($log, qr/taskgate\[\d+\]: error/, "$mode: no taskgate errors logged");
	tg_stop($w->{pid});
}

# conf/apache-cgi.conf: ScriptAlias in a vhost, mod_cgid, root and prefix.
for my $m (['root', ''], ['sub', '/taskgate']) {
	my ($tag, $prefix) = @$m;
	my $d = tg_subdir("cgi-$tag");
	my $lib = tg_subdir("cgi-$tag/lib");
	tg_copy_bin("$lib/taskgate.cgi");
	tg_write("$d/taskgate.conf", "database = " . $c->dsn .
	    "\nmax_body_size = 1024\n", 0644);
	my $www = tg_subdir("cgi-$tag/www");
	my $port = tg_free_port();
	my $w = tg_apache(tag => "-cgi-$tag", port => $port, docroot => $www,
	    modules => ['cgid'],
	    site => tg_conf_template('apache-cgi.conf',
		['*:80', "*:$port"], ['/var/www/html', $www],
		['ScriptAlias /api ', "ScriptAlias $prefix/api "],
		['/usr/local/lib/taskgate', $lib],
		['/etc/taskgate/taskgate.conf', "$d/taskgate.conf"],
		['Alias / ', "Alias $prefix/ "],
		['/usr/local/share/taskgate/www', tg_www_copy("$d/dashboard")]));
	tg_smoke($c, $w->{base} . $prefix, "sa$tag");
	tg_dashboard_smoke($w->{base} . $prefix, "sa$tag");
	tg_task($c, "sa$tag", backend => 'cgi');
	my ($st, $h, $body) = tg_http(GET => "$w->{base}$prefix/api/tasks/sa$tag%2Fshards");
	is("$st $body", qq(200 {"task_id":"sa$tag","shard_count":0,"shards":[]}),
	    "scriptalias $tag: %2F is a slash (AllowEncodedSlashes)");
	unlike(`cat $w->{errlog}`, qr/taskgate\[\d+\]: (error|info req=2 )/,
	    "scriptalias $tag: CGI, one request per process, no errors");
	tg_stop($w->{pid});
}

done_testing();
