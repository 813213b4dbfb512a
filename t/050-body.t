#!/usr/bin/perl
# Bulk request bodies through the real binary: every 422 shape, 400 for
# non-UTF-8, 413 over the configured limits.  Nothing changes on errors.
use strict;
use warnings;
use Test::More;
use TG;

my ($c, $w) = tg_setup(conf => "max_body_size = 2000\nmax_ids = 50\n");
my $b = $w->{base};
my ($st, $h, $body);

tg_task($c, 'keep');
sub post {
	my ($body, $ct) = @_;
	my %hd;
	$hd{'Content-Type'} = $ct if defined $ct;
	return tg_http(POST => "$b/api/tasks/bulk-delete", body => $body, headers => \%hd);
}
my $missing = '{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}';
my $mat = 'Input should be a valid dictionary or object to extract fields from';

($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-delete");
is($st, 422, 'no body: 422');
is($body, $missing, 'no body: missing');
($st, $h, $body) = post('', 'application/json');
is($body, $missing, 'empty body: missing');
($st, $h, $body) = post('null', 'application/json');
is($body, $missing, 'null: missing');
($st, $h, $body) = post(' [1, 2] ', 'application/json');
is($body, qq({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"$mat","input":[1,2]}]}), 'array: model_attributes_type');
($st, $h, $body) = post('"x"', 'application/json; charset=utf-8');
is($body, qq({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"$mat","input":"x"}]}), 'string');
($st, $h, $body) = post('{"task_ids":["keep"]}', 'text/plain');
is($st, 422, 'text/plain is not JSON');
is($body, qq({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"$mat","input":"{\\"task_ids\\":[\\"keep\\"]}"}]}), 'raw text as input');
($st, $h, $body) = post('{"task_ids":["keep"]}', 'application/x-www-form-urlencoded');
is($st, 422, 'form content type is not JSON');
($st, $h, $body) = post('{"task_ids":{"a":1}}', 'application/merge-patch+json');
is($body, '{"detail":[{"type":"list_type","loc":["body","task_ids"],"msg":"Input should be a valid list","input":{"a":1}}]}', 'list_type, +json accepted');
($st, $h, $body) = post('{"task_ids":null}', 'application/json');
is($body, '{"detail":[{"type":"list_type","loc":["body","task_ids"],"msg":"Input should be a valid list","input":null}]}', 'null list');
($st, $h, $body) = post('{"task_ids":["keep",7,true,null]}', 'application/json');
is($body, '{"detail":[{"type":"string_type","loc":["body","task_ids",1],"msg":"Input should be a valid string","input":7},{"type":"string_type","loc":["body","task_ids",2],"msg":"Input should be a valid string","input":true},{"type":"string_type","loc":["body","task_ids",3],"msg":"Input should be a valid string","input":null}]}', 'string_type per item');

my @bad = (
	['{"task_ids":["keep"', 19, 'Expecting \',\' delimiter'],
	['{"task_ids":["keep",]}', 20, 'Expecting value'],
	['{task_ids:[]}', 1, 'Expecting property name enclosed in double quotes'],
	['{"task_ids":[]} x', 16, 'Extra data'],
	['{"task_ids":["é', 13, 'Unterminated string starting at'],
	['{"é":1,,}', 7, 'Expecting property name enclosed in double quotes'],
	['{"a" 1}', 5, 'Expecting \':\' delimiter'],
);
for my $t (@bad) {
	my ($in, $pos, $msg) = @$t;
	($st, $h, $body) = post($in, 'application/json');
	is($st, 422, "invalid JSON: $in");
	is($body, qq({"detail":[{"type":"json_invalid","loc":["body",$pos],"msg":"JSON decode error","input":{},"ctx":{"error":"$msg"}}]}), "offset and reason for $in");
}
my $raw = '{"task_ids":["keep"]}';
($st, $h, $body) = tg_raw($w->{port}, "POST $w->{prefix}/api/tasks/bulk-delete HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " . length($raw) . "\r\n\r\n$raw");
is($st, 422, 'no content type at all: not JSON (FastAPI since 0.132)');
is($body, qq({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"$mat","input":"{\\"task_ids\\":[\\"keep\\"]}"}]}), 'no content type: raw text as input');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'keep'"), 1, 'no content type: nothing deleted');
($st, $h, $body) = tg_raw($w->{port}, "POST $w->{prefix}/api/tasks/bulk-archive HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " . length($raw) . "\r\n\r\n$raw");
is($st, 422, 'bulk-archive with no content type: 422');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'keep'"), 1, 'no content type: nothing archived');

($st, $h, $body) = post("{\"task_ids\":[\"\xff\"]}", 'application/json');
is($st, 400, 'invalid UTF-8 body: 400');
is($body, '{"detail":"There was an error parsing the body"}', '400 body');

($st, $h, $body) = post('{"task_ids":["' . ('k' x 2100) . '"]}', 'application/json');
is($st, 413, 'body over max_body_size: 413');
is($body, '{"detail":"Request body too large"}', '413 body');
($st, $h, $body) = post('{"task_ids":[' . join(',', map { "\"i$_\"" } 1 .. 51) . ']}', 'application/json');
is($st, 413, 'more ids than max_ids: 413');
like($body, qr/^\{"detail":"Too many task ids \(at most 50\)"\}$/, 'max_ids body');
is($c->sql("SELECT count(*) FROM tasks WHERE task_id = 'keep'"), 1, 'nothing changed by any error');

# The same validation on bulk-archive.
($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-archive", body => '[]', headers => {'Content-Type' => 'application/json'});
is($body, qq({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"$mat","input":[]}]}), 'bulk-archive validates too');
done_testing();
