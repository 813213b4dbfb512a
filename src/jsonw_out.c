/*
 * jsonw_out.c: response bodies are built as json-c objects and written
 * by json-c (JSONW_FLAGS), its escaping being Python's (jsonw.c).  Here:
 * the helpers that build trees (jsonw_add() ...: an allocation that
 * fails marks the tree, and writing it then sets the buffer's oom), the
 * task and shard objects, and the streamed bodies (lists, shards,
 * lookup).  The bodies answered whole are in jsonw_answer.c.
 *
 * The task and the shard object are templates: built once per process,
 * their values set in place for each row and the object serialized, so
 * a list page costs no allocation per row.  A list is streamed (a
 * million rows cannot be held in a tree): the array's brackets and the
 * commas between its rows are written here by hand, each row and the
 * members after the array by json-c (jsonw_put_tail()).
 */

#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "req.h"
#include "rows.h"
#include "jsonw.h"

#include "jsonw_int.h"

/*
 * A template whose text grew past this (a detail with a big result)
 * is given back after use, so a process keeps no big buffer.
 */
#define TMPL_KEEP_MAX	(1024 * 1024)

/* The userdata that marks a tree an allocation failed to complete. */
static char broken;

void
jsonw_mark_broken(json_object *o)
{
	if (o != NULL)
		json_object_set_userdata(o, &broken, NULL);
}

int
jsonw_is_broken(json_object *o)
{
	return o == NULL || json_object_get_userdata(o) == &broken;
}

/* Adds v under key to object o; a NULL v is a failed allocation. */
void
jsonw_add(json_object *o, const char *key, json_object *v)
{
	if (o == NULL) {
		json_object_put(v);
		return;
	}
	/* json-c keeps v only when it could add it. */
	if (v == NULL || jsonw_is_broken(v) || json_object_object_add(o, key, v)) {
		json_object_put(v);
		jsonw_mark_broken(o);
	}
}

void
jsonw_add_null(json_object *o, const char *key)
{
	if (o != NULL && json_object_object_add(o, key, NULL) != 0)
		jsonw_mark_broken(o);
}

json_object *
jsonw_jstr(const char *p, size_t n)
{
	if (n > INT_MAX - 2)
		return NULL;
	return json_object_new_string_len(p != NULL ? p : "", (int)n);
}

/* The array of ids l. */
json_object *
jsonw_jids(const struct jsonw_idlist *l)
{
	json_object	*a, *v;
	size_t		 i;

	if ((a = json_object_new_array_ext(l->n > 0 ? (int)l->n : 1)) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++)
		if ((v = jsonw_jstr(l->v[i].p, l->v[i].len)) == NULL ||
		    json_object_array_add(a, v) != 0) {
			json_object_put(v);
			jsonw_mark_broken(a);
			break;
		}
	return a;
}

/* Writes o and frees it. */
void
jsonw_finish(struct buf *b, json_object *o)
{
	if (jsonw_is_broken(o))
		b->oom = 1;
	else
		(void)jsonw_put(b, o);
	json_object_put(o);
}

/*
 * Appends close, then the members of o after a comma, and frees o: the
 * end of an object whose first member (an array or a map) was
 * streamed.  json-c writes "{...}": its opening brace is left out.
 */
void
jsonw_put_tail(struct buf *b, const char *close, json_object *o)
{
	const char	*s = NULL;
	size_t		 n = 0;

	buf_adds(b, close);
	if (!jsonw_is_broken(o))
		s = json_object_to_json_string_length(o, JSONW_FLAGS, &n);
	if (s == NULL || n < 2)
		b->oom = 1;
	else if (n == 2)
		buf_addc(b, '}');
	else {
		buf_addc(b, ',');
		buf_add(b, s + 1, n - 1);
	}
	json_object_put(o);
}

/*
 * Appends o without its closing brace, then ,"key":[ for an array
 * streamed next, and frees o.
 */
