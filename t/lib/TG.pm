# TG.pm: the test harness.  Starts a throwaway PostgreSQL cluster and real
# web servers on free loopback ports in a per-test temporary directory, runs
# requests against the real taskgate binary, and stops everything at exit.
package TG;
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;
use HTTP::Tiny;
use POSIX qw(:sys_wait_h setsid);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(tg_cluster tg_lighttpd tg_http tg_bin tg_srcdir tg_tmpdir
	tg_free_port tg_wait_port tg_spawn tg_stop);

# libpq reads these from the environment of psql, taskgate and
# taskgate-admin alike: a time zone, a date style, session options, or an
# sslmode the test clusters do not offer would change what the suite
# sees.  Every DSN of the suite is complete without them.
delete @ENV{qw(PGTZ PGDATESTYLE PGOPTIONS PGCLIENTENCODING PGSSLMODE
    PGREQUIRESSL PGGSSENCMODE PGSERVICE PGSERVICEFILE PGTARGETSESSIONATTRS
    PGPASSWORD PGPASSFILE PGAPPNAME PGCONNECT_TIMEOUT)};

my @kill;		# [pid, signal] of servers to stop
my @clusters;		# data directories to stop
my $tmp;

sub tg_bin    { $ENV{TG_BIN}    // die "TG_BIN not set (run through make check)\n" }
sub tg_srcdir { $ENV{TG_SRCDIR} // '.' }

sub tg_tmpdir {
	return $tmp if $tmp;
	$tmp = tempdir('taskgate-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	chmod 0755, $tmp;
	return $tmp;
}

sub tg_free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 1) or die "no port: $!";
	my $p = $s->sockport;
	close $s;
	return $p;
}

sub tg_wait_port {
	my ($port, $secs) = @_;
	my $until = time + ($secs // 20);
	while (time < $until) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $port, Proto => 'tcp');
		if ($s) { close $s; return 1 }
		sleep 0.05;
	}
	return 0;
}

# Runs a command in its own process group (setsid); the whole group is
# stopped when the test ends, dies or is interrupted.  Options: cmd, log
# (stdout and stderr appended), stdin, env (added; an undef value removes
# the variable), dir (working directory), signal (to stop it: TERM).
sub tg_spawn {
	my (%o) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setsid();
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
		if ($o{log}) {
			open STDOUT, '>>', $o{log} or die;
			open STDERR, '>>', $o{log} or die;
		}
		if ($o{stdin}) { open STDIN, '<', $o{stdin} or die }
		my $env = $o{env} || {};
		for (keys %$env) {
			if (defined $env->{$_}) { $ENV{$_} = $env->{$_} }
			else { delete $ENV{$_} }
		}
		chdir $o{dir} or die "chdir $o{dir}: $!" if defined $o{dir};
		# (The block form: never a shell, even for one word with a space.)
		{ exec { $o{cmd}[0] } @{ $o{cmd} } };
		print STDERR "exec @{$o{cmd}}: $!\n";
		POSIX::_exit(127);
	}
	push @kill, [$pid, $o{signal} // 'TERM'];
	return $pid;
}

