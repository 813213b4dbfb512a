/*
 * admin_store.h: a uniqc task store (../shared/UNIQC_STORE.md), read
 * only, from one consistent snapshot.  The only module that includes
 * <sqlite3.h>.  Columns are read by name; a table or column the store's
 * schema version lacks reads as empty / NULL.
 */
#ifndef ADMIN_STORE_H
#define ADMIN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

/* One column value: bytes (valid until the next step) or NULL. */
struct sval {
	const char	*p;
	size_t		 n;
	int		 null;
	int		 isint;		/* stored as an INTEGER */
	int64_t		 i;
};

enum store_tcol {
	STC_ID, STC_BACKEND, STC_STATUS, STC_SHOTS, STC_SUBMIT, STC_UPDATE,
	STC_RESULT, STC_METADATA, STC_ERROR, STC_ARCHIVED_AT, STC__MAX
};
enum store_scol {
	SSC_TASK, SSC_INDEX, SSC_PLATFORM, SSC_BACKEND, SSC_COUNT,
	SSC_OFFSET, SSC_STATUS, SSC_RESULT, SSC_ERROR, SSC_SUBMIT,
	SSC_UPDATE, SSC_ARCHIVED_AT, SSC__MAX
};

struct store;

struct store	*store_open(const char *path, int busy_ms, char *err,
		    size_t errlen);
void		 store_close(struct store *);
int		 store_version(const struct store *);
unsigned int	 store_appid(const struct store *);
int		 store_has_archive(const struct store *);
int		 store_begin(struct store *, char *err, size_t errlen) WUR;
void		 store_end(struct store *);
int		 store_count(struct store *, int64_t *active, int64_t *arch) WUR;

/*
 * The light scan of one table (arch 0/1) in rowid order: rowid, task_id
 * and a fingerprint text (location, update_time, archived_at, shard
 * count and latest shard update_time); dup: an archived row whose id is
 * also active.  store_scan_next returns 1 per row, 0 at the end, -1 on
 * error.  light: the fingerprint stops before the shard part
 * ("count|latest update"), which the caller then adds from one
 * sequential scan of the shard table (store_sscan_*): much cheaper
 * than a lookup per task.
 */
int		 store_scan_start(struct store *, int arch, int light) WUR;
int		 store_scan_next(struct store *, int64_t *rowid,
		    struct sval *id, struct sval *fp, int *dup) WUR;

/* The whole row by rowid, columns in v[STC__MAX].  1 found, 0, -1. */
int		 store_task(struct store *, int arch, int64_t rowid,
		    struct sval *v) WUR;

/* The shards of a task by shard_index: start, then next (1/0/-1). */
int		 store_shards_start(struct store *, int arch, const char *id,
		    size_t idlen) WUR;
int		 store_shards_next(struct store *, struct sval *v) WUR;

/* Shards whose task is not in their table (or is an archived copy of
 * an active id): next gives (task id, shard_index), 1/0/-1. */
int		 store_orphans_start(struct store *, int arch) WUR;
int		 store_orphans_next(struct store *, struct sval *id,
		    int64_t *idx) WUR;

/* Every shard of table arch: (task id, update_time or ''), 1/0/-1. */
int		 store_sscan_start(struct store *, int arch) WUR;
int		 store_sscan_next(struct store *, struct sval *id,
		    struct sval *upd) WUR;

const char	*store_error(const struct store *);

#endif
