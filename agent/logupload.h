/* logupload.h: the log folder uploaded to S3 at the end of a run
 * (--log-s3-bucket-name), and the summary's logUrl. */
#pragma once

#include "logdir.h"
#include "runner.h"

/* Uploads the log folder (`log_abs`, the folder opentoe checked and
 * wrote, wherever it runs from now) when the options ask for it, and
 * returns the summary's logUrl: the S3 location of the uploaded folder,
 * or the local folder (no upload asked, or the upload failed: then the
 * failure goes to stderr and console.log, and the run's status stays what
 * the documents made it). */
char *logupload_run(const struct run_options *o, struct logdir *log, const char *log_abs);
