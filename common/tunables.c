/* tunables.c: the monotonic clock and environment settings. */
#include "tunables.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

int64_t monotonic_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long env_long(const char *name, long def, long min, long max)
{
        const char *s = getenv(name);
        char *end;
        long v;

        if (!s || !*s)
                return def;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return def;
        return v;
}
