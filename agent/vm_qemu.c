/* vm_qemu.c: qemu for `opentoe vm`: the accelerator (KVM only when it
 * really runs a stock kernel: kvm-pvm does not), the command line the
 * guest image expects (packaging/vm/CONTRACT.md: q35, direct kernel boot,
 * three virtio disks, two virtio-serial ports on sockets the host
 * listens on, no network, no display), and the process: its own process
 * group, killed with opentoe (PR_SET_PDEATHSIG), so that no qemu is
 * ever left behind. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "errmsg.h"
#include "strbuf.h"
#include "system.h"
#include "vmhost.h"

/* Does KVM create a VM here?  A stock KVM answers API version 12 and
 * makes one; anything less is no KVM to rely on. */
static bool kvm_probe(const char *dev, char **ret_why)
{
        _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                *ret_why = xasprintf("%s cannot be opened read-write (%s)", dev, strerror(errno));
                return false;
        }
        int v = ioctl(fd, KVM_GET_API_VERSION, 0);
        if (v != KVM_API_VERSION) {
                *ret_why = xasprintf("%s does not answer as KVM", dev);
                return false;
        }
        int vm = ioctl(fd, KVM_CREATE_VM, 0);
        if (vm < 0) {
                *ret_why = xasprintf("%s cannot create a VM (%s)", dev, strerror(errno));
                return false;
        }
        close(vm);
        return true;
}

int vm_accel_choose(enum vm_accel *ret, char **ret_why, char **reterr_msg)
{
        const char *force = getenv("OPENTOE_VM_ACCEL");
        if (force && *force) {
                if (!strcmp(force, "kvm") || !strcmp(force, "tcg")) {
                        *ret = force[0] == 'k' ? VM_ACCEL_KVM : VM_ACCEL_TCG;
                        *ret_why = xstrdup("OPENTOE_VM_ACCEL says so");
                        return 0;
                }
                return errmsg_set(reterr_msg, -EINVAL, "OPENTOE_VM_ACCEL is kvm or tcg, not '%s'", force);
        }
        _cleanup_free_ char *dev = sys_path("/dev/kvm"), *pvm = sys_path("/sys/module/kvm_pvm");
        struct stat st;
        char *why = NULL;
        if (stat(pvm, &st) == 0) {
                /* kvm-pvm opens and creates VMs, but a stock kernel
                 * hangs under it. */
                *ret = VM_ACCEL_TCG;
                *ret_why = xasprintf("this host's KVM is kvm-pvm (%s), which cannot run a stock kernel", pvm);
                return 0;
        }
        if (kvm_probe(dev, &why)) {
                *ret = VM_ACCEL_KVM;
                *ret_why = xasprintf("%s works", dev);
                return 0;
        }
        *ret = VM_ACCEL_TCG;
        *ret_why = why;
        return 0;
}

const char *vm_qemu_program(void)
{
        const char *q = getenv("OPENTOE_VM_QEMU");
        return q && *q ? q : "qemu-system-x86_64";
}

/* A value inside a qemu option list: commas are doubled. */
static char *opt_escape(const char *s)
{
        struct strbuf b = { 0 };
        for (; *s; s++) {
                sb_putc(&b, *s);
                if (*s == ',')
                        sb_putc(&b, ',');
        }
        return sb_take(&b);
}

struct argv_builder {
        char **v;
        size_t n, cap;
};

static void add(struct argv_builder *a, char *s)
{
        if (a->n + 2 > a->cap) {
                a->cap = a->cap ? a->cap * 2 : 32;
                a->v = xrealloc(a->v, a->cap * sizeof *a->v);
        }
        a->v[a->n++] = s;
        a->v[a->n] = NULL;
}

char **vm_qemu_argv(const struct vm_image *img, const char *work, enum vm_accel accel)
{
        struct argv_builder a = { 0 };
        _cleanup_free_ char *w = opt_escape(work);
        add(&a, xstrdup(vm_qemu_program()));
        static const char *const fixed[] = { "-no-user-config", "-nodefaults", "-machine", "q35", "-m", "1024",
                                             "-smp", "2", "-display", "none", "-nic", "none" };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                add(&a, xstrdup(fixed[i]));
        add(&a, xstrdup("-accel"));
        add(&a, xstrdup(accel == VM_ACCEL_KVM ? "kvm" : "tcg"));
        /* TCG: every feature it emulates (as packaging/vm/dev-run.sh). */
        add(&a, xstrdup("-cpu"));
        add(&a, xstrdup(accel == VM_ACCEL_KVM ? "host" : "max"));
        add(&a, xstrdup("-kernel"));
        add(&a, xstrdup(img->kernel));
        add(&a, xstrdup("-initrd"));
        add(&a, xstrdup(img->initrd));
        add(&a, xstrdup("-append"));
        add(&a, xstrdup(img->append));
        add(&a, xstrdup("-serial"));
        add(&a, xasprintf("file:%s/serial.log", work));
        /* vda, vdb, vdc in this order. */
        add(&a, xstrdup("-drive"));
        add(&a, xasprintf("file=%s/root.qcow2,format=qcow2,if=virtio", w));
        add(&a, xstrdup("-drive"));
        add(&a, xasprintf("file=%s/in.tar,format=raw,if=virtio,readonly=on", w));
        add(&a, xstrdup("-drive"));
        add(&a, xasprintf("file=%s/out.tar,format=raw,if=virtio", w));
        add(&a, xstrdup("-device"));
        add(&a, xstrdup("virtio-serial-pci"));
        static const char *const ports[] = { "console", "signal" };
        for (size_t i = 0; i < ELEMENTSOF(ports); i++) {
                /* The host listens; qemu connects at its start. */
                add(&a, xstrdup("-chardev"));
                add(&a, xasprintf("socket,id=%s,path=%s/%s.sock", ports[i], w, ports[i]));
                add(&a, xstrdup("-device"));
                add(&a, xasprintf("virtserialport,chardev=%s,name=org.opentoe.%s", ports[i], ports[i]));
        }
        return a.v;
}

int vm_qemu_spawn(char **argv, int logfd, pid_t *ret_pid, int *ret_pidfd, char **reterr_msg)
{
        _cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0)
                return errmsg_set(reterr_msg, -errno, "cannot open /dev/null: %s", strerror(errno));
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return errmsg_set(reterr_msg, -errno, "cannot fork: %s", strerror(errno));
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                setpgid(0, 0);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                /* opentoe died before the line above: no orphan qemu. */
                if (getppid() != parent)
                        _exit(127);
                if (dup2(devnull, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                dprintf(2, "opentoe vm: cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        /* Both sides set the group, so that a kill right after fork
         * reaches it. */
        setpgid(pid, pid);
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                int e = errno;
                vm_qemu_kill(pid);
                waitpid(pid, NULL, 0);
                return errmsg_set(reterr_msg, -e, "cannot watch qemu (pidfd_open): %s", strerror(e));
        }
        *ret_pid = pid;
        *ret_pidfd = pidfd;
        return 0;
}

void vm_qemu_kill(pid_t pid)
{
        if (pid <= 0)
                return;
        if (kill(-pid, SIGKILL) < 0)
                kill(pid, SIGKILL);
}
