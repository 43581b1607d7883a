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
#include "process.h"

/* Go's findExecutable: a file (not a directory) we may execute. */
static bool is_executable(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
                return false;
        return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

/* Finds `name` (no '/') on $PATH.  Returns 0 with *ret_path, -ENOENT when
 * it is nowhere, -EPERM when it was found only through a relative entry
 * of $PATH (Go refuses those since 1.19), or -ENOMEM. */
static int look_path(const char *name, char **ret_path)
{
        const char *path = getenv("PATH");

        if (!path || !*path || !*name)
                return -ENOENT;
        for (const char *dir = path;; ) {
                const char *end = strchr(dir, ':');
                size_t dlen = end ? (size_t)(end - dir) : strlen(dir);
                _cleanup_free_ char *cand = NULL;

                if (dlen == 0) {
                        dir = ".";
                        dlen = 1;
                }
                if (asprintf(&cand, "%.*s/%s", (int)dlen, dir, name) < 0)
                        return -ENOMEM;
                if (is_executable(cand)) {
                        if (cand[0] != '/')
                                return -EPERM;
                        *ret_path = TAKE_PTR(cand);
                        return 0;
                }
                if (!end)
                        break;
                dir = end + 1;
        }
        return -ENOENT;
}

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
                r = look_path(path, &found);
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
        .spec = NULL, /* filled in by the registry: see registry.c */
        .run = execute_binary_run,
};
