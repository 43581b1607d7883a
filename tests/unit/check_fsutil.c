/* check_fsutil.c: unit tests of the file-system helpers (common/mkdirs.c,
 * common/fsjob.c, common/utf8.c) and of how the fs actions and ExtractArchive
 * stop: the runner's answer through action_stop_reason() (a deadline
 * gives ACTION_TIMED_OUT, an interrupt a failure), the one boolean
 * reader, and the error channel of hash.c and archive_dl.c. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_dl.h"
#include "dlsyms.h"
#include "errmsg.h"
#include "fsjob.h"
#include "hash.h"
#include "mkdirs.h"
#include "module.h"
#include "utf8.h"

static char root[64];

static void make_root(void)
{
        snprintf(root, sizeof root, "/tmp/opentoe-check-fs-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
}

static void remove_root(void)
{
        char cmd[128];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}

static void put_file(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "x\n", 2), 2);
        close(fd);
}

/* A folder of `n` files, enough for a walk to ask whether to stop. */
static void make_tree(const char *dir, int n)
{
        int dfd;

        ck_assert_int_eq(mkdir(dir, 0755), 0);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dfd, 0);
        for (int i = 0; i < n; i++) {
                char name[16];
                int fd;

                snprintf(name, sizeof name, "f%03d", i);
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(write(fd, "x\n", 2), 2);
                close(fd);
        }
        close(dfd);
}

/* A fresh root holding the folder `src` of `n` files; its path in src. */
static void make_root_tree(char *src, size_t size, int n)
{
        make_root();
        snprintf(src, size, "%s/src", root);
        make_tree(src, n);
}

static int answer;      /* what the fake runner says to "should I stop?" */
static int asked;

static int fake_stop_reason(void *userdata)
{
        (void)userdata;
        asked++;
        return answer;
}

static struct action_ctx make_ctx(void)
{
        return (struct action_ctx){
                .work_dir = "/tmp",
                .work_dir_fd = -1,
                .step_name = "step",
                .iteration = -1,
                .stop_reason = fake_stop_reason,
        };
}

