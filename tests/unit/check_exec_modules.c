/* check_exec_modules.c: unit tests of the ExecuteBash and ExecuteBinary
 * modules (modules/execute_bash.c, modules/execute_binary.c) and of the
 * registry that finds them (modules/registry.c, modules/modules.list). */
#include <check.h>
#include <fcntl.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "action_spec.h"
#include "attempt.h"
#include "module.h"

struct sink {
        char lines[16][128];
        int streams[16];
        size_t n;
};

static void sink_line(void *userdata, int stream, const char *line, size_t len)
{
        struct sink *s = userdata;

        if (s->n >= 16)
                return;
        snprintf(s->lines[s->n], sizeof s->lines[0], "%.*s", (int)len, line);
        s->streams[s->n] = stream;
        s->n++;
}

static char work_root[64];

static void make_work_root(void)
{
        snprintf(work_root, sizeof work_root, "/tmp/opentoe-check-exec-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(work_root));
}

static void remove_tree(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *e;

        if (!d) {
                unlink(path);
                return;
        }
        while ((e = readdir(d)) != NULL) {
                char sub[PATH_MAX];

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
}

static void cleanup_work_root(void)
{
        remove_tree(work_root);
}

/* Number of entries in a directory, "." and ".." aside; name of the last. */
static size_t count_entries(const char *dir, char *ret_name, size_t size)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t n = 0;

        ck_assert_ptr_nonnull(d);
        while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (ret_name)
                        snprintf(ret_name, size, "%s", e->d_name);
                n++;
        }
        closedir(d);
        return n;
}

/* The work root is empty (the module's scripts are gone); removes it. */
static void cleanup_empty_work_root(void)
{
        ck_assert_uint_eq(count_entries(work_root, NULL, 0), 0);
        cleanup_work_root();
}

/* The runner's part (agent/attempt.c): the loop, the deadline
 * (test_deadline_ms stands for the step's), stopping the group. */
static struct supervisor sv;
static int64_t test_deadline_ms = -1; /* for the next run only */

static void test_on_spawn(void *userdata, pid_t pgid)
{
        (void)userdata;
        supervisor_spawned(&sv, pgid);
}

static struct action_ctx make_ctx(struct sink *s, const char *work_dir)
{
        return (struct action_ctx){
                .work_dir = work_dir,
                /* Left open for the test's lifetime, as the runner keeps
                 * its scripts folder open for the run's. */
                .work_dir_fd = work_dir ? open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1,
                .step_name = "Step",
                .iteration = -1,
                .stdout_cap = ACTION_STDOUT_CAP,
                .on_line = s ? sink_line : NULL,
                .userdata = s,
        };
}

/* A new work root (make_work_root) and a context working in it. */
static struct action_ctx work_root_ctx(struct sink *s)
{
        make_work_root();
        return make_ctx(s, work_root);
}

/* Runs a module on inputs written as JSON text. */
static int run_module(const char *action, const struct action_ctx *ctx, const char *inputs_json,
                      struct action_result *ret)
{
        const struct action_module *m = module_find(action);
        json_error_t jerr;
        json_t *inputs = json_loads(inputs_json, JSON_DECODE_ANY, &jerr);
        int r;

        ck_assert_ptr_nonnull(m);
        ck_assert_msg(inputs != NULL, "bad test JSON: %s", jerr.text);
        if (m->run) {
                r = m->run(ctx, inputs, ret);
        } else {
                struct action_ctx c = *ctx;
                char *err = NULL;

                if (!sv.event)
                        ck_assert_msg(supervisor_init(&sv, 200, &err) == 0, "supervisor_init: %s", err);
                c.on_spawn = test_on_spawn;
                r = supervisor_run(&sv, m, &c, inputs, test_deadline_ms, ret);
                test_deadline_ms = -1; /* for one run only */
        }
        json_decref(inputs);
        return r;
}

static void assert_outputs(const struct action_result *ar, const char *want)
{
        char *text;

        ck_assert_ptr_nonnull(ar->outputs);
        text = json_dumps(ar->outputs, JSON_COMPACT);
        ck_assert_str_eq(text, want);
        free(text);
}

