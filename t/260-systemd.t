#!/usr/bin/perl
# conf/taskgate.socket + conf/taskgate.service: systemd-analyze verify
# accepts them (paths templated), and their semantics work with the real
# binary behind nginx (conf/nginx.conf).  PID 1 is not systemd here, so the
# test does what the units tell systemd to do: bind ListenStream with
# SocketUser/SocketMode, start ExecStart with the listening socket on fd 0
# (StandardInput=socket) as User=, stop it with KillSignal=.  The socket
# outlives the service: a request sent while the service is stopped waits
# in the backlog and is answered once the service starts again.
use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use TG;

tg_need('nginx');

my $c = tg_cluster();
my $d = tg_subdir('systemd');
my $bin = tg_copy_bin("$d/taskgate");
tg_write("$d/taskgate.conf", "database = " . $c->dsn .
    "\nmax_body_size = 1024\n", 0644);
my $sockpath = "$d/run/taskgate.sock";
mkdir "$d/run";
chmod 0755, "$d/run";

my $socket = tg_conf_template('taskgate.socket',
    ['/run/taskgate/taskgate.sock', $sockpath]);
my $service = tg_conf_template('taskgate.service',
    ['/usr/local/bin/taskgate', $bin],
    ['/etc/taskgate/taskgate.conf', "$d/taskgate.conf"]);
tg_write("$d/taskgate.socket", $socket);
tg_write("$d/taskgate.service", $service);

SKIP: {
	tg_skip_unless(1, 'systemd-analyze');
	my $out = `systemd-analyze verify --man=no $d/taskgate.socket $d/taskgate.service 2>&1`;
	is($?, 0, 'systemd-analyze verify accepts both units') or diag $out;
}

sub key {
	my ($text, $k) = @_;
	my ($v) = $text =~ /^\Q$k\E=(.*)$/m or die "no $k=";
	return $v;
}
is(key($service, 'StandardInput'), 'socket', 'service: listening socket on fd 0');
is(key($socket, 'Accept'), 'no', 'socket: one long-lived process accepts');
like(key($service, 'StandardError'), qr/^journal/, 'service: stderr not on the socket');
is(key($service, 'KillSignal'), 'SIGTERM', 'service: stopped with SIGTERM');

# [Socket]: bind, owner, mode, backlog.
my $ls = IO::Socket::UNIX->new(Local => $sockpath, Type => SOCK_STREAM,
    Listen => key($socket, 'Backlog')) or die "bind $sockpath: $!";
my ($wu) = getpwnam(key($socket, 'SocketUser')) ? (key($socket, 'SocketUser')) : ('nobody');
if ($> == 0) {
	my ($uid, $gid) = (getpwnam($wu))[2, 3];
	chown $uid, $gid, $sockpath;
}
chmod oct(key($socket, 'SocketMode')), $sockpath;

# [Service]: ExecStart as User (nobody here: the unit's user need not
# exist on the test machine), the socket on fd 0, stderr to a log.
my @exec = split ' ', key($service, 'ExecStart');
sub start_service {
	my $pid = fork // die;
	if ($pid == 0) {
		POSIX::setsid();
		POSIX::dup2(fileno($ls), 0) or POSIX::_exit(126);
		open STDOUT, '>>', "$d/journal.log" or POSIX::_exit(126);
		open STDERR, '>>', "$d/journal.log" or POSIX::_exit(126);
		if ($> == 0) {
			my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
			POSIX::setgid($gid); POSIX::setuid($uid);
		}
		{ exec @exec };
		POSIX::_exit(127);
	}
	return $pid;
}
sub stop_service {
	my ($pid) = @_;
	kill key($service, 'KillSignal') =~ s/^SIG//r, $pid;
	my $until = time + 10;
	while (time < $until) {
		return $? if waitpid($pid, WNOHANG) == $pid;
		sleep 0.02;
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
	return -1;
}

my $spid = start_service();
END { kill 'KILL', $spid if $spid }
my $port = tg_free_port();
my $w = tg_nginx(tag => '-systemd', port => $port,
    site => tg_conf_template('nginx.conf',
	['listen 80;', "listen 127.0.0.1:$port;"],
	['unix:/run/taskgate/taskgate.sock', "unix:$sockpath"]));
tg_smoke($c, $w->{base}, 'sysd');

is(stop_service($spid), 0, 'service stopped by SIGTERM: exit 0');
$spid = undef;
# The socket is still there (systemd keeps it): a request now waits.
tg_task($c, 'sd', backend => 'systemd');
my $kid = fork // die;
if ($kid == 0) {
	my ($st, $h, $body) = tg_http(GET => "$w->{base}/api/tasks/sd");
	POSIX::_exit($st == 200 && $body =~ /^\{"task_id":"sd","backend":"systemd"/ ? 0 : 1);
}
sleep 1;
is(waitpid($kid, WNOHANG), 0, 'request sent while the service is down waits');
$spid = start_service();
my $until = time + 10;
my $got = 0;
while (time < $until) {
	if (waitpid($kid, WNOHANG) == $kid) { $got = 1; last }
	sleep 0.05;
}
ok($got, 'the waiting request is answered once the service is back');
is($got ? $? : -1, 0, '... with the full 200 response');
my ($st, $h, $body) = tg_http(GET => "$w->{base}/api/health");
is("$st $body", '200 {"status":"ok"}', 'service serving again');
like(`cat $d/journal.log`, qr/taskgate\[\d+\]: info req=1 "GET \/api\/tasks\/sd"/,
    'request log on stderr (the journal), not on the socket');
is(stop_service($spid), 0, 'second stop: exit 0');
$spid = undef;

done_testing();
