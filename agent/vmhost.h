/* vmhost.h: what the files of `opentoe vm` share (opentoe-vm(1); the interface
 * with the guest image is packaging/vm/CONTRACT.md, the repository's
 * packaging/vm/).  cmd_vm.c has the flags, vm_run.c the run (its work
 * folder and its event loop), vm_image.c the image cache and its build,
 * vm_disks.c in.tar and out.tar, vm_qemu.c qemu's command line and
 * process, vm_console.c the console port's lines on the terminal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- the image cache (vm_image.c) ---- */

/* The one image the build script makes. */
#define VM_IMAGE_BUILT "debian-12"

/* An image as image.json describes it, its files checked to exist. */
struct vm_image {
        char *name;             /* "debian-12" */
        char *dir;              /* $XDG_CACHE_HOME/opentoe/vm/<name> */
        char *kernel, *initrd, *root;   /* absolute paths inside dir */
        char *append;           /* the kernel command line */
        char *version;          /* the opentoe inside, or NULL */
};
void vm_image_free(struct vm_image *img);
/* True for a name an image may have (letters, digits, '.', '-', '_'). */
bool vm_image_name_ok(const char *name);
/* The cache folder of `name`: an allocated path. */
char *vm_image_dir(const char *name);
/* Reads the cached image `name`.  0; -ENOENT when it is not built (no
 * image.json); another negative errno with a message when it is there
 * but not usable. */
int vm_image_load(const char *name, struct vm_image *ret, char **reterr_msg);
/* Builds `name` with the build script (under a lock: a second builder
 * waits, then finds it built unless `rebuild`), into a temporary folder
 * renamed into place.  `deb` (or NULL) is the package to put inside.
 * Says on stderr that it builds, and how long it took. */
int vm_image_build(const char *prog, const char *name, bool rebuild, const char *deb, char **reterr_msg);

/* ---- the disks (vm_disks.c) ---- */

/* What goes into in.tar. */
struct vm_job {
        const char *const *documents;   /* host paths, checked already */
        size_t n_documents;
        const char *phases;             /* or NULL */
        const char *const *parameters;  /* "k=v" each */
        size_t n_parameters;
        const char *execution_id;
        long timeout_seconds;
        const char *extra_dir;          /* a folder put in as extra/, or NULL */
        const char *repo_dir;           /* ... as repo/, or NULL */
};
/* The documents' names in in.tar: documents/<name> each, or, when two
 * share a name, the second as documents/2-<name>.  A vector of
 * job->n_documents strings (and NULL) for strv_free(). */
char **vm_document_names(const struct vm_job *job);
/* Writes `name` (in.tar) in the folder `dirfd`: job.json, documents/,
 * extra/ and repo/. */
int vm_write_in_tar(int dirfd, const char *name, const struct vm_job *job, char **reterr_msg);
/* Creates `name` (out.tar): VM_OUT_DISK_SIZE bytes of zeros (sparse). */
#define VM_OUT_DISK_SIZE (256LL << 20)
int vm_make_out_disk(int dirfd, const char *name, char **reterr_msg);

/* What the guest handed back in out.tar. */
struct vm_result {
        char *summary;          /* summary.json's text, or NULL */
        int status;             /* the run's exit status; -1 when absent */
        char *toe_dir;          /* the first TOE_* folder's name, or NULL */
        bool journal;           /* journal.txt was written to the output */
        char *error;            /* the guest's own failure ("error"), or NULL */
};
void vm_result_free(struct vm_result *r);
/* Reads out.tar (`name` in `dirfd`): the TOE_* folders are made in
 * `outfd` (never over an existing one), journal.txt replaces the one
 * there, summary.json, status and error are kept in *r.  Every entry is
 * checked: a path that is absolute, holds "..", or is not under a name
 * the contract knows; a link, device or fifo; more entries or bytes than
 * the bounds: refused, and the archive with it (-EPERM and why). */
