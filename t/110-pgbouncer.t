#!/usr/bin/perl
# Through a real PgBouncer in transaction pooling mode (prepare = off):
# every endpoint kind works, and the schema and statement_timeout hold
# even on a server connection whose session settings someone else
# changed (a pooler shares server connections between clients); and
# taskgate itself leaves no session setting behind for other clients.
use strict;
use warnings;
use Test::More;
use TG;

tg_need('pgbouncer');
my $pgb = '/usr/sbin/pgbouncer';

my $c = tg_cluster();
# The tables in schema tg; public has its own (empty) copies, so a lost
# search_path shows as a 404.
$c->sql('CREATE SCHEMA tg');
my $mig = tg_srcdir() . '/scripts/taskgate-migrate';
system("'$mig' -d '" . tg_srcdir() . "/sql' \"" . $c->dsn
    . " options='-c search_path=tg'\" >/dev/null") == 0 or die "migrate tg";
$c->sql(q{SET search_path = tg;
	INSERT INTO tasks (task_id, backend, status, submit_time, update_time)
	SELECT 'b' || i, 'ibm:kyiv', CASE WHEN i % 2 = 0 THEN 'success' ELSE 'running' END,
	    timestamptz '2026-01-01' + i * interval '1 hour', timestamptz '2026-01-01'
	FROM generate_series(1, 50) i;
	INSERT INTO task_shards (uniqc_task_id, shard_index, platform_task_id, backend, status)
	SELECT 'b' || i, 0, 'p' || i, 'ibm:kyiv', 'success' FROM generate_series(1, 50) i});

my $d = tg_tmpdir() . '/pgbouncer';
mkdir $d;
my $port = tg_free_port();
open my $f, '>', "$d/pgbouncer.ini" or die;
print $f <<"INI";
[databases]
taskgate = host=127.0.0.1 port=$c->{port} dbname=taskgate user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $d/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 50
admin_users = postgres
logfile = $d/pgbouncer.log
INI
close $f;
open $f, '>', "$d/userlist.txt" or die;
print $f qq("postgres" ""\n);
close $f;
if ($> == 0) {
	my ($uid, $gid) = (getpwnam('postgres'))[2, 3];
	chown $uid, $gid, $d, "$d/pgbouncer.ini", "$d/userlist.txt";
}
# PgBouncer refuses to run as root.
tg_spawn(cmd => [($> == 0 ? ('runuser', '-u', 'postgres', '--') : ()), $pgb,
    "$d/pgbouncer.ini"], log => "$d/stdout.log");
tg_wait_port($port) or die "pgbouncer did not start: " . `cat $d/*.log`;

my $pdsn = "host=127.0.0.1 port=$port user=postgres dbname=taskgate";
my $w = tg_lighttpd(dsn => $pdsn, procs => 2,
    conf => "prepare = off\nschema = tg\nstatement_timeout = 5000\n");
my $b = $w->{base};
my %J = ('Content-Type' => 'application/json');
my ($st, $h, $body);

# The reverse: taskgate sends nothing session-level through the pooler, so
# another client of the same pool (one server connection) sees the
# defaults, not taskgate's statement_timeout or search_path.
{
	my $direct = $c->sql('SHOW statement_timeout') . '|' . $c->sql('SHOW search_path');
	my $w3 = tg_lighttpd(dsn => $pdsn, tag => 'leak',
	    conf => "prepare = off\nschema = tg\nstatement_timeout = 1234\n");
	($st, $h, $body) = tg_http(GET => "$w3->{base}/api/tasks/b1");
	is($st, 200, 'a request with statement_timeout = 1234 through the pool');
	($st, $h, $body) = tg_http(GET => "$w3->{base}/api/tasks?limit=2");
	is($st, 200, 'a streamed list through the pool');
	my $seen = `psql -X -At -c 'SHOW statement_timeout' -c 'SHOW search_path' '$pdsn'`;
	$seen =~ s/\n\z//;
	$seen =~ s/\n/|/;
	is($seen, $direct, 'another client of the pool sees the defaults');
}

