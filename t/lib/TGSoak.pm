# TGSoak.pm: a mixed request soak against one running taskgate (through
# lighttpd), shared by t/090-valgrind.t (a short soak in make check) and
# bench/soak-valgrind, bench/soak-rss (the long runs behind bench/SOAK.md).
#
# Every route and most error paths: lists (some long enough to stream),
# details, shards, counts, 404s, 405, 307, 422s (query and body), 400,
# 413, bulk delete/archive, per-task archive and restore, archive-expired,
# and optionally a database outage in the middle (503s, then recovery).
# Each request's status is checked against what it must be.
package TGSoak;
use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(time sleep);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use TG;

our @EXPORT = qw(soak_fixtures soak_run asan_build vg_available vg_cmd vg_lighttpd vg_stop vg_check_log);

# Fixtures: $n active tasks t0..t{n-1} with shards, results and metadata
# (escapes, non-ASCII), and $n/10 archived ones a0.. with archived shards.
sub soak_fixtures {
	my ($c, $n) = @_;
	$n //= 300;
	my $na = int($n / 10) || 1;
	$c->sql(<<"SQL");
INSERT INTO tasks (task_id, backend, status, shots, submit_time, update_time, result, metadata)
SELECT 't' || i, CASE WHEN i % 3 = 0 THEN 'originq:WK_C180' ELSE 'dummy:local:simulator' END,
       (ARRAY['pending','running','success','failed','cancelled','weird'])[1 + i % 6],
       i * 10, timestamptz '2026-11-01' + i * interval '1 minute',
       timestamptz '2026-11-01' + i * interval '1 minute' + interval '1.5 s',
       CASE WHEN i % 4 = 0 THEN NULL
            ELSE json_build_object('counts', json_build_object('00', i, '11', 1000 - i),
                 'note', E'tab\\t "q" \\\\ é ' || i)::json END,
       jsonb_build_object('user', 'u' || (i % 7), 'tags', jsonb_build_array('x', i, true, null), 'ü', 'ß')
FROM generate_series(0, $n - 1) i;
INSERT INTO task_shards (uniqc_task_id, shard_index, platform_task_id, backend, status, error_message)
SELECT 't' || i, s, 'p' || i || '-' || s, 'originq:WK_C180', 'success',
       CASE WHEN s = 1 THEN E'line1\\nline2' END
FROM generate_series(0, $n - 1) i, generate_series(0, 1) s;
INSERT INTO archived_tasks (task_id, backend, status, shots, submit_time, update_time, result, metadata, archived_at)
SELECT 'a' || i, 'dummy:local:simulator', 'success', i, timestamptz '2026-10-01' + i * interval '1 hour',
       timestamptz '2026-10-01' + i * interval '1 hour', '[1,2,3]', '{}', timestamptz '2026-11-30'
FROM generate_series(0, $na - 1) i;
INSERT INTO archived_task_shards (uniqc_task_id, shard_index, platform_task_id, backend, status, archived_at)
SELECT 'a' || i, 0, 'pa' || i, 'originq:WK_C180', 'success', timestamptz '2026-11-30'
FROM generate_series(0, $na - 1) i;
SQL
	return ($n, $na);
}

