/* unit-route.c: the routing decisions of SPEC 2.3. */
#include "config.h"

#include <string.h>

#include "tap.h"
#include "route.h"
#include "h.h"

static struct route_result rr;

static enum route_kind
m(const char *method, const char *path)
{
	route_match(method, path, strlen(path), &rr);
	return rr.kind;
}

int
main(void)
{
	ok(m("GET", "/api/tasks") == ROUTE_FOUND &&
	    rr.route->handler == h_tasks_list, "list");
	ok(m("GET", "/api/tasks/counts") == ROUTE_FOUND &&
	    rr.route->handler == h_tasks_counts, "counts before {id}");
	ok(m("GET", "/api/tasks/bulk-delete") == ROUTE_FOUND &&
	    rr.route->handler == h_tasks_get && rr.paramlen == 11,
	    "GET bulk-delete is a lookup");
	ok(m("DELETE", "/api/tasks/counts") == ROUTE_FOUND &&
	    rr.route->handler == h_tasks_delete, "DELETE counts deletes");
	ok(m("POST", "/api/tasks/x") == ROUTE_METHOD &&
	    strcmp(rr.route->method, "GET") == 0, "POST task: Allow GET");
	ok(m("PUT", "/api/tasks/bulk-delete") == ROUTE_METHOD &&
	    strcmp(rr.route->method, "GET") == 0, "PUT bulk-delete: Allow GET");
	ok(m("GET", "/api/tasks/x/archive") == ROUTE_METHOD &&
	    strcmp(rr.route->method, "POST") == 0, "GET archive: Allow POST");
	ok(m("HEAD", "/api/health") == ROUTE_METHOD, "HEAD is 405");
	ok(m("GET", "/api/tasks/") == ROUTE_REDIRECT, "trailing slash");
	ok(m("GET", "/api/tasks//") == ROUTE_REDIRECT, "several slashes");
	ok(m("POST", "/api/tasks/x/") == ROUTE_REDIRECT,
	    "redirect even when only the path matches");
	ok(m("GET", "/api/") == ROUTE_NOTFOUND, "/api/ is not found");
	ok(m("GET", "/api/tasks//x") == ROUTE_NOTFOUND, "empty segment");
	ok(m("GET", "/API/tasks") == ROUTE_NOTFOUND, "case-sensitive");
	ok(m("GET", "/api/tasks/a/b") == ROUTE_NOTFOUND, "two segments");
	ok(m("GET", "/api/tasks/x/shards") == ROUTE_FOUND &&
	    rr.route->handler == h_tasks_shards && rr.paramlen == 1, "shards");
	ok(m("POST", "/api/archive/restore/q") == ROUTE_FOUND &&
	    rr.route->handler == h_archive_restore, "restore");
	ok(m("GET", "/api/archive/restore") == ROUTE_FOUND &&
	    rr.route->handler == h_archive_get, "archive id 'restore'");
	ok(m("GET", "/api/archive/restore/q") == ROUTE_METHOD &&
	    strcmp(rr.route->method, "POST") == 0, "GET restore: Allow POST");
	ok(m("get", "/api/health") == ROUTE_METHOD, "methods are case-sensitive");
	ok(route_strip_slashes("/api/tasks/x%2F/", 16) == 12, "strip %%2F and /");
	ok(route_strip_slashes("/api/tasks", 10) == 10, "nothing to strip");
	/* Found by fuzz/fuzz_route: an earlier "{}" route that matched the
	 * path with another method left its parameter behind. */
	ok(m("POST", "/api/tasks/bulk-delete") == ROUTE_FOUND &&
	    rr.route->handler == h_tasks_bulk_delete && rr.param == NULL &&
	    rr.paramlen == 0, "no stale {} parameter on a fixed route");
	ok(m("POST", "/api/tasks/archive-expired") == ROUTE_FOUND &&
	    rr.param == NULL, "archive-expired has no parameter");
	return done_testing();
}
