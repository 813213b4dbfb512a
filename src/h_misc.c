/*
 * h_misc.c: /api/health, /api/version, /api/backends/live and
 * /api/metrics.  None touches the database: health says the responder
 * is up (as the original did).
 */
#include "config.h"

#include "buf.h"
#include "resp.h"
#include "jsonw.h"
#include "h.h"
#include "metrics.h"

/*
 * GET /api/backends/live: the cloud backends the gateway can reach
 * now.  uniqc's original asks each cloud platform; taskgate talks to
 * none, so the list is always empty ([]), and the Dashboard, which
 * loads it in one batch with the task counts, still shows those.
 */
enum app_err
h_backends_live(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	(void)r;
	(void)db;
	(void)id;
	jsonw_empty_list(&w->body);
	return APP_OK;
}

enum app_err
h_health(struct req *r, struct resp *w, struct db *db, const struct str *id)
{
	(void)r;
	(void)db;
	(void)id;
	jsonw_health(&w->body);
	return APP_OK;
}

enum app_err
h_version(struct req *r, struct resp *w, struct db *db, const struct str *id)
{
	(void)r;
	(void)db;
	(void)id;
	jsonw_version(&w->body, PACKAGE_VERSION, PACKAGE_URL,
	    PACKAGE_URL "#readme");
	return APP_OK;
}

/* GET /api/openapi.json: docs/openapi.json as built in (scripts/embed). */
extern const char h_openapi_doc[];
extern const size_t h_openapi_doc_len;

enum app_err
h_openapi(struct req *r, struct resp *w, struct db *db, const struct str *id)
{
	(void)r;
	(void)db;
	(void)id;
	buf_add(&w->body, h_openapi_doc, h_openapi_doc_len);
	return APP_OK;
}

/* The Prometheus text of metrics.c (only routed with metrics = on). */
enum app_err
h_metrics(struct req *r, struct resp *w, struct db *db, const struct str *id)
{
	struct buf	 b;
	enum app_err	 rc;

	(void)r;
	(void)db;
	(void)id;
	buf_init(&b);
	rc = metrics_render(&b);
	if (rc == APP_SYSTEM)
		resp_set_detail(w, "Metrics unavailable: ", NULL,
		    b.p != NULL ? b.p : "");
	else if (rc == APP_OK) {
		buf_add(&w->body, b.p, b.len);
		w->ctype = METRICS_CTYPE;
		resp_header(w, "Cache-Control", "no-store");
	}
	buf_free(&b);
	return rc;
}
