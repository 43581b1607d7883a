/* vm_image.c: the images of `opentoe vm`, cached in
 * $XDG_CACHE_HOME/opentoe/vm/<name>/ (root.img, vmlinuz, initrd.img and
 * image.json, which names them: packaging/vm/CONTRACT.md), and their build
 * by the guest side's script (packaging/vm/build-image.sh, installed as
 * $(pkglibexecdir)/vm-build-image): found through OPENTOE_VM_BUILD_IMAGE,
 * the installed path, or the source tree opentoe was built from; run
 * under a lock into a temporary folder that is renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "cleanup.h"
#include "errmsg.h"
#include "fswalk.h"
#include "mkdirs.h"
#include "pathsearch.h"
#include "strbuf.h"
#include "tunables.h"
#include "vmhost.h"

#define IMAGE_JSON_MAX (64 * 1024)
#define APPEND_MAX 4096

void vm_image_free(struct vm_image *img)
{
        free_many(img->name, img->dir, img->kernel, img->initrd, img->root, img->append, img->version);
        memset(img, 0, sizeof *img);
}

bool vm_image_name_ok(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > 64 || name[0] == '.')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '.' || *p == '-' || *p == '_'))
                        return false;
        return true;
}

static char *cache_root(void)
{
        const char *x = getenv("XDG_CACHE_HOME");
        if (x && x[0] == '/')
                return xasprintf("%s/opentoe/vm", x);
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
                struct passwd *pw = getpwuid(geteuid());
                home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : "/";
        }
        return xasprintf("%s/.cache/opentoe/vm", strcmp(home, "/") ? home : "");
}

char *vm_image_dir(const char *name)
{
        _cleanup_free_ char *root = cache_root();
        return xasprintf("%s/%s", root, name);
}

/* A file image.json names: a plain name in the image's folder, a
 * regular file there. */
