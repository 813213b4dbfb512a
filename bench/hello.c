/*
 * hello.c: the FastCGI ceiling for bench/run.  A trivial responder
 * (libfcgi's fcgiapp, like taskgate) that answers every request with
 * the same 60-byte JSON body, so lighttpd + FastCGI cost alone can be
 * measured behind the same lighttpd as taskgate.  It ends connections
 * the way taskgate does for a GET on a unix socket (src/gw.c: a plain
 * close, not libfcgi's lingering one), so the ceiling is not lowered by
 * a wait that taskgate does not have.
 *
 *   cc -O2 -o hello hello.c -lfcgi
 */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

/* 60 bytes. */
static const char body[] =
    "{\"status\":\"ok\",\"service\":\"hello\",\"padding\":\"0123456789abcd\"}";

int
main(void)
{
	FCGX_Request	 rq;

	if (sizeof(body) - 1 != 60)
		return 2;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&rq) >= 0) {
		FCGX_FPrintF(rq.out, "Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %d\r\n\r\n", (int)(sizeof(body) - 1));
		FCGX_PutStr(body, (int)(sizeof(body) - 1), rq.out);
		FCGX_Detach(&rq);
		FCGX_Finish_r(&rq);
	}
	return 0;
}
