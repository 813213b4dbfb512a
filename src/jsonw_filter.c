/*
 * jsonw_filter.c: the by-filter form of a bulk body (SPEC 4.5), built as
 * a json-c tree and checked as pydantic checks the filter model.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "buf.h"
#include "req.h"
#include "jsonw.h"

#include "jsonw_int.h"

/* The filter's keys: their index k picks the case in filter_value(). */

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
 * "status" or "backend" (fkeys[k], k < 2) into f; loc its 422 location.
 * Returns APP_OK, APP_INVALID with an item in err, or APP_NOMEM.
 */
static enum app_err
filter_str(struct jsonw_filter *f, size_t k, json_object *val,
    const char *loc, struct buf *err)
{
	if (!json_object_is_type(val, json_type_string)) {
		berr(err, "string_type", loc, "Input should be a valid string",
		    val);
		return APP_INVALID;
	}
	if (!take_str(k == 0 ? &f->status : &f->backend, val))
		return APP_NOMEM;
	if (k == 0)
		f->has_status = 1;
	else
		f->has_backend = 1;
	return APP_OK;
}

/*
 * "status_in" or "backend_in" (fkeys[k], k 2 or 3) into f, each item
 * checked; loc its 422 location (restored).  Returns APP_OK, APP_INVALID
 * with the items in err, or APP_NOMEM.
 */
static enum app_err
filter_list(struct jsonw_filter *f, size_t k, json_object *val,
    struct buf *loc, struct buf *err)
{
	struct str	**list = k == 2 ? &f->status_in : &f->backend_in;
	size_t		 *nl = k == 2 ? &f->nstatus_in : &f->nbackend_in;
	size_t		 i, n, l0 = loc->len;
	enum app_err	 rc = APP_OK;

	if (!json_object_is_type(val, json_type_array)) {
		berr(err, "list_type", loc->p, "Input should be a valid list",
		    val);
		return APP_INVALID;
	}
	n = json_object_array_length(val);
	if ((*list = calloc(n + 1, sizeof(**list))) == NULL)
		return APP_NOMEM;
	if (k == 2)
		f->has_status_in = 1;
	else
		f->has_backend_in = 1;
	for (i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(val, i);

		if (!json_object_is_type(it, json_type_string)) {
			buf_addc(loc, ',');
			buf_addu(loc, i);
			berr(err, "string_type", loc->p, "Input should be a "
			    "valid string", it);
			loc->len = l0;
			loc->p[l0] = '\0';
			rc = APP_INVALID;
			continue;
		}
		if (!take_str(&(*list)[(*nl)++], it))
			return APP_NOMEM;
	}
	return rc;
}

/*
 * A time filter (fkeys[k], 5 <= k < 9) into f; loc its 422 location.
 * Returns APP_OK or APP_INVALID with an item in err.
 */
static enum app_err
filter_time(struct jsonw_filter *f, size_t k, json_object *val,
    const char *loc, struct buf *err)
{
	int64_t	 us;

	if (!json_object_is_type(val, json_type_string)) {
		berr(err, "datetime_type", loc, "Input should be a valid "
		    "datetime", val);
		return APP_INVALID;
	}
	if (!req_parse_datetime(json_object_get_string(val),
	    (size_t)json_object_get_string_len(val), &us)) {
		berr(err, "datetime_from_date_parsing", loc, "Input should be "
		    "a valid datetime or date, invalid date-time format", val);
		return APP_INVALID;
	}
	f->tset[k - 5] = 1;
	f->t[k - 5] = us;
	return APP_OK;
}

/*
 * The value (not null) of fkeys[k] into f; loc its 422 location.
 * Returns APP_OK, APP_INVALID with the items in err, or APP_NOMEM (a
 * metadata value out of memory shows as f->meta.oom).
 */
static enum app_err
filter_value(struct jsonw_filter *f, size_t k, json_object *val,
    struct buf *loc, struct buf *err)
{
	if (k < 2)
		return filter_str(f, k, val, loc->p, err);
	if (k < 4)
		return filter_list(f, k, val, loc, err);
	if (k == 4) {
		if (!json_object_is_type(val, json_type_boolean)) {
			berr(err, "bool_type", loc->p, "Input should be a "
			    "valid boolean", val);
			return APP_INVALID;
		}
		f->has_result = json_object_get_boolean(val);
		return APP_OK;
	}
	if (k < 9)
		return filter_time(f, k, val, loc->p, err);
	buf_init(&f->meta);
	jsonw_put_value(&f->meta, val);
	f->has_meta = 1;
	f->meta_nomatch = jsonw_unstorable(val);
	return APP_OK;
}

/*
 * The members of the filter object flt into f, in the order pydantic
 * reports their errors (unknown keys refused, null ones not given).
 * Returns APP_OK, APP_INVALID with the items in err, or APP_NOMEM.
 */
