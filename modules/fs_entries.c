/* fs_entries.c: the file-system actions' entry driver (fs_entries.h). */
#include "fs_entries.h"

#include <errno.h>
#include <stdlib.h>

#include "strbuf.h"

/* The fs_job stop question, answered by the runner. */
static int entry_stop(struct fs_job *j)
{
        switch (action_stop_reason(fs_entry_ctx(j))) {
        case ACTION_CANCEL_DEADLINE:
                j->timed_out = true;
                return fs_fail(j, -ETIME, "the step timed out before the entry was done");
        case ACTION_CANCEL_INTERRUPT:
                return fs_fail(j, -EINTR, "the run was interrupted before the entry was done");
        default:
                return 0;
        }
}

const struct action_ctx *fs_entry_ctx(const struct fs_job *j)
{
        return j->userdata;
}

const char *fs_entry_str(const json_t *entry, const char *name)
{
        const char *s = json_string_value(json_object_get(entry, name));

        return s ? s : "";
}

int fs_entry_flag(struct fs_job *j, const json_t *entry, const char *name, bool dflt, bool *ret)
{
        if (action_input_bool(entry, name, dflt, ret) < 0)
                return fs_fail(j, -EINVAL, "%s must be true or false", name);
        return 0;
}

int fs_run_entries(const struct action_ctx *ctx, const json_t *inputs, const char *key, fs_entry_fn fn,
                   struct action_result *ret)
{
        json_t *outputs = json_array();
        const json_t *entry;
        size_t i;

        *ret = (struct action_result){ .status = ACTION_SUCCESS, .exit_code = -1 };
        if (!json_is_array(inputs)) {
                ret->status = ACTION_FAILED;
                ret->message = xstrdup("inputs must be a list of entries");
                ret->outputs = outputs;
                return 0;
        }
        json_array_foreach(inputs, i, entry) {
                struct fs_job j = { .stop = entry_stop, .userdata = ctx };
                json_t *out;
                int r;

                if (!json_is_object(entry)) {
                        ret->status = ACTION_FAILED;
                        ret->message = xasprintf("entry %zu: is not a map of inputs", i + 1);
                        break;
                }
                out = json_object();
                r = fn(&j, entry, out);
                if (r < 0) {
                        const char *what = fs_entry_str(entry, key);
                        const char *why = j.err ? j.err : "failed";

                        ret->status = j.timed_out ? ACTION_TIMED_OUT : ACTION_FAILED;
                        ret->message = *what ? xasprintf("entry %zu (%s): %s", i + 1, what, why)
                                             : xasprintf("entry %zu: %s", i + 1, why);
                        free(j.err);
                        json_decref(out);
                        break;
                }
                free(j.err);
                json_array_append_new(outputs, out);
        }
        ret->outputs = outputs;
        return 0;
}
