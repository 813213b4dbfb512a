/*
 * resp.c: status line, headers and body, and the one mapping from
 * enum app_err to an HTTP status and a JSON body.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "req.h"
#include "jsonw.h"
#include "resp.h"

static const struct {
	int		 status;
	const char	*detail;
} errmap[APP__MAX] = {
	[APP_OK] =		{ 200, NULL },
	[APP_NOMEM] =		{ 500, "Internal Server Error" },
	[APP_INVALID] =		{ 422, NULL },
	[APP_BADREQ] =		{ 400, "There was an error parsing the body" },
	[APP_NOTFOUND] =	{ 404, "Not Found" },
	[APP_METHOD] =		{ 405, "Method Not Allowed" },
	[APP_CONFLICT] =	{ 409, "Conflict" },
	[APP_TOOBIG] =		{ 413, "Request body too large" },
	[APP_URITOOLONG] =	{ 414, "URI Too Long" },
	[APP_FORBIDDEN] =	{ 403, "Forbidden" },
	[APP_UNAUTH] =		{ 401, "Not authenticated" },
	[APP_DBDOWN] =		{ 503, "Database unavailable" },
	[APP_SYSTEM] =		{ 500, "Internal Server Error" },
};
_Static_assert(NELEM(errmap) == APP__MAX, "errmap and enum app_err differ");

int
resp_err_status(enum app_err e)
{
	return e < APP__MAX ? errmap[e].status : 500;
}

const char *
resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 422: return "Unprocessable Entity";
	case 503: return "Service Unavailable";
	default:  return "Internal Server Error";
	}
}

void
resp_init(struct resp *r, resp_write_fn wr, void *ctx, size_t flush_at)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	buf_init(&r->hdrs);
	buf_init(&r->body);
	r->wr = wr;
	r->wrctx = ctx;
	r->flush_at = flush_at;
}

void
resp_free(struct resp *r)
{
	if (r == NULL)
		return;
	buf_free(&r->hdrs);
	buf_free(&r->body);
	free(r->detail);
	r->detail = NULL;
}

/*
 * Forgets what a handler prepared (status, body, error detail) before
 * anything was sent, so the request can run again; headers set before
 * the handler ran (CORS) stay.
 */
void
resp_reset(struct resp *r)
{
	r->status = 200;
	r->ctype = NULL;
	r->body.len = 0;
	if (r->body.p != NULL)
		r->body.p[0] = '\0';
	free(r->detail);
	r->detail = NULL;
	r->etag[0] = '\0';
	r->tag_read = 0;
}

/* Adds a header; value must hold no CR or LF (callers pass constants). */
void
resp_header(struct resp *r, const char *name, const char *value)
{
	buf_adds(&r->hdrs, name);
	buf_adds(&r->hdrs, ": ");
	buf_adds(&r->hdrs, value);
	buf_adds(&r->hdrs, "\r\n");
}

/* Sets the message of the next error body: pre + id + post. */
void
resp_set_detail(struct resp *r, const char *pre, const struct str *id,
    const char *post)
{
	struct buf	 b;

	buf_init(&b);
	jsonw_detail(&b, pre, id, post);
	free(r->detail);
	r->detail = buf_steal(&b);
}

static void
out(struct resp *r, const char *s, size_t n)
{
	if (r->write_failed || n == 0)
		return;
	if (r->wr(r->wrctx, s, n) != 0)
		r->write_failed = 1;
}

static void
send_head(struct resp *r, int with_length)
{
	struct buf	 h;

	buf_init(&h);
	buf_printf(&h, "Status: %d %s\r\n", r->status, resp_reason(r->status));
	if (r->status != 307 && r->status != 204 && r->status != 304)
		buf_printf(&h, "Content-Type: %s\r\n",
		    r->ctype != NULL ? r->ctype : "application/json");
	/* SPEC 4.3: the tag of a GET's answer, and revalidate each time. */
	if (r->etag[0] != '\0' && (r->status == 200 || r->status == 304))
		buf_printf(&h, "ETag: %s\r\nCache-Control: no-cache\r\n",
		    r->etag);
	if (with_length && r->status != 204 && r->status != 304)
		buf_printf(&h, "Content-Length: %zu\r\n", r->body.len);
	if (r->hdrs.len > 0)
		buf_add(&h, r->hdrs.p, r->hdrs.len);
	buf_adds(&h, "\r\n");
	if (h.oom)
		r->write_failed = 1;
	else
		out(r, h.p, h.len);
	buf_free(&h);
	r->streaming = 1;
}

