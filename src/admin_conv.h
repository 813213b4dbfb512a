/*
 * admin_conv.h: the pure conversions taskgate-admin applies to uniqc
 * store values before they go to PostgreSQL: UTF-8 checks, Python
 * isoformat times to UTC, JSON checked (PostgreSQL's grammar) with
 * Python's NaN/Infinity tokens turned into null, COPY text escaping.
 * No third-party header; unit-tested in t/unit-conv.c.
 */
#ifndef ADMIN_CONV_H
#define ADMIN_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

struct buf;

/* 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates) without NUL. */
int	conv_utf8_ok(const char *s, size_t n) WUR;

/*
 * Parses a Python isoformat time (date, date+time, 'T' or ' ', optional
 * fraction, naive = UTC, Z, +HH[:MM[:SS[.f]]] offsets) and writes the UTC
 * instant as "YYYY-MM-DD HH:MM:SS.ffffff+00" into out (at least
 * CONV_TIMELEN bytes).  Returns 1, or 0 when it is no time.
 */
#define CONV_TIMELEN	64
int	conv_time(const char *s, size_t n, char *out, int64_t *us) WUR;

/*
 * Checks s[0..n) as one JSON value and appends it to out with every
 * NaN, Infinity and -Infinity outside strings written as null; the
 * rest is copied byte for byte (key order, number text, spaces).
 * jsonb: also refuses \u0000 (PostgreSQL's jsonb cannot hold it).
 * Returns the number of tokens replaced (>= 0), or -1 with a reason in
 * *why (static text) and *pos the byte offset.  *isnull is set when the
 * value is the literal null (after replacement).
 */
int	conv_json(const char *s, size_t n, int jsonb, struct buf *out,
	    int *isnull, const char **why, size_t *pos) WUR;

/* Appends s[0..n) escaped for COPY's text format. */
void	conv_copy_text(struct buf *, const char *s, size_t n);

#endif
