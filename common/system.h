/* system.h: the one door from opentoe to the machine itself: the reboot,
 * the init system (systemd or not), the crontab, and the package managers
 * UpdateOS drives.  Every command of that kind is found here and run from
 * here, and every system path it reads (/run/systemd/system,
 * /run/reboot-required, the pending-resume folder) is named through here.
 *
 * OPENTOE_TEST_SYSTEM_ROOT (test-only) replaces the machine: commands are
 * then taken from <root>/bin only (never from the host), and system paths
 * are read under <root>.  The test suites always set it, so no test can
 * reboot, reconfigure or update the machine it runs on. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The test root, or NULL on a real machine. */
const char *sys_test_root(void);

/* A system path (absolute) as opentoe must use it: under the test root
 * when there is one.  Allocated. */
char *sys_path(const char *abs);

/* The program `name` (systemctl, reboot, crontab, apt-get, ...): from the
 * test root's bin/ only, else from /usr/sbin, /usr/bin, /sbin, /bin.
 * Returns 0 with *ret_path (allocated) or -ENOENT. */
int sys_find(const char *name, char **ret_path);

/* True when systemd is the init system (/run/systemd/system is a folder). */
bool sys_has_systemd(void);

/* Runs argv (argv[0] found by sys_find) with stdin from `input` (NULL:
 * /dev/null), its stdout into *ret_out when asked (allocated, may be
 * NULL), its stderr to opentoe's; waits for it.  Returns its exit status
 * (0-255), or a negative errno with *reterr_msg set when it could not
 * run or was killed. */
int sys_run(const char *const argv[], const char *input, char **ret_out, char **reterr_msg);

/* Forks a detached process (its own session, no descriptors but
 * /dev/null) that waits until this process has exited (at most 60 s),
 * then `delay_s` seconds, then execs argv (argv[0] a path from
 * sys_find).  Run by systemd as a service (INVOCATION_ID), that waiting
 * process is a transient unit of its own (systemd-run), so that it
 * outlives the service's cgroup; the detached process when systemd-run
 * fails.  Returns 0 once it is forked, or a negative errno with
 * *reterr_msg set. */
int sys_spawn_after_exit(const char *const argv[], long delay_s, char **reterr_msg);