# One step of the mix: [method, path, body, content type, expected status
# (a regex), name].  $i is the request number, $n the number of tasks.
sub step {
	my ($i, $n, $na) = @_;
	# One task per cycle of the mix: archived, restored, archived and
	# restored again within the cycle.
	my $cyc = int($i / 34);
	my $k = $cyc % $n;
	my $a = $cyc % $na;
	my $j = 'application/json';
	my @mix = (
		['GET', '/api/tasks?limit=50', undef, undef, 200, 'list'],
		['GET', '/api/tasks?limit=-1', undef, undef, 200, 'list all (streamed)'],
		['GET', '/api/tasks?status=success&backend=dummy%3Alocal%3Asimulator&limit=20&offset=3', undef, undef, 200, 'filtered list'],
		['GET', "/api/tasks/t$k", undef, undef, '200|404', 'detail'],
		['GET', "/api/tasks/t$k/shards", undef, undef, '200|404', 'shards'],
		['GET', '/api/tasks/counts', undef, undef, 200, 'counts'],
		['GET', "/api/tasks/nope$i", undef, undef, 404, 'detail 404'],
		['GET', '/api/tasks/%00x', undef, undef, 404, 'NUL id 404'],
		['GET', '/api/tasks?limit=abc&offset=1.5', undef, undef, 422, 'list 422'],
		['GET', '/api/tasks?status=%ff&limit=5', undef, undef, 200, 'invalid UTF-8 filter'],
		['POST', '/api/tasks/archive-expired?hours=x&terminal_only=maybe', '', $j, 422, 'expire 422'],
		['POST', '/api/tasks/archive-expired?hours=99999999999', '', $j, 422, 'expire range 422'],
		['POST', '/api/tasks/bulk-delete', '{"task_ids":["a",1,null,{"x":[1e400]}]}', $j, 422, 'bulk 422 string_type'],
		['POST', '/api/tasks/bulk-delete', '{"task_ids": ["a" "b"]}', $j, 422, 'bulk 422 json_invalid'],
		['POST', '/api/tasks/bulk-delete', "{\"task_ids\":[\"\xff\"]}", $j, 400, 'bulk 400 not UTF-8'],
		['POST', '/api/tasks/bulk-delete', '{"task_ids":' . ('["x"' . ',"y"' x 60 . ']') . '}', $j, 413, 'bulk 413 ids'],
		['POST', '/api/tasks/bulk-delete', 'x' x 5000, $j, 413, 'bulk 413 size'],
		['POST', '/api/tasks/bulk-delete', "{\"task_ids\":[\"gone$i\",\"gone$i\"]}", $j, 200, 'bulk delete missing'],
		['POST', '/api/tasks/bulk-delete', '{"task_ids":"x"}', 'text/plain', 422, 'bulk 422 not JSON'],
		['POST', '/api/tasks/bulk-archive', "{\"task_ids\":[\"t$k\",\"a$a\",\"nope\"]}", $j, 200, 'bulk archive'],
		['POST', "/api/archive/restore/t$k", undef, undef, '200|404|409', 'restore'],
		['POST', "/api/tasks/t$k/archive", undef, undef, '200|404|409', 'archive one'],
		['POST', "/api/archive/restore/t$k", undef, undef, '200|404|409', 'restore again'],
		['GET', '/api/archive?limit=-1', undef, undef, 200, 'archive list'],
		['GET', "/api/archive/a$a", undef, undef, '200|404', 'archive detail'],
		['GET', "/api/archive/nope$i", undef, undef, 404, 'archive 404'],
		['DELETE', "/api/archive/nope$i", undef, undef, 404, 'archive delete 404'],
		['DELETE', "/api/tasks/nope$i", undef, undef, 404, 'delete 404'],
		['POST', '/api/tasks/x', undef, undef, 405, '405'],
		['GET', '/api/tasks/', undef, undef, 307, '307'],
		['GET', '/api/nothing', undef, undef, 404, 'unknown path'],
		['GET', '/api/health', undef, undef, 200, 'health'],
		['GET', '/api/version', undef, undef, 200, 'version'],
		['POST', '/api/tasks/archive-expired?hours=999999&terminal_only=false', '', $j, 200, 'expire nothing'],
	);
	die "mix has " . @mix . " steps" unless @mix == 34;
	return $mix[$i % @mix];
}

