/* execute_binary.c: the ExecuteBinary action.  This file owns reading
 * `path` and `arguments`, finding a bare program name on $PATH the way Go's
 * exec.LookPath does (AWSTOE is a Go program, so its errors are worded as
 * Go words them), and running the program directly, without a shell.
 * Running (on the runner's loop), capture and the result's wording are
 * process.c's and proc_action.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "module.h"
#include "pathsearch.h"
#include "process.h"


static int execute_binary_start(const struct action_ctx *ctx, const json_t *inputs, action_done_fn done,
                                void *done_userdata, struct action_job **ret_job)
{
        _cleanup_free_ char *found = NULL;
        _cleanup_free_ char **argv = NULL;
        const char *path;
        const json_t *args, *jpath;
        size_t i, nargs;
        json_t *arg;
        int r;

        if (!json_is_object(inputs))
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "ExecuteBinary: inputs must be a map with 'path'");
        jpath = json_object_get(inputs, "path");
        if (!json_is_string(jpath))
                return proc_action_fail(ctx, done, done_userdata, ret_job, "ExecuteBinary: 'path' must be a string");
        path = json_string_value(jpath);
        args = json_object_get(inputs, "arguments");
        if (args && !json_is_null(args) && !json_is_array(args))
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "ExecuteBinary: 'arguments' must be a list of strings");
        nargs = json_is_array(args) ? json_array_size(args) : 0;
        json_array_foreach(args, i, arg)
                if (!json_is_string(arg))
                        return proc_action_fail(ctx, done, done_userdata, ret_job,
                                                "ExecuteBinary: arguments[%zu] is not a string", i);

        if (!strchr(path, '/')) {
                r = path_search(path, &found);
                if (r == -ENOMEM)
                        return r;
                if (r == -EPERM)
                        return proc_action_fail(ctx, done, done_userdata, ret_job,
                                                "exec: \"%s\": cannot run executable found relative to current directory",
                                                path);
                if (r < 0)
                        return proc_action_fail(ctx, done, done_userdata, ret_job,
                                                "exec: \"%s\": executable file not found in $PATH", path);
        }

        argv = calloc(nargs + 2, sizeof *argv);
        if (!argv)
                return -ENOMEM;
        argv[0] = found ? found : (char *)path;
        json_array_foreach(args, i, arg)
                argv[i + 1] = (char *)json_string_value(arg);
        /* argv is copied by the fork: it may go when this returns. */
        return proc_action_start(ctx, argv, -1, NULL, NULL, done, done_userdata, ret_job);
}

PROC_ACTION(ExecuteBinary, execute_binary_module, execute_binary_start);
