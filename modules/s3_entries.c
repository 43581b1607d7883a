/* s3_entries.c: the entry loop of the S3 actions (s3_entries.h): every
 * entry checked before any runs, one client per step, the deadline and
 * the retry notices, the outputs and the message. */
#include "s3_entries.h"

#include <errno.h>
#include <stdlib.h>

#include "awstime.h"
#include "cleanup.h"

/* What the client's retry notices need: the entry running. */
struct s3_notice {
        const struct action_ctx *ctx;
        const char *action;
        const struct s3_entry *entry;
};

static void retry_notice(void *userdata, const char *msg)
{
        const struct s3_notice *n = userdata;

        action_notice(n->ctx, STREAM_STDERR, "%s entry %zu (%s): %s", n->action, n->entry->no, n->entry->source, msg);
}

static void entry_done(struct s3_entry *e)
{
        s3_uri_done(&e->uri);
        free(e->owner);
}

static int entry_parse(const struct s3_entries *ops, const json_t *o, size_t i, struct s3_entry *e, struct strbuf *why)
{
        _cleanup_free_ char *err = NULL;
        const char *act = ops->action;
        const char *flag = ops->download ? "overwrite" : "recurse";
        int r;

        *e = (struct s3_entry){ .no = i + 1, .source = "" };
        if (!json_is_object(o)) {
                sb_printf(why, "%s entry %zu: not a map with source and destination", act, e->no);
                return -EINVAL;
        }
        if (action_input_string(o, "source", &e->source) < 0 || action_input_string(o, "destination", &e->dest) < 0) {
                sb_printf(why, "%s entry %zu: source and destination must be strings", act, e->no);
                return -EINVAL;
        }
        if (!*e->source) {
                sb_printf(why, "%s entry %zu: source is empty", act, e->no);
                return -EINVAL;
        }
        r = ops->download ? action_input_bool(o, flag, true, &e->overwrite)
                          : action_input_bool(o, flag, false, &e->recurse);
        if (r < 0) {
                sb_printf(why, "%s entry %zu (%s): %s must be true or false", act, e->no, e->source, flag);
                return -EINVAL;
        }
        if (!*e->dest) {
                sb_printf(why, "%s entry %zu (%s): destination is empty", act, e->no, e->source);
                return -EINVAL;
        }
        if (s3_owner_from_entry(o, &e->owner, &err) < 0) {
                sb_printf(why, "%s entry %zu (%s): expectedBucketOwner: %s", act, e->no, e->source, err);
                return -EINVAL;
        }
        if (s3_uri_parse(ops->download ? e->source : e->dest, ops->download, &e->uri, &err) < 0) {
                sb_printf(why, "%s entry %zu (%s): %s%s", act, e->no, e->source, ops->download ? "" : "destination: ",
                          err);
                return -EINVAL;
        }
        return ops->check ? ops->check(e, why) : 0;
}

int s3_entries_run(const struct action_ctx *ctx, const json_t *inputs, const struct s3_entries *ops, void *userdata,
                   struct action_result *ret)
{
        struct strbuf msg = STRBUF_INIT;
        struct s3_notice notice = { .ctx = ctx, .action = ops->action };
        struct s3 *client = NULL;
        enum action_status status = ACTION_SUCCESS;
        json_t *outputs = json_array(), *o;
        struct s3_entry *entries;
        size_t n, i;

        *ret = (struct action_result){ .status = ACTION_FAILED, .exit_code = -1, .outputs = outputs };
        if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
                ret->message = xasprintf("%s: inputs must be a list of entries with source and destination",
                                         ops->action);
                return 0;
        }
        n = json_array_size(inputs);
        entries = xcalloc(n, sizeof *entries);
        json_array_foreach(inputs, i, o)
                if (entry_parse(ops, o, i, &entries[i], &msg) < 0) {
                        status = ACTION_FAILED;
                        break;
                }

        for (i = 0; i < n && status == ACTION_SUCCESS; i++) {
                const struct s3_entry *e = &entries[i];

                if (action_stop_reason(ctx) == ACTION_CANCEL_DEADLINE) {
                        sb_printf(&msg, "%s entry %zu (%s): the step timed out before it started", ops->action,
                                  e->no, e->source);
                        status = ACTION_TIMED_OUT;
                        break;
                }
                if (!client) {
                        char *err = NULL;

                        client = s3_new(&err);
                        if (!client) {
                                sb_printf(&msg, "%s entry %zu (%s): %s", ops->action, e->no, e->source,
                                          err ? err : "cannot start the S3 client");
                                free(err);
                                status = ACTION_FAILED;
                                break;
                        }
                        /* The one place an S3 step's deadline reaches the
                         * transport, which bounds its attempts and pauses
                         * by it. */
                        int64_t left = action_time_left_ms(ctx);
                        s3_set_deadline(client, left < 0 ? -1 : aws_now_ms() + left);
                        s3_set_notice(client, retry_notice, &notice);
                }
                notice.entry = e;
                status = ops->run(userdata, client, e, &msg);
                if (status == ACTION_SUCCESS)
                        json_array_append_new(outputs, json_object());
        }

        for (i = 0; i < n; i++)
                entry_done(&entries[i]);
        free(entries);
        s3_free(client);
        ret->status = status;
        if (status == ACTION_SUCCESS)
                sb_free(&msg);
        else
                ret->message = sb_take(&msg);
        return 0;
}
