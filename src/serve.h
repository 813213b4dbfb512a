/*
 * serve.h: the request pipeline (serve.c) and the state it runs with,
 * set up by main.c.
 */
#ifndef SERVE_H
#define SERVE_H

#include "app.h"
#include "auth.h"
#include "cfg.h"
#include "db.h"
#include "gw.h"
#include "req.h"

/* The process's configuration and connections, owned by main(). */
struct serve_app {
	struct cfg	 cfg;
	struct auth	 auth;
	struct db	*db;
	struct db	*rdb;		/* read_database (a standby), or NULL */
	double		 rdb_retry;	/* now_ms() before which GETs skip it */
	char		 cfgerr[512];
	int		 cfgbad;
};

int	serve_request(struct serve_app *, struct gw *, struct req *) WUR;

#endif
