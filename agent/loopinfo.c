/* loopinfo.c: the iterations of a loop as written in a report (see
 * loopinfo.h); nothing here trusts the record it reads. */
#include "loopinfo.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "strbuf.h"

static bool for_bounds(const json_t *loop, json_int_t *start, json_int_t *end, json_int_t *by)
{
        const json_t *f = json_object_get(loop, "for");
        if (!json_is_integer(json_object_get(f, "start")) || !json_is_integer(json_object_get(f, "end")) ||
            !json_is_integer(json_object_get(f, "updateBy")))
                return false;
        *start = json_integer_value(json_object_get(f, "start"));
        *end = json_integer_value(json_object_get(f, "end"));
        *by = json_integer_value(json_object_get(f, "updateBy"));
        return *by != 0;
}

/* The n-th field of a delimited list (n < 0: count them). */
static long split_field(const char *list, const char *delim, long n, char **ret)
{
        size_t dl = strlen(delim);
        long k = 0;
        for (const char *p = list;; k++) {
                const char *q = dl ? strstr(p, delim) : NULL;
                size_t len = q ? (size_t)(q - p) : strlen(p);
                if (k == n) {
                        *ret = xstrndup(p, len);
                        return k;
                }
                if (!q)
                        return k + 1;
                p = q + dl;
        }
}

long loop_count(const json_t *loop)
{
        json_int_t s, e, by;
        if (for_bounds(loop, &s, &e, &by)) {
                if ((by > 0 && s > e) || (by < 0 && s < e))
                        return 0;
                /* In unsigned arithmetic: the span may exceed int64. */
                uint64_t span = by > 0 ? (uint64_t)e - (uint64_t)s : (uint64_t)s - (uint64_t)e;
                uint64_t step = by > 0 ? (uint64_t)by : (uint64_t)0 - (uint64_t)by;
                uint64_t n = span / step + 1;
                return n > LONG_MAX ? LONG_MAX : (long)n;
        }
        const json_t *fe = json_object_get(loop, "forEach");
        if (json_is_array(fe))
                return (long)json_array_size(fe);
        const char *list = json_string_value(json_object_get(fe, "list"));
        const char *delim = json_string_value(json_object_get(fe, "delimiter"));
        if (!list || !delim)
                return 0;
        return split_field(list, delim, -1, NULL);
}

char *loop_value(const json_t *loop, long i)
{
        json_int_t s, e, by;
        if (i < 0 || i >= loop_count(loop))
                return NULL;
        if (for_bounds(loop, &s, &e, &by))
                return xasprintf("%lld", (long long)((uint64_t)s + (uint64_t)by * (uint64_t)i));
        const json_t *fe = json_object_get(loop, "forEach");
        if (json_is_array(fe)) {
                const json_t *v = json_array_get(fe, (size_t)i);
                if (json_is_string(v))
                        return xstrdup(json_string_value(v));
                char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                return t ? t : xstrdup("?");
        }
        char *v = NULL;
        split_field(json_string_value(json_object_get(fe, "list")), json_string_value(json_object_get(fe, "delimiter")),
                    i, &v);
        return v;
}
