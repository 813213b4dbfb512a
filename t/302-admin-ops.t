#!/usr/bin/perl
# taskgate-admin's chores: archive-expired and purge-archive (also while
# HTTP clients move the same tasks), check and check --repair, migrate,
# exit statuses, --help, --version, the man page.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use TG;
use TGStore;

my ($c, $w) = tg_setup(procs => 2);
my $dsn = $c->dsn;
my $dir = tg_tmpdir();
my $bin = "$ENV{TG_BUILDDIR}/src/taskgate-admin";

my ($rc, $out) = tg_admin('--version');
is("$rc $out", "0 taskgate-admin (taskgate) " . (split ' ', `'$ENV{TG_BIN}' -V`)[1] . "\n", '--version');
($rc, $out) = tg_admin('--help');
is($rc, 0, '--help: exit 0');
like($out, qr/import FILE.*sync FILE.*archive-expired.*purge-archive.*migrate.*check/s, '... lists the commands');
($rc, $out) = tg_admin();
is($rc, 2, 'no command: exit 2');
($rc, $out) = tg_admin('-d', $dsn, 'frobnicate');
is($rc, 2, 'unknown command: exit 2');
like($out, qr/unknown command "frobnicate"/, '... named');
($rc, $out) = tg_admin('-d', $dsn, 'archive-expired', '--hours', 'x');
is($rc, 2, 'bad --hours: exit 2');
($rc, $out) = tg_admin('-d', $dsn, 'purge-archive');
is($rc, 2, 'purge-archive without --older-than: exit 2');
tg_write("$dir/bad.conf", "nonsense = 1\n");
($rc, $out) = tg_admin('-c', "$dir/bad.conf", 'migrate');
is($rc, 2, 'bad config: exit 2');
like($out, qr/bad\.conf:1: unknown key "nonsense"/, '... with file and line');

# The config's database is used without -d.
tg_write("$dir/ok.conf", "database = $dsn\n");
($rc, $out) = tg_admin('-c', "$dir/ok.conf", 'check');
is($rc, 0, 'check: exit 0 on a fresh database') or diag $out;
like($out, qr/config \Q$dir\E\/ok\.conf ok.*database reachable.*schema current.*counters consistent.*check: ok, 0 problems/s,
    '... each step said');
($rc, $out) = tg_admin('-d', $dsn, 'migrate', '--dry-run');
is($rc, 0, 'migrate --dry-run');
like($out, qr/0 files to apply \(schema current\)/, '... nothing to do');

# A fresh database: dry run lists, migrate applies, then current.
$c->psql_admin('CREATE DATABASE fresh');
(my $fresh = $dsn) =~ s/dbname=taskgate/dbname=fresh/;
($rc, $out) = tg_admin('-d', $fresh, 'check');
is($rc, 1, 'check of an empty database: exit 1');
like($out, qr/001_schema\.sql not applied/, '... names the missing file');
($rc, $out) = tg_admin('-d', $fresh, 'migrate', '--dry-run');
like($out, qr/would apply 001_schema\.sql.*would apply 005_sources\.sql/s, 'dry run lists the files');
is($c->sql("SELECT to_regclass('tasks') IS NULL", 'fresh'), 't', '... and changes nothing');
($rc, $out) = tg_admin('-d', $fresh, 'migrate');
is($rc, 0, 'migrate applies') or diag $out;
like($out, qr/applied 001_schema\.sql.*applied 005_sources\.sql/s, '... every file');
($rc, $out) = tg_admin('-d', $fresh, 'check');
is($rc, 0, 'then check passes') or diag $out;
is($c->sql("SELECT string_agg(name, ' ' ORDER BY version) FROM taskgate_schema", 'fresh'),
    $c->sql("SELECT string_agg(name, ' ' ORDER BY version) FROM taskgate_schema"),
    'the same record as scripts/taskgate-migrate writes');

# check finds broken counters; --repair rebuilds them.
tg_task($c, "t$_", status => 'success') for 1 .. 3;
$c->sql("SELECT taskgate_compact_counts(); UPDATE task_counts SET n = n + 15 WHERE status = 'success'");
($rc, $out) = tg_admin('-d', $dsn, 'check');
is($rc, 1, 'check: broken counters, exit 1');
like($out, qr/counter active status="success" backend="dummy:local:simulator": 18 counted, 3 rows/, '... which and how');
($rc, $out) = tg_admin('-d', $dsn, 'check', '--repair');
is($rc, 1, 'check --repair: exit 1 (a problem was found)');
like($out, qr/counters rebuilt.*counters repaired/s, '... and repaired');
($rc, $out) = tg_admin('-d', $dsn, 'check');
is($rc, 0, 'then consistent');
my (undef, undef, $b) = tg_http(GET => "$w->{base}/api/tasks/counts");
is(decode_json($b)->{success}, 3, 'the API counts right again');

