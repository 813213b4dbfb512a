/*
 * metrics_int.h: private to metrics.c and metrics_text.c: the sizes of
 * the counters, their struct (the part of a page that is summed), the
 * status table that indexes them, and the text writer.
 */
#ifndef METRICS_INT_H
#define METRICS_INT_H

#include <stdint.h>

struct buf;

#define MAX_ROUTES	64	/* route rows + 1 (requests that matched none) */
#define NSTATUS		16
#define NBUCKETS	15

/* Statuses taskgate answers (metrics.c); the last slot is "other". */
extern const int metrics_status_code[NSTATUS - 1];

/* Only uint64_t members: pages are summed as arrays of them. */
struct metrics_counts {
	uint64_t	 req[MAX_ROUTES][NSTATUS];
	uint64_t	 hist[MAX_ROUTES][NBUCKETS];	/* not cumulative */
	uint64_t	 sum_us[MAX_ROUTES];
	uint64_t	 bytes_out;
	uint64_t	 db_connects;
	uint64_t	 db_reconnects;
	uint64_t	 db_connect_failures;
	uint64_t	 db_errors;
};

void	metrics_text(struct buf *, const struct metrics_counts *,
	    const char *pid);

#endif
