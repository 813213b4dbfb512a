/*
 * buf.c: growable byte buffer used for response bodies, decoded strings
 * and log lines.  See buf.h for the out-of-memory convention.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	buf_init(b);
}

/* Empties the buffer but keeps its memory (and clears oom). */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static int
grow(struct buf *b, size_t more)
{
	size_t	 need, ncap;
	char	*np;

	if (b->oom)
		return 0;
	if (more > SIZE_MAX - b->len - 1) {
		b->oom = 1;
		return 0;
	}
	need = b->len + more + 1;
	if (need <= b->cap)
		return 1;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->oom = 1;
		return 0;
	}
	b->p = np;
	b->cap = ncap;
	return 1;
}

void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (!grow(b, n))
		return;
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	if (!grow(b, 1))
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void
buf_addu(struct buf *b, unsigned long long v)
{
	char	 tmp[24];
	size_t	 i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_add(b, tmp + i, sizeof(tmp) - i);
}

void
buf_addi(struct buf *b, long long v)
{
	if (v < 0) {
		buf_addc(b, '-');
		buf_addu(b, 0ULL - (unsigned long long)v);
	} else
		buf_addu(b, (unsigned long long)v);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (!grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/*
 * Hands the bytes to the caller (who frees them) and leaves the buffer
 * empty.  Returns NULL after an allocation failure.
 */
char *
buf_steal(struct buf *b)
{
	char	*p;

	if (b->oom) {
		buf_free(b);
		return NULL;
	}
	if (b->p == NULL)
		buf_add(b, "", 0);
	if (b->oom)
		return NULL;
	p = b->p;
	buf_init(b);
	return p;
}
