/*
 * jsonw.h: JSON in and out.  The only module that includes json-c
 * (src/jsonw*.c; what they share is in the private jsonw_int.h).
 *
 * Output is built as json-c objects and written by json-c, compact and
 * escaped exactly as Python's json.dumps(ensure_ascii=False,
 * separators=(",", ":")) does, because that is what FastAPI sent to the
 * existing uniqc clients.  Input (the
 * bulk request bodies) is checked with the grammar, positions and error
 * messages of Python's json module and walked in place (no tree: memory
 * stays a small multiple of the body).
 */
#ifndef JSONW_H
#define JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "buf.h"
#include "req.h"

struct buf;
struct str;
struct rtext;
struct task_row;
struct shard_row;

/*
 * Output, written by json-c (jsonw.c, jsonw_out.c): strings escaped as
 * Python's json.dumps(ensure_ascii=False) escapes them, ISO times,
 * stored JSON passed through compact.
 */
void	jsonw_str(struct buf *, const char *, size_t);
void	jsonw_strz(struct buf *, const char *);
void	jsonw_time(struct buf *, int64_t unix_usec);
void	jsonw_time_pg(struct buf *, int64_t pg_usec);
int	jsonw_stored(struct buf *, const char *, size_t);
void	jsonw_null(struct buf *);
void	jsonw_task(struct buf *, const struct task_row *, int detail);
void	jsonw_shard(struct buf *, const struct shard_row *);

/*
 * Streamed bodies: open, then per item jsonw_sep() (the comma before
 * item i) and the item, then close.
 */
void	jsonw_sep(struct buf *, size_t i);

/* {"tasks":[rows],"total":...}: a task list (SPEC 2, 4.1). */
struct jsonw_list_end {
	int64_t		 total;
	int		 total_null;	/* total=none: null */
	int		 archived;	/* with the archive's count */
	int64_t		 count;
	int64_t		 limit, offset;
	int		 cursor;	/* with next_cursor */
	const char	*next;		/* next_cursor, NULL: null */
	size_t		 nextlen;
};
void	jsonw_list_open(struct buf *);
void	jsonw_list_close(struct buf *, const struct jsonw_list_end *);

/* {"task_id":...,"shard_count":n,"shards":[shards]} */
void	jsonw_shards_open(struct buf *, const char *id, size_t, size_t count);
void	jsonw_shards_close(struct buf *);

/* {"tasks":{id:task or null,...}}: the lookup (SPEC 4.4). */
void	jsonw_lookup_open(struct buf *);
void	jsonw_lookup_key(struct buf *, size_t i, const char *id, size_t);
void	jsonw_lookup_close(struct buf *);

/* Whole bodies. */
struct jsonw_idlist {
	const struct rtext	*v;
	size_t			 n;
};
void	jsonw_one(struct buf *, const char *key, const char *id, size_t);
void	jsonw_moved(struct buf *, const char *key, const struct jsonw_idlist *,
	    const struct jsonw_idlist *missing,
	    const struct jsonw_idlist *conflicts);
void	jsonw_expired(struct buf *, const struct jsonw_idlist *archived,
	    int64_t hours, int terminal_only, const struct jsonw_idlist *skipped,
	    const struct jsonw_idlist *conflicts);
void	jsonw_dry_run(struct buf *, int64_t matched,
	    const struct jsonw_idlist *sample);
struct jsonw_counts;
struct jsonw_counts *jsonw_counts_new(const char *const *names, size_t,
	    const int64_t *, int by_backend);
void	jsonw_counts_backend(struct jsonw_counts *, const char *, size_t,
	    const int64_t *);
void	jsonw_counts_end(struct buf *, struct jsonw_counts *);
void	jsonw_version(struct buf *, const char *version, const char *url,
	    const char *docs_url);
void	jsonw_health(struct buf *);
void	jsonw_empty_list(struct buf *);

/* Errors: {"detail":"<pre><id><post>"}, FastAPI's. */
void	jsonw_detail(struct buf *, const char *pre, const struct str *,
	    const char *post);

/* 422 bodies for query parameters, in FastAPI's shape. */
void	jsonw_qerr_open(struct buf *);
void	jsonw_qerr(struct buf *, const char *type, const char *param,
	    const char *msg, const struct str *input);
void	jsonw_qerr_close(struct buf *);

/*
 * The ids of a bulk body {"task_ids":[...]}.  Each id is a struct str;
 * an id holding NUL or a lone surrogate is marked bad.
 */
struct jsonw_ids {
	struct str	*ids;
	size_t		 n;
};

/* The by-filter form of a bulk body (SPEC 4.5). */
struct jsonw_filter {
	int		 given;		/* the body had "filter" */
	int		 dry_run;
	int		 has_max;
	int64_t		 max_affected;
	int		 has_status, has_backend;
	struct str	 status, backend;
	int		 has_status_in, has_backend_in;
	struct str	*status_in, *backend_in;
	size_t		 nstatus_in, nbackend_in;
	int		 has_result;	/* -1: not given */
	int		 tset[4];	/* submitted_, updated_ after/before */
	int64_t		 t[4];		/* unix microseconds */
	int		 has_meta, meta_nomatch;
	struct buf	 meta;		/* compact JSON */
};

enum app_err	 jsonw_parse_bulk(const char *body, size_t len, int have_body,
		    const char *content_type, size_t max_ids,
		    struct jsonw_ids *, struct jsonw_filter *, struct buf *err) WUR;
void		 jsonw_filter_free(struct jsonw_filter *);
enum app_err	 jsonw_parse_ids(const char *body, size_t len, int have_body,
		    const char *content_type, size_t max_ids,
		    struct jsonw_ids *, struct buf *err) WUR;
void		 jsonw_ids_free(struct jsonw_ids *);

int		 jsonw_query_json(const char *, size_t, struct buf *out,
		    int *nomatch, struct buf *msg);

/* The metadata filter's keys a sql/008 index may answer. */
#define JSONW_META_KEYMAX	128	/* taskgate_index_metadata()'s */
#define JSONW_META_STRMAX	256
int		 jsonw_meta_keys(const char *, size_t, struct buf *keys);

/* Exposed for unit tests and fuzzing: the Python-compatible checker. */
int		 jsonw_py_check(const char *, size_t, size_t *pos,
		    const char **msg);
int		 jsonw_is_json_type(const char *content_type);

#endif
