/*
 * unit-cfg.c: configuration parsing, every key documented in the
 * sample, and the statement table consistent with its parameters and
 * the layouts of its rows (every column a layout names is named in the
 * SQL of each statement of that layout).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cfg.h"
#include "db.h"
#include "db_cols.h"

/*
 * Each column of layout l appears in sql as a name of its own (the
 * statement's rows can have it; db.c checks that they do).
 */
static void
names_columns(const char *name, const char *sql, enum db_layout l)
{
	const struct db_col	*c;
	const char		*p;
	size_t			 k, n;
	int			 found;

	for (k = 0; k < DB_MAXCOLS && db_layouts[l].col[k].name; k++) {
		c = &db_layouts[l].col[k];
		n = strlen(c->name);
		found = 0;
		for (p = sql; !found && (p = strstr(p, c->name)) != NULL; p++)
			found = (p == sql || !(p[-1] == '_' ||
			    (p[-1] >= 'a' && p[-1] <= 'z'))) &&
			    !(p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z'));
		ok(found, "%s names column %s of its %s rows", name, c->name,
		    db_layouts[l].what);
	}
}

int
main(void)
{
	struct cfg	 c;
	char		 err[256], *sample, line[512];
	FILE		*f;
	size_t		 i, n;
	int		 k, maxp;
	const char	*p;

	cfg_defaults(&c);
	ok(c.max_body_size == 1048576 && c.prepare == 1 &&
	    strcmp(c.schema, "public") == 0, "defaults");
	ok(cfg_parse(&c, "# comment\n\n database = host=/tmp dbname=x \n"
	    "max_ids=5\nprepare = off\nschema = \"tg\"\n", "a.conf", err,
	    sizeof(err)), "parses");
	ok(strcmp(c.database, "host=/tmp dbname=x") == 0, "value trimmed");
	ok(c.max_ids == 5 && c.prepare == 0, "int and bool");
	ok(strcmp(c.schema, "tg") == 0, "quotes removed");
	ok(!cfg_parse(&c, "a = 1\n", "x.conf", err, sizeof(err)) &&
	    strcmp(err, "x.conf:1: unknown key \"a\"") == 0, "unknown key: %s", err);
	ok(!cfg_parse(&c, "\nmax_body_size = 0\n", "y.conf", err, sizeof(err)) &&
	    strncmp(err, "y.conf:2: max_body_size must be an integer", 42) == 0,
	    "out of range names file and line: %s", err);
	ok(!cfg_parse(&c, "prepare = maybe\n", "z", err, sizeof(err)),
	    "bad boolean");
	ok(!cfg_parse(&c, "justtext\n", "z", err, sizeof(err)) &&
	    strcmp(err, "z:1: expected key = value") == 0, "no equals sign");
	cfg_free(&c);

	/* Every key appears in the sample as "# key = default". */
	snprintf(line, sizeof(line), "%s/conf/taskgate.conf.sample", SRCDIR);
	if ((f = fopen(line, "r")) == NULL) {
		ok(0, "open %s", line);
		return done_testing();
	}
	sample = calloc(1, 1 << 16);
	n = fread(sample, 1, (1 << 16) - 1, f);
	fclose(f);
	sample[n] = '\0';
	for (i = 0; i < cfg_nkeys; i++) {
		snprintf(line, sizeof(line), "\n#%s = %s\n", cfg_keys[i].name,
		    cfg_keys[i].def);
		ok(strstr(sample, line) != NULL, "sample documents %s with "
		    "its default", cfg_keys[i].name);
	}
	free(sample);

	for (i = 0; i < DB__MAX; i++) {
		maxp = 0;
		if (db_stmts[i].sql == NULL) {
			ok(0, "statement %zu has SQL", i);
			continue;
		}
		for (p = db_stmts[i].sql; (p = strchr(p, '$')) != NULL; p++)
			if ((k = atoi(p + 1)) > maxp)
				maxp = k;
		ok(maxp == db_stmts[i].nparams, "statement %zu: %d parameters",
		    i, maxp);
		ok(db_stmts[i].name != NULL &&
		    strncmp(db_stmts[i].name, "DB_", 3) == 0 &&
		    (unsigned)db_stmts[i].rows < DB_L__MAX,
		    "statement %zu: a name and a layout", i);
		if (db_stmts[i].name != NULL)
			names_columns(db_stmts[i].name, db_stmts[i].sql,
			    db_stmts[i].rows);
	}
	for (i = 0; i < DB_F__MAX; i++)
		if (db_frag_rows[i].rows != DB_L_NONE)
			names_columns(db_frag_rows[i].name, db_frag[i],
			    db_frag_rows[i].rows);
	ok(db_frag_rows[DB_F_LIST].rows == DB_L_TASK_SEQ &&
	    db_frag_rows[DB_F_SAMPLE].rows == DB_L_ID, "fragment layouts");
	return done_testing();
}
