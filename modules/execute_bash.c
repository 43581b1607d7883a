/* execute_bash.c: the ExecuteBash action.  This file owns turning a step's
 * `commands` into a script file in the execution's work folder, running it
 * with bash in opentoe's own current directory (as AWSTOE does), and
 * removing the script once bash has ended (kept when OPENTOE_KEEP_SCRIPTS
 * is set to a non-empty value, for debugging).  A disableLogging step's script is
 * never a file: bash reads it from a memory file as /dev/fd/3.  Running
 * (on the runner's loop), capture and the result's wording are
 * process.c's and proc_action.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "module.h"
#include "process.h"

/* Bytes of the step name kept in a script's file name. */
#define SCRIPT_NAME_MAX 64

static const char *const bash_paths[] = { "/bin/bash", "/usr/bin/bash" };

struct script {
        int dirfd;      /* the work folder (borrowed) */
        char *name;     /* the script's name in it, once it exists */
        char *path;     /* work folder/name: what bash is given */
};

/* Removes the script when the run is over, unless asked to keep it. */
static void script_remove(struct script *s)
{
        const char *keep = getenv("OPENTOE_KEEP_SCRIPTS");

        if (s->name && (!keep || !*keep))
                (void)unlinkat(s->dirfd, s->name, 0);
        free(s->name);
        free(s->path);
}

/* "<step name>-<iteration>-<random>.sh", the name reduced to characters
 * that are safe in any file name. */
static char *script_name(const struct action_ctx *ctx)
{
        char name[SCRIPT_NAME_MAX + 1];
        const char *step = ctx->step_name && *ctx->step_name ? ctx->step_name : "step";
        unsigned long long rnd = 0;
        char *ret = NULL;
        size_t k = 0;
        int n;

        for (const char *c = step; *c && k < SCRIPT_NAME_MAX; c++) {
                bool safe = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                            (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
                            (*c == '.' && k > 0);

                name[k++] = safe ? *c : '_';
        }
        name[k] = '\0';
        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
                rnd = (unsigned long long)getpid() * 2654435761u ^ (unsigned long long)time(NULL);
        if (ctx->iteration >= 0)
                n = asprintf(&ret, "%s-%ld-%012llx.sh", name, ctx->iteration, rnd & 0xffffffffffffULL);
        else
                n = asprintf(&ret, "%s-%012llx.sh", name, rnd & 0xffffffffffffULL);
        return n < 0 ? NULL : ret;
}

/* Creates the script as a new file (never through a link) in the work
 * folder, readable by its owner only; s->name owns its name from the
 * moment the file exists, so a failure half-way still removes it. */
static int write_script(const struct action_ctx *ctx, const json_t *commands, struct script *s)
{
        _cleanup_close_ int fd = -1;
        size_t i;
        json_t *cmd;
        int r;

        s->dirfd = ctx->work_dir_fd;
        for (int attempt = 0; fd < 0; attempt++) {
                free(s->name);
                s->name = script_name(ctx);
                if (!s->name)
                        return -ENOMEM;
                fd = openat(s->dirfd, s->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && (errno != EEXIST || attempt == 100)) {
                        r = -errno;
                        free(s->name);
                        s->name = NULL;
                        return r;
                }
        }
        if (asprintf(&s->path, "%s/%s", ctx->work_dir, s->name) < 0) {
                s->path = NULL;
                return -ENOMEM;
        }
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

/* A disableLogging step's script is never a file: it is written to a
 * memory file, which bash reads as /dev/fd/3.  Returns the descriptor
 * (above the standard streams) or a negative errno. */
static int memory_script(const json_t *commands)
{
        size_t i;
        json_t *cmd;
        int fd = memfd_create("opentoe-script", MFD_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (fd <= STDERR_FILENO) {
                int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

                r = moved < 0 ? -errno : 0;
                close(fd);
                fd = moved;
                if (r < 0)
                        return r;
        }
        json_array_foreach(commands, i, cmd) {
                r = write_all(fd, json_string_value(cmd), json_string_length(cmd));
                if (r >= 0)
                        r = write_all(fd, "\n", 1);
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        return fd;
}

/* Looked up once a process: a step that removes bash makes the next exec
 * fail, which that step reports. */
static const char *find_bash(void)
{
        static const char *found;

        for (size_t i = 0; !found && i < ELEMENTSOF(bash_paths); i++)
                if (access(bash_paths[i], X_OK) == 0)
                        found = bash_paths[i];
        return found;
}

static void script_free(void *p)
{
        struct script *s = p;

        script_remove(s);
        free(s);
}

static int execute_bash_start(const struct action_ctx *ctx, const json_t *inputs, action_done_fn done,
                              void *done_userdata, struct action_job **ret_job)
{
        const char *bash;
        const json_t *commands;
        size_t i;
        json_t *cmd;
        int r;

        if (!ctx->work_dir || ctx->work_dir_fd < 0)
                return -EINVAL;
        if (!json_is_object(inputs))
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "ExecuteBash: inputs must be a map with 'commands'");
        commands = json_object_get(inputs, "commands");
        if (!json_is_array(commands))
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "ExecuteBash: 'commands' must be a list of strings");
        json_array_foreach(commands, i, cmd)
                if (!json_is_string(cmd))
                        return proc_action_fail(ctx, done, done_userdata, ret_job,
                                                "ExecuteBash: commands[%zu] is not a string", i);

        bash = find_bash();
        if (!bash)
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "ExecuteBash: bash was not found at /bin/bash or /usr/bin/bash");

        if (ctx->private_step) {
                _cleanup_close_ int mfd = memory_script(commands);
                char *argv[] = { (char *)bash, (char *)"/dev/fd/3", NULL };

                if (mfd < 0)
                        return mfd == -ENOMEM ? mfd
                                              : proc_action_fail(ctx, done, done_userdata, ret_job,
                                                                 "ExecuteBash: cannot prepare the script in memory: %s",
                                                                 strerror(-mfd));
                /* The child has its own copy of the memory file once
                 * started. */
                return proc_action_start(ctx, argv, mfd, NULL, NULL, done, done_userdata, ret_job);
        }
        struct script *script = calloc(1, sizeof *script);
        if (!script)
                return -ENOMEM;
        script->dirfd = -1;
        r = write_script(ctx, commands, script);
        if (r < 0) {
                char text[256];

                script_free(script);
                if (r == -ENOMEM)
                        return r;
                snprintf(text, sizeof text, "%s", strerror(-r));
                return proc_action_fail(ctx, done, done_userdata, ret_job,
                                        "ExecuteBash: cannot write the script in %s: %s", ctx->work_dir, text);
        }
        char *argv[] = { (char *)bash, script->path, NULL };
        /* The script is removed once bash has ended. */
        return proc_action_start(ctx, argv, -1, script_free, script, done, done_userdata, ret_job);
}

PROC_ACTION(ExecuteBash, execute_bash_module, execute_bash_start);