static void
put_head(struct buf *b, json_object *o, const char *key)
{
	const char	*s = NULL;
	size_t		 n = 0;

	if (!jsonw_is_broken(o))
		s = json_object_to_json_string_length(o, JSONW_FLAGS, &n);
	if (s == NULL || n < 2)
		b->oom = 1;
	else {
		buf_add(b, s, n - 1);
		if (n > 2)
			buf_addc(b, ',');
		buf_addc(b, '"');
		buf_adds(b, key);
		buf_adds(b, "\":[");
	}
	json_object_put(o);
}

/* ---------------------------------------------------------- templates */

/* A member of a template that is either null or the object v. */
struct nmember {
	const char	*key;
	json_object	*v;		/* the template holds a reference */
	int		 in;		/* v is the member's value */
};

static void
nmember_init(json_object *o, struct nmember *m, const char *key,
    json_object *v)
{
	m->key = key;
	m->v = v;
	m->in = 0;
	if (v == NULL && o != NULL)
		jsonw_mark_broken(o);
	jsonw_add_null(o, key);
}

/* Makes the member v or null; replacing a member allocates nothing. */
static void
nmember_set(json_object *o, struct nmember *m, int present)
{
	if (present == m->in)
		return;
	(void)json_object_object_add(o, m->key, present ?
	    json_object_get(m->v) : NULL);
	m->in = present;
}

/* An int object written as a time (jsonw_ser_time). */
static json_object *
jtime(void)
{
	json_object	*v = json_object_new_int64(0);

	if (v != NULL)
		json_object_set_serializer(v, jsonw_ser_time, NULL, NULL);
	return v;
}

/* An object written as the stored JSON in sl (jsonw_ser_stored). */
static json_object *
jstored(struct jsonw_slot *sl, const char *dflt)
{
	json_object	*v = json_object_new_boolean(0);

	sl->p = NULL;
	sl->dflt = dflt;
	if (v != NULL)
		json_object_set_serializer(v, jsonw_ser_stored, sl, NULL);
	return v;
}

/*
 * Sets the string member m to t; NULL is null when nullable, else "".
 * json-c 0.16's json_object_set_string_len() loses the buffer of a
 * string that grew (valgrind: definitely lost) when it is set to "", so
 * an empty value gets a new object instead.
 */
static int
nmember_text(json_object *o, struct nmember *m, const struct rtext *t,
    int nullable)
{
	static const struct rtext empty = { "", 0 };
	json_object		*e;

	if (t->p == NULL && nullable) {
		nmember_set(o, m, 0);
		return 1;
	}
	if (t->p == NULL)
		t = &empty;
	if (t->len > INT_MAX - 2)
		return 0;
	if (t->len > 0 || json_object_get_string_len(m->v) == 0) {
		if (!json_object_set_string_len(m->v, t->p, (int)t->len))
			return 0;
	} else {
		if ((e = json_object_new_string("")) == NULL)
			return 0;
		if (m->in)
			(void)json_object_object_add(o, m->key,
			    json_object_get(e));
		json_object_put(m->v);
		m->v = e;
	}
	nmember_set(o, m, 1);
	return 1;
}

/*
 * Writes template o; returns 0 when it should be given back (it
 * failed, or its text grew past TMPL_KEEP_MAX).
 */
static int
put_tmpl(struct buf *b, json_object *o, int ok)
{
	const char	*s = NULL;
	size_t		 n = 0;

	if (ok)
		s = json_object_to_json_string_length(o, JSONW_FLAGS, &n);
	if (s == NULL) {
		b->oom = 1;
		return 0;
	}
	buf_add(b, s, n);
	return n <= TMPL_KEEP_MAX;
}

/* The task object (SPEC 2), summary [0] and detail [1]. */
static struct task_tmpl {
	json_object		*obj, *shots, *submit, *update, *has;
	struct nmember		 text[3];	/* task_id, backend, status */
	struct nmember		 archived_at;
	struct jsonw_slot	 result, metadata;
} task_tm[2];

static void
task_tmpl_free(struct task_tmpl *tm)
{
	size_t	 i;

	json_object_put(tm->obj);
	for (i = 0; i < NELEM(tm->text); i++)
		json_object_put(tm->text[i].v);
	json_object_put(tm->archived_at.v);
	memset(tm, 0, sizeof(*tm));
}