/* Runs `action` with the inputs printed by fmt. */
static int run(const char *action, const struct action_ctx *ctx, struct action_result *ret, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int run(const char *action, const struct action_ctx *ctx, struct action_result *ret, const char *fmt, ...)
{
        const struct action_module *m = module_find(action);
        char inputs[4096];
        va_list ap;
        json_t *in;
        int r;

        va_start(ap, fmt);
        vsnprintf(inputs, sizeof inputs, fmt, ap);
        va_end(ap);
        in = json_loads(inputs, 0, NULL);

        ck_assert_ptr_nonnull(m);
        ck_assert_ptr_nonnull(m->run);
        ck_assert_ptr_nonnull(in);
        r = m->run(ctx, in, ret);
        json_decref(in);
        return r;
}

/* ---- mkdir -p -------------------------------------------------------------- */

START_TEST(test_mkdir_parents)
{
        char p[1024], file[1024];
        char *failed = NULL;
        struct stat st;

        make_root();
        snprintf(p, sizeof p, "%s/a//b/c/", root);
        ck_assert_int_eq(mkdir_parents(p, 0755), 0);
        snprintf(p, sizeof p, "%s/a/b/c", root);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(mkdir_parents_report(p, 0755, &failed), 0);
        ck_assert_ptr_null(failed);
        ck_assert_int_eq(mkdir_parents_report("", 0755, &failed), 0);
        ck_assert_int_eq(mkdir_parents("", 0755), -EINVAL);

        /* A file in the way: the strict form names it, the plain one keeps
         * its old answer for a file at the very end. */
        snprintf(file, sizeof file, "%s/a/file", root);
        put_file(file);
        ck_assert_int_eq(mkdir_parents(file, 0755), 0);
        ck_assert_int_eq(mkdir_parents_report(file, 0755, &failed), -EEXIST);
        ck_assert_str_eq(failed, file);
        free(failed);
        failed = NULL;
        snprintf(p, sizeof p, "%s/a/file/sub/x", root);
        ck_assert_int_eq(mkdir_parents_report(p, 0755, &failed), -EEXIST);
        ck_assert_str_eq(failed, file);
        free(failed);
        ck_assert_int_eq(mkdir_parents(p, 0755), -ENOTDIR);
        remove_root();
}
END_TEST

/* ---- UTF-8 ------------------------------------------------------------------ */

START_TEST(test_utf8)
{
        struct strbuf b = STRBUF_INIT;

        ck_assert(utf8_valid("", 0));
        ck_assert(utf8_valid("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12));
        ck_assert(!utf8_valid("\xc0\xaf", 2));          /* overlong */
        ck_assert(!utf8_valid("\xed\xa0\x80", 3));      /* a surrogate */
        ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4));  /* past U+10FFFF */
        ck_assert(!utf8_valid("\xe2\x82", 2));          /* cut short */
        ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
        sb_puts(&b, ">");
        utf8_sanitize(&b, "a\xff" "b\xe2\x82", 5);
        ck_assert_str_eq(sb_str(&b), ">a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
        sb_free(&b);
}
END_TEST

/* ---- fs_job ------------------------------------------------------------------ */

static int stop_after(struct fs_job *j, char **reterr_msg)
{
        int *left = (int *)j->userdata;

        if (--*left > 0)
                return 0;
        return fs_fail(reterr_msg, -ETIME, "stopped");
}

START_TEST(test_fs_job)
{
        int left = 2;
        struct fs_job j = { .stop = stop_after, .userdata = &left }, k = { 0 };
        char *err = NULL;
        unsigned calls = 0;

        /* fs_tick asks every 64 units of work; fs_tick_now at once. */
        while (fs_tick(&j, &err) == 0)
                calls++;
        ck_assert_uint_eq(calls, 2 * 64 - 1);
        ck_assert(j.stopped);
        ck_assert_str_eq(err, "stopped");
        /* The first failure wins; fs_reword replaces only the one named. */
        ck_assert_int_eq(fs_fail(&err, -EIO, "later"), -EIO);
        ck_assert_str_eq(err, "stopped");
        ck_assert_int_eq(fs_reword(&err, -EIO, -EEXIST, "other words"), -EIO);
        ck_assert_str_eq(err, "stopped");
        ck_assert_int_eq(fs_reword(&err, -EEXIST, -EEXIST, "it exists (%d)", 1), -EEXIST);
        ck_assert_str_eq(err, "it exists (1)");
        fs_clear(&err);
        ck_assert_int_eq(fs_fail_errno(&err, -ENOENT, "cannot open %s", "x"), -ENOENT);
        ck_assert_str_eq(err, "cannot open x: no such file or directory");
        fs_clear(&err);
        ck_assert_ptr_null(err);
        /* Without a place for the message, only the errno comes back,
         * and errno itself is left alone. */
        errno = EPERM;
        ck_assert_int_eq(fs_fail_errno(NULL, 5, "cannot %s", "y"), -EIO);
        ck_assert_int_eq(errno, EPERM);

        /* Without a stop callback nothing ever stops. */
        for (int i = 0; i < 1000; i++)
                ck_assert_int_eq(fs_tick(&k, &err), 0);
        ck_assert_int_eq(fs_tick_now(&k, &err), 0);
        ck_assert_ptr_null(err);
}
END_TEST

/* ---- stopping the file-system actions --------------------------------------- */

static void copy_folder_stopped(int why, enum action_status want_status, const char *want_why)
{
        struct action_ctx ctx = make_ctx();
        struct action_result ar = { 0 };
        char src[512], want[2048];

        make_root_tree(src, sizeof src, 200);
        answer = why;
        asked = 0;
        ck_assert_int_eq(run("CopyFolder", &ctx, &ar, "[{\"source\": \"%s\", \"destination\": \"%s/dst\"}]", src,
                             root), 0);
        ck_assert_int_gt(asked, 0);
        ck_assert_int_eq(ar.status, want_status);
        snprintf(want, sizeof want, "entry 1 (%s): %s", src, want_why);
        ck_assert_str_eq(ar.message, want);
        ck_assert_uint_eq(json_array_size(ar.outputs), 0);
        action_result_clear(&ar);
        /* The copy was built beside its target: nothing is left behind. */
        snprintf(want, sizeof want, "%s/dst", root);
        ck_assert_int_eq(access(want, F_OK), -1);
        remove_root();
}

START_TEST(test_fs_deadline)
{
        copy_folder_stopped(ACTION_CANCEL_DEADLINE, ACTION_TIMED_OUT, "the step timed out before the entry was done");
}
END_TEST

START_TEST(test_fs_interrupt)
{
        copy_folder_stopped(ACTION_CANCEL_INTERRUPT, ACTION_FAILED,
                            "the run was interrupted before the entry was done");
}
END_TEST

START_TEST(test_fs_goes_on)
{
        struct action_ctx ctx = make_ctx();
        struct action_result ar = { 0 };
        char src[512];

        make_root_tree(src, sizeof src, 200);
        answer = -1;
        ck_assert_int_eq(run("CopyFolder", &ctx, &ar, "[{\"source\": \"%s\", \"destination\": \"%s/dst\"}]", src,
                             root), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        ck_assert_uint_eq(json_array_size(ar.outputs), 1);
        action_result_clear(&ar);
        remove_root();
}
END_TEST

static int64_t no_time_left(void *userdata)
{
        (void)userdata;
        return 0;
}

/* A module reads no clock for its deadline and stops only when the
 * runner says so: with no time left but no stop_reason callback, it
 * goes on to the end. */
START_TEST(test_fs_deadline_without_runner)
{
        struct action_ctx ctx = make_ctx();
        struct action_result ar = { 0 };
        char src[512];

        make_root_tree(src, sizeof src, 200);
        ctx.stop_reason = NULL;
        ctx.time_left_ms = no_time_left;
        ck_assert_int_eq(action_stop_reason(&ctx), -1);
        ck_assert_int_eq(action_time_left_ms(&ctx), 0);
        ck_assert_int_eq(run("ListFiles", &ctx, &ar, "[{\"path\": \"%s\", \"recursive\": true}]", src), 0);
        ck_assert_int_eq(ar.status, ACTION_SUCCESS);
        action_result_clear(&ar);
        remove_root();
}
END_TEST

static void extract_stopped(int why, enum action_status want_status, const char *want_why)
{
        struct action_ctx ctx = make_ctx();
        struct action_result ar = { 0 };
        char cmd[1024];

        make_root_tree(cmd, sizeof cmd, 3);
        snprintf(cmd, sizeof cmd, "tar -C '%s' -cf '%s/a.tar' src", root, root);
        ck_assert_int_eq(system(cmd), 0);
        answer = why;
        ck_assert_int_eq(run("ExtractArchive", &ctx, &ar, "[{\"source\": \"%s/a.tar\", \"destination\": \"%s/out\"}]",
                             root, root), 0);
        ck_assert_int_eq(ar.status, want_status);
        ck_assert_ptr_nonnull(ar.message);
        ck_assert_ptr_nonnull(strstr(ar.message, want_why));
        action_result_clear(&ar);
        remove_root();
}

START_TEST(test_extract_deadline)
{
        extract_stopped(ACTION_CANCEL_DEADLINE, ACTION_TIMED_OUT,
                        "step timed out after the deadline; extraction stopped here");
}
END_TEST

START_TEST(test_extract_interrupt)
{
        extract_stopped(ACTION_CANCEL_INTERRUPT, ACTION_FAILED, "the run was interrupted; extraction stopped here");
}
END_TEST

/* ---- one boolean reader -------------------------------------------------------- */

/* CreateFolder on the existing root with `overwrite` given as `value`. */
static void create_root_folder(const char *value, enum action_status want_status, const char *want_why)
{
        struct action_ctx ctx = make_ctx();
        struct action_result ar = { 0 };
        char want[2048];

        answer = -1;
        ck_assert_int_eq(run("CreateFolder", &ctx, &ar, "[{\"path\": \"%s\"%s%s}]", root,
                             *value ? ", \"overwrite\": " : "", value), 0);
        ck_assert_int_eq(ar.status, want_status);
        if (want_why) {
                snprintf(want, sizeof want, "entry 1 (%s): %s", root, want_why);
                ck_assert_str_eq(ar.message, want);
        }
        action_result_clear(&ar);
}

START_TEST(test_fs_booleans)
{
        make_root();
        /* "false" as a chained value gives it is false, in any case. */
        create_root_folder("\"FALSE\"", ACTION_FAILED, "the folder already exists and overwrite is false");
        create_root_folder("false", ACTION_FAILED, "the folder already exists and overwrite is false");
        /* Absent, null or "": the default (true). */
        create_root_folder("null", ACTION_SUCCESS, NULL);
        create_root_folder("\"\"", ACTION_SUCCESS, NULL);
        create_root_folder("", ACTION_SUCCESS, NULL);
        create_root_folder("\"True\"", ACTION_SUCCESS, NULL);
        /* Anything else is refused rather than guessed. */
        create_root_folder("5", ACTION_FAILED, "overwrite must be true or false");
        create_root_folder("\"yes\"", ACTION_FAILED, "overwrite must be true or false");
        remove_root();
}
END_TEST

/* ---- the error channel of the dlopen'd libraries ------------------------------ */

START_TEST(test_error_channel)
{
        unsigned char d[HASH_MAX_LEN];
        struct hash_ctx *h = NULL;
        char *msg = NULL;
        size_t n;

        ck_assert_int_eq(hash_begin(_HASH_ALGO_MAX, &h, &msg), -EINVAL);
        ck_assert_str_eq(msg, strerror(EINVAL));
        free(msg);
        msg = NULL;
        ck_assert_int_eq(hash_file(HASH_SHA256, "/nonexistent/opentoe", d, &n, &msg), -ENOENT);
        ck_assert_str_eq(msg, strerror(ENOENT));
        free(msg);
        msg = NULL;
        ck_assert_int_eq(hash_buffer(HASH_SHA256, "abc", 3, d, &n, &msg), 0);
        ck_assert_ptr_null(msg);
        ck_assert_uint_eq(n, 32);
        /* NULL: no message wanted. */
        ck_assert_int_eq(hash_begin(_HASH_ALGO_MAX, &h, NULL), -EINVAL);
        ck_assert_ptr_nonnull(archive_api_get(&msg));
        ck_assert_ptr_null(msg);
        ck_assert_ptr_nonnull(archive_api_get(NULL));
}
END_TEST

/* The one loader: required symbols must resolve, optional ones may be
 * missing (NULL); its messages name the library and the package. */
struct libc_api {
        size_t (*strlen)(const char *);
        int (*missing)(void);
};

START_TEST(test_dl_load)
{
        static const char *const names[] = { "no-such-library.so.0", "libc.so.6" };
        const struct dl_sym want_missing[] = {
                DL_SYM(struct libc_api, strlen, "strlen"),
                DL_SYM(struct libc_api, missing, "opentoe_no_such_symbol"),
        };
        const struct dl_sym optional_missing[] = {
                DL_SYM(struct libc_api, strlen, "strlen"),
                DL_SYM_OPTIONAL(struct libc_api, missing, "opentoe_no_such_symbol"),
        };
        struct libc_api a = { 0 };
        char *msg = NULL, text[64];
        void *h = NULL;

        ck_assert_int_eq(dl_load(names, 2, want_missing, 2, &a, "libc", "libc6", &h, &msg), -ENOSYS);
        ck_assert_str_eq(msg, "libc lacks opentoe_no_such_symbol; install a newer libc6");
        free(msg);
        msg = NULL;
        ck_assert_int_eq(dl_load(names, 1, want_missing, 2, &a, "nothing", "nothing0", &h, &msg), -ENOSYS);
        ck_assert_msg(strncmp(msg, "cannot load nothing (", 21) == 0, "got '%s'", msg);
        ck_assert_msg(strstr(msg, "); install the Debian package nothing0"), "got '%s'", msg);
        free(msg);
        msg = NULL;
        memset(&a, 0xff, sizeof a); /* the optional one must be set to NULL */
        ck_assert_int_eq(dl_load(names, 2, optional_missing, 2, &a, "libc", "libc6", &h, &msg), 0);
        ck_assert_ptr_null(msg);
        ck_assert_ptr_null(a.missing);
        ck_assert_uint_eq(a.strlen("four"), 4);
        /* go_strerror: strerror's words, lower-cased first, either sign. */
        ck_assert_str_eq(go_strerror(-ENOENT, text, sizeof text), "no such file or directory");
        ck_assert_str_eq(go_strerror(EACCES, text, sizeof text), "permission denied");
}
END_TEST

#include "check_main.h"
CHECK_MAIN_TESTS("fsutil", "fs", 60,
                 test_mkdir_parents,
                 test_utf8,
                 test_fs_job,
                 test_fs_deadline,
                 test_fs_interrupt,
                 test_fs_goes_on,
                 test_fs_deadline_without_runner,
                 test_extract_deadline,
                 test_extract_interrupt,
                 test_fs_booleans,
                 test_error_channel,
                 test_dl_load)
