#!/usr/bin/perl
# CGI mode, no database: the Location of a 307 never carries raw control
# bytes or non-ASCII from the request path (a CR or LF there would split
# the header), they are %XX-quoted as Starlette's RedirectResponse does.
use strict;
use warnings;
use Test::More;
use TG;

sub cgi {
	my ($uri, $qs) = @_;
	local %ENV = (%ENV, REQUEST_METHOD => 'GET', REQUEST_URI => $uri,
	    QUERY_STRING => $qs // '', HTTP_HOST => 'h.example:8080',
	    TASKGATE_CONFIG => '/dev/null');
	delete @ENV{qw(CONTENT_LENGTH CONTENT_TYPE)};
	open my $fh, '-|', 'sh', '-c', 'exec "$0" 2>/dev/null', tg_bin()
	    or die "run: $!";
	binmode $fh;
	local $/;
	my $out = <$fh> // '';
	close $fh;
	my ($head) = split /\r\n\r\n/, $out, 2;
	return split /\r\n/, $head;
}

my @h = cgi("/api/tasks/a\x01\r\nX-Injected: 1/", 'limit=1');
is($h[0], 'Status: 307 Temporary Redirect', 'still a redirect');
is_deeply([grep { /^X-Injected/i } @h], [], 'no injected header');
is((grep { /^Location: / } @h)[0],
    'Location: http://h.example:8080/api/tasks/a%01%0D%0AX-Injected:%201?limit=1',
    'control bytes quoted in the path');
ok(!grep({ /[^\x20-\x7e]/ } @h), 'every header line is printable ASCII');

@h = cgi("/pre\x7f/api/tasks/\xc3\xa9/");
is((grep { /^Location: / } @h)[0],
    'Location: http://h.example:8080/pre%7F/api/tasks/%C3%A9',
    'prefix and non-ASCII path bytes quoted');

@h = cgi('/api/tasks/x%2F/', 'a=%20b c');
is((grep { /^Location: / } @h)[0],
    'Location: http://h.example:8080/api/tasks/x?a=%20b%20c',
    'encoded slash stripped, query kept and quoted');
done_testing();
