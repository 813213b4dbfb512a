/*
 * jsonw_int.h: what the jsonw*.c files share and nothing else includes:
 * the Python-grammar scanner's state and steps (jsonw_py.c), json-c's
 * flags, serializers and the string unescaping (jsonw.c), the writing of a json-c tree (jsonw_py.c), the
 * 422 item builders of bulk bodies (jsonw_body.c) and the by-filter
 * form (jsonw_filter.c).  It names json_object, so it stays private:
 * handlers see only jsonw.h.
 */

#ifndef JSONW_INT_H
#define JSONW_INT_H

#include <stddef.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "app.h"

struct buf;
struct jsonw_filter;

/* The scanner's state over s[0..n). */
struct pj {
	const char	*s;
	size_t		 n;
	size_t		 errpos;	/* byte offset */
	const char	*errmsg;
	int		 depth;
	int		 build;		/* build json-c objects */
};

/* Every body is written by json-c, compact, '/' not escaped. */
#define JSONW_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Stored JSON text to pass through (jsonw_ser_stored). */
struct jsonw_slot {
	const char	*p;		/* NULL: absent */
	size_t		 len;
	const char	*dflt;		/* written when absent */
};

/* jsonw.c */
long		 jsonw_hex4(const char *);
void		 jsonw_unescape(struct buf *, const char *, size_t, int *lone);
const char	*jsonw_escape(const char *, size_t, size_t *len);
int		 jsonw_put(struct buf *, json_object *);
json_object_to_json_string_fn	jsonw_ser_time, jsonw_ser_stored;

/* jsonw_out.c: building trees; a failed allocation marks the tree */
void		 jsonw_mark_broken(json_object *);
int		 jsonw_is_broken(json_object *);
void		 jsonw_add(json_object *, const char *key, json_object *);
void		 jsonw_add_null(json_object *, const char *key);
json_object	*jsonw_jstr(const char *, size_t);
struct jsonw_idlist;
json_object	*jsonw_jids(const struct jsonw_idlist *);
void		 jsonw_finish(struct buf *, json_object *);
void		 jsonw_put_tail(struct buf *, const char *close, json_object *);

/* jsonw_py.c: the scanner */
size_t		 jsonw_pj_ws(const struct pj *, size_t);
int		 jsonw_pj_string_check(struct pj *, size_t, size_t *end);
size_t		 jsonw_pj_number(const struct pj *, size_t, int *isint);
int		 jsonw_lit(const struct pj *, size_t, const char *);
json_object	*jsonw_pj_value(struct pj *, size_t *, int *);
size_t		 jsonw_char_offset(const char *, size_t);
json_object	*jsonw_pj_parse(struct pj *, int *);
/* jsonw_py.c: json-c trees */
void		 jsonw_put_key(struct buf *, const char *);
void		 jsonw_put_value(struct buf *, json_object *);
int		 jsonw_unstorable(json_object *);

/* jsonw_body.c */
void		 jsonw_berr_open(struct buf *, const char *type);
void		 jsonw_berr_close(struct buf *, const char *msg);

/* jsonw_filter.c */
/* A by-filter bulk body (SPEC 4.5) is built as a tree: its size bound. */
#define JSONW_MAX_FILTER_BODY	65536
enum app_err	 jsonw_bulk_filter(struct pj *, struct jsonw_filter *,
		    struct buf *) WUR;

#endif
