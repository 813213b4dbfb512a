/*
 * count_cache.h: exact totals of filtered lists, kept per process for
 * as long as the database's change counter (SPEC 4.3) does not move.
 */
#ifndef COUNT_CACHE_H
#define COUNT_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct db_query;

/* The change counter as DB_ETAG read it for this request. */
struct cc_tag {
	int64_t		 changes, salt;
};

void	cc_setup(size_t entries);
int	cc_get(const struct cc_tag *, const struct db_query *,
	    const char *const *params, int64_t *n);
void	cc_put(const struct cc_tag *, const struct db_query *,
	    const char *const *params, int64_t n);

#endif