# Runs $o{n} requests against $w (from tg_lighttpd).  Options: outage =>
# 1 stops the cluster for a stretch in the middle (requests needing the
# database must then get 503 with Retry-After), churn => 1 adds and
# deletes tasks now and then (DELETE and bulk-delete that succeed),
# progress => sub ($i) called every $o{every} (1000) requests and at the
# end.
# Returns a hash: n, bad (list of "name: got X" strings), by_status,
# seconds, down_db (requests that met the outage and got their 503).
sub soak_run {
	my ($c, $w, %o) = @_;
	my ($n, $na) = ($o{tasks} // 300, $o{archived} // 30);
	my $total = $o{n} // 2000;
	my $http = TGSoak::HTTP->new(max_redirect => 0, timeout => 120, keep_alive => 1);
	my (%st, @bad);
	my $down_db = 0;
	my $t0 = time;
	my ($down_from, $down_to) = $o{outage} ?
	    (int($total * 0.5), int($total * 0.5) + ($o{outage_len} // 50)) : (-1, -1);
	for my $i (0 .. $total - 1) {
		if ($i == $down_from) { $c->stop('fast') }
		if ($i == $down_to) { $c->start }
		if ($o{churn} && $i % 500 == 100 &&
		    !($i >= $down_from && $i < $down_to)) {
			$c->sql("INSERT INTO tasks (task_id, backend, status) SELECT 'c$i-' || g, 'b', 'failed' FROM generate_series(1, 3) g");
			my $r = $http->request('DELETE', "$w->{base}/api/tasks/c$i-1");
			push @bad, "churn delete: got $r->{status}" unless $r->{status} == 200;
			$r = $http->request('POST', "$w->{base}/api/tasks/bulk-delete",
			    { content => qq({"task_ids":["c$i-2","c$i-3","c$i-1"]}),
			      headers => { 'Content-Type' => 'application/json' } });
			push @bad, "churn bulk-delete: got $r->{status} $r->{content}"
			    unless $r->{status} == 200 && $r->{content} =~ /"count":2/;
		}
		my ($m, $p, $body, $ct, $want, $name) = @{ step($i, $n, $na) };
		my %req = (headers => $ct ? { 'Content-Type' => $ct } : {});
		$req{content} = $body if defined $body;
		my $r = $http->request($m, "$w->{base}$p", \%req);
		my $s = $r->{status};
		$st{$s}++;
		my $down = $i >= $down_from && $i < $down_to;
		my $nodb = $name =~ /^(?:health|version|405|307|unknown path|NUL id 404|invalid UTF-8 filter|.*4(?:00|13|22).*)$/;
		if ($down && !$nodb) {
			$down_db++;
			push @bad, "$i $name (db down): got $s"
			    unless $s == 503 && ($r->{headers}{'retry-after'} // '') ne '';
		} elsif ($s !~ /^(?:$want)$/) {
			push @bad, "$i $m $p ($name): got $s " . substr($r->{content} // '', 0, 200);
		}
		$o{progress}->($i + 1) if $o{progress} &&
		    (($i + 1) % ($o{every} // 1000) == 0 || $i + 1 == $total);
	}
	return (n => $total, bad => \@bad, by_status => \%st, seconds => time - $t0,
	    down_db => $down_db);
}

# HTTP::Tiny writes headers and body separately: without TCP_NODELAY each
# POST waits ~40 ms for a delayed ACK, and the soak measures that.
package TGSoak::HTTP;
our @ISA = ('HTTP::Tiny');
sub _open_handle {
	my $self = shift;
	my $h = $self->SUPER::_open_handle(@_);
	setsockopt($h->{fh}, Socket::IPPROTO_TCP(), Socket::TCP_NODELAY(), 1);
	return $h;
}
package TGSoak;

# Valgrind memcheck: a leak (definite or indirect) or any memory error
# makes the process exit 99, and its log says so.
# True when taskgate was built with AddressSanitizer (it cannot run
# under valgrind; its own LeakSanitizer does the job instead).
sub asan_build {
	open my $fh, '<:raw', tg_bin() or die "cannot read " . tg_bin() . ": $!\n";
	local $/;
	my $img = <$fh>;
	return $img =~ /AddressSanitizer|__asan_init/ ? 1 : 0;
}

# Why valgrind cannot be used, or undef.
sub vg_available {
	return 'valgrind is not installed' if system('valgrind --version >/dev/null 2>&1') != 0;
	return 'taskgate is an AddressSanitizer build' if asan_build();
	return undef;
}

sub vg_cmd {
	my ($log) = @_;
	return ('valgrind', '--leak-check=full',
	    '--show-leak-kinds=definite,indirect',
	    '--errors-for-leak-kinds=definite,indirect', '--error-exitcode=99',
	    '--num-callers=30', "--log-file=$log");
}

# lighttpd whose one FastCGI backend is taskgate under valgrind (a
# wrapper script as bin-path).  Logs go to $w->{dir}/vg.PID.log.
sub vg_lighttpd {
	my (%o) = @_;
	my $dir = tg_tmpdir() . '/vg' . ($o{tag} // '');
	mkdir $dir;
	my $wrap = "$dir/taskgate-vg";
	open my $f, '>', $wrap or die "$wrap: $!";
	print $f "#!/bin/sh\nexec " . join(' ', map { "'$_'" }
	    vg_cmd("$dir/vg.%p.log"), tg_bin()) . "\n";
	close $f;
	chmod 0755, $wrap;
	my $w = tg_lighttpd(%o, bin => $wrap, procs => 1);
	$w->{vgdir} = $dir;
	return $w;
}

# Stops lighttpd and waits for the backend (valgrind's leak check runs at
# its exit).  Returns the valgrind log files.
sub vg_stop {
	my ($w) = @_;
	# Up to two minutes before the KILL, not tg_stop's 10 s: the leak
	# check is slower on a loaded machine.
	tg_stop($w->{pid}, 'TERM', 120);
	return sort glob("$w->{vgdir}/vg.*.log");
}

# Reads one valgrind log: (ok, summary text).  ok when memcheck saw no
# error and 0 bytes definitely and indirectly lost (or no leak at all).
sub vg_check_log {
	my ($log) = @_;
	open my $fh, '<', $log or return (0, "no log $log");
	local $/;
	my $t = <$fh> // '';
	my $ok = $t =~ /ERROR SUMMARY: 0 errors/ &&
	    (($t =~ /definitely lost: 0 bytes/ && $t =~ /indirectly lost: 0 bytes/) ||
	     $t =~ /All heap blocks were freed -- no leaks are possible/);
	return ($ok, $t);
}

1;
