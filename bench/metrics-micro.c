/*
 * metrics-micro.c: the cost of one metrics_request() call (bench/metrics):
 * counts CALLS requests into a page mapped from a file of a directory
 * given as argv[1] (tmpfs), or into a heap page with "", and prints the
 * nanoseconds per call.  Built against src/libtaskgate.a.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "metrics.h"

static double
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
	char		 err[256];
	long		 i, calls = 20000000;
	double		 t0, t1, sink = 0;
	static const int st[4] = { 200, 404, 200, 503 };

	if (argc < 2 || !metrics_init(argv[1], err, sizeof(err))) {
		fprintf(stderr, "metrics-micro: %s\n", argc < 2 ? "usage: metrics-micro DIR|\"\"" : err);
		return 1;
	}
	t0 = now_ns();
	for (i = 0; i < calls; i++) {
		double	 ms = (double)(i & 1023) * 0.01;

		metrics_request((size_t)(i % 7), st[i & 3], ms, 300);
		sink += ms;
	}
	t1 = now_ns();
	printf("%.2f\n", (t1 - t0) / (double)calls);
	metrics_close();
	return sink < 0;
}
