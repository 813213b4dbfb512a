/*
 * gw.c: FastCGI (libfcgi's fcgiapp, one request at a time) or plain CGI
 * when fd 0 is not a listening socket: then exactly one request is
 * served from the environment, stdin and stdout.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "gw.h"

struct gw {
	int		 cgi;
	int		 timeout_s;	/* body reads: 0 waits forever */
	int		 served;	/* CGI: the one request is done */
	int		 active;
	FCGX_Request	 req;
};

/* Returns NULL on allocation or initialization failure. */
struct gw *
gw_open(void)
{
	struct gw	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cgi = FCGX_IsCGI();
	if (!g->cgi) {
		if (FCGX_Init() != 0 || FCGX_InitRequest(&g->req, 0,
		    FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
			free(g);
			return NULL;
		}
	}
	return g;
}

int
gw_is_cgi(const struct gw *g)
{
	return g->cgi;
}

/*
 * Waits for the next request.  Returns 1 when one is ready, 0 when
 * there will be no more (CGI after the first), -1 when accept failed or
 * a signal interrupted it (the caller decides whether to go on).
 */
int
gw_accept(struct gw *g)
{
	if (g->cgi) {
		if (g->served)
			return 0;
		g->served = 1;
		g->active = 1;
		return 1;
	}
	if (FCGX_Accept_r(&g->req) < 0)
		return -1;
	g->active = 1;
	return 1;
}

/* A variable of the current request (borrowed until the next accept). */
const char *
gw_getenv(void *ctx, const char *name)
{
	struct gw	*g = ctx;

	if (g->cgi)
		return getenv(name);
	return FCGX_GetParam(name, g->req.envp);
}

/* Reads up to n body bytes; 0 at the end, -1 on error. */
long
gw_read(void *ctx, char *buf, size_t n)
{
	struct gw	*g = ctx;
	ssize_t		 r;
	int		 k;

	if (n > 1 << 20)
		n = 1 << 20;
	if (g->cgi) {
		struct pollfd	 pfd;

		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if (g->timeout_s > 0) {
			do
				k = poll(&pfd, 1, g->timeout_s * 1000);
			while (k < 0 && errno == EINTR);
			if (k == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		do
			r = read(STDIN_FILENO, buf, n);
		while (r < 0 && errno == EINTR);
		return (long)r;
	}
	k = FCGX_GetStr(buf, (int)n, g->req.in);
	return k;
}

/* Writes all of s; returns 0, or -1 when the client is gone. */
int
gw_write(void *ctx, const char *s, size_t n)
{
	struct gw	*g = ctx;
	ssize_t		 w;

	if (g->cgi) {
		while (n > 0) {
			w = write(STDOUT_FILENO, s, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			s += w;
			n -= (size_t)w;
		}
		return 0;
	}
	while (n > 0) {
		int	 chunk = n > (1U << 30) ? 1 << 30 : (int)n;

		if (FCGX_PutStr(s, chunk, g->req.out) != chunk)
			return -1;
		s += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/* Ends the current request (flushes its output). */
void
gw_finish(struct gw *g)
{
	if (!g->active)
		return;
	g->active = 0;
	if (!g->cgi)
		FCGX_Finish_r(&g->req);
}

void
gw_close(struct gw *g)
{
	if (g == NULL)
		return;
	gw_finish(g);
	if (!g->cgi)
		FCGX_Free(&g->req, 1);
	free(g);
}

/* Async-signal-safe: makes a blocked accept return. */
void
gw_shutdown(void)
{
	FCGX_ShutdownPending();
}

/*
 * Bounds the wait for each read of the current request's body: a client
 * (or server) that stops sending makes gw_read report the end early,
 * which req_body() answers with 400.  FastCGI: a receive timeout on the
 * connection (libfcgi has none of its own; the stream then reports an
 * error and the connection is closed after the response).
 */
void
gw_set_timeout(struct gw *g, int seconds)
{
	struct timeval	 tv;

	g->timeout_s = seconds;
	if (g->cgi || !g->active || g->req.ipcFd < 0)
		return;
	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	(void)setsockopt(g->req.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
}
