/*
 * h_archive.c: /api/archive (SPEC 2.2): list, delete, restore.  The
 * archive detail shares its code with the active one (h_tasks.c).
 */
#include "config.h"

#include "buf.h"
#include "req.h"
#include "resp.h"
#include "db.h"
#include "rows.h"
#include "jsonw.h"
#include "h.h"

enum app_err
h_archive_list(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	(void)id;
	return h_list(r, w, db, 1);
}

static enum app_err
not_found(struct resp *w, const struct str *id)
{
	resp_set_detail(w, "Archived task '", id, "' not found");
	return APP_NOTFOUND;
}

/* DELETE /api/archive/{id}: the archived task and its shards. */
enum app_err
h_archive_delete(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	struct db_res	*res;
	enum app_err	 rc;
	const char	*pv[1];
	int64_t		 n;

	(void)r;
	if (id->bad)
		return not_found(w, id);
	pv[0] = id->p;
	if ((rc = db_exec(db, DB_ADELETE, pv, &res)) != APP_OK)
		return rc;
	rc = db_count(res, &n);
	db_res_free(res);
	if (rc != APP_OK)
		return rc;
	if (n == 0)
		return not_found(w, id);
	jsonw_one(&w->body, "deleted", id->p, id->len);
	return APP_OK;
}

/*
 * POST /api/archive/restore/{id}: back to the active tables with its
 * shards.  An active task of the same id already there is a 409: the
 * archived copy stays where it is.
 */
enum app_err
h_archive_restore(struct req *r, struct resp *w, struct db *db,
    const struct str *id)
{
	struct db_res	*res;
	struct restore_row x;
	enum app_err	 rc;
	const char	*pv[1];

	(void)r;
	if (id->bad)
		return not_found(w, id);
	pv[0] = id->p;
	if ((rc = db_exec(db, DB_RESTORE, pv, &res)) != APP_OK)
		return rc;
	rc = db_restore_row(res, &x);
	db_res_free(res);
	if (rc != APP_OK)
		return rc;
	if (x.found == 0)
		return not_found(w, id);
	if (x.moved == 0) {
		resp_set_detail(w, "Task '", id, "' already exists among "
		    "active tasks");
		return APP_CONFLICT;
	}
	jsonw_one(&w->body, "restored", id->p, id->len);
	return APP_OK;
}
