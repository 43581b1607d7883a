/* guardian.h: no step outlives the run that started it.
 *
 * The guard is a small process forked when a run starts.  The runner
 * tells it, through a pipe, which process group is running a step (0
 * when none is).  If the runner dies (kill -9, a crash) the pipe reaches
 * end-of-file, and the guard stops that group (SIGTERM, the grace
 * period, SIGKILL) and exits; when the run ends normally the guard just
 * exits.  A step's own background processes that outlive a finished step
 * are left alone, as AWSTOE leaves them.
 *
 * If the guard died too, the resumed run stops the group itself: the
 * group is recorded (running.json) with the boot, the session and the
 * start time of its leader, so a process that merely reuses the number
 * is never taken for it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Forks the guard.  Returns 0, or a negative errno (the run goes on
 * without one; the resumed run still stops what was recorded). */
int guardian_start(int64_t grace_ms);
/* The group now running a step (0: none) and its leader's start time.
 * Returns 0, or a negative errno when the guard is gone (the run goes
 * on; the recorded group is still stopped by a resumed run). */
int guardian_watch(pid_t pgid, unsigned long long leader_start);
/* The run is over: the guard exits without stopping anything. */
void guardian_end(void);

/* This boot's id (/proc/sys/kernel/random/boot_id), or "" if unknown. */
void proc_boot_id(char buf[64]);
/* A process's start time in clock ticks since boot (/proc/PID/stat),
 * or 0 when it does not exist. */
unsigned long long proc_start_time(pid_t pid);

/* Stops the group a dead run left, if it still runs in this boot and is
 * still that group: when a process has the leader's number it must have
 * the leader's start time; without one, the members must be in the
 * run's session (`sid`) and have started after the leader.  They get
 * SIGTERM, then SIGKILL after `grace_ms`.  Returns how many processes
 * were found (0: nothing was left). */
int procgroup_stop_leftover(pid_t pgid, unsigned long long leader_start, pid_t sid, const char *boot_id,
                            int64_t grace_ms);