int vm_read_out_tar(int dirfd, const char *name, int outfd, struct vm_result *r, char **reterr_msg);

/* ---- qemu (vm_qemu.c) ---- */

enum vm_accel { VM_ACCEL_KVM, VM_ACCEL_TCG };
/* KVM when /dev/kvm opens read-write and a probe says it runs stock
 * kernels (kvm-pvm does not: /sys/module/kvm_pvm means TCG), else TCG;
 * OPENTOE_VM_ACCEL=kvm|tcg decides instead.  *ret_why (allocated) says
 * why.  -EINVAL for a bad OPENTOE_VM_ACCEL. */
int vm_accel_choose(enum vm_accel *ret, char **ret_why, char **reterr_msg);
/* The program: $OPENTOE_VM_QEMU, else qemu-system-x86_64. */
const char *vm_qemu_program(void);
/* The qemu command line for a run in the work folder `work` (absolute):
 * a NULL-ended vector to strv_free(). */
char **vm_qemu_argv(const struct vm_image *img, const char *work, enum vm_accel accel);
/* Starts argv in its own process group, killed with its parent
 * (PR_SET_PDEATHSIG), stdin from /dev/null, stdout and stderr to
 * `logfd`.  The pid, and a pidfd for the loop. */
int vm_qemu_spawn(char **argv, int logfd, pid_t *ret_pid, int *ret_pidfd, char **reterr_msg);
/* SIGKILL to the process group of `pid` (its leader and whatever it
 * started). */
void vm_qemu_kill(pid_t pid);

/* ---- the console port (vm_console.c) ---- */

#define VM_LINE_MAX 65536       /* a longer line from the guest is cut */
#define VM_BOOTS_MAX 1024       /* distinct boot ids remembered */

/* Lines from a byte stream, each at most VM_LINE_MAX (the rest of a
 * longer one is dropped, and `cut` says so). */
struct vm_lines {
        char *buf;
        size_t len;
        bool dropping;          /* inside a line past the bound */
};
/* Feeds n bytes; calls `line` for each complete line (without its
 * newline, NUL-terminated; `cut` when it was longer than the bound). */
void vm_lines_feed(struct vm_lines *l, const char *data, size_t n,
                   void (*line)(void *userdata, char *s, size_t len, bool cut), void *userdata);
void vm_lines_free(struct vm_lines *l);

struct vm_console {
        FILE *out;
        bool tty;               /* keep a progress line (stderr is a terminal) */
        bool shown;             /* the progress line is on the screen now */
        struct vm_lines lines;
        char *document, *phase, *step, *status;
        /* A document the guest names by its in.tar name (after the
         * guest's own folder) is shown as the host path it came from. */
        char *const *doc_tar;
        const char *const *doc_host;
        size_t n_docs;
        char *boots[VM_BOOTS_MAX];
        size_t n_boots;
        unsigned reboots;
        long elapsed;           /* seconds, for the progress line */
};
void vm_console_init(struct vm_console *c, FILE *out, bool tty);
/* Bytes from the console port. */
void vm_console_feed(struct vm_console *c, const char *data, size_t n);
/* One line to show above the progress line (host messages too). */
void vm_console_say(struct vm_console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The progress line drawn again (the elapsed time changed). */
void vm_console_tick(struct vm_console *c, long elapsed);
/* Takes the progress line off the screen (before the summary). */
void vm_console_clear(struct vm_console *c);
void vm_console_free(struct vm_console *c);

/* ---- the run (vm_run.c) ---- */

struct vm_run_options {
        const char *program;
        const char *image;              /* "debian-12" */
        struct vm_job job;
        const char *output;             /* where TOE_* goes */
        bool keep;
        long timeout_seconds;
};
/* The whole of `vm run` once the documents are valid: image, work
 * folder, boot, results.  Returns the exit status. */
int vmhost_run(const struct vm_run_options *o);
