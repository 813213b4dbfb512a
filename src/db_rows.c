/*
 * db_rows.c: the columns of a statement's rows checked against its
 * layout (sql.c), and the decoders that turn rows into the typed rows
 * of rows.h.  All knowledge of PostgreSQL's binary formats is here.
 *
 *  - The check (db_cols_check) runs once per statement and connection,
 *    on PostgreSQL's description of a prepared statement or on the
 *    first result of an unnamed one: each column of the layout is
 *    looked up by name, its type compared.  A missing column or another
 *    type is APP_SYSTEM with one line saying which statement, column,
 *    expected and found type; the statement does not run (prepared) or
 *    its rows are not read.
 *  - Decoders read fields through the checked map, never by column
 *    number.  Each value's width is checked against its type (int8 is
 *    8 bytes, ...): anything else is APP_SYSTEM, never a 0.
 *  - SQL NULL: text has p == NULL, numbers and times read 0, a NULL
 *    archived_at reads "not archived"; the writers decide what to print.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"
#include "rows.h"
#include "metrics.h"

static const char *
type_name(unsigned oid)
{
	static char	 other[24];

	switch (oid) {
	case DB_OID_BOOL:	return "bool";
	case DB_OID_INT8:	return "int8";
	case DB_OID_INT2:	return "int2";
	case DB_OID_INT4:	return "int4";
	case DB_OID_TEXT:	return "text";
	case DB_OID_JSON:	return "json";
	case DB_OID_TIMESTAMPTZ: return "timestamptz";
	case DB_OID_JSONB:	return "jsonb";
	case 1042:		return "bpchar";
	case 1043:		return "varchar";
	case 1114:		return "timestamp";
	case 1700:		return "numeric";
	case 700:		return "float4";
	case 701:		return "float8";
	}
	snprintf(other, sizeof(other), "type %u", oid);
	return other;
}

/* The width of a value of a fixed-size type, -1 for variable ones. */
static int
type_width(unsigned oid)
{
	switch (oid) {
	case DB_OID_BOOL:	return 1;
	case DB_OID_INT2:	return 2;
	case DB_OID_INT4:	return 4;
	case DB_OID_INT8:
	case DB_OID_TIMESTAMPTZ: return 8;
	}
	return -1;
}

