/* cleanup.h: scope-bound ownership.  `_cleanup_(f)` runs f(&var) when the
 * variable leaves scope; destructors accept NULL.  TAKE_PTR hands a pointer
 * on and leaves NULL behind, so exactly one owner ever frees it;
 * `fd = safe_close(fd)` does the same for a descriptor. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Closes fd when it is open (>= 0) and returns -1, the value a closed
 * descriptor is kept as. */
static inline int safe_close(int fd)
{
        if (fd >= 0)
                close(fd);
        return -1;
}

static inline void closep(int *fd)
{
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* DEFINE_CLEANUP_FUNC(struct foo, foo_free) defines foo_freep(). */
#define DEFINE_CLEANUP_FUNC(type, func)               \
        static inline void func##p(type **p)          \
        {                                             \
                if (*p)                               \
                        func(*p);                     \
        }

#define TAKE_PTR(p)                              \
        __extension__({                          \
                __typeof__(p) _taken_ = (p);     \
                (p) = NULL;                      \
                _taken_;                         \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* free_many(a, b, c) frees each pointer it is given, NULL ones included as
 * free() takes them: a destructor names the fields it owns in one call.
 * It costs a few instructions a pointer more than the calls written out
 * (the values go through the array), so a destructor run once per item
 * of a large document, such as ref_free(), keeps the calls. */
static inline void free_each(void *const *ptrs, size_t n)
{
        /* Unrolled where n is a constant, which halves that cost. */
#pragma GCC unroll 16
        for (size_t i = 0; i < n; i++)
                free(ptrs[i]);
}
#define free_many(...) free_each((void *const[]){ __VA_ARGS__ }, ELEMENTSOF(((void *const[]){ __VA_ARGS__ })))