# Stops the process group led by $pid (started by tg_spawn): $sig (TERM)
# to the group, then waits up to $secs (10) for the leader and for every
# other member (a web server's FastCGI children) to be gone; KILLs the
# group after that.  The leader may have died already: its group is
# still signalled.  Returns 1 when everything stopped in time, 0 when it
# was killed.
sub tg_stop {
	my ($pid, $sig, $secs) = @_;
	kill $sig // 'TERM', -$pid;
	my $until = time + ($secs // 10);
	my $reaped = 0;
	while (time < $until) {
		$reaped ||= waitpid($pid, WNOHANG) != 0;
		if ($reaped && !kill(0, -$pid)) {
			@kill = grep { $_->[0] != $pid } @kill;
			return 1;
		}
		sleep 0.05;
	}
	kill 'KILL', -$pid;
	waitpid($pid, 0) unless $reaped;
	$until = time + 5;
	sleep 0.05 while kill(0, -$pid) && time < $until;
	@kill = grep { $_->[0] != $pid } @kill;
	return 0;
}

sub pg_bindir {
	my @d = sort { ($b =~ /(\d+)/)[0] <=> ($a =~ /(\d+)/)[0] }
	    grep { -x "$_/initdb" } glob('/usr/lib/postgresql/*/bin');
	return $d[0] // die "PostgreSQL server binaries not found\n";
}

# The prefix that runs a command as postgres when we are root (from /,
# since the caller's directory may be a checkout postgres cannot enter).
sub as_pg {
	return $> == 0 ? ('runuser', '-u', 'postgres', '--', 'env', '-C', '/') : ();
}

# A throwaway cluster with the taskgate schema in database "taskgate".
sub tg_cluster {
	my (%o) = @_;
	my $bin = pg_bindir();
	my $dir = tg_tmpdir() . "/pg" . (scalar(@clusters) || '');
	make_path("$dir/sock");
	if ($> == 0) {
		my ($uid, $gid) = (getpwnam('postgres'))[2, 3];
		chown $uid, $gid, $dir, "$dir/sock";
	}
	my $port = tg_free_port();
	system(as_pg(), "$bin/initdb", '-D', "$dir/data", '-A', 'trust',
	    '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--locale=C')
	    == 0 or die "initdb failed\n" if !-d "$dir/data";
	my $c = bless { dir => $dir, port => $port, bin => $bin }, 'TG::Cluster';
	push @clusters, $c;
	$c->start;
	$c->psql_admin('CREATE DATABASE taskgate');
	my $mig = tg_srcdir() . '/scripts/taskgate-migrate';
	system("'$mig' -d '" . tg_srcdir() . "/sql' '" . $c->dsn . "' >/dev/null") == 0
	    or die "migrate failed\n";
	return $c;
}

# A hot standby of cluster $p, streaming from it (pg_basebackup -R): a
# TG::Cluster of its own (port, dir) that is stopped at exit like $p.
sub tg_standby {
	my ($p) = @_;
	my $dir = tg_tmpdir() . "/pg" . scalar(@clusters);
	make_path("$dir/sock");
	if ($> == 0) {
		my ($uid, $gid) = (getpwnam('postgres'))[2, 3];
		chown $uid, $gid, $dir, "$dir/sock";
	}
	system(as_pg(), "$p->{bin}/pg_basebackup", '-D', "$dir/data", '-R',
	    '-X', 'stream', '-h', '127.0.0.1', '-p', $p->{port}, '-U',
	    'postgres', '--no-sync', '--checkpoint=fast') == 0 or die "pg_basebackup failed\n";
	my $c = bless { dir => $dir, port => tg_free_port(), bin => $p->{bin} },
	    'TG::Cluster';
	push @clusters, $c;
	$c->start;
	return $c;
}
push @EXPORT, 'tg_standby';

# Stops every process group tg_spawn started (even one whose leader has
# died: its other members may still run) and every cluster.
sub END_cleanup {
	my @k = reverse @kill;	# (tg_stop edits @kill)
	tg_stop(@$_) for @k;
	@kill = ();
	$_->stop for @clusters;
	@clusters = ();
}
my $owner = $$;
END { my $st = $?; END_cleanup() if $$ == $owner; $? = $st; }

# Interrupted (Ctrl-C, a killed prove or make, a closed terminal): exit,
# so that the END blocks stop every server and cluster.  The servers run
# in process groups of their own and would not see the terminal's signal.
for my $sig (qw(INT TERM HUP)) {
	$SIG{$sig} = sub {
		return unless $$ == $owner;
		# prove may be gone (the same Ctrl-C): a write to its pipe must
		# not kill the cleanup, nor may a second Ctrl-C.
		$SIG{$_} = 'IGNORE' for qw(INT TERM HUP PIPE);
		print STDERR "# SIG$sig: stopping the test's servers\n";
		exit 128 + ($sig eq 'INT' ? 2 : $sig eq 'TERM' ? 15 : 1);
	};
}

# lighttpd with mod_fastcgi in front of taskgate.  Options: prefix (mount
# path, default ''), conf (extra taskgate.conf lines), procs.
sub tg_lighttpd {
	my (%o) = @_;
	my $d = tg_tmpdir() . '/lighttpd' . ($o{tag} // '');
	make_path("$d/www");
	my $port = tg_free_port();
	my $prefix = $o{prefix} // '';
	open my $c, '>', "$d/taskgate.conf" or die;
	print $c "database = $o{dsn}\n" if $o{dsn};
	print $c $o{conf} // '';
	close $c;
	my $procs = $o{procs} // 1;
	# (lighttpd splits bin-path at spaces: a checkout path with one gets
	# a copy of the binary.)
	my $bin = $o{bin} // (tg_bin() =~ /\s/ ? tg_bin_copy() : tg_bin());
	open my $f, '>', "$d/lighttpd.conf" or die;
	print $f $o{lighttpd_pre} if $o{lighttpd_pre};
	print $f <<"CONF";
server.document-root = "$d/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$d/error.log"
server.modules += ( "mod_fastcgi" )
server.max-request-size = 65536
server.http-parseopts = ( "url-normalize" => "disable", "url-ctrls-reject" => "disable", "url-path-2f-decode" => "disable", "url-path-dotseg-remove" => "disable" )
fastcgi.server = ( "$prefix/api" => ((
	"bin-path" => "$bin",
	"socket" => "$d/taskgate.sock",
	"max-procs" => $procs,
	"check-local" => "disable",
	"bin-environment" => ( "TASKGATE_CONFIG" => "$d/taskgate.conf" ),
)) )
CONF
	print $f $o{lighttpd_conf} if $o{lighttpd_conf};
	close $f;
	my $pid = tg_spawn(cmd => ['lighttpd', '-D', '-f', "$d/lighttpd.conf"],
	    log => "$d/stdout.log");
	tg_wait_port($port) or die "lighttpd did not start: " .
	    `cat $d/error.log $d/stdout.log 2>/dev/null`;
	return { port => $port, pid => $pid, dir => $d, prefix => $prefix,
	    base => "http://127.0.0.1:$port$prefix", errlog => "$d/error.log" };
}

my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 60, keep_alive => 1);

# tg_http(METHOD, URL, body => ..., headers => {...}) -> (status, headers, body)
sub tg_http {
	my ($m, $url, %o) = @_;
	my %req = (headers => $o{headers} || {});
	$req{content} = $o{body} if defined $o{body};
	my $r = $http->request($m, $url, \%req);
	tg_openapi_log($m, $url, $r) if $ENV{TG_OPENAPI_LOG};
	return ($r->{status}, $r->{headers}, $r->{content});
}

# With TG_OPENAPI_LOG set, every answer tg_http gets is appended there
# (one JSON object a line) for t/999-openapi.t to check against
# docs/openapi.json.
sub tg_openapi_log {
	my ($m, $url, $r) = @_;
	require JSON::PP;
	my $ct = $r->{headers}{'content-type'} // '';
	$ct = $ct->[0] if ref $ct;
	my $body = $r->{content} // '';
	utf8::decode($body);
	my $line = JSON::PP->new->utf8->canonical->encode({ method => $m, url => $url,
	    status => $r->{status}, ctype => $ct, body => $body });
	open my $fh, '>>', $ENV{TG_OPENAPI_LOG} or return;
	print $fh "$line\n";
	close $fh;
}

package TG::Cluster;
use Time::HiRes qw(sleep);

sub dsn { my $c = shift; "host=127.0.0.1 port=$c->{port} user=postgres dbname=taskgate" }

# The server's options (pg_ctl -o).  Its time zone is set, not the
# machine's (initdb copies that): the suite runs alike everywhere, and
# on one that is not UTC (+05:45, without daylight saving), so that
# taskgate's and taskgate-admin's sessions prove they do not depend on
# it.  The test's own SQL (sql() below) runs in UTC.
sub server_opts {
	my $c = shift;
	return "-p $c->{port} -k $c->{dir}/sock -c listen_addresses=127.0.0.1 "
	    . "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
	    . "-c timezone=Asia/Kathmandu";
}

sub start {
	my $c = shift;
	$c->{up} = 1;	# even if pg_ctl fails below: stop() cleans up
	system(TG::as_pg(), "$c->{bin}/pg_ctl", '-D', "$c->{dir}/data", '-w',
	    '-l', "$c->{dir}/log", '-o', $c->server_opts, 'start') == 0
	    or die "pg_ctl start failed: " . `cat $c->{dir}/log`;
}

sub stop {
	my ($c, $mode) = @_;
	return unless $c->{up};
	system(TG::as_pg(), "$c->{bin}/pg_ctl", '-D', "$c->{dir}/data",
	    '-m', $mode // 'immediate', '-w', 'stop') ;
	$c->{up} = 0;
}

# Runs SQL (psql script text) in the taskgate database; returns the output
# (unaligned, tuples only).  Dies on error.
sub sql {
	my ($c, $sql, $db) = @_;
	my $dsn = $c->dsn;
	$dsn =~ s/dbname=taskgate/dbname=$db/ if $db;
	my ($fh0, $file) = File::Temp::tempfile(DIR => TG::tg_tmpdir(),
	    SUFFIX => '.sql');
	print $fh0 $sql;
	close $fh0;
	local $ENV{PGTZ} = 'UTC';	# the test's times: see server_opts
	open(my $fh, '-|', 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
	    '-f', $file, $dsn) // die "psql: $!";
	local $/;
	my $out = <$fh>;
	my $ok = close $fh;
	unlink $file;
	die "psql failed ($?): $sql\n" unless $ok;
	$out //= '';
	$out =~ s/\n+\z//;
	return $out;
}

sub psql_admin { my ($c, $sql) = @_; $c->sql($sql, 'postgres') }

# Standby $c has replayed everything primary $p has written so far, and
# shows it: a row committed on the primary after everything else is
# visible on the standby.
sub caught_up {
	my ($c, $p) = @_;
	# The test clusters commit asynchronously (synchronous_commit=off), so
	# the last commit may still sit in WAL buffers, past the primary's
	# write position, and a standby "caught up" with that position would
	# not have it yet.  A synchronous commit flushes everything before it;
	# the flush position then covers every earlier commit.  That commit
	# inserts a marker row, and the wait ends when a query on the standby
	# sees it: what a client of the standby would see, not only a position.
	my ($n, $lsn) = split /\n/, $p->sql("SET client_min_messages = warning;\n"
	    . "CREATE SCHEMA IF NOT EXISTS tg_test;\n"
	    . "CREATE TABLE IF NOT EXISTS tg_test.marker (n bigint);\n"
	    . "SET synchronous_commit = on;\n"
	    . "INSERT INTO tg_test.marker SELECT coalesce(max(n), 0) + 1 "
	    . "FROM tg_test.marker RETURNING n;\n"
	    . "SELECT pg_current_wal_flush_lsn()");
	my $replayed;
	for my $i (1 .. 400) {
		if (!$replayed) {
			$replayed = $i if $c->sql("SELECT "
			    . "pg_last_wal_replay_lsn() >= '$lsn'") eq 't';
		}
		# (The table is there once replay has passed $lsn.)
		return 1 if $replayed && $c->sql("SELECT count(*) FROM "
		    . "tg_test.marker WHERE n = $n") eq '1';
		sleep 0.05;
	}
	die "standby did not catch up with $lsn (marker $n"
	    . ($replayed ? " not visible, though replay passed it at poll $replayed" : '')
	    . ")\n";
}

1;

package TG;

# SQL literal for test fixtures (test-controlled text, quotes doubled).
sub lit { my $s = shift; return 'NULL' unless defined $s; $s =~ s/'/''/g; "'$s'" }

# Inserts a task: tg_task($c, id, status => .., backend => .., submit => ..,
# update => .., result => json text, metadata => json text, shots => n).
sub tg_task {
	my ($c, $id, %f) = @_;
	my $tab = $f{archived} ? 'archived_tasks' : 'tasks';
	my @cols = ('task_id', 'backend', 'status', 'shots');
	my @vals = (lit($id), lit($f{backend} // 'dummy:local:simulator'),
	    lit($f{status} // 'success'), $f{shots} // 0);
	for (['submit_time', 'submit'], ['update_time', 'update'],
	    ['result', 'result'], ['metadata', 'metadata'],
	    ['error_message', 'error']) {
		next unless exists $f{$_->[1]};
		push @cols, $_->[0];
		push @vals, lit($f{$_->[1]});
	}
	if ($f{archived}) {
		push @cols, 'archived_at';
		push @vals, lit($f{archived_at} // '2026-11-30T00:00:00Z');
	}
	$c->sql("INSERT INTO $tab (" . join(',', @cols) . ") VALUES (" .
	    join(',', @vals) . ")");
}

sub tg_shard {
	my ($c, $id, $idx, %f) = @_;
	my $tab = $f{archived} ? 'archived_task_shards' : 'task_shards';
	my $extra = $f{archived} ? ", archived_at" : "";
	my $ev = $f{archived} ? ", now()" : "";
	$c->sql("INSERT INTO $tab (uniqc_task_id, shard_index, platform_task_id,"
	    . " backend, status, submit_time, update_time$extra) VALUES ("
	    . join(',', lit($id), $idx, lit($f{platform} // "p-$id-$idx"),
	      lit($f{backend} // 'originq:WK_C180'), lit($f{status} // 'success'),
	      lit($f{submit} // '2026-11-28T16:44:43.1205Z'),
	      lit($f{update} // '2026-11-28T16:44:43Z')) . "$ev)");
}

push @EXPORT, qw(tg_task tg_shard lit);

# One process for a whole .t file: cluster + lighttpd, ready to use.
sub tg_setup {
	my (%o) = @_;
	my $c = tg_cluster();
	my $w = tg_lighttpd(dsn => $c->dsn, %o);
	return ($c, $w);
}
push @EXPORT, 'tg_setup';

1;

package TG;

# Sends raw request bytes (with Connection: close) and parses the answer:
# (status, {lowercased headers}, body).  For what HTTP::Tiny will not send.
sub tg_raw {
	my ($port, $req) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
	    Proto => 'tcp', Timeout => 60) or die "connect: $!";
	binmode $s;
	print $s $req;
	local $/;
	my $all = <$s> // '';
	close $s;
	my ($head, $body) = split /\r\n\r\n/, $all, 2;
	$head //= '';
	my ($line, @h) = split /\r\n/, $head;
	my ($st) = ($line // '') =~ m{^HTTP/\S+ (\d+)};
	my %h;
	for (@h) { my ($k, $v) = split /:\s*/, $_, 2; $h{lc $k} = $v }
	if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
		my $out = '';
		while ($body =~ s/^([0-9a-fA-F]+)\r\n//) {
			my $n = hex $1;
			last if $n == 0;
			$out .= substr($body, 0, $n, '');
			$body =~ s/^\r\n//;
		}
		$body = $out;
	}
	return ($st // 0, \%h, $body // '');
}
push @EXPORT, 'tg_raw';

1;

package TG;

# --- Deployment harness: the conf/ examples through real servers. -------

# The text of conf/NAME with each [from, to] string replaced, in order.
# Dies when a "from" is not in the file, so a conf/ edit that a test
# relies on cannot pass silently.
sub tg_conf_template {
	my ($name, @subst) = @_;
	my $file = tg_srcdir() . "/conf/$name";
	open my $fh, '<', $file or die "$file: $!";
	local $/;
	my $t = <$fh>;
	close $fh;
	for my $s (@subst) {
		my ($from, $to) = @$s;
		my $n = ($t =~ s/\Q$from\E/$to/g);
		die "conf/$name: '$from' not found\n" unless $n;
	}
	return $t;
}

sub tg_write {
	my ($path, $text, $mode) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	chmod $mode, $path if defined $mode;
	return $path;
}

# Copies the binary under test to PATH (mode 0755): servers that run as
# another user need not reach into the build tree.
sub tg_copy_bin {
	my ($path) = @_;
	my $bin = tg_bin();
	system('cp', $bin, $path) == 0 or die "cp $bin $path failed\n";
	chmod 0755, $path;
	return $path;
}

# A directory under the test's temp dir, readable by every user.
sub tg_subdir {
	my ($name) = @_;
	my $d = tg_tmpdir() . "/$name";
	make_path($d);
	chmod 0755, $d;
	return $d;
}

# Waits until PATH exists (a unix socket a server creates).
sub tg_wait_file {
	my ($path, $secs) = @_;
	my $until = time + ($secs // 20);
	while (time < $until) {
		return 1 if -e $path;
		sleep 0.05;
	}
	return 0;
}

sub tg_apache_modules { '/usr/lib/apache2/modules' }

# Apache in the foreground with its own configuration file (never the
# system one).  Options: site (text appended: the conf/ example),
# modules (extra module names, e.g. [qw(fcgid rewrite)]), mpm ('event'),
# tag, docroot.  The server runs as www-data: everything it reads must be
# world-readable (tg_subdir, tg_copy_bin).  Returns
# { port, pid, dir, base, errlog, docroot }.
sub tg_apache {
	my (%o) = @_;
	my $d = tg_subdir('apache' . ($o{tag} // ''));
	my $docroot = $o{docroot} // tg_subdir('apache' . ($o{tag} // '') . '/www');
	mkdir "$d/run";
	my $port = $o{port} // tg_free_port();
	my $m = tg_apache_modules();
	my $mpm = $o{mpm} // 'event';
	my $ao = $o{allowoverride} // 'None';
	my @mods = ("mpm_$mpm", qw(authz_core authz_host alias mime dir env),
	    @{ $o{modules} || [] });
	my $load = join '', map { "LoadModule ${_}_module $m/mod_$_.so\n" } @mods;
	my ($u) = getpwnam('www-data') ? ('www-data') : ('nobody');
	my $g = getgrnam($u) ? $u : 'nogroup';
	# Apache itself must be able to write its runtime files as $u.
	if ($> == 0) {
		my ($uid, $gid) = (getpwnam($u))[2, 3];
		chown $uid, $gid, "$d/run";
	}
	my $fcgid = grep({ $_ eq 'fcgid' } @mods) ?
	    "FcgidIPCDir $d/run\nFcgidProcessTableFile $d/run/fcgid_shm\n" : '';
	my $cgid = grep({ $_ eq 'cgid' } @mods) ? "ScriptSock $d/run/cgisock\n" : '';
	my $conf = <<"CONF";
# Generated by t/lib/TG.pm tg_apache().
ServerRoot $d
DefaultRuntimeDir $d/run
PidFile $d/run/httpd.pid
Mutex file:$d/run default
ErrorLog $d/error.log
LogLevel warn
$load
User $u
Group $g
Listen 127.0.0.1:$port
ServerName 127.0.0.1
TypesConfig /etc/mime.types
DocumentRoot $docroot
Timeout 60
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory $docroot>
	AllowOverride $ao
	Require all granted
</Directory>
# As Debian's apache2.conf: never serve .htaccess / .htpasswd.
<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>
$fcgid$cgid
@{[ $o{site} // '' ]}
CONF
	tg_write("$d/httpd.conf", $conf);
	my $t = `apache2 -t -f $d/httpd.conf 2>&1`;
	die "apache2 -t failed: $t" if $?;
	my $pid = tg_spawn(cmd => ['apache2', '-f', "$d/httpd.conf",
	    '-DFOREGROUND'], log => "$d/stdout.log", signal => 'TERM');
	tg_wait_port($port) or die "apache2 did not start: " .
	    `cat $d/error.log $d/stdout.log 2>/dev/null`;
	return { port => $port, pid => $pid, dir => $d, docroot => $docroot,
	    base => "http://127.0.0.1:$port", errlog => "$d/error.log" };
}

# nginx in the foreground with its own configuration; site is the text of
# a server { } block (the conf/ example), included in http { }.  Returns
# { port, pid, dir, base, errlog }.
sub tg_nginx {
	my (%o) = @_;
	my $d = tg_subdir('nginx' . ($o{tag} // ''));
	make_path("$d/tmp", "$d/logs");
	my $port = $o{port} // tg_free_port();
	my ($u) = getpwnam('www-data') ? ('www-data') : ('nobody');
	my $user = $> == 0 ? "user $u;" : '';
	tg_write("$d/site.conf", $o{site});
	# "include fastcgi_params" is relative to the configuration's
	# directory: use the system's file, as a stock nginx would.
	system('cp', '/etc/nginx/fastcgi_params', "$d/fastcgi_params")
	    if -f '/etc/nginx/fastcgi_params';
	system('cp', '/etc/nginx/mime.types', "$d/mime.types")
	    if -f '/etc/nginx/mime.types';
	tg_write("$d/nginx.conf", <<"CONF");
# Generated by t/lib/TG.pm tg_nginx().
daemon off;
master_process on;
worker_processes 1;
$user
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	fastcgi_temp_path $d/tmp/fastcgi;
	proxy_temp_path $d/tmp/proxy;
	scgi_temp_path $d/tmp/scgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	default_type application/octet-stream;
	include $d/site.conf;
}
CONF
	my $t = `nginx -t -p $d/ -c $d/nginx.conf 2>&1`;
	die "nginx -t failed: $t" if $?;
	my $pid = tg_spawn(cmd => ['nginx', '-p', "$d/", '-c', "$d/nginx.conf"],
	    log => "$d/stdout.log", signal => 'QUIT');
	tg_wait_port($port) or die "nginx did not start: " .
	    `cat $d/error.log $d/stdout.log 2>/dev/null`;
	return { port => $port, pid => $pid, dir => $d,
	    base => "http://127.0.0.1:$port", errlog => "$d/error.log" };
}

# spawn-fcgi -n (no fork: the returned pid is taskgate itself) on a unix
# socket.  Options: socket, bin, args (after the binary), user (run
# taskgate as), sockuser (owner of the socket: the web server's user),
# log, env.  Returns the pid.  As root the program runs as another user
# (nobody by default), who may not reach the checkout (a 0700 home):
# it then runs from / with a copy of the binary in the temp dir (when no
# bin is given) and without PERL5LIB (prove's -I, in the checkout).
sub tg_spawn_fcgi {
	my (%o) = @_;
	my $sock = $o{socket} // die "socket required";
	unlink $sock;
	my @cmd = ('spawn-fcgi', '-n', '-s', $sock, '-M', '0660');
	my $bin = $o{bin};
	my %env = %{ $o{env} || {} };
	if ($> == 0) {
		push @cmd, '-u', $o{user} // 'nobody';
		push @cmd, '-U', $o{sockuser} if $o{sockuser};
		push @cmd, '-G', $o{sockuser} if $o{sockuser};
		$bin //= tg_bin_copy();
		$env{PERL5LIB} = undef unless exists $env{PERL5LIB};
	}
	push @cmd, '--', $bin // tg_bin(), @{ $o{args} || [] };
	my $pid = tg_spawn(cmd => \@cmd, log => $o{log}, env => \%env,
	    dir => ($> == 0 ? '/' : undef));
	tg_wait_file($sock) or die "spawn-fcgi: no socket $sock: " .
	    ($o{log} ? `cat $o{log}` : '');
	return $pid;
}

# One copy of the binary under test in the temp dir (made on first use),
# for servers that run it as another user.
my $bin_copy;
sub tg_bin_copy {
	$bin_copy //= tg_copy_bin(tg_subdir('bin') . '/taskgate');
	return $bin_copy;
}

push @EXPORT, qw(tg_conf_template tg_write tg_copy_bin tg_bin_copy tg_subdir
	tg_wait_file tg_apache tg_apache_modules tg_nginx tg_spawn_fcgi);

1;

package TG;
use Test::More ();

# The deployment smoke set, the same through every server.  $base is the
# URL up to and including the mount prefix (http://127.0.0.1:PORT/prefix),
# $tag makes this run's fixtures unique (runs share a cluster).  The
# taskgate.conf behind the server must set max_body_size = 1024.
# Asserts exact statuses and bodies; returns nothing.
sub tg_smoke {
	my ($c, $base, $tag) = @_;
	my ($st, $h, $body);
	my $be = "smoke:$tag";
	tg_task($c, "$tag-1", status => 'success', backend => $be, shots => 100,
	    submit => '2026-11-28T16:44:43.1205Z', update => '2026-11-28T16:44:44Z',
	    result => '{"counts": {"00": 51, "11": 49}}', metadata => '{"k": "v"}');
	tg_task($c, "$tag-2", status => 'running', backend => $be,
	    submit => '2026-11-29T08:00:00Z', update => '2026-11-29T08:00:00Z');
	my $s1 = qq({"task_id":"$tag-1","backend":"$be","status":"success","shots":100,"submit_time":"2026-11-28T16:44:43.120500+00:00","update_time":"2026-11-28T16:44:44+00:00","has_result":true,"metadata":{"k":"v"},"archived_at":null});
	my $s2 = qq({"task_id":"$tag-2","backend":"$be","status":"running","shots":0,"submit_time":"2026-11-29T08:00:00+00:00","update_time":"2026-11-29T08:00:00+00:00","has_result":false,"metadata":{},"archived_at":null});

	($st, $h, $body) = tg_http(GET => "$base/api/tasks?backend=$be");
	Test::More::is($st, 200, "$tag: list 200");
	Test::More::is($body, qq({"tasks":[$s2,$s1],"total":2,"limit":100,"offset":0}),
	    "$tag: list body exact");
	Test::More::like($h->{'content-type'} // '', qr{^application/json},
	    "$tag: list is JSON");

	($st, $h, $body) = tg_http(GET => "$base/api/tasks/$tag-1");
	Test::More::is($st, 200, "$tag: detail 200");
	Test::More::is($body, qq({"task_id":"$tag-1","backend":"$be","status":"success","shots":100,"submit_time":"2026-11-28T16:44:43.120500+00:00","update_time":"2026-11-28T16:44:44+00:00","result":{"counts":{"00":51,"11":49}},"metadata":{"k":"v"},"archived_at":null}),
	    "$tag: detail body exact");

	($st, $h, $body) = tg_http(GET => "$base/api/tasks/$tag-nope");
	Test::More::is($st, 404, "$tag: unknown task 404");
	Test::More::is($body, qq({"detail":"Task '$tag-nope' not found"}),
	    "$tag: 404 body");
	Test::More::like($h->{'content-type'} // '', qr{^application/json},
	    "$tag: 404 is JSON (not the server's page)");
	($st, $h, $body) = tg_http(GET => "$base/api/nope");
	Test::More::is("$st $body", '404 {"detail":"Not Found"}',
	    "$tag: unknown path 404 from taskgate");

	($st, $h, $body) = tg_http(POST => "$base/api/tasks/bulk-delete",
	    headers => { 'Content-Type' => 'application/json' },
	    body => qq({"task_ids":["$tag-2","$tag-missing","$tag-2"]}));
	Test::More::is($st, 200, "$tag: bulk-delete 200");
	Test::More::is($body, qq({"deleted":["$tag-2"],"missing":["$tag-missing","$tag-2"],"count":1}),
	    "$tag: bulk-delete body");
	($st, $h, $body) = tg_http(GET => "$base/api/tasks?backend=$be");
	Test::More::is($body, qq({"tasks":[$s1],"total":1,"limit":100,"offset":0}),
	    "$tag: deleted task gone from the list");

	($st, $h, $body) = tg_http(GET => "$base/api/tasks?limit=ten&offset=1_0");
	Test::More::is($st, 422, "$tag: bad limit 422");
	Test::More::is($body, '{"detail":[{"type":"int_parsing","loc":["query","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"ten"}]}',
	    "$tag: 422 body");

	($st, $h, $body) = tg_http(GET => "$base/api/tasks/?backend=$be&limit=5");
	Test::More::is($st, 307, "$tag: trailing slash 307");
	Test::More::is($h->{location}, "$base/api/tasks?backend=$be&limit=5",
	    "$tag: 307 Location absolute, prefix and query kept");
	Test::More::is($body, '', "$tag: 307 body empty");
	($st, $h, $body) = tg_http(GET => "$base/api/tasks/$tag-1/");
	Test::More::is("$st " . ($h->{location} // ''), "307 $base/api/tasks/$tag-1",
	    "$tag: 307 for a detail URL");

	my $big = '{"task_ids":[' . join(',', map { qq("$tag-x$_") } 1 .. 200) . ']}';
	($st, $h, $body) = tg_http(POST => "$base/api/tasks/bulk-delete",
	    headers => { 'Content-Type' => 'application/json' }, body => $big);
	Test::More::is($st, 413, "$tag: body over max_body_size 413");
	Test::More::is($body, '{"detail":"Request body too large"}', "$tag: 413 body");

	($st, $h, $body) = tg_http(GET => "$base/api/health");
	Test::More::is("$st $body", '200 {"status":"ok"}', "$tag: health after the errors");
	tg_smoke_large($c, $base, $tag);
}

# Fixtures for large answers (src/gw.c writes a piece of 16 KiB or more
# as FastCGI records of up to 64 KiB of its own, after what libfcgi's
# stream holds), all on backend $be: "$p-big", submitted 2026-11-20, with
# a 428 KB result, and "$p-m$i" for each length in @pad, submitted an
# hour apart on 2026-11-19, with metadata {"pad":"x..."} of that many
# x's.  Returns the exact answers of GET /api/tasks/$p-big and of the
# list of $be (the big task first, then the others newest first).
sub tg_large_tasks {
	my ($c, $p, $be, @pad) = @_;
	my $sum = sub {
		my ($id, $t, $has, $m) = @_;
		return qq({"task_id":"$id","backend":"$be","status":"success","shots":0,"submit_time":"$t+00:00","update_time":"$t+00:00","has_result":$has,"metadata":$m,"archived_at":null});
	};
	my $res = '{"counts":{' . join(',', map { qq("k$_":$_) } 1 .. 30001) . '}}';
	my $t0 = '2026-11-20T00:00:00';
	tg_task($c, "$p-big", backend => $be, submit => "${t0}Z",
	    update => "${t0}Z", result => $res);
	my @rows;
	for my $i (0 .. $#pad) {
		my $t = sprintf('2026-11-19T%02d:00:00', $i);
		my $m = qq({"pad":") . ('x' x $pad[$i]) . '"}';
		tg_task($c, "$p-m$i", backend => $be, submit => "${t}Z",
		    update => "${t}Z", metadata => $m);
		unshift @rows, $sum->("$p-m$i", $t, 'false', $m);
	}
	unshift @rows, $sum->("$p-big", $t0, 'true', '{}');
	return (qq({"task_id":"$p-big","backend":"$be","status":"success","shots":0,"submit_time":"$t0+00:00","update_time":"$t0+00:00","result":$res,"metadata":{},"archived_at":null}),
	    '{"tasks":[' . join(',', @rows) . '],"total":' . @rows
	    . ',"limit":100,"offset":0}');
}

# Large answers through the server: a detail of 428 KB written whole,
# and a list streamed in pieces below and above 16 KiB in turn, each
# piece of an odd length (the padding), byte for byte.
sub tg_smoke_large {
	my ($c, $base, $tag) = @_;
	my $be = "smoke:$tag:big";
	my ($detail, $list) = tg_large_tasks($c, $tag, $be,
	    3001, 2999, 3003, 20001, 3005, 70001, 2997, 40003, 11);
	my ($st, $h, $body) = tg_http(GET => "$base/api/tasks/$tag-big");
	Test::More::is($st, 200, "$tag: large detail 200");
	Test::More::ok($body eq $detail, sprintf('%s: large detail exact (%d bytes, want %d)',
	    $tag, length $body, length $detail));
	($st, $h, $body) = tg_http(GET => "$base/api/tasks?backend=$be&status=success");
	Test::More::is($st, 200, "$tag: large list 200");
	Test::More::ok($body eq $list, sprintf('%s: large streamed list exact (%d bytes, want %d)',
	    $tag, length $body, length $list));
}

push @EXPORT, 'tg_smoke', 'tg_large_tasks';


# Sanitizer builds (./configure --enable-sanitizers): every taskgate the
# tests start inherits these (lighttpd copies its environment to its
# FastCGI backends), so a finding aborts the process, and LeakSanitizer
# runs when it exits.  Their reports land on stderr, i.e. in the web
# server's error log or the tg_spawn log: those logs are scanned when the
# test ends (after every server has stopped), and any report fails the
# test with the report shown.  Harmless for a normal build.
$ENV{ASAN_OPTIONS} //= 'abort_on_error=1:detect_leaks=1:halt_on_error=1';
$ENV{UBSAN_OPTIONS} //= 'print_stacktrace=1:halt_on_error=1';
$ENV{LSAN_OPTIONS} //= 'exitcode=23';

my @san_logs;
sub tg_watch_log { push @san_logs, @_ }
push @EXPORT, 'tg_watch_log';

my $san_re = qr/ERROR: (?:AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|LeakSanitizer has encountered/;

# Sanitizer report lines in the watched logs (and any extra files given).
sub tg_sanitizer_reports {
	my @out;
	for my $f (@san_logs, @_) {
		open my $fh, '<', $f or next;
		my @l = <$fh>;
		close $fh;
		for my $i (0 .. $#l) {
			next unless $l[$i] =~ $san_re;
			my $end = $i + 30 > $#l ? $#l : $i + 30;
			push @out, "$f:\n", @l[$i .. $end];
			last;
		}
	}
	return @out;
}
push @EXPORT, 'tg_sanitizer_reports';

{
	no warnings 'redefine';
	my $orig_lighttpd = \&tg_lighttpd;
	*tg_lighttpd = sub {
		my $w = $orig_lighttpd->(@_);
		tg_watch_log("$w->{dir}/error.log", "$w->{dir}/stdout.log");
		return $w;
	};
	my $orig_spawn = \&tg_spawn;
	*tg_spawn = sub {
		my (%o) = @_;
		tg_watch_log($o{log}) if $o{log};
		return $orig_spawn->(%o);
	};
}

my @san_groups;
END {
	if ($$ == $owner) {
		my $st = $?;
		# Stop everything first, and wait for the FastCGI children
		# (same process group as their server) to finish exiting:
		# LeakSanitizer writes its report at exit.
		@san_groups = map { $_->[0] } @kill;
		END_cleanup();
		my $until = time + 10;
		for my $g (@san_groups) {
			sleep 0.05 while kill(0, -$g) && time < $until;
		}
		my @r = tg_sanitizer_reports();
		if (@r) {
			print STDERR "# sanitizer report(s):\n",
			    map { "# $_" } @r;
			$st ||= 1;
		}
		$? = $st;
	}
}

1;

package TG;

# --- What a test needs installed. ----------------------------------------
# Every skip for a missing program goes through here.  On a developer's
# machine the test (or block) is skipped with the Debian package to
# install; in CI (CI=true) a missing package is a failure, since
# scripts/deps installs everything there.
my %need = (
	apache2 => [ '/usr/sbin/apache2', 'apache2' ],
	mod_fcgid => [ sub { -f tg_apache_modules() . '/mod_fcgid.so' },
	    'libapache2-mod-fcgid' ],
	nginx => [ '/usr/sbin/nginx', 'nginx-light' ],
	lighttpd => [ '/usr/sbin/lighttpd', 'lighttpd' ],
	'spawn-fcgi' => [ '/usr/bin/spawn-fcgi', 'spawn-fcgi' ],
	'cgi-fcgi' => [ '/usr/bin/cgi-fcgi', 'libfcgi-bin' ],
	pgbouncer => [ '/usr/sbin/pgbouncer', 'pgbouncer' ],
	groff => [ '/usr/bin/groff', 'groff-base' ],
	'systemd-analyze' => [ '/usr/bin/systemd-analyze', 'systemd' ],
	valgrind => [ '/usr/bin/valgrind', 'valgrind' ],
	curl => [ '/usr/bin/curl', 'curl' ],
	time => [ '/usr/bin/time', 'time' ],
);

sub tg_in_ci { ($ENV{CI} // '') =~ /^(?:true|1|yes)$/i }

# The names in @what that are missing, and the packages that have them.
sub missing {
	my @miss;
	for my $w (@_) {
		my $n = $need{$w} // die "tg_need: unknown '$w'\n";
		my $ok = ref $n->[0] ? $n->[0]->() : -x $n->[0];
		push @miss, [ $w, $n->[1] ] unless $ok;
	}
	return @miss;
}

sub why {
	my @m = @_;
	my %p = map { $_->[1] => 1 } @m;
	return join(', ', map { $_->[0] } @m) . ' not installed: apt-get install '
	    . join(' ', sort keys %p) . ' (or scripts/deps)';
}

# tg_need(NAME...) before any test: skips the whole file when one is
# missing (fails it in CI).  Names: the keys of %need above.
sub tg_need {
	my @m = missing(@_) or return 1;
	my $why = why(@m);
	if (tg_in_ci()) {
		Test::More::plan(tests => 1);
		Test::More::fail("CI=true and $why");
		exit 1;
	}
	Test::More::plan(skip_all => $why);
}

# Inside a SKIP: { } block: tg_skip_unless(N, NAME...) skips its N tests
# when something is missing (in CI: one failure instead).
sub tg_skip_unless {
	my ($n, @what) = @_;
	my @m = missing(@what) or return 1;
	my $why = why(@m);
	if (tg_in_ci()) {
		Test::More::fail("CI=true and $why");
		no warnings 'exiting';
		last SKIP;
	}
	Test::More::skip($why, $n);
}

push @EXPORT, qw(tg_need tg_skip_unless tg_in_ci);

1;

package TG;
use File::Copy ();

# The dashboard's files (www/: index.html, *.js, *.css).
sub tg_www_files {
	my $dir = tg_srcdir() . '/www';
	opendir my $dh, $dir or die "$dir: $!";
	my @f = sort grep { /\.(html|js|css)\z/ } readdir $dh;
	closedir $dh;
	return @f;
}

# A copy of www/ readable by every user (servers run as www-data), in DIR
# (created if needed).  Returns DIR.
sub tg_www_copy {
	my ($dir) = @_;
	make_path($dir);
	chmod 0755, $dir;
	for my $f (tg_www_files()) {
		File::Copy::copy(tg_srcdir() . "/www/$f", "$dir/$f") or die "copy $f: $!";
		chmod 0644, "$dir/$f";
	}
	return $dir;
}

sub slurp_www {
	my ($f) = @_;
	open my $fh, '<:raw', tg_srcdir() . "/www/$f" or die "www/$f: $!";
	local $/;
	return scalar <$fh>;
}

# The dashboard through a server: $base/ (the mount prefix, no slash at
# the end) answers index.html, and every JS module and the stylesheet
# come with a type the browser accepts (a module script sent as
# anything but JavaScript does not run), byte for byte.
sub tg_dashboard_smoke {
	my ($base, $tag) = @_;
	my ($st, $h, $body) = tg_http(GET => "$base/");
	Test::More::is($st, 200, "$tag: dashboard index at $base/");
	Test::More::like($h->{'content-type'} // '', qr{^text/html}, "$tag: index is HTML");
	Test::More::ok(defined $body && $body eq slurp_www('index.html'), "$tag: index.html as written");
	for my $f (grep { /\.(js|css)\z/ } tg_www_files()) {
		($st, $h, $body) = tg_http(GET => "$base/$f");
		my $type = $f =~ /\.js\z/ ? qr{^(text|application)/javascript} : qr{^text/css};
		Test::More::is($st, 200, "$tag: $f 200");
		Test::More::like($h->{'content-type'} // '', $type, "$tag: $f type");
		Test::More::ok(defined $body && $body eq slurp_www($f), "$tag: $f as written");
	}
}

push @EXPORT, qw(tg_www_files tg_www_copy tg_dashboard_smoke);

1;
