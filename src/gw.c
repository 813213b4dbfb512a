/*
 * gw.c: FastCGI (libfcgi's fcgiapp, one request at a time) or plain CGI
 * when fd 0 is not a listening socket: then exactly one request is
 * served from the environment, stdin and stdout.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "gw.h"

struct gw {
	int		 cgi;
	int		 timeout_s;	/* body reads: 0 waits forever */
	struct timespec	 deadline;	/* of the whole body, when timeout_s */
	int		 body_ended;	/* CGI: stdin hit EOF or timed out */
	int		 served;	/* CGI: the one request is done */
	int		 active;
	int		 unix_sock;	/* FastCGI over a unix socket */
	unsigned long long nread;	/* body bytes read so far */
	FCGX_Request	 req;
};

/* At most this much of an unread CGI request body is drained. */
#define GW_DRAIN_MAX	(64ULL << 20)

/* Returns NULL on allocation or initialization failure. */
struct gw *
gw_open(void)
{
	struct gw	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cgi = FCGX_IsCGI();
	if (!g->cgi) {
		struct sockaddr_storage	 ss;
		socklen_t		 sl = sizeof(ss);

		g->unix_sock = getsockname(0, (struct sockaddr *)&ss,
		    &sl) == 0 && ss.ss_family == AF_UNIX;
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

/*
 * Milliseconds left until the body's deadline (at least 1 while any is
 * left), 0 when it passed, -1 when there is none.
 */
static long
left_ms(const struct gw *g)
{
	struct timespec	 now;
	long long	 ms;

	if (g->timeout_s <= 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(g->deadline.tv_sec - now.tv_sec) * 1000 +
	    (g->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : (long)ms;
}

/* FastCGI: the receive timeout of the connection for the next reads. */
static void
set_rcvtimeo(struct gw *g, long ms)
{
	struct timeval	 tv;

	if (g->req.ipcFd < 0)
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	(void)setsockopt(g->req.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
}

/* The request's CONTENT_LENGTH, or -1 when absent or not a number. */
static long long
content_length(struct gw *g)
{
	const char	*v = gw_getenv(g, "CONTENT_LENGTH");
	char		*end;
	long long	 cl;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	cl = strtoll(v, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : cl;
}

/*
 * Reads up to n body bytes; 0 at the end, -1 on error (or when the
 * body's deadline passed: body_timeout bounds the whole body, not each
 * read).  FastCGI: once CONTENT_LENGTH bytes are in, the empty
 * FCGI_STDIN record that ends the stream is read as well, so that
 * gw_finish can close the connection plainly (see nothing_unread).
 */
long
gw_read(void *ctx, char *buf, size_t n)
{
	struct gw	*g = ctx;
	ssize_t		 r;
	long		 ms;
	int		 k;

	if (n > 1 << 20)
		n = 1 << 20;
	ms = left_ms(g);
	if (ms == 0) {
		g->body_ended = 1;
		errno = ETIMEDOUT;
		return -1;
	}
	if (g->cgi) {
		struct pollfd	 pfd;

		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if (ms > 0) {
			do
				k = poll(&pfd, 1, ms > INT_MAX ? INT_MAX :
				    (int)ms);
			while (k < 0 && errno == EINTR && (ms = left_ms(g)) != 0);
			if (k <= 0) {
				g->body_ended = 1;
				errno = ETIMEDOUT;
				return -1;
			}
		}
		do
			r = read(STDIN_FILENO, buf, n);
		while (r < 0 && errno == EINTR);
		if (r > 0)
			g->nread += (unsigned long long)r;
		else
			g->body_ended = 1;
		return (long)r;
	}
	if (ms > 0) {
		/*
		 * Take what libfcgi holds already without a read; else one
		 * byte, so that a body trickling in cannot keep one call (and
		 * its reads, each bounded by the time left) going.
		 */
		size_t	 avail = (size_t)(g->req.in->stop - g->req.in->rdNext);

		if (avail == 0)
			n = 1;
		else if (avail < n)
			n = avail;
		set_rcvtimeo(g, ms);
	}
	k = FCGX_GetStr(buf, (int)n, g->req.in);
	if (k > 0) {
		long long	 cl = content_length(g);

		g->nread += (unsigned long long)k;
		if (cl >= 0 && g->nread == (unsigned long long)cl &&
		    !FCGX_HasSeenEOF(g->req.in)) {
			int	 c;

			if ((ms = left_ms(g)) != 0) {
				if (ms > 0)
					set_rcvtimeo(g, ms);
				if ((c = FCGX_GetChar(g->req.in)) != EOF)
					FCGX_UnGetChar(c, g->req.in);
			}
		}
	}
	return k;
}

/* Writes all of iov[0..n); returns 0, or -1 on an error. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t	 w;

	while (n > 0) {
		w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * libfcgi's output stream holds 8 KiB (NewWriter in fcgiapp.c, not
 * settable), so a body goes out as one record and one write(2) per
 * 8 KiB: 56 of each for the 457 KB answer of a lookup of 1 000 ids, and
 * as many reads and wake-ups in the web server.  A piece of at least
 * GW_DIRECT bytes is written here instead, as FCGI_STDOUT records of up
 * to GW_RECORD bytes each, after what the stream holds (the headers) is
 * flushed: the records are those libfcgi writes (the request's id,
 * padded to 8 bytes), on its connection, and FCGX_Finish_r then ends
 * the stream as before (t/066-fcgi-records.t checks them on the wire).
 * ipcFd sits below fcgiapp.h's "Don't use anything below here"; it is
 * the connection fcgiapp.c itself writes to.
 */
#define GW_DIRECT	(16 * 1024)
#define GW_RECORD	(FCGI_MAX_LENGTH & ~7)

static int
put_records(struct gw *g, const char *s, size_t n)
{
	static const unsigned char zero[8];
	FCGI_Header	 h;
	struct iovec	 iov[3];
	size_t		 c, pad;

	if (FCGX_FFlush(g->req.out) != 0)
		return -1;
	while (n > 0) {
		c = n > GW_RECORD ? GW_RECORD : n;
		pad = (8 - c % 8) % 8;
		memset(&h, 0, sizeof(h));
		h.version = FCGI_VERSION_1;
		h.type = FCGI_STDOUT;
		h.requestIdB1 = (unsigned char)(g->req.requestId >> 8);
		h.requestIdB0 = (unsigned char)g->req.requestId;
		h.contentLengthB1 = (unsigned char)(c >> 8);
		h.contentLengthB0 = (unsigned char)c;
		h.paddingLength = (unsigned char)pad;
		iov[0].iov_base = &h;
		iov[0].iov_len = sizeof(h);
		iov[1].iov_base = (char *)s;
		iov[1].iov_len = c;
		iov[2].iov_base = (unsigned char *)zero;
		iov[2].iov_len = pad;
		if (writev_all(g->req.ipcFd, iov, pad > 0 ? 3 : 2) != 0)
			return -1;
		s += c;
		n -= c;
	}
	return 0;
}

/* Writes all of s; returns 0, or -1 when the client is gone. */
int
gw_write(void *ctx, const char *s, size_t n)
{
	struct gw	*g = ctx;
	struct iovec	 iov;

	if (g->cgi) {
		iov.iov_base = (char *)s;
		iov.iov_len = n;
		return n > 0 ? writev_all(STDOUT_FILENO, &iov, 1) : 0;
	}
	if (n >= GW_DIRECT)
		return put_records(g, s, n);
	return FCGX_PutStr(s, (int)n, g->req.out) == (int)n ? 0 : -1;
}

/*
 * CGI: reads and drops the part of the request body (CONTENT_LENGTH)
 * that was not read, once the response is written.  Apache's mod_cgi
 * and mod_cgid write the whole body to the program before they read its
 * output; when the program exits without reading it (a 413 decided from
 * CONTENT_LENGTH alone) that write fails with EPIPE and Apache drops the
 * response ("AH02651: Error writing request body to script", or
 * ECONNRESET on the cgid socket): the client got no answer at all
 * (t/220-apache-htaccess.t).  Bounded by GW_DRAIN_MAX; the response is
 * small in these cases, so it waits in the pipe meanwhile.
 */
static void
cgi_drain(struct gw *g)
{
	const char		*v = getenv("CONTENT_LENGTH");
	char			 b[16384], *end;
	unsigned long long	 cl, left;
	ssize_t			 r;

	if (v == NULL || *v < '0' || *v > '9')
		return;
	errno = 0;
	cl = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || cl <= g->nread)
		return;
	/* A body that already ended early (EOF, stall) has nothing left. */
	if (g->body_ended)
		return;
	left = cl - g->nread;
	if (left > GW_DRAIN_MAX)
		left = GW_DRAIN_MAX;
	while (left > 0) {
		/* The same bound on each wait as the body reads themselves. */
		if (g->timeout_s > 0) {
			struct pollfd	 pfd;
			int		 k;

			pfd.fd = STDIN_FILENO;
			pfd.events = POLLIN;
			do
				k = poll(&pfd, 1, g->timeout_s * 1000);
			while (k < 0 && errno == EINTR);
			if (k <= 0)
				break;
		}
		r = read(STDIN_FILENO, b, left < sizeof(b) ? (size_t)left : sizeof(b));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		left -= (unsigned long long)r;
	}
}

/*
 * libfcgi ends each connection with a lingering close: shutdown(SHUT_WR),
 * then it waits (up to 2 s) until the web server closes its end, so that
 * unread input cannot turn the close into a TCP reset that destroys the
 * response in flight.  That wait keeps the process from its next request
 * until the web server has read this one: about a fifth of the
 * throughput of a small GET behind lighttpd (bench/REPORT.md).  It is
 * skipped (FCGX_Detach: a plain close) when no unread input can be left:
 * the body was read to its end, or the request has no body and the
 * connection is a unix socket, where a close with unread bytes (the
 * empty FCGI_STDIN record) never discards what the peer has yet to read.
 */
static int
nothing_unread(struct gw *g)
{
	const char	*cl;

	if (g->req.in != NULL && FCGX_HasSeenEOF(g->req.in))
		return 1;
	if (!g->unix_sock)
		return 0;
	cl = FCGX_GetParam("CONTENT_LENGTH", g->req.envp);
	return cl == NULL || *cl == '\0' || strcmp(cl, "0") == 0;
}

/* Ends the current request (flushes its output). */
void
gw_finish(struct gw *g)
{
	if (!g->active)
		return;
	g->active = 0;
	if (g->cgi)
		cgi_drain(g);
	else {
		if (nothing_unread(g))
			FCGX_Detach(&g->req);
		FCGX_Finish_r(&g->req);
	}
}

/*
 * Ends the current request abnormally, after a failure once its response
 * had begun (the status and part of the body are gone): FastCGI sends
 * what is buffered and closes the connection without FCGI_END_REQUEST,
 * so the web server sees the response broken off and does not end the
 * client's body cleanly (lighttpd and nginx then abort the client's
 * connection: t/083-stream-abort.t).  CGI has no way to say it: the body
 * simply ends (the log line says what happened).
 */
void
gw_abort(struct gw *g)
{
	if (!g->active)
		return;
	if (g->cgi) {
		gw_finish(g);
		return;
	}
	g->active = 0;
	(void)FCGX_FFlush(g->req.out);
	FCGX_Detach(&g->req);		/* a plain close: nothing to wait for */
	FCGX_Free(&g->req, 1);
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
 * Bounds the time the current request's body may take to arrive, from
 * now: a client (or server) that stops or trickles makes gw_read report
 * the end early, which req_body() answers with 400.  FastCGI: a receive
 * timeout on the connection set to the time left before each read
 * (libfcgi has none of its own; the stream then reports an error and
 * the connection is closed after the response).
 */
void
gw_set_timeout(struct gw *g, int seconds)
{
	g->timeout_s = seconds;
	g->nread = 0;
	if (seconds > 0) {
		clock_gettime(CLOCK_MONOTONIC, &g->deadline);
		g->deadline.tv_sec += seconds;
	}
	if (g->cgi || !g->active || g->req.ipcFd < 0)
		return;
	set_rcvtimeo(g, seconds > 0 ? (long)seconds * 1000 : 0);
}
