/* cwlogs_api.c: the CloudWatch Logs calls (AWS JSON 1.1 through
 * aws/http): PutLogEvents, CreateLogStream and CreateLogGroup, reading
 * rejected events out of the answer, committing a delivered batch to the
 * cursor, and the backoff between failed tries. */
#include "cwlogs.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "awsjson.h"
#include "cleanup.h"
#include "errmsg.h"
#include "mkdirs.h"
#include "credentials.h"
#include "http.h"
#include "cwl_internal.h"
#include "strbuf.h"
#include "tunables.h"

/* ---- requests --------------------------------------------------------------------- */

static void http_notice(void *userdata, const char *msg)
{
        struct cwlogs *s = userdata;

        if (s->notice)
                cwl_say(s, "CloudWatch Logs: %s", msg);
}

static int logs_call(struct cwlogs *s, const char *op, const char *body, size_t len, int64_t deadline,
                     struct aws_http_response *resp, char **reterr_msg)
{
        char target[64];

        snprintf(target, sizeof target, "Logs_20140328.%s", op);
        const struct aws_json_service svc = {
                .http = s->http,
                .service = "logs",
                .endpoint = s->endpoint,
                .region = s->region,
                .creds = s->creds,
                .notice = http_notice,
                .userdata = s,
        };
        return aws_json_request(&svc, target, body, len, 0, deadline, resp, reterr_msg);
}

static bool code_is(const struct aws_http_response *r, const char *code)
{
        return r->error_code && !strcmp(r->error_code, code);
}

/* Create{LogStream,LogGroup}: 0 when it exists now. */
static int create_one(struct cwlogs *s, const char *op, bool with_stream, int64_t deadline, bool *ret_no_group)
{
        struct strbuf b = STRBUF_INIT;
        struct aws_http_response resp;
        char *err = NULL;

        sb_puts(&b, "{\"logGroupName\":");
        cwl_json_str(&b, s->group, strlen(s->group));
        if (with_stream) {
                sb_puts(&b, ",\"logStreamName\":");
                cwl_json_str(&b, s->stream, strlen(s->stream));
        }
        sb_putc(&b, '}');
        int r = logs_call(s, op, b.s, b.len, deadline, &resp, &err);
        sb_free(&b);
        if (r < 0) {
                cwl_set_error(s, r, "CloudWatch Logs %s: %s", op, err ? err : strerror(-r));
                free(err);
                return r;
        }
        if (ret_no_group)
                *ret_no_group = code_is(&resp, "ResourceNotFoundException");
        if (resp.status / 100 == 2 || code_is(&resp, "ResourceAlreadyExistsException")) {
                if (resp.status / 100 == 2)
                        cwl_say(s, "CloudWatch Logs: %s %s%s%s: created", op, s->group, with_stream ? " " : "",
                            with_stream ? s->stream : "");
                aws_http_response_done(&resp);
                return 0;
        }
        r = aws_http_status_error(&resp, &err);
        if (!(ret_no_group && *ret_no_group))
                cwl_set_error(s, r, "CloudWatch Logs %s: %s", op, err ? err : strerror(-r));
        free(err);
        aws_http_response_done(&resp);
        return r;
}

/* The group or the stream is missing: create the stream, and the group
 * first when the stream cannot be created without it. */
static int create_target(struct cwlogs *s, int64_t deadline)
{
        bool no_group = false;
        int r = create_one(s, "CreateLogStream", true, deadline, &no_group);

        if (r == 0 || !no_group)
                return r;
        r = create_one(s, "CreateLogGroup", false, deadline, NULL);
        if (r < 0)
                return r;
        return create_one(s, "CreateLogStream", true, deadline, NULL);
}

/* The events of the batch that the service refused (rejectedLogEventsInfo). */
static uint64_t count_rejected(struct cwlogs *s, const struct aws_http_response *resp)
{
        json_t *j = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
        json_t *info = json_object_get(j, "rejectedLogEventsInfo");
        uint64_t n = s->n_ev, old = 0, new_from = n;

        if (json_is_object(info)) {
                json_t *v;
                if ((v = json_object_get(info, "tooOldLogEventEndIndex")) && json_is_integer(v) &&
                    json_integer_value(v) > 0)
                        old = (uint64_t)json_integer_value(v);
                if ((v = json_object_get(info, "expiredLogEventEndIndex")) && json_is_integer(v) &&
                    json_integer_value(v) > 0 && (uint64_t)json_integer_value(v) > old)
                        old = (uint64_t)json_integer_value(v);
                if ((v = json_object_get(info, "tooNewLogEventStartIndex")) && json_is_integer(v) &&
                    json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) < new_from)
                        new_from = (uint64_t)json_integer_value(v);
        }
        json_decref(j);
        if (old > n)
                old = n;
        if (new_from < old)
                new_from = old;
        uint64_t rej = old + (n - new_from);
        if (rej)
                cwl_set_error(s, -EBADMSG, "CloudWatch Logs PutLogEvents: the service rejected %" PRIu64 " of %" PRIu64
                          " events (%" PRIu64 " too old or expired, %" PRIu64 " too new)", rej, n, old,
                          n - new_from);
        return rej;
}

