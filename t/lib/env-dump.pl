#!/usr/bin/perl
# env-dump.pl: a stand-in for taskgate that answers every request with the
# CGI variables the server sent, as JSON.  Like taskgate it is a FastCGI
# responder when fd 0 is a listening socket (spawn-fcgi, lighttpd
# bin-path, mod_fcgid), a CGI program otherwise.  For t/280-server-vars.t.
use strict;
use warnings;
use JSON::PP;

my @keys = qw(REQUEST_URI SCRIPT_NAME PATH_INFO QUERY_STRING HTTP_HOST
    SERVER_PORT DOCUMENT_URI REQUEST_METHOD);
my $json = JSON::PP->new->canonical;

sub answer {
	my ($env) = @_;
	my %o = map { $_ => $env->{$_} } grep { exists $env->{$_} } @keys;
	# How many times the server sent HTTP_HOST (FastCGI only).
	$o{'HTTP_HOST#'} = $env->{'HTTP_HOST#'} if exists $env->{'HTTP_HOST#'};
	return "Content-Type: application/json\r\n\r\n" . $json->encode(\%o);
}

# As libfcgi decides: FastCGI when fd 0 is a socket with no peer (a
# listening one); mod_cgid gives CGI programs a connected socket.
if (!-S STDIN || getpeername(STDIN)) {
	print answer(\%ENV);
	exit 0;
}

open(my $ls, '<&=', 0) or die "fd 0: $!";
sub rd {
	my ($c, $n) = @_;
	my $s = '';
	while (length $s < $n) {
		my $r = sysread($c, $s, $n - length $s, length $s);
		return undef unless $r;
	}
	return $s;
}
sub rec {
	my ($type, $id, $content) = @_;
	return pack('CCnnCC', 1, $type, $id, length $content, 0, 0) . $content;
}
$SIG{TERM} = sub { exit 0 };
while (accept(my $c, $ls)) {
	binmode $c;
	my ($params, $id, %env) = ('', 1);
	while (defined(my $h = rd($c, 8))) {
		my (undef, $type, $rid, $len, $pad) = unpack('CCnnC', $h);
		my $body = $len + $pad ? rd($c, $len + $pad) : '';
		last unless defined $body;
		$body = substr($body, 0, $len);
		$id = $rid;
		$params .= $body if $type == 4;
		last if $type == 5 && $len == 0;
	}
	while (length $params) {
		my @l;
		for (1, 2) {
			my $b = unpack('C', $params);
			if ($b < 128) { push @l, $b; substr($params, 0, 1, '') }
			else { push @l, unpack('N', $params) & 0x7fffffff; substr($params, 0, 4, '') }
		}
		my $k = substr($params, 0, $l[0], '');
		my $v = substr($params, 0, $l[1], '');
		# libfcgi's FCGX_GetParam returns the first of duplicates.
		$env{$k} = $v unless exists $env{$k};
		$env{"$k#"}++;
	}
	my $out = answer(\%env);
	syswrite($c, rec(6, $id, $out) . rec(6, $id, '') .
	    rec(3, $id, pack('NCx3', 0, 0)));
	close $c;
}
