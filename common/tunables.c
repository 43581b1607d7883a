/* tunables.c: the monotonic clock and environment settings. */
#include "tunables.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

int env_u64(const char *name, uint64_t def, uint64_t max, uint64_t *ret)
{
        const char *s = getenv(name);
        unsigned long long v;
        char *end;

        *ret = def;
        if (!s || !*s)
                return 0;
        /* strtoull would take a sign or leading blanks, and wrap "-1". */
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = (uint64_t)v;
        return 1;
}

uint64_t env_u64_in(const char *name, uint64_t def, uint64_t min, uint64_t max)
{
        uint64_t v;

        if (env_u64(name, def, max, &v) <= 0 || v < min)
                return def;
        return v;
}

bool env_true(const char *name)
{
        const char *v = getenv(name);

        return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}
