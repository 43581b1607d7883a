/* action_helpers.c: small helpers any action module may use: a formatted
 * line to the console through the runner's sink, reading an entry's
 * string and boolean inputs, and asking the runner whether to stop and
 * how long is left (action_stop_reason, action_time_left_ms). */
#include <errno.h>
#include <stdarg.h>
#include <strings.h>

#include "module.h"
#include "strbuf.h"

void action_notice(const struct action_ctx *ctx, int stream, const char *fmt, ...)
{
        struct strbuf b = STRBUF_INIT;
        va_list ap;

        if (!ctx->on_line)
                return;
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        ctx->on_line(ctx->userdata, stream, sb_str(&b), b.len);
        sb_free(&b);
}

int action_input_string(const json_t *entry, const char *key, const char **ret)
{
        const json_t *v = json_object_get(entry, key);

        if (!v || json_is_null(v)) {
                *ret = "";
                return 0;
        }
        if (!json_is_string(v))
                return -EINVAL;
        *ret = json_string_value(v);
        return 0;
}

int action_input_bool(const json_t *entry, const char *key, bool def, bool *ret)
{
        const json_t *v = json_object_get(entry, key);

        if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
                *ret = def;
                return 0;
        }
        if (json_is_boolean(v)) {
                *ret = json_is_true(v);
                return 0;
        }
        if (json_is_string(v) && !strcasecmp(json_string_value(v), "true")) {
                *ret = true;
                return 0;
        }
        if (json_is_string(v) && !strcasecmp(json_string_value(v), "false")) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

int action_stop_reason(const struct action_ctx *ctx)
{
        return ctx->stop_reason ? ctx->stop_reason(ctx->userdata) : -1;
}

int64_t action_time_left_ms(const struct action_ctx *ctx)
{
        return ctx->time_left_ms ? ctx->time_left_ms(ctx->userdata) : -1;
}
