#!/usr/bin/perl
# The harness is hermetic (t/lib/TG.pm): a test that ends, dies, or is
# interrupted (SIGINT as from Ctrl-C, SIGTERM, SIGHUP) leaves no server
# behind: no cluster, no web server, and no member of a process group
# whose leader already exited.  Each case runs a small test script in its
# own temporary directory and looks for any process naming that directory.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h setsid);
use Time::HiRes qw(sleep time);
use TG;

tg_need('lighttpd');

sub slurp { open my $fh, '<', $_[0] or return ''; local $/; my $t = <$fh>; $t }

# Processes whose command line names $dir.
sub left {
	my ($dir) = @_;
	my @p;
	for my $p (glob '/proc/[0-9]*') {
		my $cmd = slurp("$p/cmdline");
		next unless index($cmd, $dir) >= 0;
		$cmd =~ s/\0/ /g;
		push @p, "$p $cmd";
	}
	return @p;
}

# The child: a cluster (with cluster => 1), lighttpd, and a process group
# whose leader exits at once, leaving a member behind; once file $go
# exists, $end: 'end' (done_testing), 'die', or 'wait' (for a signal).
my $script = <<'PERL';
use strict; use warnings; use Test::More; use TG;
my ($cluster, $end, $go) = @ARGV;
my $c = $cluster ? tg_cluster() : undef;
my $w = tg_lighttpd(dsn => $c ? $c->dsn : 'host=/nonexistent');
my $dir = tg_tmpdir();
tg_spawn(cmd => ['sh', '-c', "perl -e 'sleep 300' $dir/orphan & exit 0"]);
ok(1, 'started');
print STDERR "READY\n";
select(undef, undef, undef, 0.1) until -e $go;
if ($end eq 'die') { die "dying on purpose\n" }
if ($end eq 'wait') { sleep 300 }
done_testing();
PERL

for my $case ([1, 'end', undef], [0, 'die', undef], [1, 'wait', 'INT'],
    [0, 'wait', 'TERM'], [0, 'wait', 'HUP']) {
	my ($cluster, $end, $sig) = @$case;
	my $name = $sig ? "SIG$sig" : $end eq 'die' ? 'die' : 'a normal end';
	my $tmp = tempdir('hermetic-XXXXXX', DIR => tg_tmpdir(), CLEANUP => 1);
	chmod 0755, $tmp;
	my $log = "$tmp/out.log";
	my $pid = fork // die;
	if (!$pid) {
		setsid();
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
		open STDOUT, '>', $log or die;
		open STDERR, '>&', \*STDOUT or die;
		$ENV{TMPDIR} = $tmp;
		{ exec $^X, '-I', tg_srcdir() . '/t/lib', '-e', $script, $cluster, $end, "$tmp/go" };
		POSIX::_exit(127);
	}
	my $until = time + 60;
	sleep 0.1 until slurp($log) =~ /READY/ || time > $until
	    || waitpid($pid, WNOHANG) == $pid;
	# The orphan itself (the child's own command line names "orphan"
	# too), which sh starts in the background: it may come a little after
	# READY.
	my $orphan;
	$until = time + 10;
	sleep 0.1 until ($orphan = grep { / -e sleep 300 \Q$tmp\E\/\S*orphan $/ } left($tmp))
	    || time > $until;
	ok(slurp($log) =~ /READY/ && $orphan, "$name: the servers were running")
	    or diag slurp($log);
	tg_write("$tmp/go", '');
	kill $sig, -$pid if $sig;
	$until = time + 60;
	sleep 0.1 until waitpid($pid, WNOHANG) == $pid || time > $until;
	my $rc = $? >> 8;
	$until = time + 10;
	sleep 0.2 while left($tmp) && time < $until;
	is(join("\n", left($tmp)), '', "$name: nothing left running (exit $rc)");
	# What is left is stopped here, by the process group of the child.
	kill 'KILL', -$pid if left($tmp);
}

done_testing();