static enum app_err
filter_keys(json_object *flt, struct jsonw_filter *f, struct buf *err)
{
	struct buf	 loc;
	size_t		 k;
	enum app_err	 rc = APP_OK, r;

	buf_init(&loc);
	json_object_object_foreach(flt, key, val) {
		for (k = 0; k < NELEM(fkeys); k++)
			if (strcmp(key, fkeys[k]) == 0)
				break;
		buf_reset(&loc);
		buf_adds(&loc, ",\"filter\",");
		if (k == NELEM(fkeys)) {
			jsonw_put_key(&loc, key);
			berr(err, "extra_forbidden", loc.p, "Extra inputs are "
			    "not permitted", val);
			rc = APP_INVALID;
			continue;
		}
		jsonw_strz(&loc, key);
		if (val == NULL)
			continue;	/* null: not given */
		if ((r = filter_value(f, k, val, &loc, err)) == APP_NOMEM) {
			rc = r;
			break;
		}
		if (r == APP_INVALID)
			rc = r;
	}
	buf_free(&loc);
	return rc;
}

/*
 * "dry_run" and "max_affected" (required unless dry_run) into f.
 * Returns APP_OK or APP_INVALID with the items in err.
 */
static enum app_err
filter_options(json_object *root, struct jsonw_filter *f, struct buf *err)
{
	json_object	*v;
	enum app_err	 rc = APP_OK;
	int		 b;

	if (json_object_object_get_ex(root, "dry_run", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean)) {
			berr(err, "bool_type", ",\"dry_run\"", "Input should be "
			    "a valid boolean", v);
			rc = APP_INVALID;
		} else
			f->dry_run = json_object_get_boolean(v);
	}
	b = json_object_object_get_ex(root, "max_affected", &v) && v != NULL;
	if (b && (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)) {
		berr(err, "int_type", ",\"max_affected\"", "Input should be a "
		    "valid integer greater than or equal to 0", v);
		rc = APP_INVALID;
	} else if (b) {
		f->has_max = 1;
		f->max_affected = json_object_get_int64(v);
	} else if (!f->dry_run) {
		berr(err, "missing", ",\"max_affected\"", "Field required",
		    root);
		rc = APP_INVALID;
	}
	return rc;
}

/*
 * The by-filter form of a bulk body (SPEC 4.5): "filter" (an object of
 * the 4.1 filters, unknown keys refused), "dry_run", "max_affected".
 * Returns APP_OK, APP_INVALID with the items in err (unclosed), or
 * APP_NOMEM.
 */
static enum app_err
parse_filter(json_object *root, json_object *flt, struct jsonw_filter *f,
    struct buf *err)
{
	json_object	*v;
	enum app_err	 rc = APP_OK, r;

	f->given = 1;
	f->has_result = -1;
	if (json_object_object_get_ex(root, "task_ids", &v)) {
		berr(err, "value_error", "", "Value error, give task_ids or "
		    "filter, not both", root);
		rc = APP_INVALID;
	}
	if (!json_object_is_type(flt, json_type_object)) {
		berr(err, "model_attributes_type", ",\"filter\"", "Input should "
		    "be a valid dictionary or object to extract fields from", flt);
		rc = APP_INVALID;
	} else {
		if ((r = filter_keys(flt, f, err)) == APP_NOMEM)
			return APP_NOMEM;
		if (r == APP_INVALID)
			rc = APP_INVALID;
	}
	if (filter_options(root, f, err) != APP_OK)
		rc = APP_INVALID;
	if (f->meta.oom)
		return APP_NOMEM;
	return rc;
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

/* Whether a filter's value v may be read from a sql/008 index. */
static int
meta_indexable(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
	case json_type_boolean:
	case json_type_int:		/* at most 20 characters */
		return 1;
	case json_type_string:		/* JSON text at most 6 x + 2 */
		return json_object_get_string_len(v) <= JSONW_META_STRMAX;
	default:			/* objects, arrays, floats */
		return 0;
	}
}

/*
 * The keys of the metadata filter m (compact JSON, n bytes) whose value
 * a sql/008 index may answer, in the filter's order, each NUL-terminated
 * into keys: a string of at most JSONW_META_STRMAX bytes (its JSON text
 * is then within the indexes' 2 000), an integer, true, false or null
 * (containment of a scalar is equality of the value).  Returns the
 * number of the filter's pairs; -1 when m is not an object or on no
 * memory (no key then).
 */
int
jsonw_meta_keys(const char *m, size_t n, struct buf *keys)
{
	json_tokener	*tok;
	json_object	*root;
	int		 np = -1;

	buf_reset(keys);
	if (n > INT_MAX || (tok = json_tokener_new()) == NULL)
		return -1;
	root = json_tokener_parse_ex(tok, m, (int)n);
	if (root != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(root, json_type_object)) {
		np = 0;
		json_object_object_foreach(root, k, v) {
			np++;
			if (strlen(k) <= JSONW_META_KEYMAX && meta_indexable(v))
				buf_add(keys, k, strlen(k) + 1);
		}
		if (keys->oom)
			np = -1;
	}
	json_object_put(root);
	json_tokener_free(tok);
	return np;
}