# archive-expired: the route's semantics.
$c->sql("DELETE FROM tasks");
tg_task($c, 'old-ok', status => 'success', update => '2026-01-01T00:00:00Z');
tg_task($c, 'old-run', status => 'running', update => '2026-01-01T00:00:00Z');
tg_task($c, 'new-ok', status => 'success', update => '2999-01-01T00:00:00Z');
tg_shard($c, 'old-ok', 0);
($rc, $out) = tg_admin('-d', $dsn, '-v', 'archive-expired', '--hours', '72');
is($rc, 0, 'archive-expired: exit 0') or diag $out;
like($out, qr/archived old-ok.*skipped \(not finished\) old-run.*1 archived, 1 skipped/s, '... archived and skipped');
is($c->sql("SELECT count(*) FROM archived_task_shards WHERE uniqc_task_id = 'old-ok'"), '1', '... shards moved');
($rc, $out) = tg_admin('-d', $dsn, 'archive-expired', '--hours', '72', '--all-statuses');
like($out, qr/1 archived, 0 skipped/, '--all-statuses archives the running one too');
is($c->sql("SELECT string_agg(task_id, ' ' ORDER BY task_id) FROM tasks"), 'new-ok', 'only the fresh task is left');

# purge-archive: by archived_at.
$c->sql("UPDATE archived_tasks SET archived_at = now() - interval '40 days' WHERE task_id = 'old-ok'");
($rc, $out) = tg_admin('-d', $dsn, 'purge-archive', '--older-than', '30');
is($rc, 0, 'purge-archive: exit 0');
like($out, qr/ok, 1 archived tasks and 1 shards deleted/, '... one task, one shard');
is($c->sql("SELECT string_agg(task_id, ' ') FROM archived_tasks"), 'old-run', 'the recent one stays');

# Concurrently with HTTP clients archiving, restoring and deleting the
# same tasks: no error, nothing lost or doubled, counters exact.
$c->sql("DELETE FROM tasks; DELETE FROM archived_tasks; DELETE FROM archived_task_shards;"
    . "INSERT INTO tasks (task_id, backend, status, update_time) SELECT 'k' || i, 'b', "
    . "CASE WHEN i % 5 = 0 THEN 'running' ELSE 'success' END, now() - interval '10 days' FROM generate_series(1, 3000) i;"
    . "INSERT INTO task_shards (uniqc_task_id, shard_index, platform_task_id, backend, status) "
    . "SELECT 'k' || i, 0, 'p', 'b', 'success' FROM generate_series(1, 3000) i;");
my @kids;
for my $k (0 .. 1) {
	my $pid = fork // die;
	if ($pid == 0) {
		my $errs = 0;
		for my $i (1 .. 150) {
			my $id = 'k' . ($i * 7 + $k * 1000);
			my ($s1) = tg_http(POST => "$w->{base}/api/tasks/" . $id . "/archive");
			my ($s2) = tg_http(POST => "$w->{base}/api/archive/restore/" . $id);
			my ($s3) = tg_http(GET => "$w->{base}/api/tasks?limit=10");
			$errs++ if grep { $_ >= 500 } $s1, $s2, $s3;
		}
		POSIX::_exit($errs ? 1 : 0);
	}
	push @kids, $pid;
}
my @runs;
for (1 .. 3) {
	push @runs, [tg_admin('-d', $dsn, 'archive-expired', '--hours', '1')];
	push @runs, [tg_admin('-d', $dsn, 'purge-archive', '--older-than', '0')];
}
my $kids_ok = 1;
for (@kids) { waitpid($_, 0); $kids_ok = 0 if $? }
ok($kids_ok, 'HTTP clients saw no 5xx meanwhile');
ok(!grep({ $_->[0] == 2 } @runs), 'every archive-expired / purge-archive run succeeded')
    or diag join '', map { $_->[1] } @runs;
is($c->sql("SELECT count(*) FROM tasks WHERE status = 'success'") + 0, 0, 'every finished task was archived (and purged)')
    or diag join '', map { $_->[1] } @runs;
is($c->sql("SELECT count(*) FROM (SELECT task_id FROM tasks INTERSECT SELECT task_id FROM archived_tasks) z"), '0',
    'no task in both tables');
is($c->sql("SELECT count(*) FROM task_shards s WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.task_id = s.uniqc_task_id)"),
    '0', 'no orphan shards');
($rc, $out) = tg_admin('-d', $dsn, 'check');
is($rc, 0, 'counters exact after the concurrent runs') or diag $out;

# The man page formats without warnings and has its sections.
SKIP: {
	skip 'groff not installed', 2 unless -x '/usr/bin/groff';
	my $man = "$ENV{TG_BUILDDIR}/doc/taskgate-admin.8";
	skip 'man page not built', 2 unless -f $man;
	is(join('', `groff -mandoc -Tutf8 -ww -z '$man' 2>&1`), '', 'taskgate-admin(8) formats without warnings');
	like(`groff -mandoc -Tascii -P-cbou '$man' 2>/dev/null`,
	    qr/COMMANDS.*import.*sync.*archive-expired.*purge-archive.*migrate.*check.*EXIT STATUS/s, '... and has its sections');
}

done_testing();
