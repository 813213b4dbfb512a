/*
 * admin_fp.c: what tells sync that a store changed, from the cheapest
 * look to the dearest: the signature of the store's files (stat(2) of
 * the file and its -wal), the digest of every task's fingerprint from
 * the light scans, and the fingerprint of one task (the light scan's
 * text plus its shards' count and latest update_time, aggregated from
 * one sequential scan of the shard table).  admin_sync.c compares them
 * with what task_origin and taskgate_import_sources recorded.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "admin_fp.h"
#include "admin_import.h"
#include "admin_store.h"

/*
 * The shard part of the fingerprints of table arch: per task id, the
 * number of shards and the greatest update_time (bytewise, as SQLite's
 * max() of text), from one sequential scan.
 */
int
fp_shard_agg(struct imp *m, int arch, struct known *agg)
{
	struct sval		 id, upd;
	struct known_ent	*e;
	int			 rc;

	known_free(agg);
	if (!store_sscan_start(m->st, arch))
		return 0;
	while ((rc = store_sscan_next(m->st, &id, &upd)) == 1) {
		if ((e = known_get(agg, id.p, id.n)) == NULL) {
			if (!known_put(agg, id.p, id.n, upd.p) ||
			    (e = known_get(agg, id.p, id.n)) == NULL)
				return 0;
		} else if (strcmp(upd.p, e->fp) > 0 &&
		    !known_put(agg, id.p, id.n, upd.p))
			return 0;
		e->cnt++;
	}
	return rc == 0;
}

static uint64_t
fnv(uint64_t h, const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* The full fingerprint of a light-scan row into fpb (fp made to point
 * at it).  Returns 0 on no memory. */
int
fp_full(struct known *agg, const struct sval *id, struct sval *fp,
    struct buf *fpb)
{
	struct known_ent	*se = known_get(agg, id->p, id->n);

	buf_reset(fpb);
	buf_add(fpb, fp->p, fp->n);
	buf_printf(fpb, "%ld|%s", se ? se->cnt : 0, se ? se->fp : "");
	if (fpb->oom)
		return 0;
	fp->p = fpb->p;
	fp->n = fpb->len;
	return 1;
}

/*
 * The digest of every (id, fingerprint) of the store, from the light
 * scans only: when it equals the one recorded at the end of the last
 * pass, nothing changed and sync has nothing to read or write.
 * Returns 1 with the digest in out, 0 on error.
 */
int
fp_digest(struct imp *m, struct known *agg, struct buf *fpb, char *out,
    size_t len)
{
	struct sval	 id, fp;
	int64_t		 rowid;
	uint64_t	 h = 1469598103934665603ULL;
	int		 arch, dup, rc;

	for (arch = 0; arch < 2; arch++) {
		if (!fp_shard_agg(m, arch, agg) ||
		    !store_scan_start(m->st, arch, 1))
			return 0;
		while ((rc = store_scan_next(m->st, &rowid, &id, &fp,
		    &dup)) == 1) {
			if (!fp_full(agg, &id, &fp, fpb))
				return 0;
			h = fnv(h, id.p, id.n + 1);
			h = fnv(h, fp.p, fp.n + 1);
		}
		if (rc < 0)
			return 0;
	}
	snprintf(out, len, "%016llx", (unsigned long long)h);
	return 1;
}

/*
 * The store's files as stat(2) sees them: inode, size and mtime of the
 * file and of its -wal.  Any commit of a uniqc writer changes the -wal
 * (or, after a checkpoint, the file).  *settled is cleared when a file
 * changed in the last 2 seconds: its mtime might not yet show a write
 * that follows within the same clock tick, so that signature is not
 * trusted (recorded as '').
 */
void
fp_file_sig(const char *path, char *out, size_t len, int *settled)
{
	struct stat	 a, w;
	char		 wal[PATH_MAX + 8];
	struct timespec	 now;
	int		 hw;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(path, &a) != 0) {
		out[0] = '\0';
		*settled = 0;
		return;
	}
	/* An empty -wal (a reader, or the last writer's checkpoint, left
	 * it) holds nothing: its mtime does not matter. */
	hw = stat(wal, &w) == 0 && w.st_size > 0;
	snprintf(out, len, "%llu:%lld:%lld.%09ld|%llu:%lld:%lld.%09ld",
	    (unsigned long long)a.st_ino, (long long)a.st_size,
	    (long long)a.st_mtim.tv_sec, a.st_mtim.tv_nsec,
	    hw ? (unsigned long long)w.st_ino : 0ULL,
	    hw ? (long long)w.st_size : -1LL,
	    hw ? (long long)w.st_mtim.tv_sec : 0LL, hw ? w.st_mtim.tv_nsec : 0L);
	*settled = now.tv_sec - a.st_mtim.tv_sec > 2 &&
	    (!hw || now.tv_sec - w.st_mtim.tv_sec > 2);
}
