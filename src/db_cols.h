/*
 * db_cols.h: the columns of each row layout (enum db_layout), declared
 * in sql.c next to the statements and checked and decoded in
 * db_rows.c.  Private to sql.c and the db*.c files; no third-party
 * header is included here.
 *
 * A layout is a list of (field, column name, type OID).  The check
 * finds each column by name in what PostgreSQL describes and compares
 * its type; the decoders then read fields, never column numbers, so
 * the order of the columns in the SQL is free.
 */
#ifndef DB_COLS_H
#define DB_COLS_H

#include "db.h"

/* The PostgreSQL types (pg_type.dat OIDs) the layouts use. */
#define DB_OID_BOOL		16
#define DB_OID_INT8		20
#define DB_OID_INT2		21
#define DB_OID_INT4		23
#define DB_OID_TEXT		25
#define DB_OID_JSON		114
#define DB_OID_TIMESTAMPTZ	1184
#define DB_OID_JSONB		3802

/* What a column means to a decoder (the fields of rows.h's rows). */
enum db_field {
	DB_C_TASK_ID, DB_C_BACKEND, DB_C_STATUS, DB_C_SHOTS,
	DB_C_SUBMIT_TIME, DB_C_UPDATE_TIME, DB_C_HAS_RESULT, DB_C_RESULT,
	DB_C_METADATA, DB_C_ARCHIVED_AT, DB_C_SEQ,
	DB_C_UNIQC_TASK_ID, DB_C_SHARD_INDEX, DB_C_PLATFORM_TASK_ID,
	DB_C_CIRCUIT_COUNT, DB_C_SUB_INDEX_OFFSET, DB_C_ERROR_MESSAGE,
	DB_C_ID,		/* an id asked for, or the id an outcome is of */
	DB_C_N,			/* a count */
	DB_C_KIND,		/* an outcome's kind as one letter (text) */
	DB_C_KNUM,		/* an outcome's kind as a number (int4) */
	DB_C_DELETED,		/* an outcome as a bool */
	DB_C_FOUND, DB_C_MOVED,
	DB_C_CHANGES, DB_C_SALT,
	DB_C__MAX
};

struct db_col {
	enum db_field	 field;
	const char	*name;		/* NULL ends the list */
	unsigned	 oid;
};

#define DB_MAXCOLS	12

struct db_layout_def {
	const char	*what;		/* for the log: "task detail" */
	struct db_col	 col[DB_MAXCOLS];
};

extern const struct db_layout_def db_layouts[DB_L__MAX];

#endif
