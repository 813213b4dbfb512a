/*
 * jsonw_answer.c: the bodies answered whole (moves, counts, version,
 * health) and the error bodies, each built as a json-c tree and written
 * by json-c (jsonw_out.c's helpers).
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "req.h"
#include "rows.h"
#include "jsonw.h"

#include "jsonw_int.h"

/* {"<key>":"<id>"}: the answer of a move of one task. */
void
jsonw_one(struct buf *b, const char *key, const char *id, size_t len)
{
	json_object	*o = json_object_new_object();

	jsonw_add(o, key, jsonw_jstr(id, len));
	jsonw_finish(b, o);
}

/*
 * {"<key>":[ok],"missing":[...],"count":n, and "conflicts":[...] when
 * there are any}: the answer of a bulk move (SPEC 2.1, 4.5).
 */
void
jsonw_moved(struct buf *b, const char *key, const struct jsonw_idlist *ok,
    const struct jsonw_idlist *missing, const struct jsonw_idlist *conflicts)
{
	json_object	*o = json_object_new_object();

	jsonw_add(o, key, jsonw_jids(ok));
	jsonw_add(o, "missing", jsonw_jids(missing));
	jsonw_add(o, "count", json_object_new_int64((int64_t)ok->n));
	if (conflicts != NULL && conflicts->n > 0)
		jsonw_add(o, "conflicts", jsonw_jids(conflicts));
	jsonw_finish(b, o);
}

/* The answer of archive-expired (SPEC 2.1). */
void
jsonw_expired(struct buf *b, const struct jsonw_idlist *archived,
    int64_t hours, int terminal_only, const struct jsonw_idlist *skipped,
    const struct jsonw_idlist *conflicts)
{
	json_object	*o = json_object_new_object();

	jsonw_add(o, "archived", jsonw_jids(archived));
	jsonw_add(o, "count", json_object_new_int64((int64_t)archived->n));
	jsonw_add(o, "hours", json_object_new_int64(hours));
	jsonw_add(o, "terminal_only", json_object_new_boolean(terminal_only));
	jsonw_add(o, "skipped_running", jsonw_jids(skipped));
	if (conflicts->n > 0)
		jsonw_add(o, "conflicts", jsonw_jids(conflicts));
	jsonw_finish(b, o);
}

/* {"dry_run":true,"matched":n,"sample":[ids]} (SPEC 4.5). */
void
jsonw_dry_run(struct buf *b, int64_t matched, const struct jsonw_idlist *s)
{
	json_object	*o = json_object_new_object();

	jsonw_add(o, "dry_run", json_object_new_boolean(1));
	jsonw_add(o, "matched", json_object_new_int64(matched));
	jsonw_add(o, "sample", jsonw_jids(s));
	jsonw_finish(b, o);
}

/* The counts answer being built (SPEC 2.1, 4.2). */
struct jsonw_counts {
	json_object		*top, *by;
	const char *const	*names;
	size_t			 n;
};

/* {"<names[k]>":v[k],...,"total":sum} */
static json_object *
counts_obj(const struct jsonw_counts *c, const int64_t *v)
{
	json_object	*o = json_object_new_object();
	int64_t		 total = 0;
	size_t		 k;

	for (k = 0; k < c->n; k++) {
		jsonw_add(o, c->names[k], json_object_new_int64(v[k]));
		total += v[k];
	}
	jsonw_add(o, "total", json_object_new_int64(total));
	return o;
}

/* The counts v of names[0..n); with by_backend an empty by_backend. */
struct jsonw_counts *
jsonw_counts_new(const char *const *names, size_t n, const int64_t *v,
    int by_backend)
{
	struct jsonw_counts	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->names = names;
	c->n = n;
	c->top = counts_obj(c, v);
	if (by_backend) {
		c->by = json_object_new_object();
		jsonw_add(c->top, "by_backend", c->by == NULL ? NULL :
		    json_object_get(c->by));
	}
	return c;
}

/* Adds the counts v of backend name[0..len) to by_backend. */
void
jsonw_counts_backend(struct jsonw_counts *c, const char *name, size_t len,
    const int64_t *v)
{
	char	*k;

	if (c == NULL || c->by == NULL)
		return;
	if ((k = strndup(name != NULL ? name : "", len)) == NULL) {
		jsonw_mark_broken(c->top);
		return;
	}
	jsonw_add(c->by, k, counts_obj(c, v));
	if (jsonw_is_broken(c->by))
		jsonw_mark_broken(c->top);
	free(k);
}

/* Writes the counts and frees c (NULL: out of memory). */
void
jsonw_counts_end(struct buf *b, struct jsonw_counts *c)
{
	if (c == NULL) {
		b->oom = 1;
		return;
	}
	json_object_put(c->by);
	jsonw_finish(b, c->top);
	free(c);
}

void
jsonw_version(struct buf *b, const char *version, const char *url,
    const char *docs)
{
	json_object	*o = json_object_new_object();

	jsonw_add(o, "version", json_object_new_string(version));
	jsonw_add(o, "github_url", json_object_new_string(url));
	jsonw_add(o, "docs_url", json_object_new_string(docs));
	jsonw_finish(b, o);
}

void
jsonw_health(struct buf *b)
{
	json_object	*o = json_object_new_object();

	jsonw_add(o, "status", json_object_new_string("ok"));
	jsonw_finish(b, o);
}

void
jsonw_empty_list(struct buf *b)
{
	jsonw_finish(b, json_object_new_array());
}

/* ------------------------------------------------------------- errors */

/* {"detail":"<pre><id><post>"}: FastAPI's error body. */
void
jsonw_detail(struct buf *b, const char *pre, const struct str *id,
    const char *post)
{
	struct buf	 t;
	json_object	*o = json_object_new_object();

	buf_init(&t);
	buf_adds(&t, pre);
	if (id != NULL)
		buf_add(&t, id->p, id->len);
	buf_adds(&t, post);
	jsonw_add(o, "detail", t.oom ? NULL : jsonw_jstr(t.p, t.len));
	jsonw_finish(b, o);
	buf_free(&t);
}

/*
 * A 422 for query parameters, {"detail":[items]}, in FastAPI's shape.
 * The items come one at a time from the parsers of several modules
 * (limit, filters, hours), all into the response body, so the list's
 * brackets and commas are written here; each item by json-c.
 */
void
jsonw_qerr_open(struct buf *b)
{
	buf_reset(b);
	buf_adds(b, "{\"detail\":[");
}

/* One {"type","loc":["query",param],"msg","input"} item. */
void
jsonw_qerr(struct buf *b, const char *type, const char *param,
    const char *msg, const struct str *input)
{
	json_object		*o = json_object_new_object();
	struct rtext		 loc[2] = { { "query", 5 }, { param, 0 } };
	struct jsonw_idlist	 l = { loc, 2 };

	if (b->len > 0 && b->p[b->len - 1] == '}')
		buf_addc(b, ',');
	loc[1].len = strlen(param);
	jsonw_add(o, "type", json_object_new_string(type));
	jsonw_add(o, "loc", jsonw_jids(&l));
	jsonw_add(o, "msg", json_object_new_string(msg));
	jsonw_add(o, "input", jsonw_jstr(input->p, input->len));
	jsonw_finish(b, o);
}

void
jsonw_qerr_close(struct buf *b)
{
	buf_adds(b, "]}");
}
