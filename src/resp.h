/*
 * resp.h: the response being built: status, extra headers, body.  The
 * body is buffered, and for long lists it is streamed: once it grows
 * past a threshold the headers and what is buffered go out, and later
 * bytes follow as they are produced (so memory does not grow with the
 * list).  Until then an error can still replace the whole response.
 */
#ifndef RESP_H
#define RESP_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "buf.h"

struct str;

typedef int (*resp_write_fn)(void *ctx, const char *, size_t);

struct resp {
	int		 status;
	struct buf	 hdrs;		/* "Name: value\r\n" lines */
	struct buf	 body;
	char		*detail;	/* error message, NULL for default */
	char		 etag[64];	/* sent with a 200 or 304 when set */
	int		 tag_read;	/* the change counter behind etag: */
	int64_t		 tag_changes, tag_salt;	/* (count_cache.c) */
	const char	*ctype;		/* static; NULL: application/json */
	int		 streaming;	/* headers already sent */
	int		 write_failed;
	size_t		 flush_at;
	size_t		 sent;		/* body bytes written */
	resp_write_fn	 wr;
	void		*wrctx;
};

void		 resp_init(struct resp *, resp_write_fn, void *, size_t flush_at);
void		 resp_free(struct resp *);
void		 resp_header(struct resp *, const char *, const char *);
void		 resp_reset(struct resp *);
void		 resp_set_detail(struct resp *, const char *pre,
		    const struct str *, const char *post);
enum app_err	 resp_stream(struct resp *) WUR;
void		 resp_error(struct resp *, enum app_err);
void		 resp_finish(struct resp *);
void		 resp_abort(struct resp *);
int		 resp_err_status(enum app_err);
int		 resp_etag_match(const char *if_none_match, const char *etag);
const char	*resp_reason(int);

#endif
