/*
 * admin_ops.h: taskgate-admin's database chores (admin_ops.c).  Each
 * returns the exit status.
 */
#ifndef ADMIN_OPS_H
#define ADMIN_OPS_H

#include "admin.h"

int	ops_migrate(struct adm *, int argc, char **argv, const char *argv0);
int	ops_check(struct adm *, int argc, char **argv, const char *argv0,
	    const char *cfgerr);
int	ops_archive_expired(struct adm *, int argc, char **argv);
int	ops_purge_archive(struct adm *, int argc, char **argv);

#endif
