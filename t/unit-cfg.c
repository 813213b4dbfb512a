/*
 * unit-cfg.c: configuration parsing, every key documented in the
 * sample, and the statement table consistent with its parameters.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cfg.h"
#include "db.h"

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
	}
	return done_testing();
}
