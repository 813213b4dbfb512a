#!/usr/bin/perl
# make install into a temporary prefix: the binary, taskgate-migrate
# (which must find the installed schema by itself), sql/, the conf/
# examples, taskgate(8) and the dashboard (www/); the installed pieces
# work together.
use strict;
use warnings;
use Test::More;
use TG;

my $bd = $ENV{TG_BUILDDIR};
plan skip_all => 'TG_BUILDDIR not set (run through make check)'
    unless $bd && -f "$bd/Makefile";

my $p = tg_subdir('inst');
my $out = `make -s -C '$bd' install prefix='$p' 2>&1`;
is($?, 0, 'make install prefix=...') or diag $out;

ok(-x "$p/bin/taskgate", 'bin/taskgate');
is(`'$p/bin/taskgate' -V`, `'$ENV{TG_BIN}' -V`, 'installed binary runs (-V)');
ok(-x "$p/bin/taskgate-migrate", 'bin/taskgate-migrate');
ok(-f "$p/share/taskgate/001_schema.sql", 'schema in pkgdatadir');
# The dashboard: every file of www/ in $(datadir)/taskgate/www, as written.
for my $f (tg_www_files()) {
	my $same = system('cmp', '-s', tg_srcdir() . "/www/$f", "$p/share/taskgate/www/$f") == 0;
	ok($same, "dashboard www/$f in share/taskgate/www");
}
for my $f (qw(apache-fcgid.conf apache-cgi.conf htaccess lighttpd.conf nginx.conf
    taskgate.socket taskgate.service taskgate.conf.sample)) {
	ok(-f "$p/share/doc/taskgate/examples/$f", "example $f");
}
my $man = "$p/share/man/man8/taskgate.8";
ok(-f $man, 'man page taskgate(8)');
ok(-f "$p/share/man/man8/taskgate-migrate.8", 'man page taskgate-migrate(8)');
SKIP: {
	tg_skip_unless(2, 'groff');
	# (A long temporary prefix may not fit a line: not the page's fault.)
	my $lint = join '', grep { !/can't break line/ }
	    `groff -mandoc -Tutf8 -ww -z '$man' 2>&1`;
	is($lint, '', 'man page formats without warnings');
	my $txt = `groff -mandoc -Tascii -P-cbou '$man' 2>/dev/null`;
	like($txt, qr/TASKGATE_CONFIG.*SIGTERM.*EXIT STATUS/s, 'man page has its sections');
}

# The installed migrate, run from anywhere, finds the installed schema.
my $c = tg_cluster();
$c->psql_admin('CREATE DATABASE inst');
(my $dsn = $c->dsn) =~ s/dbname=taskgate/dbname=inst/;
$out = `cd / && '$p/bin/taskgate-migrate' '$dsn' 2>&1`;
is($?, 0, 'installed taskgate-migrate runs') or diag $out;
like($out, qr/applied 001_schema\.sql/, '... and applies the installed schema');
is($c->sql('SELECT count(*) FROM tasks', 'inst'), '0', 'tasks table exists');
$out = `'$p/bin/taskgate-migrate' '$dsn' 2>&1`;
is("$? $out", '0 ', 'second run: nothing to do');

# The installed taskgate-admin finds the installed schema too.
ok(-f "$p/share/man/man8/taskgate-admin.8", 'man page taskgate-admin(8)');
$out = `cd / && '$p/bin/taskgate-admin' -d '$dsn' check 2>&1`;
is($?, 0, 'installed taskgate-admin check: schema current') or diag $out;
like($out, qr/schema current/, '... from the installed sql files');

# The installed binary answers a CGI request against that database.
tg_write("$p/taskgate.conf", "database = $dsn\n");
$out = `env -i REQUEST_METHOD=GET REQUEST_URI=/x/api/tasks/counts '$p/bin/taskgate' -c '$p/taskgate.conf' 2>/dev/null`;
like($out, qr/\r\n\r\n\{"pending":0,"running":0,"success":0,"failed":0,"cancelled":0,"total":0\}$/,
    'installed binary serves a CGI request');

done_testing();
