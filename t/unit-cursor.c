/*
 * unit-cursor.c: SPEC 4.1 cursors.  The cursor's check is no secret, so
 * a forged one must still name a time PostgreSQL takes: one outside its
 * timestamptz range is refused (400 Invalid cursor), not sent on to
 * fail the statement with a 500.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "buf.h"
#include "req.h"
#include "filter.h"

static struct filter f;

/* Writes the cursor of (t, seq) and reads it back: 1 when accepted. */
static int
round_trip(int64_t t, int64_t seq)
{
	struct buf	 b;
	struct str	 s;
	int		 ok;

	buf_init(&b);
	filter_cursor(&b, &f, 1, t, seq);
	if (b.oom || b.len < 2)
		return -1;
	s.p = b.p + 1;		/* without the quotes */
	s.len = b.len - 2;
	s.bad = 0;
	f.cur_time = f.cur_seq = 0;
	ok = filter_cursor_read(&f, &s);
	if (ok && (f.cur_time != t || f.cur_seq != seq || !f.cur_pos))
		ok = -1;
	buf_free(&b);
	return ok;
}

int
main(void)
{
	f.digest = 0x1234;
	ok(round_trip(0, 1) == 1, "2000-01-01, seq 1");
	ok(round_trip(-211813488000000000LL, 5) == 1, "4714-11-24 BC, the first");
	ok(round_trip(9223371331200000000LL - 1, 5) == 1, "294276 AD, the last");
	ok(round_trip(INT64_MAX, 5) == 1, "infinity");
	ok(round_trip(INT64_MIN, 5) == 1, "-infinity");
	ok(round_trip(9223371331200000000LL, 5) == 0, "past the end: refused");
	ok(round_trip(0x7ffffffffffffff0LL, 5) == 0, "forged far future: refused");
	ok(round_trip(INT64_MIN + 1, 5) == 0, "forged far past: refused");
	ok(round_trip(-211813488000000001LL, 5) == 0, "before the first: refused");
	return done_testing();
}
