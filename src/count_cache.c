/*
 * count_cache.c: the exact total of a list whose filters the counters
 * cannot answer (time, has_result, metadata: SPEC 4.2 counts those
 * with an index, O(matches)), remembered per process, keyed by the
 * count statement and its parameters, for one value of the change
 * counter (sql/004_api.sql).  A dashboard or a client paging through a
 * filtered list asks the same count again and again; every committed
 * write to the four tables moves the counter, so an entry answers only
 * while the database holds exactly the rows it was counted from.
 *
 * Why that is exact: the counter is read before the count, in an
 * earlier statement (in the same pipeline, or on its own before the
 * handler), so the rows counted are those of the counter's value or of
 * a later one.  A later one means a write committed in between, and
 * then every request that starts after that commit reads a higher
 * counter and misses; the entry can only serve requests that read the
 * old value, i.e. that ran alongside the write, which is no different
 * from a request whose count statement itself ran after the commit.
 * The counter's salt (a random number fixed when the table was created)
 * keeps a database created anew from matching an older entry.
 *
 * A fixed table of count_cache entries (0: off), least recently used
 * replaced, keys compared whole (the hash only finds them); a key over
 * CC_MAX_KEY bytes is not kept.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "count_cache.h"

#define CC_MAX_KEY	16384

struct cc_entry {
	char		*key;		/* NULL: free */
	size_t		 len;
	uint64_t	 hash;
	struct cc_tag	 tag;
	int64_t		 n;
	unsigned long	 used;
};

static struct cc_entry	*cc;
static size_t		 ncc;
static unsigned long	 clock_;

void
cc_setup(size_t entries)
{
	size_t	 i;

	for (i = 0; i < ncc; i++)
		free(cc[i].key);
	free(cc);
	cc = NULL;
	ncc = 0;
	if (entries > 0 && (cc = calloc(entries, sizeof(*cc))) != NULL)
		ncc = entries;
}

/*
 * The key of q with its parameters into k: the statement, then each
 * parameter as its length (-1: NULL) and bytes.  Returns 0 when it is
 * too long to keep or memory ran out.
 */
static int
cc_key(struct buf *k, const struct db_query *q, const char *const *pv)
{
	int	 i, len;

	buf_adds(k, q->sql);
	buf_addc(k, '\0');
	for (i = 0; i < q->nparams; i++) {
		len = pv[i] == NULL ? -1 : q->formats != NULL &&
		    q->formats[i] == 1 ? q->lengths[i] : (int)strlen(pv[i]);
		buf_add(k, (const char *)&len, sizeof(len));
		if (len > 0)
			buf_add(k, pv[i], (size_t)len);
		if (k->len > CC_MAX_KEY)
			return 0;
	}
	return !k->oom;
}

static uint64_t
cc_hash(const struct buf *k)
{
	uint64_t	 h = 14695981039346656037ULL;
	size_t		 i;

	for (i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->p[i]) * 1099511628211ULL;
	return h;
}

/* The entry holding key k, or NULL. */
static struct cc_entry *
cc_find(const struct buf *k, uint64_t h)
{
	size_t	 i;

	for (i = 0; i < ncc; i++)
		if (cc[i].key != NULL && cc[i].hash == h &&
		    cc[i].len == k->len && memcmp(cc[i].key, k->p, k->len) == 0)
			return &cc[i];
	return NULL;
}

/* 1 and *n when q with params was counted at tag t; else 0. */
int
cc_get(const struct cc_tag *t, const struct db_query *q,
    const char *const *pv, int64_t *n)
{
	struct buf	 k;
	struct cc_entry	*e = NULL;

	if (ncc == 0 || t == NULL)
		return 0;
	buf_init(&k);
	if (cc_key(&k, q, pv))
		e = cc_find(&k, cc_hash(&k));
	buf_free(&k);
	if (e == NULL || e->tag.changes != t->changes ||
	    e->tag.salt != t->salt)
		return 0;
	e->used = ++clock_;
	*n = e->n;
	return 1;
}

/*
 * Where a new entry goes: a free one, else the least recently used of
 * another counter value, else the least recently used.
 */
static struct cc_entry *
cc_victim(const struct cc_tag *t)
{
	struct cc_entry	*e = NULL, *x;
	size_t		 i;
	int		 es = 0, xs;

	for (i = 0; i < ncc; i++) {
		x = &cc[i];
		if (x->key == NULL)
			return x;
		xs = x->tag.changes != t->changes || x->tag.salt != t->salt;
		if (e == NULL || xs > es || (xs == es && x->used < e->used)) {
			e = x;
			es = xs;
		}
	}
	return e;
}

/* Keeps n as the count of q with params at tag t. */
void
cc_put(const struct cc_tag *t, const struct db_query *q,
    const char *const *pv, int64_t n)
{
	struct buf	 k;
	struct cc_entry	*e;
	uint64_t	 h;
	char		*p;

	if (ncc == 0 || t == NULL)
		return;
	buf_init(&k);
	if (!cc_key(&k, q, pv) || (p = malloc(k.len)) == NULL) {
		buf_free(&k);
		return;
	}
	memcpy(p, k.p, k.len);
	h = cc_hash(&k);
	if ((e = cc_find(&k, h)) == NULL)
		e = cc_victim(t);
	free(e->key);
	e->key = p;
	e->len = k.len;
	e->hash = h;
	e->tag = *t;
	e->n = n;
	e->used = ++clock_;
	buf_free(&k);
}
