/* execute_binary.c: the ExecuteBinary action.  This file owns reading
 * `path` and `arguments`, finding a bare program name on $PATH the way Go's
 * exec.LookPath does (AWSTOE is a Go program, so its errors are worded as
 * Go words them), and running the program directly, without a shell.
 * Running, capture and the result's wording are process.c's. */
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


static int execute_binary_run(const struct action_ctx *ctx, const json_t *inputs,
                              struct action_result *ret)
{
        _cleanup_free_ char *found = NULL;
        _cleanup_free_ char **argv = NULL;
        struct proc_result pr = { 0 };
        const char *path, *errmsg = NULL;
        const json_t *args, *jpath;
        size_t i, nargs;
        json_t *arg;
        int r;

        if (!json_is_object(inputs))
                return proc_fail(ret, "ExecuteBinary: inputs must be a map with 'path'");
        jpath = json_object_get(inputs, "path");
        if (!json_is_string(jpath))
                return proc_fail(ret, "ExecuteBinary: 'path' must be a string");
        path = json_string_value(jpath);
        args = json_object_get(inputs, "arguments");
        if (args && !json_is_null(args) && !json_is_array(args))
                return proc_fail(ret, "ExecuteBinary: 'arguments' must be a list of strings");
        nargs = json_is_array(args) ? json_array_size(args) : 0;
        json_array_foreach(args, i, arg)
                if (!json_is_string(arg))
                        return proc_fail(ret, "ExecuteBinary: arguments[%zu] is not a string", i);

        if (!strchr(path, '/')) {
                r = path_search(path, &found);
                if (r == -ENOMEM)
                        return r;
                if (r == -EPERM)
                        return proc_fail(ret, "exec: \"%s\": cannot run executable found "
                                              "relative to current directory", path);
                if (r < 0)
                        return proc_fail(ret, "exec: \"%s\": executable file not found in $PATH",
                                         path);
        }

        argv = calloc(nargs + 2, sizeof *argv);
        if (!argv)
                return -ENOMEM;
        argv[0] = found ? found : (char *)path;
        json_array_foreach(args, i, arg)
                argv[i + 1] = (char *)json_string_value(arg);

        r = proc_run(ctx, argv, NULL, &pr, &errmsg);
        if (r < 0)
                return proc_start_failure(r, argv[0], errmsg, ret);
        r = proc_to_action_result(&pr, ctx, ret);
        proc_result_free(&pr);
        return r;
}

const struct action_module execute_binary_module = {
        .name = "ExecuteBinary",
        .spec = ACTION_SPEC(ExecuteBinary),
        .run = execute_binary_run,
};
