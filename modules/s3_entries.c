/* s3_entries.c: the entry loop of the S3 actions (s3_entries.h), a
 * start/cancel job on the runner's loop: every entry checked before any
 * runs, one client per step, the deadline and the retry notices, the
 * entries in order (each the module's S3 jobs on the loop), cancelling
 * the one in flight, the outputs and the message. */
#include "s3_entries.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "awstime.h"
#include "cleanup.h"
#include "errmsg.h"
#include "sdevent_dl.h"
#include "strbuf.h"

struct action_job {
        const struct s3_entries *ops;
        const struct action_ctx *ctx;
        action_done_fn done;
        void *done_userdata;
        struct s3_entry *entries;
        size_t n, i;                    /* the entries, and the one in flight */
        struct s3_entry_run run;
        bool in_flight;
        struct s3 *client;
        json_t *outputs;
        enum action_status status;
        char *msg;                      /* the step's failure */
        int cancelled;                  /* enum action_cancel_reason, or -1 */
        sd_event_source *kick;          /* defer: goes on with the entries */
};

static void retry_notice(void *userdata, const char *msg)
{
        const struct action_job *j = userdata;
        const struct s3_entry *e = &j->entries[j->i];

        action_notice(j->ctx, STREAM_STDERR, "%s entry %zu (%s): %s", j->ops->action, e->no, e->source, msg);
}

static void entry_done(struct s3_entry *e)
{
        s3_uri_done(&e->uri);
        free(e->owner);
}

static int entry_parse(const struct s3_entries *ops, const json_t *o, size_t i, struct s3_entry *e,
                       char **reterr_msg)
{
        _cleanup_free_ char *err = NULL;
        const char *act = ops->action;
        const char *flag = ops->download ? "overwrite" : "recurse";
        int r;

        *e = (struct s3_entry){ .no = i + 1, .source = "" };
        if (!json_is_object(o))
                return errmsg_set(reterr_msg, -EINVAL, "%s entry %zu: not a map with source and destination", act,
                                  e->no);
        if (action_input_string(o, "source", &e->source) < 0 || action_input_string(o, "destination", &e->dest) < 0)
                return errmsg_set(reterr_msg, -EINVAL, "%s entry %zu: source and destination must be strings", act,
                                  e->no);
        if (!*e->source)
                return errmsg_set(reterr_msg, -EINVAL, "%s entry %zu: source is empty", act, e->no);
        r = ops->download ? action_input_bool(o, flag, true, &e->overwrite)
                          : action_input_bool(o, flag, false, &e->recurse);
        if (r < 0)
                return errmsg_set(reterr_msg, -EINVAL, "%s entry %zu (%s): %s must be true or false", act, e->no,
                                  e->source, flag);
        if (!*e->dest)
                return errmsg_set(reterr_msg, -EINVAL, "%s entry %zu (%s): destination is empty", act, e->no,
                                  e->source);
        if (s3_owner_from_entry(o, &e->owner, &err) < 0)
                return errmsg_set(reterr_msg, -EINVAL, "%s entry %zu (%s): expectedBucketOwner: %s", act, e->no,
                                  e->source, err);
        free(err);
        err = NULL;
        if (s3_uri_parse(ops->download ? e->source : e->dest, ops->download, &e->uri, &err) < 0)
                return errmsg_set(reterr_msg, -EINVAL, "%s entry %zu (%s): %s%s", act, e->no, e->source,
                                  ops->download ? "" : "destination: ", err);
        return ops->check ? ops->check(e, reterr_msg) : 0;
}

static void kick(struct action_job *j)
{
        (void)sdev->source_set_enabled(j->kick, SD_EVENT_ONESHOT);
}

const char *s3_entry_why(const struct s3_entry_run *run, int r, const char *err)
{
        const struct action_job *j = run->owner;

        if (r != -ECANCELED)
                return err ? err : strerror(-r);
        return j->cancelled == ACTION_CANCEL_INTERRUPT ? "the run was interrupted" : "the step's deadline passed";
}

void s3_entry_end(struct s3_entry_run *run, int r, char *msg)
{
        struct action_job *j = run->owner;

        run->job = NULL;
        if (r >= 0) {
                free(msg);
                json_array_append_new(j->outputs, json_object());
                j->i++;
        } else {
                bool timed_out = r == -ETIMEDOUT || (r == -ECANCELED && j->cancelled == ACTION_CANCEL_DEADLINE);

                j->status = timed_out ? ACTION_TIMED_OUT : ACTION_FAILED;
                free(j->msg);
                j->msg = msg ? msg : xstrdup(strerror(-r));
        }
        if (j->ops->clear)
                j->ops->clear(run);
        run->state = NULL;
        j->in_flight = false;
        kick(j);
}

