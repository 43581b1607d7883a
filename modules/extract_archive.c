/* extract_archive.c: the ExtractArchive action, an opentoe extension (AWSTOE
 * has no such action): its inputs (a list of entries, each a source
 * archive, a destination folder, overwrite and stripComponents, checked
 * as the schema allows), running them in order with the first failure
 * ending the step (what earlier entries extracted stays), and its result.
 * Unpacking one archive safely, and the rules that keep a hostile one
 * inside its destination, are archive_unpack.c's. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "archive_unpack.h"
#include "cleanup.h"
#include "module.h"
#include "strbuf.h"

static int xa_result(struct action_result *ret, enum action_status status, char *message, json_t *outputs)
{
        *ret = (struct action_result){
                .status = status,
                .exit_code = -1,
                .message = message,
                .outputs = outputs ? outputs : json_array(),
        };
        return ret->outputs ? 0 : -ENOMEM;
}

/* Reads one entry of the inputs into x; returns a message when it is not
 * one the schema allows. */
static char *xa_read_entry(struct xa_request *x, const json_t *in)
{
        const json_t *src = json_object_get(in, "source");
        const json_t *dst = json_object_get(in, "destination");
        const json_t *ow = json_object_get(in, "overwrite");
        const json_t *strip = json_object_get(in, "stripComponents");

        if (!json_is_object(in))
                return xasprintf("ExtractArchive entry %zu: not a map with source and destination", x->no);
        if (!json_is_string(src) || !json_is_string(dst))
                return xasprintf("ExtractArchive entry %zu: source and destination must be strings", x->no);
        if (!json_string_length(src))
                return xasprintf("ExtractArchive entry %zu: source is empty", x->no);
        x->source = json_string_value(src);
        if (!json_string_length(dst))
                return xasprintf("ExtractArchive entry %zu (%s): destination is empty", x->no, x->source);
        x->destination = json_string_value(dst);
        if (ow && !json_is_boolean(ow))
                return xasprintf("ExtractArchive entry %zu (%s): overwrite must be true or false",
                                 x->no, x->source);
        x->overwrite = ow ? json_is_true(ow) : true;
        if (strip && (!json_is_integer(strip) || json_integer_value(strip) < 0))
                return xasprintf("ExtractArchive entry %zu (%s): stripComponents must be a whole "
                                 "number, 0 or more", x->no, x->source);
        x->strip = strip ? json_integer_value(strip) : 0;
        return NULL;
}

static int extract_archive_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        const struct archive_api *api = NULL;
        json_t *outputs, *in;
        size_t i;

        if (!json_is_array(inputs))
                return xa_result(ret, ACTION_FAILED,
                                 xstrdup("ExtractArchive: inputs must be a list of entries"), NULL);
        outputs = json_array();
        if (!outputs)
                return -ENOMEM;
        json_array_foreach(inputs, i, in) {
                struct xa_request x = { .no = i + 1 };
                char *msg;
                bool timed_out = false;

                msg = xa_read_entry(&x, in);
                if (!msg && !api) {
                        _cleanup_free_ char *why = NULL;

                        api = archive_api_get(&why);
                        if (!api)
                                msg = xasprintf("ExtractArchive: %s", why);
                }
                if (!msg)
                        archive_unpack(api, ctx, &x, &timed_out, &msg);
                if (msg) {
                        json_decref(outputs);
                        return xa_result(ret, timed_out ? ACTION_TIMED_OUT : ACTION_FAILED, msg, NULL);
                }
                if (json_array_append_new(outputs, json_object()) < 0) {
                        json_decref(outputs);
                        return -ENOMEM;
                }
        }
        return xa_result(ret, ACTION_SUCCESS, NULL, outputs);
}

const struct action_module extract_archive_module = {
        .name = "ExtractArchive",
        .spec = ACTION_SPEC(ExtractArchive),
        .run = extract_archive_run,
};
