/* execute_bash.c: the ExecuteBash action.  This file owns turning a step's
 * `commands` into a script file in the execution's work folder, running it
 * with bash in opentoe's own current directory (as AWSTOE does), and
 * removing the script afterwards (kept when OPENTOE_KEEP_SCRIPTS is set to
 * a non-empty value, for debugging).  Running, capture and the result's
 * wording are process.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "module.h"
#include "mkdirs.h"
#include "process.h"

/* Bytes of the step name kept in a script's file name. */
#define SCRIPT_NAME_MAX 64

static const char *const bash_paths[] = { "/bin/bash", "/usr/bin/bash" };

/* Removes the script when the run is over, unless asked to keep it. */
static void script_removep(char **path)
{
        const char *keep = getenv("OPENTOE_KEEP_SCRIPTS");

        if (!*path)
                return;
        if (!keep || !*keep)
                (void)unlink(*path);
        free(*path);
}


/* "<step name>-<iteration>-XXXXXX.sh", the name reduced to characters
 * that are safe in any file name. */
static char *script_template(const struct action_ctx *ctx)
{
        char name[SCRIPT_NAME_MAX + 1];
        const char *step = ctx->step_name && *ctx->step_name ? ctx->step_name : "step";
        char *path = NULL;
        size_t k = 0;
        int n;

        for (const char *c = step; *c && k < SCRIPT_NAME_MAX; c++) {
                bool safe = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                            (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
                            (*c == '.' && k > 0);

                name[k++] = safe ? *c : '_';
        }
        name[k] = '\0';
        if (ctx->iteration >= 0)
                n = asprintf(&path, "%s/%s-%ld-XXXXXX.sh", ctx->work_dir, name, ctx->iteration);
        else
                n = asprintf(&path, "%s/%s-XXXXXX.sh", ctx->work_dir, name);
        return n < 0 ? NULL : path;
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Creates the script; *ret_path owns its name from the moment the file
 * exists, so a failure half-way still removes it. */
static int write_script(const struct action_ctx *ctx, const json_t *commands, char **ret_path)
{
        _cleanup_close_ int fd = -1;
        size_t i;
        json_t *cmd;
        int r;

        r = mkdir_parents(ctx->work_dir, 0700);
        if (r < 0)
                return r;
        *ret_path = script_template(ctx);
        if (!*ret_path)
                return -ENOMEM;
        fd = mkostemps(*ret_path, 3, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                free(*ret_path);
                *ret_path = NULL;
                return r;
        }
        if (fchmod(fd, 0700) < 0)
                return -errno;
        json_array_foreach(commands, i, cmd) {
                r = write_all(fd, json_string_value(cmd), json_string_length(cmd));
                if (r >= 0)
                        r = write_all(fd, "\n", 1);
                if (r < 0)
                        return r;
        }
        r = close(fd);
        fd = -1;
        return r < 0 ? -errno : 0;
}

static const char *find_bash(void)
{
        for (size_t i = 0; i < ELEMENTSOF(bash_paths); i++)
                if (access(bash_paths[i], X_OK) == 0)
                        return bash_paths[i];
        return NULL;
}

static int execute_bash_run(const struct action_ctx *ctx, const json_t *inputs,
                            struct action_result *ret)
{
        _cleanup_(script_removep) char *script = NULL;
        struct proc_result pr = { 0 };
        const char *errmsg = NULL, *bash;
        const json_t *commands;
        size_t i;
        json_t *cmd;
        int r;

        if (!ctx->work_dir)
                return -EINVAL;
        if (!json_is_object(inputs))
                return proc_fail(ret, "ExecuteBash: inputs must be a map with 'commands'");
        commands = json_object_get(inputs, "commands");
        if (!json_is_array(commands))
                return proc_fail(ret, "ExecuteBash: 'commands' must be a list of strings");
        json_array_foreach(commands, i, cmd)
                if (!json_is_string(cmd))
                        return proc_fail(ret, "ExecuteBash: commands[%zu] is not a string", i);

        bash = find_bash();
        if (!bash)
                return proc_fail(ret, "ExecuteBash: bash was not found "
                                      "at /bin/bash or /usr/bin/bash");

        r = write_script(ctx, commands, &script);
        if (r < 0) {
                char text[256];

                if (r == -ENOMEM)
                        return r;
                snprintf(text, sizeof text, "%s", strerror(-r));
                return proc_fail(ret, "ExecuteBash: cannot write the script in %s: %s",
                                 ctx->work_dir, text);
        }

        {
                char *argv[] = { (char *)bash, script, NULL };

                r = proc_run(ctx, argv, NULL, &pr, &errmsg);
        }
        if (r < 0)
                return proc_start_failure(r, bash, errmsg, ret);
        r = proc_to_action_result(&pr, ctx, ret);
        proc_result_free(&pr);
        return r;
}

const struct action_module execute_bash_module = {
        .name = "ExecuteBash",
        .spec = NULL, /* filled in by the registry: see registry.c */
        .run = execute_bash_run,
};
