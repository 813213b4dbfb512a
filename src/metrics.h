/*
 * metrics.h: request and database counters for GET /api/metrics, in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * Each process counts into one page of plain memory: a heap page, or,
 * with metrics_dir set, a small file of that directory mapped shared.
 * Counting is a few memory stores, no system call and no lock.  An
 * answer sums every process's file in metrics_dir (dead processes'
 * counts are kept, folded into one file), so a scrape that lands on any
 * of several FastCGI processes sees the whole server, as
 * prometheus_client's multiprocess mode does.  Without metrics_dir the
 * answer is the answering process's own counts, each series labelled
 * with its pid.  README ("Metrics") says which to choose.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#include "app.h"

struct buf;

#define METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

int	metrics_init(const char *dir, char *err, size_t errlen) WUR;
void	metrics_close(void);
int	metrics_enabled(void);
void	metrics_request(size_t route, int status, double ms, size_t bytes);
void	metrics_db_connect(int ok, int again);
void	metrics_db_error(void);
enum app_err	metrics_render(struct buf *) WUR;

#endif
