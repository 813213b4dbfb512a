/*
 * jsonw_filter.c: the by-filter form of a bulk body (SPEC 4.5), built as
 * a json-c tree and checked as pydantic checks the filter model.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "buf.h"
#include "req.h"
#include "jsonw.h"

#include "jsonw_int.h"

/* A by-filter bulk body (SPEC 4.5) is built as a tree: its size bound. */

static const char *const fkeys[] = {
	"status", "backend", "status_in", "backend_in", "has_result",
	"submitted_after", "submitted_before", "updated_after",
	"updated_before", "metadata"
};

/* A string into s (a lone surrogate marks it bad); 0 on no memory. */
static int
take_str(struct str *s, json_object *o)
{
	if (!req_str_set(s, json_object_get_string(o),
	    (size_t)json_object_get_string_len(o)))
		return 0;
	if (json_object_get_userdata(o) != NULL)
		s->bad = 1;
	return 1;
}

/* One 422 item at ["body",<loc...>] with the value as input. */
static void
berr(struct buf *err, const char *type, const char *loc, const char *msg,
    json_object *in)
{
	jsonw_berr_open(err, type);
	buf_adds(err, loc);
	jsonw_berr_close(err, msg);
	jsonw_put_value(err, in);
	buf_addc(err, '}');
}

/*
 * The by-filter form of a bulk body (SPEC 4.5): "filter" (an object of
 * the 4.1 filters, unknown keys refused), "dry_run", "max_affected".
 * Returns APP_OK, APP_INVALID with the items in err (unclosed), or
 * APP_NOMEM.
 *
 * Longer than 80 lines on purpose: one loop over the filter's keys with
 * one case per key type (strings, lists, booleans, times, metadata), in
 * the order pydantic reports their errors; each case is a few lines
 * sharing the loc buffer and the error count.
 */
static enum app_err
parse_filter(json_object *root, json_object *flt, struct jsonw_filter *f,
    struct buf *err)
{
	json_object	*v;
	struct buf	 loc;
	size_t		 i, k, n;
	int		 bad = 0, b;
	int64_t		 us;