static void job_free(struct action_job *j)
{
        j->kick = sdev->source_disable_unref(j->kick);
        for (size_t i = 0; i < j->n; i++)
                entry_done(&j->entries[i]);
        free(j->entries);
        s3_free(j->client);
        json_decref(j->outputs);
        free(j->msg);
        free(j);
}

static void job_end(struct action_job *j)
{
        struct action_result res = {
                .status = j->status,
                .exit_code = -1,
                .message = j->status == ACTION_SUCCESS ? NULL : TAKE_PTR(j->msg),
                .outputs = TAKE_PTR(j->outputs),
        };
        action_done_fn done = j->done;
        void *ud = j->done_userdata;

        job_free(j);
        done(ud, &res);
}

/* Whether the runner stopped the step before entry e began: the step's
 * failure then. */
static bool stopped_before(struct action_job *j, const struct s3_entry *e)
{
        const char *act = j->ops->action;

        if (j->cancelled == ACTION_CANCEL_DEADLINE || action_stop_reason(j->ctx) == ACTION_CANCEL_DEADLINE) {
                j->msg = xasprintf("%s entry %zu (%s): the step timed out before it started", act, e->no, e->source);
                j->status = ACTION_TIMED_OUT;
                return true;
        }
        if (j->cancelled == ACTION_CANCEL_INTERRUPT) {
                j->msg = xasprintf("%s entry %zu (%s): the run was interrupted before it started", act, e->no,
                                   e->source);
                j->status = ACTION_FAILED;
                return true;
        }
        return false;
}

/* The client of the step, made for its first entry. */
static int client_make(struct action_job *j, const struct s3_entry *e)
{
        char *err = NULL;

        j->client = s3_new(&err);
        if (!j->client) {
                j->msg = xasprintf("%s entry %zu (%s): %s", j->ops->action, e->no, e->source,
                                   err ? err : "cannot start the S3 client");
                free(err);
                j->status = ACTION_FAILED;
                return -ENOSYS;
        }
        /* The one place an S3 step's deadline reaches the transport, which
         * bounds its attempts and pauses by it. */
        int64_t left = action_time_left_ms(j->ctx);
        s3_set_deadline(j->client, left < 0 ? -1 : aws_now_ms() + left);
        s3_set_notice(j->client, retry_notice, j);
        return 0;
}

/* The entries in order, until one is in flight or the step is over. */
static int on_kick(sd_event_source *s, void *userdata)
{
        struct action_job *j = userdata;

        (void)s;
        if (j->in_flight)
                return 0;
        if (j->i < j->n && j->status == ACTION_SUCCESS) {
                const struct s3_entry *e = &j->entries[j->i];

                if (stopped_before(j, e) || (!j->client && client_make(j, e) < 0)) {
                        job_end(j);
                        return 0;
                }
                j->run = (struct s3_entry_run){
                        .ctx = j->ctx, .client = j->client, .ev = j->ctx->event, .e = e, .owner = j,
                };
                j->in_flight = true;
                char *err = NULL;
                int r = j->ops->start(&j->run, &err); /* kicks again when the entry has ended */
                if (r < 0)
                        s3_entry_end(&j->run, r, err);
                return 0;
        }
        job_end(j);
        return 0;
}

int s3_entries_start(const struct s3_entries *ops, const struct action_ctx *ctx, const json_t *inputs,
                     action_done_fn done, void *done_userdata, struct action_job **ret_job)
{
        struct action_job *j = xcalloc(1, sizeof *j);
        const json_t *o;
        size_t i;
        int r;

        *j = (struct action_job){
                .ops = ops, .ctx = ctx, .done = done, .done_userdata = done_userdata, .outputs = json_array(),
                .status = ACTION_SUCCESS, .cancelled = -1,
        };
        r = sdev->add_defer(ctx->event, &j->kick, on_kick, j);
        if (r < 0) {
                json_decref(j->outputs);
                free(j);
                return r;
        }
        if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
                j->msg = xasprintf("%s: inputs must be a list of entries with source and destination", ops->action);
                j->status = ACTION_FAILED;
                *ret_job = j;
                return 0;
        }
        /* Every entry is checked before anything is transferred. */
        j->n = json_array_size(inputs);
        j->entries = xcalloc(j->n, sizeof *j->entries);
        json_array_foreach(inputs, i, o)
                if (entry_parse(ops, o, i, &j->entries[i], &j->msg) < 0) {
                        j->status = ACTION_FAILED;
                        break;
                }
        *ret_job = j;
        return 0;
}

/* The runner stops the step: the entry's S3 job is cancelled (its done
 * follows), or the next kick sees it. */
void s3_entries_cancel(struct action_job *j, enum action_cancel_reason why)
{
        if (j->cancelled >= 0)
                return;
        j->cancelled = (int)why;
        if (j->in_flight && j->run.job)
                s3_job_cancel(j->run.job);
}
