/*
 * buf.h: a growable byte buffer with a sticky out-of-memory flag.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>

/*
 * An allocation failure sets oom and turns every later append into a
 * no-op, so a writer appends freely and checks buf.oom once at the end.
 * The bytes are always NUL-terminated when p is not NULL.
 */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

void	buf_init(struct buf *);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);
void	buf_add(struct buf *, const void *, size_t);
void	buf_adds(struct buf *, const char *);
void	buf_addc(struct buf *, char);
void	buf_addi(struct buf *, long long);
void	buf_addu(struct buf *, unsigned long long);
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*buf_steal(struct buf *);

#endif
