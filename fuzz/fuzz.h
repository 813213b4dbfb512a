/*
 * fuzz.h: what the libFuzzer harnesses share: CHECK(), which reports a
 * broken invariant with the input's length and aborts (libFuzzer then
 * saves the input as a crash artifact), and a strict RFC 8259 validator
 * used as an independent oracle for "this output is JSON".
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A NUL-terminated copy of data[0..n) (caller frees); aborts on ENOMEM. */
static inline char *
fz_strndup(const uint8_t *data, size_t n)
{
	char	*p = malloc(n + 1);

	CHECK(p != NULL);
	if (n > 0)
		memcpy(p, data, n);
	p[n] = '\0';
	return p;
}

/* ------------------------------------------- strict JSON (RFC 8259) */

struct sj {
	const char	*s;
	size_t		 n, i;
	int		 depth;
};

static int sj_value(struct sj *);

static void
sj_ws(struct sj *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int
sj_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
sj_string(struct sj *p)
{
	unsigned char	 c;
	int		 k;

	p->i++;				/* the opening quote */
	while (p->i < p->n) {
		c = (unsigned char)p->s[p->i++];
		if (c == '"')
			return 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (p->i >= p->n)
			return 0;
		c = (unsigned char)p->s[p->i++];
		if (c == 'u') {
			for (k = 0; k < 4; k++, p->i++)
				if (p->i >= p->n || !sj_hex(p->s[p->i]))
					return 0;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return 0;
	}
	return 0;
}

static int
sj_digits(struct sj *p)
{
	size_t	 st = p->i;

	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	return p->i > st;
}

static int
sj_number(struct sj *p)
{
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (!sj_digits(p))
		return 0;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (!sj_digits(p))
			return 0;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!sj_digits(p))
			return 0;
	}
	return 1;
}

static int
sj_word(struct sj *p, const char *w)
{
	size_t	 l = strlen(w);

	if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0)
		return 0;
	p->i += l;
	return 1;
}

static int
sj_container(struct sj *p, char close, int obj)
{
	if (++p->depth > 2000)
		return 0;
	p->i++;
	sj_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		p->depth--;
		return 1;
	}
	for (;;) {
		sj_ws(p);
		if (obj) {
			if (p->i >= p->n || p->s[p->i] != '"' || !sj_string(p))
				return 0;
			sj_ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return 0;
			p->i++;
			sj_ws(p);
		}
		if (!sj_value(p))
			return 0;
		sj_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			p->depth--;
			return 1;
		}
		return 0;
	}
}

static int
sj_value(struct sj *p)
{
	if (p->i >= p->n)
		return 0;
	switch (p->s[p->i]) {
	case '"':
		return sj_string(p);
	case '{':
		return sj_container(p, '}', 1);
	case '[':
		return sj_container(p, ']', 0);
	case 't':
		return sj_word(p, "true");
	case 'f':
		return sj_word(p, "false");
	case 'n':
		return sj_word(p, "null");
	default:
		return sj_number(p);
	}
}

/* 1 when s[0..n) is one JSON value (RFC 8259, no NaN/Infinity). */
static inline int
fz_strict_json(const char *s, size_t n)
{
	struct sj	 p = { s, n, 0, 0 };

	sj_ws(&p);
	if (!sj_value(&p))
		return 0;
	sj_ws(&p);
	return p.i == p.n;
}

#endif