/* ExecuteBinary with `inputs` fails before anything runs; with the
 * message `want` when it is not NULL. */
static void assert_binary_refused(const struct action_ctx *ctx, const char *inputs, const char *want)
{
        struct action_result ar = { 0 };

        ck_assert_int_eq(run_module("ExecuteBinary", ctx, inputs, &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        if (want)
                ck_assert_str_eq(ar.message, want);
        action_result_clear(&ar);
}

START_TEST(test_registry)
{
        static const char *const names[] = { "Assert", "ExecuteBash", "ExecuteBinary" };

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                const struct action_module *m = module_find(names[i]);

                ck_assert_ptr_nonnull(m);
                ck_assert_str_eq(m->name, names[i]);
                ck_assert_ptr_eq(m->spec, action_spec_find(names[i]));
                /* A module runs synchronously, or starts on the loop. */
                ck_assert(!m->run != !(m->start && m->cancel));
                ck_assert_ptr_eq(module_find(names[i]), m);
        }
        ck_assert(module_find("ExecuteBash")->spec->flags & ACT_SPAWNS);
        /* Children are waited for on the runner's loop. */
        ck_assert_ptr_nonnull(module_find("ExecuteBash")->start);
        ck_assert_ptr_nonnull(module_find("ExecuteBinary")->start);
        ck_assert_ptr_null(module_find("executebash"));
        ck_assert_ptr_null(module_find("ExecuteBas"));
        ck_assert_ptr_null(module_find(""));
        ck_assert_ptr_null(module_find("Zzz"));
        ck_assert_ptr_null(module_find(NULL));
}
END_TEST

START_TEST(test_bash_two_commands)
{
        struct sink s = { 0 };
        struct action_ctx ctx;
        struct action_result ar = { 0 };

        ctx = work_root_ctx(&s);
        ck_assert_int_eq(run_module("ExecuteBash", &ctx, "{\"commands\": [\"echo a\", \"echo b\"]}",
                                    &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        ck_assert_int_eq(ar.exit_code, 0);
        ck_assert_ptr_null(ar.message);
        assert_outputs(&ar, "[{\"stdout\":\"a\\nb\"}]");
        ck_assert_uint_eq(s.n, 2);
        ck_assert_str_eq(s.lines[0], "a");
        ck_assert_str_eq(s.lines[1], "b");
        ck_assert_int_eq(s.streams[0], STREAM_STDOUT);
        /* The script is gone. */
        ck_assert_uint_eq(count_entries(work_root, NULL, 0), 0);
        action_result_clear(&ar);
        ck_assert_ptr_null(ar.outputs);
        cleanup_work_root();
}
END_TEST

START_TEST(test_bash_multiline_and_cwd)
{
        struct action_ctx ctx;
        struct action_result ar = { 0 };
        char cwd[PATH_MAX], want[PATH_MAX + 64];

        ctx = work_root_ctx(NULL);
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
        /* A `- |` block is one command of several lines; commands run in
         * opentoe's current directory, not the work folder. */
        ck_assert_int_eq(run_module("ExecuteBash", &ctx,
                                    "{\"commands\": [\"for x in 1 2; do\\n  echo $x\\ndone\", \"pwd\"]}",
                                    &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        snprintf(want, sizeof want, "[{\"stdout\":\"1\\n2\\n%s\"}]", cwd);
        assert_outputs(&ar, want);
        action_result_clear(&ar);
        cleanup_work_root();
}
END_TEST

START_TEST(test_bash_exit_status)
{
        struct action_ctx ctx;
        struct action_result ar = { 0 };

        ctx = work_root_ctx(NULL);
        ck_assert_int_eq(run_module("ExecuteBash", &ctx,
                                    "{\"commands\": [\"echo out\", \"echo oops >&2\", \"exit 3\"]}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        ck_assert_int_eq(ar.exit_code, 3);
        ck_assert_str_eq(ar.message, "exit status 3");
        ck_assert_str_eq(ar.stderr_tail, "oops\n");
        assert_outputs(&ar, "[{\"stdout\":\"out\"}]");
        action_result_clear(&ar);

        ck_assert_int_eq(run_module("ExecuteBash", &ctx, "{\"commands\": [\"exit 194\"]}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_REBOOT);
        ck_assert_int_eq(ar.exit_code, 194);
        action_result_clear(&ar);

        /* Output on stderr alone does not fail a step. */
        ck_assert_int_eq(run_module("ExecuteBash", &ctx, "{\"commands\": [\"echo warn >&2\"]}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        action_result_clear(&ar);

        cleanup_empty_work_root();
}
END_TEST

START_TEST(test_bash_script_name_and_keep)
{
        struct action_ctx ctx;
        struct action_result ar = { 0 };
        char dir[PATH_MAX], name[256], path[PATH_MAX + 256];
        struct stat st;

        make_work_root();
        /* The runner makes the work folder (0700) and hands it over open. */
        snprintf(dir, sizeof dir, "%s/sub", work_root);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        snprintf(dir, sizeof dir, "%s/sub/dir", work_root);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ctx = make_ctx(NULL, dir);
        ctx.step_name = "Hello World/../x";
        ctx.iteration = 2;
        setenv("OPENTOE_KEEP_SCRIPTS", "1", 1);
        ck_assert_int_eq(run_module("ExecuteBash", &ctx, "{\"commands\": [\"echo kept\"]}", &ar), 0);
        unsetenv("OPENTOE_KEEP_SCRIPTS");
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        action_result_clear(&ar);

        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        ck_assert_uint_eq(count_entries(dir, name, sizeof name), 1);
        ck_assert_msg(strncmp(name, "Hello_World_.._x-2-", 19) == 0, "script name %s", name);
        ck_assert_str_eq(name + strlen(name) - 3, ".sh");
        ck_assert_uint_eq(strlen(name), 19 + 12 + 3);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        ck_assert_int_eq(stat(path, &st), 0);
        /* bash reads it: nobody else needs to, and nothing executes it. */
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
        {
                FILE *f = fopen(path, "r");
                char buf[64] = { 0 };

                ck_assert_ptr_nonnull(f);
                ck_assert_uint_eq(fread(buf, 1, sizeof buf - 1, f), 10);
                fclose(f);
                ck_assert_str_eq(buf, "echo kept\n");
        }
        cleanup_work_root();
}
END_TEST

START_TEST(test_bash_bad_inputs)
{
        static const char *const bad[] = {
                "[\"echo a\"]",
                "{}",
                "{\"commands\": \"echo a\"}",
                "{\"commands\": [\"echo a\", 3]}",
        };
        struct action_ctx ctx;

        ctx = work_root_ctx(NULL);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct action_result ar = { 0 };

                ck_assert_int_eq(run_module("ExecuteBash", &ctx, bad[i], &ar), 0);
                ck_assert_int_eq(ar.status, ACTION_FAILED);
                ck_assert_ptr_nonnull(ar.message);
                ck_assert_ptr_nonnull(strstr(ar.message, "ExecuteBash"));
                ck_assert_ptr_nonnull(ar.outputs);
                action_result_clear(&ar);
        }
        cleanup_empty_work_root();
}
END_TEST

START_TEST(test_bash_timeout)
{
        struct action_ctx ctx;
        struct action_result ar = { 0 };
        struct timespec ts;

        ctx = work_root_ctx(NULL);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        test_deadline_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 200;
        ck_assert_int_eq(run_module("ExecuteBash", &ctx, "{\"commands\": [\"echo hi\", \"sleep 30\"]}",
                                    &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_TIMED_OUT);
        assert_outputs(&ar, "[{\"stdout\":\"hi\"}]");
        action_result_clear(&ar);
        cleanup_empty_work_root();
}
END_TEST

START_TEST(test_binary_path_and_arguments)
{
        struct sink s = { 0 };
        struct action_ctx ctx = make_ctx(&s, "/tmp");
        struct action_result ar = { 0 };

        ck_assert_int_eq(run_module("ExecuteBinary", &ctx,
                                    "{\"path\": \"/bin/echo\", \"arguments\": [\"hello\", \"a b\", \"$HOME\"]}",
                                    &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        assert_outputs(&ar, "[{\"stdout\":\"hello a b $HOME\"}]");
        ck_assert_uint_eq(s.n, 1);
        action_result_clear(&ar);

        /* No arguments, or null ones. */
        ck_assert_int_eq(run_module("ExecuteBinary", &ctx, "{\"path\": \"/bin/true\", \"arguments\": null}",
                                    &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        assert_outputs(&ar, "[{\"stdout\":\"\"}]");
        action_result_clear(&ar);

        ck_assert_int_eq(run_module("ExecuteBinary", &ctx,
                                    "{\"path\": \"/bin/sh\", \"arguments\": [\"-c\", \"exit 194\"]}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_REBOOT);
        action_result_clear(&ar);
}
END_TEST

START_TEST(test_binary_on_path)
{
        struct action_ctx ctx = make_ctx(NULL, "/tmp");
        struct action_result ar = { 0 };

        setenv("PATH", "/nonexistent-dir:/usr/bin:/bin", 1);
        ck_assert_int_eq(run_module("ExecuteBinary", &ctx, "{\"path\": \"true\"}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        action_result_clear(&ar);

        ck_assert_int_eq(run_module("ExecuteBinary", &ctx, "{\"path\": \"false\"}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        ck_assert_str_eq(ar.message, "exit status 1");
        action_result_clear(&ar);
}
END_TEST

START_TEST(test_binary_missing)
{
        struct action_ctx ctx = make_ctx(NULL, "/tmp");
        struct action_result ar = { 0 };

        ck_assert_int_eq(run_module("ExecuteBinary", &ctx, "{\"path\": \"/nonexistent/opentoe-prog\"}",
                                    &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        ck_assert_int_eq(ar.exit_code, -1);
        ck_assert_str_eq(ar.message, "fork/exec /nonexistent/opentoe-prog: no such file or directory");
        assert_outputs(&ar, "[{\"stdout\":\"\"}]");
        action_result_clear(&ar);

        setenv("PATH", "/usr/bin:/bin", 1);
        assert_binary_refused(&ctx, "{\"path\": \"opentoe-no-such-prog\"}",
                              "exec: \"opentoe-no-such-prog\": executable file not found in $PATH");
        /* A directory is not a program. */
        assert_binary_refused(&ctx, "{\"path\": \"/tmp/\"}", "fork/exec /tmp/: permission denied");

        ck_assert_int_eq(run_module("ExecuteBinary", &ctx, "{\"arguments\": []}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        ck_assert_ptr_nonnull(strstr(ar.message, "path"));
        action_result_clear(&ar);

        assert_binary_refused(&ctx, "{\"path\": \"/bin/true\", \"arguments\": [1]}", NULL);
}
END_TEST

START_TEST(test_binary_relative_path_entry)
{
        struct action_ctx ctx = make_ctx(NULL, "/tmp");
        struct action_result ar = { 0 };
        char old[PATH_MAX], prog[PATH_MAX + 16];
        FILE *f;

        make_work_root();
        snprintf(prog, sizeof prog, "%s/prog", work_root);
        f = fopen(prog, "w");
        ck_assert_ptr_nonnull(f);
        fputs("#!/bin/sh\necho ran\n", f);
        fclose(f);
        ck_assert_int_eq(chmod(prog, 0700), 0);
        ck_assert_ptr_nonnull(getcwd(old, sizeof old));
        ck_assert_int_eq(chdir(work_root), 0);

        /* Found only through "." on $PATH: refused, as Go does. */
        setenv("PATH", "/usr/bin:.", 1);
        assert_binary_refused(&ctx, "{\"path\": \"prog\"}",
                              "exec: \"prog\": cannot run executable found relative to current directory");

        /* Named with a '/', it runs. */
        ck_assert_int_eq(run_module("ExecuteBinary", &ctx, "{\"path\": \"./prog\"}", &ar), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        assert_outputs(&ar, "[{\"stdout\":\"ran\"}]");
        action_result_clear(&ar);

        ck_assert_int_eq(chdir(old), 0);
        setenv("PATH", "/usr/bin:/bin", 1);
        cleanup_work_root();
}
END_TEST

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_bash_interrupted)
{
        struct action_ctx ctx;
        struct action_result ar = { 0 };
        int64_t start;

        /* The step signals opentoe (its parent) itself: the runner's loop
         * reads the signal, the job is cancelled and its group stopped. */
        ctx = work_root_ctx(NULL);
        start = now_ms();
        ck_assert_int_eq(run_module("ExecuteBash", &ctx,
                                    "{\"commands\": [\"echo started\", \"kill -TERM $PPID\", \"sleep 30\"]}", &ar),
                         0);
        ck_assert_int_lt(now_ms() - start, 10000);
        ck_assert_int_eq(ar.status, ACTION_FAILED);
        ck_assert_ptr_nonnull(ar.message);
        ck_assert_str_eq(ar.message, "interrupted: opentoe received signal 15; the process group was stopped");
        assert_outputs(&ar, "[{\"stdout\":\"started\"}]");
        action_result_clear(&ar);
        ck_assert_int_eq(supervisor_interrupted(&sv), SIGTERM);
        ck_assert_int_eq(supervisor_stop_reason(&sv), ACTION_CANCEL_INTERRUPT);
        errno = 0;
        ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
        ck_assert_int_eq(errno, ECHILD);
        cleanup_work_root();
}
END_TEST

/* A synchronous module that works until the runner says stop. */
static int until_stopped_run(const struct action_ctx *ctx, const json_t *inputs, struct action_result *ret)
{
        int why;

        (void)inputs;
        while ((why = action_stop_reason(ctx)) < 0) {
                struct timespec ts = { 0, 10 * 1000000 };

                nanosleep(&ts, NULL);
        }
        *ret = (struct action_result){ .status = ACTION_FAILED, .exit_code = why, .outputs = json_array() };
        return 0;
}

static int test_stop_reason(void *userdata)
{
        (void)userdata;
        return supervisor_stop_reason(&sv);
}

START_TEST(test_run_module_deadline)
{
        static const struct action_module until_stopped = { .name = "UntilStopped", .run = until_stopped_run };
        struct action_ctx ctx = make_ctx(NULL, NULL);
        struct action_result ar = { 0 };
        char *err = NULL;
        int64_t start = now_ms(), took;

        /* The runner answers a run() module's question from the attempt's
         * deadline: the module never reads a clock for it. */
        ck_assert_msg(supervisor_init(&sv, 200, &err) == 0, "supervisor_init: %s", err);
        ctx.stop_reason = test_stop_reason;
        test_deadline_ms = -1;
        ck_assert_int_eq(supervisor_run(&sv, &until_stopped, &ctx, NULL, start + 200, &ar), 0);
        took = now_ms() - start;
        ck_assert_int_eq(ar.exit_code, ACTION_CANCEL_DEADLINE);
        ck_assert_int_ge(took, 200);
        ck_assert_int_lt(took, 5000);
        action_result_clear(&ar);
        /* Outside an attempt there is no deadline. */
        ck_assert_int_eq(supervisor_stop_reason(&sv), -1);
        supervisor_done(&sv);
}
END_TEST

START_TEST(test_no_children_left)
{
        struct action_ctx ctx;
        struct action_result ar = { 0 };

        ctx = work_root_ctx(NULL);
        ck_assert_int_eq(run_module("ExecuteBash", &ctx, "{\"commands\": [\"true\"]}", &ar), 0);
        action_result_clear(&ar);
        ck_assert_int_eq(run_module("ExecuteBinary", &ctx, "{\"path\": \"/bin/true\"}", &ar), 0);
        action_result_clear(&ar);
        errno = 0;
        ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
        ck_assert_int_eq(errno, ECHILD);
        cleanup_work_root();
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("exec_modules", "modules", 60,
                 test_registry,
                 test_bash_two_commands,
                 test_bash_multiline_and_cwd,
                 test_bash_exit_status,
                 test_bash_script_name_and_keep,
                 test_bash_bad_inputs,
                 test_bash_timeout,
                 test_bash_interrupted,
                 test_run_module_deadline,
                 test_binary_path_and_arguments,
                 test_binary_on_path,
                 test_binary_missing,
                 test_binary_relative_path_entry,
                 test_no_children_left)