/* Builds the task object in the key order of SPEC 2. */
static int
task_tmpl_new(struct task_tmpl *tm, int detail)
{
	json_object	*o;

	memset(tm, 0, sizeof(*tm));
	tm->obj = o = json_object_new_object();
	nmember_init(o, &tm->text[0], "task_id", json_object_new_string(""));
	nmember_init(o, &tm->text[1], "backend", json_object_new_string(""));
	nmember_init(o, &tm->text[2], "status", json_object_new_string(""));
	jsonw_add(o, "shots", tm->shots = json_object_new_int64(0));
	jsonw_add(o, "submit_time", tm->submit = jtime());
	jsonw_add(o, "update_time", tm->update = jtime());
	if (detail)
		jsonw_add(o, "result", jstored(&tm->result, "null"));
	else
		jsonw_add(o, "has_result", tm->has = json_object_new_boolean(0));
	jsonw_add(o, "metadata", jstored(&tm->metadata, "{}"));
	nmember_init(o, &tm->archived_at, "archived_at", jtime());
	if (jsonw_is_broken(o)) {
		task_tmpl_free(tm);
		return 0;
	}
	return 1;
}

/*
 * One task object; detail selects "result" (stored JSON, null when
 * absent) over "has_result".
 */
void
jsonw_task(struct buf *b, const struct task_row *t, int detail)
{
	struct task_tmpl	*tm = &task_tm[detail != 0];
	int			 ok;

	if (tm->obj == NULL && !task_tmpl_new(tm, detail)) {
		b->oom = 1;
		return;
	}
	ok = nmember_text(tm->obj, &tm->text[0], &t->task_id, 0) &&
	    nmember_text(tm->obj, &tm->text[1], &t->backend, 0) &&
	    nmember_text(tm->obj, &tm->text[2], &t->status, 0);
	json_object_set_int64(tm->shots, t->shots);
	json_object_set_int64(tm->submit, t->submit_time);
	json_object_set_int64(tm->update, t->update_time);
	if (detail) {
		tm->result.p = t->result.p;
		tm->result.len = t->result.len;
	} else
		json_object_set_boolean(tm->has, t->has_result);
	tm->metadata.p = t->metadata.p;
	tm->metadata.len = t->metadata.len;
	nmember_set(tm->obj, &tm->archived_at, t->archived);
	json_object_set_int64(tm->archived_at.v, t->archived_at);
	ok = put_tmpl(b, tm->obj, ok);
	tm->result.p = tm->metadata.p = NULL;
	if (!ok)
		task_tmpl_free(tm);
}

/* The shard object (SPEC 2.3). */
static struct shard_tmpl {
	json_object	*obj, *index, *circuits, *offset, *submit, *update;
	struct nmember	 text[5];
} shard_tm;

static void
shard_tmpl_free(struct shard_tmpl *tm)
{
	size_t	 i;

	json_object_put(tm->obj);
	for (i = 0; i < NELEM(tm->text); i++)
		json_object_put(tm->text[i].v);
	memset(tm, 0, sizeof(*tm));
}

static int
shard_tmpl_new(struct shard_tmpl *tm)
{
	json_object	*o;

	memset(tm, 0, sizeof(*tm));
	tm->obj = o = json_object_new_object();
	nmember_init(o, &tm->text[0], "uniqc_task_id",
	    json_object_new_string(""));
	jsonw_add(o, "shard_index", tm->index = json_object_new_int64(0));
	nmember_init(o, &tm->text[1], "platform_task_id",
	    json_object_new_string(""));
	nmember_init(o, &tm->text[2], "backend", json_object_new_string(""));
	jsonw_add(o, "circuit_count", tm->circuits = json_object_new_int64(0));
	jsonw_add(o, "sub_index_offset", tm->offset = json_object_new_int64(0));
	nmember_init(o, &tm->text[3], "status", json_object_new_string(""));
	nmember_init(o, &tm->text[4], "error_message",
	    json_object_new_string(""));
	jsonw_add(o, "submit_time", tm->submit = jtime());
	jsonw_add(o, "update_time", tm->update = jtime());
	if (jsonw_is_broken(o)) {
		shard_tmpl_free(tm);
		return 0;
	}
	return 1;
}