/* The error of a check or a decoder, kept for the log (one line). */
static void __attribute__((format(printf, 3, 4)))
cols_err(struct db *db, const char *stmt, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	metrics_db_error();
	n = snprintf(db->err, sizeof(db->err), "columns of %s: ",
	    stmt ? stmt : "?");
	if (n < 0 || (size_t)n >= sizeof(db->err))
		return;
	va_start(ap, fmt);
	vsnprintf(db->err + n, sizeof(db->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

/*
 * Checks the columns of res (a statement's description or its first
 * result) against the layout of s and keeps where each field is.
 * Returns APP_SYSTEM, with the error kept, when one is missing or of
 * another type.
 */
enum app_err
db_cols_check(struct db *db, enum db_stmt s, const PGresult *res)
{
	const struct db_stmt_def	*d = db_def(db, s);
	const struct db_layout_def	*l = &db_layouts[d->rows];
	struct db_colmap		*m = db_colmap(db, s);
	const struct db_col		*c;
	int				 k, pos, w;
	unsigned			 oid;

	memset(m, 0, sizeof(*m));
	memset(m->col, -1, sizeof(m->col));
	m->rows = d->rows;
	for (k = 0; k < DB_MAXCOLS && l->col[k].name != NULL; k++) {
		c = &l->col[k];
		if ((pos = PQfnumber(res, c->name)) < 0 || pos > 127) {
			cols_err(db, d->name, "no column %s (%s) for the %s "
			    "rows", c->name, type_name(c->oid), l->what);
			return APP_SYSTEM;
		}
		oid = (unsigned)PQftype(res, pos);
		w = type_width(c->oid);
		if (oid != c->oid || (w > 0 && PQfsize(res, pos) != w)) {
			cols_err(db, d->name, "column %s is %s, the %s rows "
			    "need %s", c->name, type_name(oid), l->what,
			    type_name(c->oid));
			return APP_SYSTEM;
		}
		m->col[c->field] = (signed char)pos;
		m->oid[c->field] = (uint16_t)c->oid;
	}
	m->ok = 1;
	return APP_OK;
}

/* Sets up r for pg, the result of s, with the columns checked for s. */
void
db_res_init(struct db_res *r, struct db *db, enum db_stmt s, PGresult *pg)
{
	r->pg = pg;
	r->db = db;
	r->stmt = db_def(db, s)->name;
	r->embedded = 0;
	r->cols = *db_colmap(db, s);
}

void
db_res_free(struct db_res *r)
{
	if (r == NULL)
		return;
	PQclear(r->pg);
	r->pg = NULL;
	if (!r->embedded)
		free(r);
}

size_t
db_nrows(const struct db_res *r)
{
	return (size_t)PQntuples(r->pg);
}

/* A result whose layout is not one the decoder reads. */
static enum app_err
not_rows(const struct db_res *r, const char *what)
{
	cols_err(r->db, r->stmt, "the %s rows are read as %s rows",
	    db_layouts[r->cols.rows].what, what);
	return APP_SYSTEM;
}

/* A field the decoder reads that the layout does not list. */
static enum app_err
no_field(const struct db_res *r, enum db_field f)
{
	cols_err(r->db, r->stmt, "the %s rows lack a column the decoder "
	    "reads (field %d of enum db_field)", db_layouts[r->cols.rows].what,
	    (int)f);
	return APP_SYSTEM;
}

/* A value whose width its column's type does not allow. */
static enum app_err
bad_width(const struct db_res *r, enum db_field f, int len)
{
	const struct db_col	*c = db_layouts[r->cols.rows].col;
	size_t			 k;

	for (k = 0; k < DB_MAXCOLS && c[k].name != NULL; k++)
		if (c[k].field == f)
			break;
	cols_err(r->db, r->stmt, "a value of %s (%s) has %d bytes",
	    k < DB_MAXCOLS && c[k].name != NULL ? c[k].name : "?",
	    type_name(r->cols.oid[f]), len);
	return APP_SYSTEM;
}

static int
has(const struct db_res *r, enum db_field f)
{
	return r->cols.col[f] >= 0;
}

static int
isnull(const struct db_res *r, size_t i, enum db_field f)
{
	return PQgetisnull(r->pg, (int)i, r->cols.col[f]);
}

/* Text (binary format is the bytes); p NULL for SQL NULL. */
static enum app_err
get_text(const struct db_res *r, size_t i, enum db_field f, struct rtext *t)
{
	int	 c = r->cols.col[f];

	t->p = NULL;
	t->len = 0;
	if (c < 0)
		return no_field(r, f);
	if (PQgetisnull(r->pg, (int)i, c))
		return APP_OK;
	t->p = PQgetvalue(r->pg, (int)i, c);
	t->len = (size_t)PQgetlength(r->pg, (int)i, c);
	return APP_OK;
}

/*
 * int2, int4, int8 (network order) or timestamptz as PostgreSQL holds
 * it: microseconds since 2000-01-01 UTC (infinities INT64_MAX and
 * INT64_MIN), written with jsonw_time_pg(); not converted to the unix
 * epoch here, which overflows for the latest dates PostgreSQL accepts.
 * 0 for NULL; a width other than the type's is an error.
 */
static enum app_err
get_int(const struct db_res *r, size_t i, enum db_field f, int64_t *v)
{
	const unsigned char	*p;
	int			 c = r->cols.col[f], n, w, k;
	uint64_t		 u = 0;

	*v = 0;
	if (c < 0)
		return no_field(r, f);
	if (PQgetisnull(r->pg, (int)i, c))
		return APP_OK;
	n = PQgetlength(r->pg, (int)i, c);
	w = type_width(r->cols.oid[f]);
	if (n != w || r->cols.oid[f] == DB_OID_BOOL)
		return bad_width(r, f, n);
	p = (const unsigned char *)PQgetvalue(r->pg, (int)i, c);
	for (k = 0; k < n; k++)
		u = (u << 8) | p[k];
	if (n == 2)
		*v = (int16_t)u;
	else if (n == 4)
		*v = (int32_t)u;
	else
		*v = (int64_t)u;
	return APP_OK;
}

/* bool: one byte; 0 for NULL. */
static enum app_err
get_bool(const struct db_res *r, size_t i, enum db_field f, int *v)
{
	int	 c = r->cols.col[f], n;

	*v = 0;
	if (c < 0)
		return no_field(r, f);
	if (PQgetisnull(r->pg, (int)i, c))
		return APP_OK;
	if ((n = PQgetlength(r->pg, (int)i, c)) != 1)
		return bad_width(r, f, n);
	*v = PQgetvalue(r->pg, (int)i, c)[0] != 0;
	return APP_OK;
}

/* json (its text) or jsonb (a version byte, 1, then its text). */
static enum app_err
get_json(const struct db_res *r, size_t i, enum db_field f, struct rtext *t)
{
	enum app_err	 rc;

	if ((rc = get_text(r, i, f, t)) != APP_OK || t->p == NULL ||
	    r->cols.oid[f] != DB_OID_JSONB)
		return rc;
	if (t->len == 0 || t->p[0] != 1)
		return bad_width(r, f, (int)t->len);
	t->p++;
	t->len--;
	return APP_OK;
}

/*
 * A task row: summary (has_result), detail (result), with seq (the
 * filtered lists).
 */
enum app_err
db_task_row(const struct db_res *r, size_t i, struct task_row *t)
{
	enum app_err	 rc;

	memset(t, 0, sizeof(*t));
	if (!has(r, DB_C_TASK_ID) || has(r, DB_C_ID))
		return not_rows(r, "task");
	if ((rc = get_text(r, i, DB_C_TASK_ID, &t->task_id)) != APP_OK ||
	    (rc = get_text(r, i, DB_C_BACKEND, &t->backend)) != APP_OK ||
	    (rc = get_text(r, i, DB_C_STATUS, &t->status)) != APP_OK ||
	    (rc = get_int(r, i, DB_C_SHOTS, &t->shots)) != APP_OK ||
	    (rc = get_int(r, i, DB_C_SUBMIT_TIME, &t->submit_time)) !=
	    APP_OK ||
	    (rc = get_int(r, i, DB_C_UPDATE_TIME, &t->update_time)) !=
	    APP_OK ||
	    (rc = get_json(r, i, DB_C_METADATA, &t->metadata)) != APP_OK)
		return rc;
	if (has(r, DB_C_RESULT))
		rc = get_json(r, i, DB_C_RESULT, &t->result);
	else
		rc = get_bool(r, i, DB_C_HAS_RESULT, &t->has_result);
	if (rc == APP_OK && has(r, DB_C_SEQ))
		rc = get_int(r, i, DB_C_SEQ, &t->seq);
	if (rc == APP_OK && !isnull(r, i, DB_C_ARCHIVED_AT)) {
		t->archived = 1;
		rc = get_int(r, i, DB_C_ARCHIVED_AT, &t->archived_at);
	}
	return rc;
}

/* A lookup row: the id asked for, and its summary when found. */
enum app_err
db_lookup_row(const struct db_res *r, size_t i, struct lookup_row *l)
{
	struct db_res	 task = *r;
	enum app_err	 rc;

	memset(l, 0, sizeof(*l));
	if (!has(r, DB_C_ID) || !has(r, DB_C_TASK_ID))
		return not_rows(r, "lookup");
	if ((rc = get_text(r, i, DB_C_ID, &l->id)) != APP_OK)
		return rc;
	if (isnull(r, i, DB_C_TASK_ID))
		return APP_OK;
	l->found = 1;
	task.cols.col[DB_C_ID] = -1;	/* the rest is a summary row */
	return db_task_row(&task, i, &l->task);
}

/*
 * A shard row of DB_SHARDS; *is_shard 0 for the task's one row without
 * shards (a LEFT JOIN: NULL shard columns).
 */
enum app_err
db_shard_row(const struct db_res *r, size_t i, struct shard_row *s,
    int *is_shard)
{
	enum app_err	 rc;

	memset(s, 0, sizeof(*s));
	*is_shard = 0;
	if (!has(r, DB_C_SHARD_INDEX))
		return not_rows(r, "shard");
	if (isnull(r, i, DB_C_SHARD_INDEX))
		return APP_OK;
	*is_shard = 1;
	if ((rc = get_text(r, i, DB_C_UNIQC_TASK_ID, &s->uniqc_task_id)) !=
	    APP_OK ||
	    (rc = get_int(r, i, DB_C_SHARD_INDEX, &s->shard_index)) != APP_OK ||
	    (rc = get_text(r, i, DB_C_PLATFORM_TASK_ID,
	    &s->platform_task_id)) != APP_OK ||
	    (rc = get_text(r, i, DB_C_BACKEND, &s->backend)) != APP_OK ||
	    (rc = get_int(r, i, DB_C_CIRCUIT_COUNT, &s->circuit_count)) !=
	    APP_OK ||
	    (rc = get_int(r, i, DB_C_SUB_INDEX_OFFSET,
	    &s->sub_index_offset)) != APP_OK ||
	    (rc = get_text(r, i, DB_C_STATUS, &s->status)) != APP_OK ||
	    (rc = get_text(r, i, DB_C_ERROR_MESSAGE, &s->error_message)) !=
	    APP_OK ||
	    (rc = get_int(r, i, DB_C_SUBMIT_TIME, &s->submit_time)) !=
	    APP_OK)
		return rc;
	return get_int(r, i, DB_C_UPDATE_TIME, &s->update_time);
}

/* (status, n) or (status, backend, n). */
enum app_err
db_count_row(const struct db_res *r, size_t i, struct count_row *c)
{
	enum app_err	 rc;

	memset(c, 0, sizeof(*c));
	if (!has(r, DB_C_STATUS) || !has(r, DB_C_N) || has(r, DB_C_TASK_ID))
		return not_rows(r, "count");
	if ((rc = get_text(r, i, DB_C_STATUS, &c->status)) != APP_OK ||
	    (has(r, DB_C_BACKEND) &&
	    (rc = get_text(r, i, DB_C_BACKEND, &c->backend)) != APP_OK))
		return rc;
	return get_int(r, i, DB_C_N, &c->n);
}

/* The kind of an outcome row from whichever column its layout has. */
static enum app_err
outcome_kind(const struct db_res *r, size_t i, struct outcome_row *o)
{
	struct rtext	 k;
	int64_t		 v;
	int		 b;
	enum app_err	 rc;

	if (has(r, DB_C_DELETED)) {
		rc = get_bool(r, i, DB_C_DELETED, &b);
		o->kind = b ? 't' : 'f';
		return rc;
	}
	if (has(r, DB_C_KNUM)) {
		if ((rc = get_int(r, i, DB_C_KNUM, &v)) != APP_OK)
			return rc;
		if (v < 0 || v > 9)
			return bad_width(r, DB_C_KNUM, 4);
		o->kind = (char)('0' + v);
		return APP_OK;
	}
	if (has(r, DB_C_KIND)) {
		if ((rc = get_text(r, i, DB_C_KIND, &k)) != APP_OK)
			return rc;
		if (k.p == NULL || k.len != 1)
			return bad_width(r, DB_C_KIND, (int)k.len);
		o->kind = k.p[0];
	}
	return APP_OK;
}

/* An outcome of a move or delete, or a bare id (kind 0). */
enum app_err
db_outcome_row(const struct db_res *r, size_t i, struct outcome_row *o)
{
	enum app_err	 rc;

	memset(o, 0, sizeof(*o));
	if (!has(r, DB_C_ID) || has(r, DB_C_TASK_ID))
		return not_rows(r, "outcome");
	if ((rc = outcome_kind(r, i, o)) != APP_OK ||
	    (rc = get_text(r, i, DB_C_ID, &o->id)) != APP_OK)
		return rc;
	if (has(r, DB_C_N))
		rc = get_int(r, i, DB_C_N, &o->n);
	return rc;
}

/* The one number of a count statement; 0 when it gave no row. */
enum app_err
db_count(const struct db_res *r, int64_t *n)
{
	*n = 0;
	if (!has(r, DB_C_N) || has(r, DB_C_STATUS) || has(r, DB_C_ID))
		return not_rows(r, "count");
	return db_nrows(r) > 0 ? get_int(r, 0, DB_C_N, n) : APP_OK;
}

/* DB_RESTORE's one row; zeros when it gave none. */
enum app_err
db_restore_row(const struct db_res *r, struct restore_row *x)
{
	enum app_err	 rc;

	memset(x, 0, sizeof(*x));
	if (!has(r, DB_C_FOUND) || !has(r, DB_C_MOVED))
		return not_rows(r, "restore");
	if (db_nrows(r) == 0)
		return APP_OK;
	if ((rc = get_int(r, 0, DB_C_FOUND, &x->found)) != APP_OK)
		return rc;
	return get_int(r, 0, DB_C_MOVED, &x->moved);
}

/* DB_ETAG's one row; zeros when it gave none. */
enum app_err
db_etag_row(const struct db_res *r, struct etag_row *e)
{
	enum app_err	 rc;

	memset(e, 0, sizeof(*e));
	if (!has(r, DB_C_CHANGES) || !has(r, DB_C_SALT))
		return not_rows(r, "change counter");
	if (db_nrows(r) == 0)
		return APP_OK;
	if ((rc = get_int(r, 0, DB_C_CHANGES, &e->changes)) != APP_OK)
		return rc;
	return get_int(r, 0, DB_C_SALT, &e->salt);
}
