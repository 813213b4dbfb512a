/*
 * gw.h: the gateway to the web server, FastCGI or plain CGI: accept a
 * request, read its variables and body, write the response.  The only
 * module that includes <fcgiapp.h>.
 */
#ifndef GW_H
#define GW_H

#include <stddef.h>

struct gw;

struct gw	*gw_open(void);
int		 gw_is_cgi(const struct gw *);
int		 gw_accept(struct gw *);
const char	*gw_getenv(void *, const char *);
long		 gw_read(void *, char *, size_t);
int		 gw_write(void *, const char *, size_t);
void		 gw_finish(struct gw *);
void		 gw_abort(struct gw *);
void		 gw_close(struct gw *);
void		 gw_shutdown(void);
void		 gw_set_timeout(struct gw *, int seconds);

#endif
