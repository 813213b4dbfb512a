/*
 * admin_fp.h: the fingerprints and signatures sync compares
 * (admin_fp.c); called by admin_sync.c.
 */
#ifndef ADMIN_FP_H
#define ADMIN_FP_H

#include <stddef.h>

#include "app.h"

struct buf;
struct imp;
struct known;
struct sval;

int	fp_shard_agg(struct imp *, int arch, struct known *agg) WUR;
int	fp_full(struct known *agg, const struct sval *id, struct sval *fp,
	    struct buf *fpb) WUR;
int	fp_digest(struct imp *, struct known *agg, struct buf *fpb,
	    char *out, size_t len) WUR;
void	fp_file_sig(const char *path, char *out, size_t len, int *settled);

#endif
