/* http_async.h: plain transfers (their rules are in http.h) driven by an
 * sd-event loop instead of blocking: libcurl's multi interface, with its
 * sockets and its timer bridged to sd_event_add_io() and
 * sd_event_add_time() (libsystemd reached through common/sdevent_dl.h).
 * A transfer is prepared and finished by http_transport.c (the options
 * every transfer gets, the stream callbacks, the result).
 *
 * WebDownload's transfers run here (modules/web_download.c). */
#pragma once

#include <systemd/sd-event.h>

#include "http.h"

struct aws_http_job;

/* The end of a job: called exactly once, on the loop, never from within
 * aws_http_transfer_start().  *res is the transfer's result (free
 * with aws_http_transfer_result_done()); a cancelled job ends failed,
 * with `cancelled` set.  The job is freed after it returns. */
typedef void (*aws_http_job_done_fn)(void *userdata, struct aws_http_transfer_result *res, bool cancelled);

/* Starts one attempt of t on ev, on h's handle (h runs one job at a time
 * and must outlive it; t and its stream's userdata until done).  0 with
 * *ret_job, or -errno with a message and nothing started (done is never
 * called): -EBUSY (h runs a job), -EPROTONOSUPPORT (libcurl cannot be limited to
 * http and https), -EINVAL (libcurl refuses the URL), -ENOSYS (libsystemd
 * missing), -ENOMEM. */
int aws_http_transfer_start(struct aws_http *h, sd_event *ev, const struct aws_http_transfer *t,
                            aws_http_job_done_fn done, void *userdata, struct aws_http_job **ret_job,
                            char **reterr_msg);

/* Stops a started job as soon as it can; done follows, on the loop. */
void aws_http_job_cancel(struct aws_http_job *job);
