#!/usr/bin/perl
# conf/lighttpd.conf as documented, through a real lighttpd (mod_fastcgi,
# bin-path, max-procs) at the site root and under /taskgate: the
# deployment smoke set, and lighttpd's prefix-match split of
# SCRIPT_NAME/PATH_INFO not leaking into routes or redirects.
use strict;
use warnings;
use Test::More;
use TG;

tg_need('lighttpd');

my $c = tg_cluster();

sub start {
	my ($tag, $prefix) = @_;
	my $d = tg_subdir("lighttpd-$tag");
	mkdir "$d/www";
	my $bin = tg_copy_bin("$d/taskgate");
	tg_write("$d/taskgate.conf", "database = " . $c->dsn .
	    "\nmax_body_size = 1024\n", 0644);
	my $port = tg_free_port();
	my $site = tg_conf_template('lighttpd.conf',
	    ['"/api" =>', "\"$prefix/api\" =>"],
	    ['/usr/local/bin/taskgate', $bin],
	    ['/run/lighttpd/taskgate.sock', "$d/taskgate.sock"],
	    ['/etc/taskgate/taskgate.conf', "$d/taskgate.conf"],
	    ['alias.url += ( "/" =>', "alias.url += ( \"$prefix/\" =>"],
	    ['/usr/local/share/taskgate/www/', tg_www_copy("$d/dashboard") . '/']);
	tg_write("$d/lighttpd.conf", <<"CONF" . $site);
server.document-root = "$d/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$d/error.log"
# As Debian's lighttpd.conf, which the example is enabled into:
index-file.names = ( "index.html" )
include_shell "/usr/share/lighttpd/create-mime.conf.pl"
CONF
	my $t = `lighttpd -tt -f $d/lighttpd.conf 2>&1`;
	is($?, 0, "$tag: lighttpd accepts the configuration") or diag $t;
	my $pid = tg_spawn(cmd => ['lighttpd', '-D', '-f', "$d/lighttpd.conf"],
	    log => "$d/stdout.log");
	tg_wait_port($port) or BAIL_OUT("lighttpd did not start: " .
	    `cat $d/error.log $d/stdout.log`);
	return { port => $port, pid => $pid, dir => $d,
	    base => "http://127.0.0.1:$port$prefix" };
}

my $root = start('root', '');
tg_smoke($c, $root->{base}, 'lroot');
tg_dashboard_smoke($root->{base}, 'lroot');

my $sub = start('sub', '/taskgate');
tg_smoke($c, $sub->{base}, 'lsub');
tg_dashboard_smoke($sub->{base}, 'lsub');
my ($st, $h, $body) = tg_http(GET => "http://127.0.0.1:$sub->{port}/api/tasks");
is($st, 404, 'prefix mount: /api at the root is not taskgate');
unlike($body // '', qr/^\{"detail"/, '... lighttpd answers it');
# %2F reaches taskgate undecoded (http-parseopts in the example): a '/'.
tg_task($c, 'lp', backend => 'procs');
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/lp%2Fshards");
is("$st $body", '200 {"task_id":"lp","shard_count":0,"shards":[]}',
    'prefix mount: %2F in the path is a slash');
($st, $h, $body) = tg_http(GET => "$sub->{base}/api/tasks/lp%2Fshards/?a=%2F");
is("$st " . ($h->{location} // ''), "307 $sub->{base}/api/tasks/lp%2Fshards?a=%2F",
    'prefix mount: 307 Location keeps the raw path and query');

# max-procs 2: both processes answer.
my %seen;
for (1 .. 20) {
	($st, $h, $body) = tg_http(GET => "$root->{base}/api/tasks/lp");
	$seen{$st}++;
}
is_deeply(\%seen, { 200 => 20 }, '20 requests through max-procs 2: all 200');

done_testing();
