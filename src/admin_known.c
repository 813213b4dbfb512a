/*
 * admin_known.c: what sync remembers of a store's tasks between passes
 * (task_id -> fingerprint of the row last applied, from task_origin): an
 * open-addressing hash of copies, so that an unchanged store costs one
 * light scan and no write.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin_import.h"


static size_t
hash(const char *s, size_t n)
{
	size_t	 h = 1469598103934665603ULL, i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

struct known_ent *
known_get(struct known *k, const char *id, size_t n)
{
	size_t	 i;

	if (k->cap == 0)
		return NULL;
	for (i = hash(id, n) & (k->cap - 1); k->t[i].id != NULL;
	    i = (i + 1) & (k->cap - 1))
		if (k->t[i].idlen == n && memcmp(k->t[i].id, id, n) == 0)
			return &k->t[i];
	return NULL;
}

/* Sets id's fingerprint (a copy; fp NULL: deleted).  0 on no memory. */
int
known_put(struct known *k, const char *id, size_t n, const char *fp)
{
	struct known_ent	*e, *old;
	size_t			 i, ocap;
	char			*f = NULL;

	if (fp != NULL && (f = strdup(fp)) == NULL)
		return 0;
	if ((e = known_get(k, id, n)) != NULL) {
		free(e->fp);
		e->fp = f;
		return 1;
	}
	if ((k->n + 1) * 2 > k->cap) {
		old = k->t;
		ocap = k->cap;
		k->cap = ocap ? ocap * 2 : 1024;
		if ((k->t = calloc(k->cap, sizeof(*k->t))) == NULL) {
			k->t = old;
			k->cap = ocap;
			free(f);
			return 0;
		}
		for (i = 0; i < ocap; i++) {
			size_t j;

			if (old[i].id == NULL)
				continue;
			for (j = hash(old[i].id, old[i].idlen) & (k->cap - 1);
			    k->t[j].id != NULL; j = (j + 1) & (k->cap - 1))
				;
			k->t[j] = old[i];
		}
		free(old);
	}
	for (i = hash(id, n) & (k->cap - 1); k->t[i].id != NULL;
	    i = (i + 1) & (k->cap - 1))
		;
	if ((k->t[i].id = malloc(n + 1)) == NULL) {
		free(f);
		return 0;
	}
	memcpy(k->t[i].id, id, n);
	k->t[i].id[n] = '\0';
	k->t[i].idlen = n;
	k->t[i].fp = f;
	k->t[i].seen = 0;
	k->n++;
	return 1;
}

void
known_free(struct known *k)
{
	size_t	 i;

	for (i = 0; i < k->cap; i++) {
		free(k->t[i].id);
		free(k->t[i].fp);
	}
	free(k->t);
	memset(k, 0, sizeof(*k));
}
