/*
 * route.h: the route table and the one place that decides between a
 * handler, 404, 405 with Allow, and a 307 to the path without its
 * trailing slash.  Matching follows Starlette: routes are tried in
 * registration order, the first whose path and method match wins; if
 * only paths match, the first such route names the Allow header.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

#include "app.h"

struct req;
struct resp;
struct db;
struct str;

typedef enum app_err (*route_handler)(struct req *, struct resp *,
    struct db *, const struct str *);

#define ROUTE_WRITE	0x01	/* changes data: access-controlled */
#define ROUTE_OPEN	0x02	/* no access control at all (health, version) */
#define ROUTE_METRICS	0x04	/* exists only with metrics = on (route_show) */

struct route {
	const char	*method;
	const char	*pattern;	/* "{}" is one non-empty segment */
	route_handler	 handler;
	int		 flags;
};

enum route_kind {
	ROUTE_FOUND,
	ROUTE_NOTFOUND,
	ROUTE_METHOD,
	ROUTE_REDIRECT,
	ROUTE__MAX
};

struct route_result {
	enum route_kind		 kind;
	const struct route	*route;		/* FOUND, or the Allow route */
	const char		*param;		/* the "{}" segment (bytes) */
	size_t			 paramlen;
};

void	route_match(const char *method, const char *path, size_t len,
	    struct route_result *);
size_t	route_strip_slashes(const char *raw, size_t len);
void	route_show(int flags);

extern const struct route route_table[];
extern const size_t route_count;

#endif
