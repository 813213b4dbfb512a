# TGFcgi.pm: a minimal raw FastCGI client for tests (responder role), so a
# test can send what web servers never would: a body shorter than its
# CONTENT_LENGTH, a body that stops arriving, long parameters.
package TGFcgi;
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use Time::HiRes qw(time);

our @EXPORT = qw(fcgi_request fcgi_connect);

sub rec { my ($type, $content) = @_; pack('CCnnCC', 1, $type, 1, length $content, 0, 0) . $content }

sub nv {
	my ($k, $v) = @_;
	my $len = sub { my $n = shift; $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000) };
	return $len->(length $k) . $len->(length $v) . $k . $v;
}

# A TCP port on 127.0.0.1, or the path of a unix socket.
sub fcgi_connect {
	my ($port) = @_;
	return IO::Socket::UNIX->new(Peer => $port, Type => SOCK_STREAM)
	    // die "fcgi connect $port: $!" if $port =~ m{^/};
	return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
	    Proto => 'tcp', Timeout => 10) // die "fcgi connect: $!";
}

# fcgi_request(port, {PARAMS}, body_bytes, close_stdin => 1|0, timeout => s,
# keep_open => 1, trickle => s) -> (status, {lowercased headers}, body,
# seconds, socket).
# With close_stdin 0 the STDIN stream is never ended (a client that stops
# sending).  With keep_open the connection stays open after the answer
# (a web server slow to close it) and is returned.  With trickle the body
# goes one byte per STDIN record, one every s seconds, until the answer
# starts.  With records => \@r each record received is pushed on @r as
# [version, type, request id, content length, padding length].
sub fcgi_request {
	my ($port, $env, $body, %o) = @_;
	local $SIG{PIPE} = "IGNORE";	# the responder may answer before reading all
	my $s = fcgi_connect($port);
	binmode $s;
	my $t0 = time;
	my $params = join '', map { nv($_, $env->{$_}) } sort keys %$env;
	my $out = rec(1, pack('nCx5', 1, 0));		# BEGIN_REQUEST, responder
	$out .= rec(4, $params) if length $params;
	$out .= rec(4, '');
	my $sel = IO::Select->new($s);
	if ($o{trickle}) {
		print $s $out;
		$s->flush;
		$out = '';
		for my $ch (split //, $body // '') {
			last if $sel->can_read($o{trickle});
			print $s rec(5, $ch) or last;
			$s->flush;
		}
	} else {
		$out .= rec(5, $body) if length($body // '');
	}
	$out .= rec(5, '') if $o{close_stdin} // 1;
	print $s $out;
	my ($stdout, $buf) = ('', '');
	my $until = time + ($o{timeout} // 20);
	READ: while (time < $until) {
		last unless $sel->can_read($until - time);
		my $n = sysread($s, $buf, 65536, length $buf);
		last unless $n;
		while (length($buf) >= 8) {
			my ($v, $type, $id, $clen, $plen) = unpack('CCnnC', $buf);
			last if length($buf) < 8 + $clen + $plen;
			my $c = substr($buf, 8, $clen);
			push @{ $o{records} }, [$v, $type, $id, $clen, $plen]
			    if $o{records};
			substr($buf, 0, 8 + $clen + $plen, '');
			$stdout .= $c if $type == 6;
			last READ if $type == 3;	# END_REQUEST
		}
	}
	my $secs = time - $t0;
	close $s unless $o{keep_open};
	my ($head, $rbody) = split /\r\n\r\n/, $stdout, 2;
	my %h;
	for (split /\r\n/, $head // '') { my ($k, $v) = split /:\s*/, $_, 2; $h{lc $k} = $v }
	my ($st) = ($h{status} // '') =~ /^(\d+)/;
	return ($st // 0, \%h, $rbody // '', $secs, $o{keep_open} ? $s : undef);
}

1;
