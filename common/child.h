/* child.h: a child process of ours: waited for (EINTR retried), or
 * watched by its pidfd on an sd-event loop and reaped there. */
#pragma once

#include <sys/types.h>

#include <systemd/sd-event.h>

/* Blocks until pid has ended (an interrupted wait is made again).
 * 0 and its wait status in *ret_status (may be NULL), or a negative errno. */
int child_wait(pid_t pid, int *ret_status);

/* A child watched on a loop: on_end runs once, when it has ended and was
 * reaped, with its wait status (0 when it could not be waited for).  By
 * then the pidfd is closed and the source gone; `pid` stays, for what is
 * left of its process group, until child_watch_stop(). */
struct child_watch {
        pid_t pid;      /* 0: none */
        int pidfd;      /* -1: none */
        sd_event_source *src;
        void (*on_end)(void *userdata, int wait_status);
        void *userdata;
};

#define CHILD_WATCH_INIT { .pid = 0, .pidfd = -1 }

/* Watches pid on e.  pidfd is its pidfd (taken over), or -1 to open one
 * here.  0, or a negative errno: then only `pid` is set (the caller
 * still owns the child: it kills and waits for it). */
int child_watch_start(struct child_watch *w, sd_event *e, pid_t pid, int pidfd,
                      void (*on_end)(void *userdata, int wait_status), void *userdata);

/* Forgets the child, reaped or not (it is not killed): no source, no
 * pidfd, pid 0.  Idempotent. */
void child_watch_stop(struct child_watch *w);
