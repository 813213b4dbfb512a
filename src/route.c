/*
 * route.c: the route table of taskgate, in the registration order of the
 * uniqc FastAPI routers (which decides the Allow header of a 405), and
 * the matcher.
 */
#include "config.h"

#include <string.h>

#include "route.h"
#include "h.h"

const struct route route_table[] = {
	{ "GET",    "/api/tasks",			h_tasks_list, 0 },
	{ "GET",    "/api/tasks/counts",		h_tasks_counts, 0 },
	{ "GET",    "/api/tasks/{}",			h_tasks_get, 0 },
	{ "GET",    "/api/tasks/{}/shards",		h_tasks_shards, 0 },
	{ "DELETE", "/api/tasks/{}",			h_tasks_delete, ROUTE_WRITE },
	{ "POST",   "/api/tasks/bulk-delete",		h_tasks_bulk_delete, ROUTE_WRITE },
	{ "POST",   "/api/tasks/bulk-archive",		h_tasks_bulk_archive, ROUTE_WRITE },
	/* A read (SPEC 4.4): POST for the body, read access. */
	{ "POST",   "/api/tasks/lookup",		h_tasks_lookup, 0 },
	{ "POST",   "/api/tasks/archive-expired",	h_tasks_archive_expired, ROUTE_WRITE },
	{ "POST",   "/api/tasks/{}/archive",		h_tasks_archive_one, ROUTE_WRITE },
	{ "GET",    "/api/archive",			h_archive_list, 0 },
	{ "GET",    "/api/archive/{}",			h_archive_get, 0 },
	{ "DELETE", "/api/archive/{}",			h_archive_delete, ROUTE_WRITE },
	{ "POST",   "/api/archive/restore/{}",		h_archive_restore, ROUTE_WRITE },
	{ "GET",    "/api/backends/live",		h_backends_live, 0 },
	{ "GET",    "/api/health",			h_health, ROUTE_OPEN },
	{ "GET",    "/api/version",			h_version, ROUTE_OPEN },
	{ "GET",    "/api/openapi.json",		h_openapi, ROUTE_OPEN },
	{ "GET",    "/api/metrics",			h_metrics, ROUTE_METRICS },
};
const size_t route_count = NELEM(route_table);

/* Flags of the rows that match nothing: a switched-off feature's route
 * answers 404 like any unknown path. */
static int hidden = ROUTE_METRICS;

/* Makes the rows with these flags match (metrics = on). */
void
route_show(int flags)
{
	hidden &= ~flags;
}

/*
 * Matches path[0..len) against pattern; a "{}" takes one non-empty
 * segment (no '/').  Sets *param on a match.
 */
static int
match_pattern(const char *pat, const char *path, size_t len,
    const char **param, size_t *plen)
{
	size_t	 i = 0, seg;

	for (; *pat != '\0'; pat++) {
		if (pat[0] == '{' && pat[1] == '}') {
			for (seg = i; seg < len && path[seg] != '/'; seg++)
				continue;
			if (seg == i)
				return 0;
			*param = path + i;
			*plen = seg - i;
			i = seg;
			pat++;
			continue;
		}
		if (i >= len || path[i] != *pat)
			return 0;
		i++;
	}
	return i == len;
}

static int
match_any(const char *method, const char *path, size_t len,
    struct route_result *res)
{
	const char	*param = NULL;
	size_t		 i, plen = 0;
	const struct route *partial = NULL;

	for (i = 0; i < route_count; i++) {
		/* A failed or other-method match must leave no parameter. */
		param = NULL;
		plen = 0;
		if ((route_table[i].flags & hidden) ||
		    !match_pattern(route_table[i].pattern, path, len,
		    &param, &plen))
			continue;
		if (strcmp(route_table[i].method, method) == 0) {
			res->kind = ROUTE_FOUND;
			res->route = &route_table[i];
			res->param = param;
			res->paramlen = plen;
			return 1;
		}
		if (partial == NULL)
			partial = &route_table[i];
	}
	if (partial != NULL) {
		res->kind = ROUTE_METHOD;
		res->route = partial;
		return 1;
	}
	return 0;
}

/*
 * Decides what to do with method + decoded path.  Never fails.
 */
void
route_match(const char *method, const char *path, size_t len,
    struct route_result *res)
{
	size_t	 n;

	memset(res, 0, sizeof(*res));
	if (match_any(method, path, len, res))
		return;
	res->kind = ROUTE_NOTFOUND;
	/* Starlette's redirect_slashes: path.rstrip("/") if that matches. */
	if (len > 1 && path[len - 1] == '/') {
		struct route_result	 alt;

		for (n = len; n > 0 && path[n - 1] == '/'; n--)
			continue;
		if (match_any(method, path, n, &alt))
			res->kind = ROUTE_REDIRECT;
	}
}

/*
 * Length of the raw (still percent-encoded) path without its trailing
 * slashes, encoded ("%2F") or not: the path a 307 points to.
 */
size_t
route_strip_slashes(const char *raw, size_t len)
{
	for (;;) {
		if (len > 0 && raw[len - 1] == '/')
			len--;
		else if (len >= 3 && raw[len - 3] == '%' && raw[len - 2] == '2' &&
		    (raw[len - 1] == 'F' || raw[len - 1] == 'f'))
			len -= 3;
		else
			return len;
	}
}