/* One shard object in the key order of SPEC 2.3; text NULL is null. */
void
jsonw_shard(struct buf *b, const struct shard_row *s)
{
	struct shard_tmpl	*tm = &shard_tm;
	const struct rtext	*text[5];
	size_t			 i;
	int			 ok = 1;

	if (tm->obj == NULL && !shard_tmpl_new(tm)) {
		b->oom = 1;
		return;
	}
	text[0] = &s->uniqc_task_id;
	text[1] = &s->platform_task_id;
	text[2] = &s->backend;
	text[3] = &s->status;
	text[4] = &s->error_message;
	for (i = 0; i < NELEM(text); i++)
		if (!nmember_text(tm->obj, &tm->text[i], text[i], 1))
			ok = 0;
	json_object_set_int64(tm->index, s->shard_index);
	json_object_set_int64(tm->circuits, s->circuit_count);
	json_object_set_int64(tm->offset, s->sub_index_offset);
	json_object_set_int64(tm->submit, s->submit_time);
	json_object_set_int64(tm->update, s->update_time);
	if (!put_tmpl(b, tm->obj, ok))
		shard_tmpl_free(tm);
}

/* ----------------------------------------------------- streamed bodies */

/* The comma before item i of a streamed array or map. */
void
jsonw_sep(struct buf *b, size_t i)
{
	if (i > 0)
		buf_addc(b, ',');
}

/* {"tasks":[ -- the rows follow (jsonw_sep(), jsonw_task()). */
void
jsonw_list_open(struct buf *b)
{
	buf_adds(b, "{\"tasks\":[");
}

/* ],"total":...,"limit":...,"offset":...} after the rows. */
void
jsonw_list_close(struct buf *b, const struct jsonw_list_end *e)
{
	json_object	*o = json_object_new_object();

	if (e->total_null)
		jsonw_add_null(o, "total");
	else
		jsonw_add(o, "total", json_object_new_int64(e->total));
	if (e->archived)
		jsonw_add(o, "count", json_object_new_int64(e->count));
	jsonw_add(o, "limit", json_object_new_int64(e->limit));
	jsonw_add(o, "offset", json_object_new_int64(e->offset));
	if (e->cursor && e->next != NULL)
		jsonw_add(o, "next_cursor", jsonw_jstr(e->next, e->nextlen));
	else if (e->cursor)
		jsonw_add_null(o, "next_cursor");
	jsonw_put_tail(b, "]", o);
}

/* {"task_id":id,"shard_count":n,"shards":[ -- the shards follow. */
void
jsonw_shards_open(struct buf *b, const char *id, size_t len, size_t count)
{
	json_object	*o = json_object_new_object();

	jsonw_add(o, "task_id", jsonw_jstr(id, len));
	jsonw_add(o, "shard_count", json_object_new_int64((int64_t)count));
	put_head(b, o, "shards");
}

void
jsonw_shards_close(struct buf *b)
{
	jsonw_put_tail(b, "]", json_object_new_object());
}

/*
 * The lookup answer {"tasks":{id:task-or-null,...}} is written member
 * by member: json-c's keys are C strings, and an id may hold NUL
 * ("\u0000" in the body), which a key would cut.  Each key is a string
 * escaped by json-c.
 */
void
jsonw_lookup_open(struct buf *b)
{
	buf_adds(b, "{\"tasks\":{");
}

/* The comma, the key and the colon of member i; its value follows. */
void
jsonw_lookup_key(struct buf *b, size_t i, const char *id, size_t len)
{
	jsonw_sep(b, i);
	jsonw_str(b, id, len);
	buf_addc(b, ':');
}

void
jsonw_null(struct buf *b)
{
	(void)jsonw_put(b, NULL);
}

void
jsonw_lookup_close(struct buf *b)
{
	jsonw_put_tail(b, "}", json_object_new_object());
}
