/*
 * jsonw.h: JSON in and out.  The only module that includes json-c
 * (src/jsonw*.c; what they share is in the private jsonw_int.h).
 *
 * Output is compact and escaped exactly as Python's
 * json.dumps(ensure_ascii=False, separators=(",", ":")) does, because
 * that is what FastAPI sent to the existing uniqc clients.  Input (the
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
struct task_row;
struct shard_row;

/* Output. */
void	jsonw_str(struct buf *, const char *, size_t);
void	jsonw_strz(struct buf *, const char *);
void	jsonw_time(struct buf *, int64_t unix_usec);
void	jsonw_time_pg(struct buf *, int64_t pg_usec);
int	jsonw_stored(struct buf *, const char *, size_t);
void	jsonw_task(struct buf *, const struct task_row *, int detail);
void	jsonw_shard(struct buf *, const struct shard_row *);
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

/* Exposed for unit tests and fuzzing: the Python-compatible checker. */
int		 jsonw_py_check(const char *, size_t, size_t *pos,
		    const char **msg);
int		 jsonw_is_json_type(const char *content_type);

#endif