	f->given = 1;
	f->has_result = -1;
	buf_init(&loc);
	if (json_object_object_get_ex(root, "task_ids", &v)) {
		jsonw_berr_open(err, "value_error");
		jsonw_berr_close(err, "Value error, give task_ids or filter, not both");
		jsonw_put_value(err, root);
		buf_addc(err, '}');
		bad = 1;
	}
	if (!json_object_is_type(flt, json_type_object)) {
		berr(err, "model_attributes_type", ",\"filter\"", "Input should "
		    "be a valid dictionary or object to extract fields from", flt);
		bad = 1;
	} else {
		json_object_object_foreach(flt, key, val) {
			for (k = 0; k < NELEM(fkeys); k++)
				if (strcmp(key, fkeys[k]) == 0)
					break;
			buf_reset(&loc);
			buf_adds(&loc, ",\"filter\",");
			if (k == NELEM(fkeys)) {
				jsonw_put_key(&loc, key);
				berr(err, "extra_forbidden", loc.p, "Extra inputs "
				    "are not permitted", val);
				bad = 1;
				continue;
			}
			jsonw_strz(&loc, key);
			if (val == NULL)
				continue;	/* null: not given */
			if (k < 2) {
				if (!json_object_is_type(val, json_type_string)) {
					berr(err, "string_type", loc.p, "Input "
					    "should be a valid string", val);
					bad = 1;
				} else if (!take_str(k == 0 ? &f->status :
				    &f->backend, val))
					goto nomem;
				else if (k == 0)
					f->has_status = 1;
				else
					f->has_backend = 1;
			} else if (k < 4) {
				struct str	**list = k == 2 ? &f->status_in :
				    &f->backend_in;
				size_t		 *nl = k == 2 ? &f->nstatus_in :
				    &f->nbackend_in;

				if (!json_object_is_type(val, json_type_array)) {
					berr(err, "list_type", loc.p, "Input "
					    "should be a valid list", val);
					bad = 1;
					continue;
				}
				n = json_object_array_length(val);
				if ((*list = calloc(n + 1, sizeof(**list))) == NULL)
					goto nomem;
				if (k == 2)
					f->has_status_in = 1;
				else
					f->has_backend_in = 1;
				for (i = 0; i < n; i++) {
					json_object *it =
					    json_object_array_get_idx(val, i);

					if (!json_object_is_type(it,
					    json_type_string)) {
						size_t	 l0 = loc.len;

						buf_addc(&loc, ',');
						buf_addu(&loc, i);
						berr(err, "string_type", loc.p,
						    "Input should be a valid "
						    "string", it);
						loc.len = l0;
						loc.p[l0] = '\0';
						bad = 1;
						continue;
					}
					if (!take_str(&(*list)[(*nl)++], it))
						goto nomem;
				}
			} else if (k == 4) {
				if (!json_object_is_type(val, json_type_boolean)) {
					berr(err, "bool_type", loc.p, "Input "
					    "should be a valid boolean", val);
					bad = 1;
				} else
					f->has_result = json_object_get_boolean(val);
			} else if (k < 9) {
				if (!json_object_is_type(val, json_type_string)) {
					berr(err, "datetime_type", loc.p, "Input "
					    "should be a valid datetime", val);
					bad = 1;
				} else if (!req_parse_datetime(
				    json_object_get_string(val),
				    (size_t)json_object_get_string_len(val), &us)) {
					berr(err, "datetime_from_date_parsing",
					    loc.p, "Input should be a valid "
					    "datetime or date, invalid date-time "
					    "format", val);
					bad = 1;
				} else {
					f->tset[k - 5] = 1;
					f->t[k - 5] = us;
				}
			} else {
				buf_init(&f->meta);
				jsonw_put_value(&f->meta, val);
				f->has_meta = 1;
				f->meta_nomatch = jsonw_unstorable(val);
			}
		}
	}
	if (json_object_object_get_ex(root, "dry_run", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean)) {
			berr(err, "bool_type", ",\"dry_run\"", "Input should be "
			    "a valid boolean", v);
			bad = 1;
		} else
			f->dry_run = json_object_get_boolean(v);
	}
	b = json_object_object_get_ex(root, "max_affected", &v) && v != NULL;
	if (b && (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)) {
		berr(err, "int_type", ",\"max_affected\"", "Input should be a "
		    "valid integer greater than or equal to 0", v);
		bad = 1;
	} else if (b) {
		f->has_max = 1;
		f->max_affected = json_object_get_int64(v);
	} else if (!f->dry_run) {
		berr(err, "missing", ",\"max_affected\"", "Field required",
		    root);
		bad = 1;
	}
	buf_free(&loc);
	if (f->meta.oom)
		return APP_NOMEM;
	return bad ? APP_INVALID : APP_OK;
nomem:
	buf_free(&loc);
	return APP_NOMEM;
}

void
jsonw_filter_free(struct jsonw_filter *f)
{
	size_t	 i;

	if (f == NULL)
		return;
	req_str_free(&f->status);
	req_str_free(&f->backend);
	for (i = 0; i < f->nstatus_in; i++)
		req_str_free(&f->status_in[i]);
	for (i = 0; i < f->nbackend_in; i++)
		req_str_free(&f->backend_in[i]);
	free(f->status_in);
	free(f->backend_in);
	buf_free(&f->meta);
	memset(f, 0, sizeof(*f));
}

/*
 * The by-filter form, on a body already checked with Python's grammar:
 * the filter needs the values themselves, so the body is built as a
 * json-c tree here -- only here, and only for a body of at most
 * JSONW_MAX_FILTER_BODY bytes (jsonw_parse_bulk answers a larger one):
 * a tree costs tens of bytes per value, and a filter is a few hundred
 * bytes.  Returns as jsonw_parse_bulk.
 */
enum app_err
jsonw_bulk_filter(struct pj *chk, struct jsonw_filter *bk, struct buf *err)
{
	struct pj	 p;
	json_object	*root, *flt = NULL;
	int		 perr = 0;
	enum app_err	 rc;

	memset(&p, 0, sizeof(p));
	p.s = chk->s;
	p.n = chk->n;
	p.build = 1;
	root = jsonw_pj_parse(&p, &perr);
	if (perr != 0 || root == NULL) {
		json_object_put(root);
		return APP_NOMEM;	/* checked before: only memory fails */
	}
	(void)json_object_object_get_ex(root, "filter", &flt);
	if ((rc = parse_filter(root, flt, bk, err)) == APP_INVALID)
		buf_adds(err, "]}");
	json_object_put(root);
	if (err->oom)
		rc = APP_NOMEM;
	return rc;
}
