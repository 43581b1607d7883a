/* logupload.c: the end of a run's log folder: its upload to S3 when asked
 * for, and the logUrl the summary gives (the S3 location, or the local
 * folder).  The transfer is aws/s3.c's. */
#include "logupload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "s3.h"
#include "strbuf.h"

/* The log folder for the summary: as it was given, unless a resumed run
 * runs from elsewhere (then its absolute path). */
static char *local_log_url(const struct logdir *log, const char *log_abs)
{
        _cleanup_free_ char *abs = logdir_absolute(log->path);
        return xstrdup(strcmp(abs, log_abs) == 0 ? log->path : log_abs);
}

char *logupload_run(const struct run_options *o, struct logdir *log, const char *log_abs)
{
        struct s3_log_target t = { o->log_s3_bucket, o->log_s3_prefix, o->log_s3_owner };
        if (!t.bucket)
                return local_log_url(log, log_abs);
        char *url = s3_log_url(&t, log->path), *err = NULL;
        size_t n = 0;
        log_app(log, "Info", "uploading the log folder to %s", url);
        if (log->console)
                fflush(log->console);
        if (log->app)
                fflush(log->app);
        int e = s3_log_upload(&t, log_abs, &n, &err);
        if (e < 0) {
                fprintf(stderr, "%s run: cannot upload the log folder to %s: %s; the logs stay in %s\n",
                        o->program_name, url, err ? err : strerror(-e), log->path);
                log_console(log, "Cannot upload the log folder to %s: %s", url, err ? err : strerror(-e));
                log_app(log, "Error", "log upload to %s failed after %zu files: %s", url, n, err ? err : strerror(-e));
                free(err);
                free(url);
                return local_log_url(log, log_abs);
        }
        log_app(log, "Info", "uploaded %zu log files to %s", n, url);
        return url;
}
