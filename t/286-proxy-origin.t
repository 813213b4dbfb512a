#!/usr/bin/perl
# Behind a reverse proxy that rewrites Host: conf/uniqc-ui-nginx-proxy.conf
# (nginx serving a stand-in UI and proxy_pass /api to lighttpd running
# taskgate, Host = $proxy_host as nginx's default) with trusted_proxies.
# A same-origin browser write through nginx passes only when the backend
# trusts nginx's X-Forwarded-Host; a foreign origin, or a scheme other
# than X-Forwarded-Proto, is still refused; X-Forwarded-Host from a peer
# not in trusted_proxies (here: [::1]) is ignored.
use strict;
use warnings;
use Test::More;
use TG;

tg_need('nginx');

my $c = tg_cluster();
my ($st, $h, $body);

# Backends: lighttpd + taskgate, also listening on [::1] (an untrusted peer).
sub backend {
	my ($tag, $conf) = @_;
	my $p6 = tg_free_port();
	my $w = tg_lighttpd(dsn => $c->dsn, tag => $tag, conf => $conf,
	    lighttpd_conf => "\$SERVER[\"socket\"] == \"[::1]:$p6\" { }\n");
	$w->{p6} = $p6;
	return $w;
}

sub front {
	my ($tag, $be) = @_;
	my $www = tg_subdir("proxy-$tag/dist");
	tg_write("$www/index.html", "<!doctype html><title>stand-in</title>\n", 0644);
	my $port = tg_free_port();
	return tg_nginx(tag => "-proxy-$tag", port => $port,
	    site => tg_conf_template('uniqc-ui-nginx-proxy.conf',
		['listen 80;', "listen 127.0.0.1:$port;"],
		['/var/www/uniqc-ui', $www],
		['proxy_pass http://127.0.0.1:8081;', "proxy_pass http://127.0.0.1:$be->{port};"]));
}

sub archive {
	my ($base, $id, %hd) = @_;
	tg_task($c, $id);
	return tg_http(POST => "$base/api/tasks/$id/archive", headers => \%hd, body => '');
}

my $trusting = backend('trust', "trusted_proxies = 127.0.0.1/32\n");
my $plain = backend('plain', '');
my $n1 = front('trust', $trusting);
my $n2 = front('plain', $plain);
my $site1 = $n1->{base};	# http://127.0.0.1:PORT: the page's origin
my $site2 = $n2->{base};

($st, $h, $body) = tg_http(GET => "$site1/tasks/abc");
is($st, 200, 'client route through the front nginx: index.html');
($st, $h, $body) = tg_http(GET => "$site1/api/tasks/counts");
like("$st $body", qr/^200 \{"pending":/, 'the API through proxy_pass');

# Without trusted_proxies: the problem this solves.
($st, $h, $body) = archive($site2, 'px0', Origin => $site2);
is("$st $body", '403 {"detail":"Forbidden"}',
    'Host rewritten, no trusted_proxies: the UI\'s own write looks foreign (403)');

# With it.
($st, $h, $body) = archive($site1, 'px1', Origin => $site1);
is("$st $body", '200 {"archived":"px1"}', 'trusted_proxies: the same-origin write passes');
($st, $h, $body) = archive($site1, 'px2', Origin => 'http://evil.example');
is("$st $body", '403 {"detail":"Forbidden"}', '... a foreign origin is still refused');
(my $https = $site1) =~ s/^http:/https:/;
($st, $h, $body) = archive($site1, 'px3', Origin => $https);
is("$st $body", '403 {"detail":"Forbidden"}', '... and so is the same host under another scheme (X-Forwarded-Proto)');
($st, $h, $body) = archive($site1, 'px4', Origin => 'http://evil.example',
    'X-Forwarded-Host' => 'evil.example');
is("$st $body", '403 {"detail":"Forbidden"}', '... a client\'s own X-Forwarded-Host is replaced by nginx');
($st, $h, $body) = archive($site1, 'px5');
is("$st $body", '200 {"archived":"px5"}', '... a client without Origin (curl) is unaffected');

# Straight to the backend.
my $fwd = $site1 =~ s{^http://}{}r;
($st, $h, $body) = archive("http://[::1]:$trusting->{p6}", 'px6', Origin => $site1,
    'X-Forwarded-Host' => $fwd, 'X-Forwarded-Proto' => 'http');
is("$st $body", '403 {"detail":"Forbidden"}', 'X-Forwarded-Host from an untrusted peer ([::1]) is ignored');
($st, $h, $body) = archive("http://[::1]:$trusting->{p6}", 'px7',
    Origin => "http://[::1]:$trusting->{p6}", 'X-Forwarded-Host' => 'evil.example');
is("$st $body", '200 {"archived":"px7"}', '... its Host still counts');
($st, $h, $body) = archive("http://127.0.0.1:$trusting->{port}", 'px8', Origin => $site1,
    'X-Forwarded-Host' => $fwd);
is("$st $body", '200 {"archived":"px8"}', 'from a trusted peer it counts (so only the proxy may use that address)');
is($c->sql("SELECT string_agg(task_id, ',' ORDER BY task_id) FROM archived_tasks WHERE task_id LIKE 'px%'"),
    'px1,px5,px7,px8', 'exactly the allowed writes happened');

done_testing();
