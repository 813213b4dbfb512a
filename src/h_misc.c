/*
 * h_misc.c: /api/health, /api/version and /api/backends/live.  None
 * touches the database: health says the responder is up (as the
 * original did).
 */
#include "config.h"

#include "buf.h"
#include "resp.h"
#include "jsonw.h"
#include "h.h"

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
	buf_adds(&w->body, "[]");
	return APP_OK;
}

enum app_err
h_health(struct req *r, struct resp *w, struct db *db, const struct str *id)
{
	(void)r;
	(void)db;
	(void)id;
	buf_adds(&w->body, "{\"status\":\"ok\"}");
	return APP_OK;
}

enum app_err
h_version(struct req *r, struct resp *w, struct db *db, const struct str *id)
{
	(void)r;
	(void)db;
	(void)id;
	buf_adds(&w->body, "{\"version\":");
	jsonw_strz(&w->body, PACKAGE_VERSION);
	buf_adds(&w->body, ",\"github_url\":");
	jsonw_strz(&w->body, PACKAGE_URL);
	buf_adds(&w->body, ",\"docs_url\":");
	jsonw_strz(&w->body, PACKAGE_URL "#readme");
	buf_addc(&w->body, '}');
	return APP_OK;
}
