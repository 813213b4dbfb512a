/*
 * filter_cursor.c: the opaque cursor of SPEC 4.1 (see filter.c): 26
 * bytes -- version, flags (order, position present), submit_time and
 * seq of the last row shown, and a 64-bit check (FNV-1a over those
 * bytes and the digest of the filters and order) -- in base64url
 * without padding (35 characters).
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "req.h"
#include "filter.h"

/* FNV-1a, 64 bits. */
uint64_t
filter_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
b64v(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define CUR_LEN		26	/* version, flags, time, seq, check */
#define CUR_VERSION	1
/* PostgreSQL's timestamp range in its epoch (MIN_TIMESTAMP, END_TIMESTAMP). */
#define PG_MIN_TIMESTAMP	(-211813488000000000LL)
#define PG_END_TIMESTAMP	9223371331200000000LL

void
filter_put64(unsigned char *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xFF);
		v >>= 8;
	}
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
cur_check(const struct filter *f, const unsigned char *raw)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;

	h = filter_fnv(h, raw, 18);
	return filter_fnv(h, &f->digest, sizeof(f->digest));
}

/*
 * Appends the cursor (quoted) of the position after the row (pg_time,
 * seq), or of the start when pos is 0.
 */
void
filter_cursor(struct buf *b, const struct filter *f, int pos,
    int64_t pg_time, int64_t seq)
{
	unsigned char	 raw[CUR_LEN + 2];
	size_t		 i;
	uint32_t	 v;

	memset(raw, 0, sizeof(raw));
	raw[0] = CUR_VERSION;
	raw[1] = (unsigned char)((f->asc ? 1 : 0) | (pos ? 2 : 0));
	if (pos) {
		filter_put64(raw + 2, (uint64_t)pg_time);
		filter_put64(raw + 10, (uint64_t)seq);
	}
	filter_put64(raw + 18, cur_check(f, raw));
	buf_addc(b, '"');
	/* 26 bytes: 8 groups of 3, then 2 bytes as 3 characters. */
	for (i = 0; i < CUR_LEN; i += 3) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];
		buf_addc(b, b64[(v >> 18) & 63]);
		buf_addc(b, b64[(v >> 12) & 63]);
		buf_addc(b, b64[(v >> 6) & 63]);
		if (i + 2 < CUR_LEN)
			buf_addc(b, b64[v & 63]);
	}
	buf_addc(b, '"');
}

/*
 * Reads cursor s into f (cur_pos, cur_time, cur_seq); 0 when it is not
 * a cursor of these filters and this order (or mangled).
 */
int
filter_cursor_read(struct filter *f, const struct str *s)
{
	unsigned char	 raw[CUR_LEN + 2];
	size_t		 i, o = 0;
	uint32_t	 v;
	int		 k, d;

	if (s->len != 35)
		return 0;
	memset(raw, 0, sizeof(raw));
	for (i = 0; i < s->len; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			if (i + (size_t)k < s->len) {
				if ((d = b64v((unsigned char)s->p[i + k])) < 0)
					return 0;
			} else
				d = 0;
			v = v << 6 | (uint32_t)d;
		}
		raw[o++] = (unsigned char)(v >> 16);
		raw[o++] = (unsigned char)(v >> 8);
		if (o < CUR_LEN + 2)
			raw[o++] = (unsigned char)v;
	}
	/* The last character carries 2 bits of padding: they must be 0. */
	if (raw[CUR_LEN] != 0 || raw[0] != CUR_VERSION || (raw[1] & ~3) != 0)
		return 0;
	if ((raw[1] & 1) != f->asc || get64(raw + 18) != cur_check(f, raw))
		return 0;
	f->cur_pos = (raw[1] & 2) != 0;
	f->cur_time = (int64_t)get64(raw + 2);
	f->cur_seq = (int64_t)get64(raw + 10);
	if (!f->cur_pos && (f->cur_time != 0 || f->cur_seq != 0))
		return 0;
	/*
	 * The check is no secret: a forged cursor must still name a time
	 * PostgreSQL can take (its timestamptz range, in its epoch, or
	 * +-infinity), else the statement fails with a 500.
	 */
	if (f->cur_time != INT64_MIN && f->cur_time != INT64_MAX &&
	    (f->cur_time < PG_MIN_TIMESTAMP || f->cur_time >= PG_END_TIMESTAMP))
		return 0;
	return 1;
}

