/*
 * admin_import.h: the import engine shared by "import" and "sync":
 * admin_sync.c runs the passes over the store, admin_stage.c builds a
 * batch (imp_stage), admin_import.c applies it (imp_flush), through
 * admin_direct.c when its tasks are all new; admin_known.c holds what
 * sync remembers (struct known).
 */
#ifndef ADMIN_IMPORT_H
#define ADMIN_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "admin.h"
#include "buf.h"

struct store;

/* What the database remembers of this store's tasks (task_origin). */
struct known_ent {
	char		*id;
	size_t		 idlen;
	char		*fp;		/* NULL: deleted since */
	unsigned char	 seen;		/* in the store during this pass */
	long		 cnt;		/* shard aggregate: shards counted */
};
struct known {
	struct known_ent *t;
	size_t		  cap, n;
};

struct imp_task {
	char		*id;
	size_t		 idlen;
	char		*fp;
	size_t		 toff, tlen;	/* its line in ct */
	size_t		 soff, slen;	/* its shard lines in cs */
};

struct imp {
	struct adm	*a;
	struct store	*st;
	char		 source[24];	/* taskgate_import_sources.id */
	struct known	 known;
	int		 use_known;	/* sync: skip unchanged rows */
	size_t		 batch_tasks;
	size_t		 batch_bytes;
	/* the batch being built */
	struct buf	 ct, cs, tmp;
	struct buf	 d[5];		/* imp_direct's COPY streams */
	struct imp_task	*bt;
	size_t		 bn, bcap;
	int64_t		 ord;
	/* figures */
	int64_t		 scanned, staged, unchanged, inserted, updated;
	int64_t		 moved, shards, conflicts, skipped, deleted;
};

/* The outcome of applying tasks [from, to) of the batch. */
enum { AT_OK, AT_ROW, AT_RETRY, AT_FATAL, AT_NONE };

struct pg_result;
struct attempt {
	char		 err[512];
	struct pg_result *conf;		/* the conflicts, kept until commit */
	int64_t		 ins, upd, moved;
};

int	imp_direct(struct imp *, size_t from, size_t to, struct attempt *);
int	imp_copy_in(struct pg_conn *, struct attempt *, const char *sql,
	    const char *p, size_t n, int *how);
int	imp_classify(struct pg_conn *, const struct pg_result *);
void	imp_keep_err(struct attempt *, struct pg_conn *, const char *what,
	    const struct pg_result *);
int	imp_stage(struct imp *, int arch, int64_t rowid, const char *fp,
	    size_t fplen) WUR;
int	imp_flush(struct imp *) WUR;
int	imp_setup(struct imp *) WUR;
void	imp_reset(struct imp *);
void	imp_free(struct imp *);

struct known_ent *known_get(struct known *, const char *, size_t);
int	known_put(struct known *, const char *, size_t, const char *) WUR;
void	known_free(struct known *);

#endif