static int image_file(int dfd, const char *dir, json_t *j, const char *key, char **ret, char **reterr_msg)
{
        const char *v = json_string_value(json_object_get(j, key));
        struct stat st;
        if (!v || !*v || strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, "..") || strlen(v) > 255)
                return errmsg_set(reterr_msg, -EINVAL, "%s/image.json: '%s' must name a file of the image", dir,
                                  key);
        if (fstatat(dfd, v, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return errmsg_set(reterr_msg, -ENOENT, "%s/image.json names %s '%s', which is not a file there",
                                  dir, key, v);
        *ret = xasprintf("%s/%s", dir, v);
        return 0;
}

static int load_from(const char *dir, const char *name, struct vm_image *ret, char **reterr_msg)
{
        struct vm_image img = { 0 };
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? -ENOENT
                                       : errmsg_set(reterr_msg, -errno, "cannot open %s: %s", dir, strerror(errno));
        _cleanup_close_ int fd = openat(dfd, "image.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT
                                       : errmsg_set(reterr_msg, -errno, "cannot open %s/image.json: %s", dir,
                                                    strerror(errno));
        _cleanup_free_ char *buf = xmalloc(IMAGE_JSON_MAX + 1);
        size_t len = 0;
        for (;;) {
                ssize_t k = read(fd, buf + len, IMAGE_JSON_MAX + 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return errmsg_set(reterr_msg, -errno, "cannot read %s/image.json: %s", dir, strerror(errno));
                if (k == 0)
                        break;
                len += (size_t)k;
                if (len > IMAGE_JSON_MAX)
                        return errmsg_set(reterr_msg, -EFBIG, "%s/image.json is larger than %d bytes", dir,
                                          IMAGE_JSON_MAX);
        }
        json_error_t je;
        json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        int r = 0;
        if (!json_is_object(j)) {
                r = errmsg_set(reterr_msg, -EINVAL, "%s/image.json is not a JSON object%s%s", dir, j ? "" : ": ",
                               j ? "" : je.text);
                goto out;
        }
        const char *append = json_string_value(json_object_get(j, "append"));
        if (!append || strlen(append) > APPEND_MAX || strpbrk(append, "\n\r")) {
                r = errmsg_set(reterr_msg, -EINVAL, "%s/image.json needs 'append', one line of at most %d bytes",
                               dir, APPEND_MAX);
                goto out;
        }
        if ((r = image_file(dfd, dir, j, "kernel", &img.kernel, reterr_msg)) < 0 ||
            (r = image_file(dfd, dir, j, "initrd", &img.initrd, reterr_msg)) < 0 ||
            (r = image_file(dfd, dir, j, "root", &img.root, reterr_msg)) < 0)
                goto out;
        img.append = xstrdup(append);
        const char *v = json_string_value(json_object_get(j, "opentoe"));
        img.version = v && strlen(v) <= 64 ? xstrdup(v) : NULL;
        img.name = xstrdup(name);
        img.dir = xstrdup(dir);
        *ret = img;
        img = (struct vm_image){ 0 };
out:
        json_decref(j);
        vm_image_free(&img);
        return r;
}

int vm_image_load(const char *name, struct vm_image *ret, char **reterr_msg)
{
        _cleanup_free_ char *dir = vm_image_dir(name);
        return load_from(dir, name, ret, reterr_msg);
}

/* The build script: $OPENTOE_VM_BUILD_IMAGE, the installed one, or the
 * source tree's. */
static char *build_script(void)
{
        const char *e = getenv("OPENTOE_VM_BUILD_IMAGE");
        if (e && *e)
                return xstrdup(e);
#ifdef OPENTOE_PKGLIBEXECDIR
        if (path_is_executable(OPENTOE_PKGLIBEXECDIR "/vm-build-image"))
                return xstrdup(OPENTOE_PKGLIBEXECDIR "/vm-build-image");
#endif
#ifdef OPENTOE_SRCDIR
        if (access(OPENTOE_SRCDIR "/packaging/vm/build-image.sh", R_OK) == 0)
                return xstrdup(OPENTOE_SRCDIR "/packaging/vm/build-image.sh");
#endif
        return NULL;
}

/* Runs the script (its output on our stderr), SIGINT and SIGTERM left
 * to it: its end is ours to clean up after. */
static int run_script(const char *script, const char *out, const char *deb, char **reterr_msg)
{
        const char *argv[8];
        size_t n = 0;
        if (!path_is_executable(script))
                argv[n++] = "bash";
        argv[n++] = script;
        argv[n++] = "--out";
        argv[n++] = out;
        if (deb) {
                argv[n++] = "--deb";
                argv[n++] = deb;
        }
        argv[n] = NULL;
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_term;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGINT, &ign, &old_int);
        sigaction(SIGTERM, &ign, &old_term);
        pid_t pid = fork();
        if (pid == 0) {
                struct sigaction dfl = { .sa_handler = SIG_DFL };
                sigemptyset(&dfl.sa_mask);
                sigaction(SIGINT, &dfl, NULL);
                sigaction(SIGTERM, &dfl, NULL);
                if (dup2(2, 1) < 0)
                        _exit(127);
                execvp(argv[0], (char **)argv);
                dprintf(2, "opentoe vm: cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        int ws = 0, r = 0;
        if (pid < 0)
                r = errmsg_set(reterr_msg, -errno, "cannot fork: %s", strerror(errno));
        else
                (void)child_wait(pid, &ws);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        if (r < 0)
                return r;
        if (WIFSIGNALED(ws))
                return errmsg_set(reterr_msg, -EINTR, "%s was stopped by signal %d", script, WTERMSIG(ws));
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                return errmsg_set(reterr_msg, -EIO, "%s failed (exit status %d)", script, WEXITSTATUS(ws));
        return 0;
}

int vm_image_build(const char *prog, const char *name, bool rebuild, const char *deb, char **reterr_msg)
{
        _cleanup_free_ char *root = cache_root(), *dir = vm_image_dir(name);
        _cleanup_free_ char *script = build_script(), *failed = NULL;
        _cleanup_free_ char *lock = xasprintf("%s/%s.lock", root, name);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.build.XXXXXX", root, name);
        struct vm_image img = { 0 };
        struct fs_job job = { 0 };
        int r;
        /* The script builds Debian 12; another image is one a user
         * placed in the cache. */
        if (strcmp(name, VM_IMAGE_BUILT))
                return errmsg_set(reterr_msg, -ENOENT, "only the image %s can be built; %s is not in the cache (%s)",
                                  VM_IMAGE_BUILT, name, dir);
        if (!script)
                return errmsg_set(reterr_msg, -ENOENT,
                                  "no image build script: set OPENTOE_VM_BUILD_IMAGE, or install opentoe's "
                                  "vm-build-image");
        if (access(script, R_OK) < 0)
                return errmsg_set(reterr_msg, -errno, "the image build script %s: %s", script, strerror(errno));
        if (mkdir_parents_report(root, 0700, &failed) < 0)
                return errmsg_set(reterr_msg, -errno, "cannot make %s: %s", failed ? failed : root,
                                  strerror(errno));
        _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lfd < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open %s: %s", lock, strerror(errno));
        if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
                fprintf(stderr, "%s vm: another build of %s is running; waiting for it\n", prog, name);
                while (flock(lfd, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return errmsg_set(reterr_msg, -errno, "cannot lock %s: %s", lock,
                                                  strerror(errno));
        }
        if (!rebuild && vm_image_load(name, &img, NULL) == 0) {
                vm_image_free(&img);
                return 0; /* built meanwhile */
        }
        if (!mkdtemp(tmp))
                return errmsg_set(reterr_msg, -errno, "cannot make a folder in %s: %s", root, strerror(errno));
        fprintf(stderr, "%s vm: building the image %s with %s (this needs network and root, and takes minutes)\n",
                prog, name, script);
        int64_t t0 = monotonic_ms();
        r = run_script(script, tmp, deb, reterr_msg);
        if (r == 0)
                r = load_from(tmp, name, &img, reterr_msg);
        if (r == -ENOENT && reterr_msg && !*reterr_msg)
                r = errmsg_set(reterr_msg, r, "%s wrote no image.json", script);
        vm_image_free(&img);
        if (r == 0) {
                /* In place at once: over the old image when rebuilding
                 * (exchanged, then the old one removed). */
                if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) < 0) {
                        if (errno != ENOENT || rename(tmp, dir) < 0)
                                r = errmsg_set(reterr_msg, -errno, "cannot move the image into %s: %s", dir,
                                               strerror(errno));
                }
        }
        /* What is at tmp now: the failed build, or the old image; and
         * the lock packaging/vm/build-image.sh takes beside its --out. */
        _cleanup_free_ char *script_lock = xasprintf("%s.lock", tmp);
        (void)unlink(script_lock);
        char *err = NULL;
        if (fs_remove_tree(&job, AT_FDCWD, tmp, tmp, &err) < 0) {
                fprintf(stderr, "%s vm: %s\n", prog, err);
                free(err);
        }
        if (r == 0) {
                int64_t s = (monotonic_ms() - t0 + 500) / 1000;
                fprintf(stderr, "%s vm: built the image %s in %lld min %02lld s (%s)\n", prog, name,
                        (long long)(s / 60), (long long)(s % 60), dir);
        }
        return r;
}
