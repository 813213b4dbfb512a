#!/usr/bin/perl
# conf/nginx.conf as documented, through a real nginx with fastcgi_pass
# to a unix socket and taskgate under the spawn-fcgi command from the
# same file, at the site root and under /taskgate: the deployment smoke
# set.  nginx without fastcgi_split_path_info (SCRIPT_NAME is the whole
# decoded path, no PATH_INFO) and Debian's fastcgi_params HTTP_HOST
# ($host: no port) must not show in routes or redirects.
use strict;
use warnings;
use Test::More;
use TG;

tg_need('nginx', 'spawn-fcgi');

my $c = tg_cluster();
my ($u) = getpwnam('www-data') ? ('www-data') : ('nobody');

sub start {
	my ($tag, $prefix) = @_;
	my $d = tg_subdir("nginx-$tag-app");
	my $bin = tg_copy_bin("$d/taskgate");
	tg_write("$d/taskgate.conf", "database = " . $c->dsn .
	    "\nmax_body_size = 1024\n", 0644);
	my $sock = "$d/taskgate.sock";
	my $fpid = tg_spawn_fcgi(socket => $sock, bin => $bin,
	    args => ['-c', "$d/taskgate.conf"], sockuser => $u,
	    log => "$d/taskgate.log");
	my $port = tg_free_port();
	my $w = tg_nginx(tag => "-$tag", port => $port,
	    site => tg_conf_template('nginx.conf',
		['listen 80;', "listen 127.0.0.1:$port;"],
		['location /api {', "location $prefix/api {"],
		['unix:/run/taskgate/taskgate.sock', "unix:$sock"],
		['location / {', "location $prefix/ {"],
		['/usr/local/share/taskgate/www/', tg_www_copy("$d/dashboard") . '/']));
	$w->{base} .= $prefix;
	$w->{fpid} = $fpid;
	$w->{applog} = "$d/taskgate.log";
	return $w;
}

my $root = start('root', '');
tg_smoke($c, $root->{base}, 'nroot');
tg_dashboard_smoke($root->{base}, 'nroot');

my $sub = start('sub', '/taskgate');
tg_smoke($c, $sub->{base}, 'nsub');
tg_dashboard_smoke($sub->{base}, 'nsub');

my ($st, $h, $body) = tg_http(GET => "http://127.0.0.1:$sub->{port}/api/tasks");
is($st, 404, 'prefix mount: /api at the root is not taskgate');
unlike($body // '', qr/^\{"detail"/, '... nginx answers it');

tg_task($c, 'ng', backend => 'nginx');
# SCRIPT_NAME is decoded by nginx (x%2Fshards -> x/shards); taskgate uses
# the raw REQUEST_URI, so %2F stays part of the path it decodes itself.
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/ng%2Fshards");
is("$st $body", '200 {"task_id":"ng","shard_count":0,"shards":[]}',
    '%2F in the path is a slash');
# nginx merges slashes for location matching only; REQUEST_URI is raw.
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks//?q=%20");
is("$st " . ($h->{location} // ''), "307 $sub->{base}/api/tasks?q=%20",
    '307 for double slash, raw query kept');
# nginx answers %00 in the path with its own HTML 400 (a server quirk
# no configuration changes); in the query it reaches taskgate.
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/a%00b");
is($st, 400, '%00 in the path: nginx refuses it itself');
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks?status=a%00b&backend=%FF");
is("$st $body", '200 {"tasks":[],"total":0,"limit":100,"offset":0}',
    '%00 and invalid UTF-8 in the query: match nothing');
# A Host without a port (port 80): Location without one either.
($st, $h, $body) = tg_raw($sub->{port}, "GET /taskgate/api/tasks/ HTTP/1.1\r\n"
    . "Host: tasks.example.org\r\nConnection: close\r\n\r\n");
is("$st " . ($h->{location} // ''), '307 http://tasks.example.org/taskgate/api/tasks',
    'Host without a port: Location without one');
# A long query string (FastCGI 4-byte length form for QUERY_STRING too).
my $q = 'x' x 2000;
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks?backend=$q");
is("$st $body", '200 {"tasks":[],"total":0,"limit":100,"offset":0}', 'long query string');
# POST without Content-Length: nginx sends chunked bodies as a plain body.
($st, $h, $body) = tg_raw($sub->{port}, "POST /taskgate/api/tasks/bulk-delete HTTP/1.1\r\n"
    . "Host: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    . "Connection: close\r\n\r\n"
    . "9\r\n{\"task_id\r\n8\r\ns\":[\"ng\"\r\n2\r\n]}\r\n0\r\n\r\n");
is("$st $body", '200 {"deleted":["ng"],"missing":[],"count":1}', 'chunked request body');

done_testing();