# Poison the one pooled server connection: a session-level SET by some
# other client of the pool stays on it for whoever comes next.
sub poison {
	system('psql', '-X', '-q', '-c',
	    "SET search_path = public; SET statement_timeout = 1", $pdsn) == 0
	    or die "psql through pgbouncer";
}

for my $round (1, 2) {
	poison() if $round == 2;
	my $tag = $round == 1 ? '' : ' (poisoned server connection)';
	($st, $h, $body) = tg_http(GET => "$b/api/tasks/b1");
	is($st, 200, "detail through pgbouncer$tag") or diag($body);
	like($body, qr/^\{"task_id":"b1","backend":"ibm:kyiv","status":"running"/, "detail body$tag");
	($st, $h, $body) = tg_http(GET => "$b/api/tasks?limit=5&status=success");
	is($st, 200, "list$tag");
	my $succ = 25 - ($round == 2 ? 6 : 0);
	like($body, qr/^\{"tasks":\[\{"task_id":"b50".*\],"total":$succ,"limit":5,"offset":0\}$/, "list rows and total$tag");
	($st, $h, $body) = tg_http(GET => "$b/api/tasks?limit=-1");
	my @n = $body =~ /"task_id"/g;
	is(scalar(@n), 50 - ($round == 2 ? 6 : 0), "streamed list, all rows$tag");
	($st, $h, $body) = tg_http(GET => "$b/api/tasks/counts");
	is($body, '{"pending":0,"running":25,"success":' . (25 - ($round == 2 ? 6 : 0))
	    . ',"failed":0,"cancelled":0,"total":' . (50 - ($round == 2 ? 6 : 0)) . '}', "counts$tag");
	($st, $h, $body) = tg_http(GET => "$b/api/tasks/b16/shards");
	like($body, qr/^\{"task_id":"b16","shard_count":1,/, "shards$tag");
	if ($round == 1) {
		# Bulk archive (a lock statement and the move, pipelined) and
		# restore: the pre-statement shares the settings' transaction.
		($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-archive",
		    body => '{"task_ids":["b2","b4","nope","b6"]}', headers => \%J);
		is($body, '{"archived":["b2","b4","b6"],"missing":["nope"],"count":3}', 'bulk-archive');
		($st, $h, $body) = tg_http(POST => "$b/api/archive/restore/b4");
		is($body, '{"restored":"b4"}', 'restore');
		($st, $h, $body) = tg_http(POST => "$b/api/tasks/bulk-delete",
		    body => '{"task_ids":["b8","b10","b12","b14"]}', headers => \%J);
		is($body, '{"deleted":["b8","b10","b12","b14"],"missing":[],"count":4}', 'bulk-delete');
		($st, $h, $body) = tg_http(GET => "$b/api/archive");
		like($body, qr/"total":2,"count":2,/, 'archive list totals');
	}
}
is($c->sql('SELECT count(*) FROM public.tasks'), 0, 'nothing went to the public schema');
is($c->sql('SELECT count(*) FROM tg.archived_tasks'), 2, 'the archive in tg');

# The timeout really is per transaction: a statement cut short by a
# tiny statement_timeout, on a pooled connection, answers 503.
my $w2 = tg_lighttpd(dsn => $pdsn, tag => 'slow',
    conf => "prepare = off\nschema = tg\nstatement_timeout = 1\n");
$c->sql(q{SET search_path = tg; INSERT INTO tasks (task_id, backend, status)
	SELECT 'z' || i, 'x', 'success' FROM generate_series(1, 300000) i});
($st, $h, $body) = tg_http(GET => "$w2->{base}/api/tasks?limit=-1&offset=299999");
is($st, 503, 'statement_timeout = 1 applies through the pooler');
($st, $h, $body) = tg_http(GET => "$b/api/tasks?limit=1&offset=299999");
is($st, 200, 'and not to the next client of the same server connection') or diag($body);

done_testing();