/*
 * Called by list handlers between rows: once the body passes the
 * threshold, sends the headers and the buffered bytes.  Returns
 * APP_NOMEM when the body could not be built, APP_SYSTEM when the
 * client is gone (the handler should stop).
 */
enum app_err
resp_stream(struct resp *r)
{
	if (r->body.oom)
		return APP_NOMEM;
	if (!r->streaming) {
		if (r->body.len < r->flush_at)
			return APP_OK;
		send_head(r, 0);
	}
	/* Few, large writes: flush in chunks of at least 8 KiB. */
	if (r->body.len >= 8192) {
		out(r, r->body.p, r->body.len);
		r->sent += r->body.len;
		buf_reset(&r->body);
	}
	return r->write_failed ? APP_SYSTEM : APP_OK;
}

/*
 * Replaces the response with the error's status and body.  APP_INVALID
 * keeps the 422 body the handler wrote.  Does nothing useful once
 * streaming started (the status is gone); the caller logs that.
 */
void
resp_error(struct resp *r, enum app_err e)
{
	if (r->streaming)
		return;
	r->status = resp_err_status(e);
	r->ctype = NULL;
	if (e == APP_INVALID)
		return;
	buf_reset(&r->body);
	if (r->detail != NULL)
		buf_adds(&r->body, r->detail);
	else
		jsonw_detail(&r->body, errmap[e < APP__MAX ? e : APP_SYSTEM].detail,
		    NULL, "");
}

/*
 * Gives up a response that broke off after streaming began: nothing more
 * is written (the caller aborts the connection).
 */
void
resp_abort(struct resp *r)
{
	r->write_failed = 1;
	buf_reset(&r->body);
}

/* Sends whatever has not been sent yet. */
void
resp_finish(struct resp *r)
{
	if (r->body.oom) {
		buf_reset(&r->body);
		if (r->streaming) {
			r->write_failed = 1;
			return;
		}
		r->status = 500;
		r->ctype = NULL;
		/* Memory ran out: a constant, nothing to build with json-c. */
		buf_adds(&r->body, "{\"detail\":\"Internal Server Error\"}");
	}
	if (!r->streaming)
		send_head(r, 1);
	out(r, r->body.p, r->body.len);
	r->sent += r->body.len;
	buf_reset(&r->body);
}

/*
 * If-None-Match (RFC 9110 13.1.2): a list of entity tags ("*" skipped)
 * compared weakly (W/"x" matches "x").  Returns 1 when etag (quoted)
 * is among them.
 */
int
resp_etag_match(const char *h, const char *etag)
{
	size_t		 n = strlen(etag);
	const char	*e;

	if (h == NULL || n == 0)
		return 0;
	for (;;) {
		while (*h == ' ' || *h == '\t' || *h == ',')
			h++;
		if (*h == '\0')
			return 0;
		/*
		 * "*" (any current representation) is not honoured: the
		 * tag is worked out before the answer, so whether this URL
		 * has a 200 to match is not known; the answer is a 200.
		 */
		if (*h == '*') {
			h++;
			continue;
		}
		if (h[0] == 'W' && h[1] == '/')
			h += 2;
		if (*h != '"')
			return 0;	/* not an entity tag: no match */
		if ((e = strchr(h + 1, '"')) == NULL)
			return 0;
		if ((size_t)(e + 1 - h) == n && memcmp(h, etag, n) == 0)
			return 1;
		h = e + 1;
	}
}
