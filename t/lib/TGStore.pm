# TGStore.pm: uniqc task stores (../shared/UNIQC_STORE.md) for the
# taskgate-admin tests, made with the sqlite3 command-line tool in the
# exact schema of a given version.
package TGStore;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(store_create store_sql sq tg_admin);

my %T = (
	tasks1 => "CREATE TABLE tasks (task_id TEXT PRIMARY KEY, backend TEXT NOT NULL, "
	    . "status TEXT NOT NULL, shots INTEGER NOT NULL DEFAULT 0, submit_time TEXT NOT NULL, "
	    . "update_time TEXT NOT NULL, result_json TEXT, metadata_json TEXT NOT NULL DEFAULT '{}'",
	arch1 => "CREATE TABLE archived_tasks (task_id TEXT PRIMARY KEY, backend TEXT NOT NULL, "
	    . "status TEXT NOT NULL, shots INTEGER NOT NULL DEFAULT 0, submit_time TEXT NOT NULL, "
	    . "update_time TEXT NOT NULL, result_json TEXT, metadata_json TEXT NOT NULL DEFAULT '{}', "
	    . "archived_at TEXT NOT NULL",
	shards => "CREATE TABLE task_shards (uniqc_task_id TEXT NOT NULL REFERENCES tasks(task_id) "
	    . "ON DELETE CASCADE, shard_index INTEGER NOT NULL, platform_task_id TEXT NOT NULL, "
	    . "backend TEXT NOT NULL, circuit_count INTEGER NOT NULL DEFAULT 1, "
	    . "sub_index_offset INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, result_json TEXT, "
	    . "error_message TEXT, submit_time TEXT NOT NULL, update_time TEXT NOT NULL, "
	    . "PRIMARY KEY (uniqc_task_id, shard_index));\n"
	    . "CREATE TABLE archived_task_shards (uniqc_task_id TEXT NOT NULL, shard_index INTEGER NOT NULL, "
	    . "platform_task_id TEXT NOT NULL, backend TEXT NOT NULL, circuit_count INTEGER NOT NULL DEFAULT 1, "
	    . "sub_index_offset INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL, result_json TEXT, "
	    . "error_message TEXT, submit_time TEXT NOT NULL, update_time TEXT NOT NULL, "
	    . "archived_at TEXT NOT NULL, PRIMARY KEY (uniqc_task_id, shard_index));\n",
);

# SQLite literal ('' doubled), NULL for undef.
sub sq { my $s = shift; return 'NULL' unless defined $s; $s =~ s/'/''/g; "'$s'" }

# Runs SQL text with the sqlite3 tool on file $f (foreign keys on, busy
# timeout as uniqc's); dies on error.  Returns the output.
sub store_sql {
	my ($f, $sql) = @_;
	my $tmp = "$f.sql.$$";
	open my $fh, '>', $tmp or die "$tmp: $!";
	print $fh ".bail on\n.timeout 5000\nPRAGMA foreign_keys = ON;\n$sql\n";
	close $fh;
	my $out = `sqlite3 -batch '$f' < '$tmp' 2>&1`;
	my $rc = $?;
	unlink $tmp;
	die "sqlite3 failed: $out\n$sql\n" if $rc;
	return $out;
}

# A store of schema version $v (1-5) with application_id $appid.
sub store_create {
	my ($f, %o) = @_;
	my $v = $o{version} // 5;
	my $appid = $o{appid} // 0x554E4943;
	my $sql = "PRAGMA journal_mode = WAL;\nPRAGMA application_id = $appid;\n"
	    . "PRAGMA user_version = $v;\n";
	$sql .= $T{tasks1} . ($v >= 3 ? ", error_message TEXT" : "") . ");\n";
	$sql .= $T{arch1} . ($v >= 3 ? ", error_message TEXT" : "") . ");\n" if $v >= 2;
	$sql .= $T{shards} if $v >= 4;
	store_sql($f, $sql);
}

# Runs taskgate-admin; returns (exit status, stdout+stderr).
sub tg_admin {
	my @args = @_;
	my $bin = $ENV{TG_ADMIN} // (($ENV{TG_BUILDDIR} // '.') . '/src/taskgate-admin');
	my $q = join ' ', map { my $x = $_; $x =~ s/'/'\\''/g; "'$x'" } @args;
	my $out = `'$bin' $q 2>&1`;
	return ($? >> 8, $out);
}

1;
