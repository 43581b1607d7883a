/* jobstatus.c: reading, changing and classifying a job's status.json
 * (see jobstatus.h); the files themselves are jobs.c's. */
#include "jobstatus.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "jobs.h"

int jobstatus_set(int job_dirfd, const char *status, json_t *extra, char **reterr)
{
        json_t *st = NULL;
        int e = job_read_json(job_dirfd, "status.json", &st, reterr);
        if (e == -ENOENT)
                st = json_object();
        else if (e < 0) {
                json_decref(extra);
                return e;
        }
        json_object_set_new(st, "status", json_string(status));
        json_object_set_new(st, "updated", json_integer((json_int_t)time(NULL)));
        const char *key;
        json_t *v;
        json_object_foreach(extra, key, v)
        {
                if (json_is_null(v))
                        json_object_del(st, key);
                else
                        json_object_set(st, key, v);
        }
        json_decref(extra);
        e = job_write_json(job_dirfd, "status.json", st, reterr);
        json_decref(st);
        return e;
}

bool jobstatus_final(const char *status)
{
        return status && (!strcmp(status, "success") || !strcmp(status, "failed") || !strcmp(status, "refused"));
}

int jobstatus_exit_code(const char *status)
{
        if (!status)
                return 3;
        if (!strcmp(status, "success"))
                return 0;
        if (!strcmp(status, "failed"))
                return 1;
        if (!strcmp(status, "refused"))
                return 4;
        return 3;
}
