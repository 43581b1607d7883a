/* loopfor.h: the arithmetic of `for` loops, in one place so that the
 * checker, the .otc verifier and the VM agree on how many iterations a
 * loop has and what its values are, right up to the int64 limits.
 *
 * A loop `for start..end by by` runs the values start, start + by, ...
 * that do not pass end: span / |by| + 1 iterations, where span = |end -
 * start| can be as large as 2^64 - 1, so neither the span nor the count
 * fits an int64 (the count need not fit a uint64 either: 2^64 for
 * INT64_MIN..INT64_MAX by 1).  The functions below count the last index
 * instead, span / |by|, which always fits. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The most iterations a loop may have, for the checker and the verifier. */
#define LOOP_MAX_ITERATIONS 1000000u

/* The index of the last iteration (iterations less one), or false for a
 * loop that does not end: by is 0, or it points away from end. */
static inline bool loop_for_last(int64_t start, int64_t end, int64_t by, uint64_t *ret_last)
{
        if (by == 0 || (start < end && by < 0) || (start > end && by > 0))
                return false;
        uint64_t span = start <= end ? (uint64_t)end - (uint64_t)start : (uint64_t)start - (uint64_t)end;
        uint64_t step = by > 0 ? (uint64_t)by : 0 - (uint64_t)by;
        *ret_last = span / step;
        return true;
}

/* The value of iteration `pos` (at most the last index), start + pos * by,
 * exactly: it lies between start and end, so it fits even where pos * by
 * alone does not (3 * 2^62 from INT64_MIN).  Computed modulo 2^64 in
 * unsigned arithmetic, where nothing overflows. */
static inline int64_t loop_for_value(int64_t start, int64_t by, uint64_t pos)
{
        uint64_t step = by > 0 ? (uint64_t)by : 0 - (uint64_t)by;
        uint64_t d = pos * step;
        uint64_t u = by > 0 ? (uint64_t)start + d : (uint64_t)start - d;
        return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(UINT64_MAX - u) - 1;
}

/* Iterations of a loop whose last index is `last`, in decimal (2^64 does
 * not fit a uint64): buf needs 21 bytes. */
static inline const char *loop_for_count_text(uint64_t last, char buf[static 21])
{
        /* Digits from the right, adding one as we go. */
        char *p = buf + 20;
        *p = '\0';
        unsigned carry = 1;
        do {
                unsigned dgt = (unsigned)(last % 10) + carry;
                carry = dgt / 10;
                *--p = (char)('0' + dgt % 10);
                last /= 10;
        } while (last || carry);
        return p;
}
