/*
 * h.h: the endpoint handlers.  Each sees only struct req, struct resp,
 * the db_* functions (statements in, typed rows of rows.h out) and its
 * route's "{}" parameter (NULL when the route has none).  A handler returns APP_OK with the response built, or
 * an error that resp_error() turns into the status and body (after the
 * handler set a detail with resp_set_detail(), or a 422 body).
 */
#ifndef H_H
#define H_H

#include "app.h"

struct req;
struct resp;
struct db;
struct str;

#define H_ARGS struct req *, struct resp *, struct db *, const struct str *

enum app_err	h_tasks_list(H_ARGS);
enum app_err	h_tasks_counts(H_ARGS);
enum app_err	h_tasks_get(H_ARGS);
enum app_err	h_tasks_shards(H_ARGS);
enum app_err	h_tasks_delete(H_ARGS);
enum app_err	h_tasks_bulk_delete(H_ARGS);
enum app_err	h_tasks_bulk_archive(H_ARGS);
enum app_err	h_tasks_archive_expired(H_ARGS);
enum app_err	h_tasks_archive_one(H_ARGS);
enum app_err	h_tasks_lookup(H_ARGS);
enum app_err	h_archive_list(H_ARGS);
enum app_err	h_archive_get(H_ARGS);
enum app_err	h_archive_delete(H_ARGS);
enum app_err	h_archive_restore(H_ARGS);
enum app_err	h_backends_live(H_ARGS);
enum app_err	h_health(H_ARGS);
enum app_err	h_version(H_ARGS);
enum app_err	h_openapi(H_ARGS);
enum app_err	h_metrics(H_ARGS);

/* Shared by the handler files (h_common.c). */
struct buf;
enum app_err	h_list(struct req *, struct resp *, struct db *, int);
enum app_err	h_ids(struct req *, struct resp *, struct str **, size_t *);
struct jsonw_filter;
enum app_err	h_bulk_ids(struct req *, struct resp *, struct str **, size_t *,
		    struct jsonw_filter *);
enum app_err	h_bulk_filter(struct resp *, struct db *, int archive,
		    const struct jsonw_filter *);
struct db_res;
struct rtext;
struct jsonw_idlist;
enum app_err	h_outcome_list(const struct db_res *, char, struct rtext *,
		    struct jsonw_idlist *) WUR;

#endif
