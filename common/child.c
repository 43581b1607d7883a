/* child.c: waiting for a child of ours, and watching one by its pidfd on
 * an sd-event loop (the agent's job runner and deliveries, opentoe vm's
 * qemu): one reaping for them all. */
#include "child.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "sdevent_dl.h"

int child_wait(pid_t pid, int *ret_status)
{
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_status)
                *ret_status = ws;
        return 0;
}

static void child_watch_close(struct child_watch *w)
{
        w->src = w->src ? sdev->source_disable_unref(w->src) : NULL;
        w->pidfd = safe_close(w->pidfd);
}

/* The pidfd is readable once the child has ended. */
static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct child_watch *w = userdata;
        int ws = 0;
        (void)s, (void)fd, (void)revents;
        pid_t p = waitpid(w->pid, &ws, WNOHANG);
        if (p == 0 || (p < 0 && errno == EINTR))
                return 0;
        child_watch_close(w);
        w->on_end(w->userdata, ws);
        return 0;
}

int child_watch_start(struct child_watch *w, sd_event *e, pid_t pid, int pidfd,
                      void (*on_end)(void *userdata, int wait_status), void *userdata)
{
        *w = (struct child_watch){ .pid = pid, .pidfd = pidfd, .on_end = on_end, .userdata = userdata };
        if (w->pidfd < 0)
                w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        int r = w->pidfd < 0 ? -errno : sdev->add_io(e, &w->src, w->pidfd, EPOLLIN, on_pidfd, w);
        if (r < 0) {
                child_watch_close(w);
                return r;
        }
        return 0;
}

void child_watch_stop(struct child_watch *w)
{
        child_watch_close(w);
        w->pid = 0;
}
