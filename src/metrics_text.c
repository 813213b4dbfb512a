/*
 * metrics_text.c: the Prometheus text (exposition format 0.0.4) of one
 * set of counts (struct metrics_counts): the series names, HELP and TYPE
 * lines, the route labels read from the route table (its {} becomes
 * {task_id}), the cumulative histogram buckets.  What is counted and
 * which processes are summed is metrics.c's business.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "metrics_int.h"
#include "route.h"

/* The labels of the latency buckets (metrics.c has their bounds). */
static const char *const bucket_le[NBUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
};

static void
escape_label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_addc(b, '\\');
		if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *s);
	}
}

/* method="GET",route="/api/tasks/{task_id}" of route slot i. */
static void
route_labels(struct buf *b, const char *pid, size_t i)
{
	const char	*p;

	buf_adds(b, pid);
	if (i >= route_count) {
		buf_adds(b, "method=\"other\",route=\"unmatched\"");
		return;
	}
	buf_adds(b, "method=\"");
	escape_label(b, route_table[i].method);
	buf_adds(b, "\",route=\"");
	for (p = route_table[i].pattern; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] == '}') {
			buf_adds(b, "{task_id}");
			p++;
		} else if (*p == '\\' || *p == '"')
			buf_printf(b, "\\%c", *p);
		else
			buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static void
counter(struct buf *b, const char *name, const char *help, const char *pid,
    uint64_t v)
{
	size_t	 n = strlen(pid);

	buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s", name, help,
	    name, name);
	if (n > 0)	/* pid="N", without the comma */
		buf_printf(b, "{%.*s}", (int)(n - 1), pid);
	buf_printf(b, " %llu\n", (unsigned long long)v);
}

/*
 * Appends c as Prometheus text: requests by route row and status, the
 * latency histograms, then the plain counters.  pid is "" or the label
 * pid="N", with its comma, that every series then carries.  Cannot fail
 * (b's sticky oom says whether it all went in).
 */
void
metrics_text(struct buf *b, const struct metrics_counts *c, const char *pid)
{
	size_t		 i, s, k;
	uint64_t	 cum;

	buf_adds(b, "# HELP taskgate_http_requests_total Requests answered, "
	    "by route pattern and status.\n"
	    "# TYPE taskgate_http_requests_total counter\n");
	for (i = 0; i <= route_count; i++)
		for (s = 0; s < NSTATUS; s++) {
			if (c->req[i][s] == 0)
				continue;
			buf_adds(b, "taskgate_http_requests_total{");
			route_labels(b, pid, i);
			if (s < NSTATUS - 1)
				buf_printf(b, ",status=\"%d\"} ", metrics_status_code[s]);
			else
				buf_adds(b, ",status=\"other\"} ");
			buf_addu(b, c->req[i][s]);
			buf_addc(b, '\n');
		}
	buf_adds(b, "# HELP taskgate_http_request_duration_seconds Time from "
	    "the request's start to its last byte handed to the web server.\n"
	    "# TYPE taskgate_http_request_duration_seconds histogram\n");
	for (i = 0; i <= route_count; i++) {
		for (cum = 0, k = 0; k < NBUCKETS; k++)
			cum += c->hist[i][k];
		if (cum == 0)
			continue;
		for (cum = 0, k = 0; k < NBUCKETS; k++) {
			cum += c->hist[i][k];
			buf_adds(b, "taskgate_http_request_duration_seconds_bucket{");
			route_labels(b, pid, i);
			buf_printf(b, ",le=\"%s\"} %llu\n", bucket_le[k],
			    (unsigned long long)cum);
		}
		buf_adds(b, "taskgate_http_request_duration_seconds_sum{");
		route_labels(b, pid, i);
		buf_printf(b, "} %llu.%06llu\n",
		    (unsigned long long)(c->sum_us[i] / 1000000),
		    (unsigned long long)(c->sum_us[i] % 1000000));
		buf_adds(b, "taskgate_http_request_duration_seconds_count{");
		route_labels(b, pid, i);
		buf_printf(b, "} %llu\n", (unsigned long long)cum);
	}
	counter(b, "taskgate_http_response_bytes_total",
	    "Response body bytes handed to the web server.", pid,
	    c->bytes_out);
	counter(b, "taskgate_db_connections_total",
	    "Database connections established.", pid, c->db_connects);
	counter(b, "taskgate_db_reconnects_total",
	    "Database connections established after an earlier one was lost.",
	    pid, c->db_reconnects);
	counter(b, "taskgate_db_connect_failures_total",
	    "Database connection attempts that failed.", pid,
	    c->db_connect_failures);
	counter(b, "taskgate_db_errors_total",
	    "Database errors: failed connects, failed statements, lost "
	    "connections.", pid, c->db_errors);
}