/* The batch is done with: delivered (minus what was rejected). */
static int batch_commit(struct cwlogs *s, uint64_t rejected)
{
        uint64_t n = s->n_ev, delivered = n - rejected;

        s->cur = s->batch_end;
        s->inflight = (struct seg_pos){ 0, 0 };
        s->counts.delivered += delivered;
        s->counts.rejected += rejected;
        s->counts.resent += s->batch_resent;
        s->counts.resumed += s->batch_resumed;
        s->counts.clamped += s->batch_clamped;
        s->counts.requests++;
        s->total_delivered += delivered;
        s->total_requests++;
        s->total_resent += s->batch_resent;
        s->pending_events = s->pending_events > n ? s->pending_events - n : 0;
        uint64_t bytes = s->text.len + CWLOGS_EVENT_OVERHEAD * n;
        s->pending_bytes = s->pending_bytes > bytes ? s->pending_bytes - bytes : 0;
        s->backoff = 0;
        s->next_try = 0;
        int r = cwl_cursor_write(s);
        cwl_spool_prune(s, false);
        return r;
}

void cwl_backoff_start(struct cwlogs *s)
{
        unsigned v = 0;

        s->counts.failures++;
        s->backoff = s->backoff ? s->backoff * 2 : s->backoff_base;
        if (s->backoff > s->backoff_cap)
                s->backoff = s->backoff_cap;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
                v = (unsigned)rand();
        long d = s->backoff / 2 + (long)(v % (unsigned long)(s->backoff / 2 + 1));
        s->next_try = aws_now_ms() + d;
        cwl_say(s, "CloudWatch Logs: undelivered events stay in the spool; next try in %.1f s",
            (double)d / 1000.0);
}

/* Sends the built batch.  0: done with (delivered, or refused for good
 * and counted); -errno: not delivered, try again after a backoff. */
int cwl_batch_send(struct cwlogs *s, int64_t deadline)
{
        int r;

        if (s->batch_end.seg == s->wseg && s->batch_end.off > s->wsynced) {
                r = cwl_spool_sync(s);
                if (r < 0)
                        return cwl_set_error(s, r, "cannot sync the CloudWatch Logs spool %s: %s", s->dir,
                                         strerror(-r));
        }
        if (!cwl_pos_eq(s->inflight, s->batch_end)) {
                s->inflight = s->batch_end;
                r = cwl_cursor_write(s);
                if (r < 0)
                        return r;
        }
        for (int tries = 0;; tries++) {
                struct aws_http_response resp;
                char *err = NULL;

                r = logs_call(s, "PutLogEvents", s->body.s, s->body.len, deadline, &resp, &err);
                if (r < 0) {
                        /* A request that timed out or broke may have been processed. */
                        if ((r == -ETIMEDOUT || r == -EIO) && cwl_pos_lt(s->resend_end, s->batch_end))
                                s->resend_end = s->batch_end;
                        cwl_set_error(s, r, "CloudWatch Logs PutLogEvents: %s", err ? err : strerror(-r));
                        free(err);
                        return r;
                }
                if (resp.status / 100 == 2) {
                        uint64_t rej = count_rejected(s, &resp);
                        aws_http_response_done(&resp);
                        return batch_commit(s, rej);
                }
                if (code_is(&resp, "ResourceNotFoundException") && tries == 0) {
                        aws_http_response_done(&resp);
                        r = create_target(s, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = aws_http_status_error(&resp, &err);
                bool bad_batch = code_is(&resp, "InvalidParameterException") ||
                                 code_is(&resp, "SerializationException") || resp.status == 413;
                bool already = code_is(&resp, "DataAlreadyAcceptedException");
                cwl_set_error(s, r, "CloudWatch Logs PutLogEvents: %s%s", err ? err : strerror(-r),
                          bad_batch ? "; the batch is dropped" : "");
                free(err);
                aws_http_response_done(&resp);
                if (bad_batch || already)
                        return batch_commit(s, already ? 0 : s->n_ev);
                return r;
        }
}

