/* interrupt.h: SIGTERM, SIGINT and SIGHUP during a run.  The handler only
 * records the signal; the process runner sees it, stops the running
 * step's process group (SIGTERM, then SIGKILL after the grace period),
 * and the runner fails the remaining steps without running them, writes
 * its reports, and exits with 128 + the signal. */
#pragma once

#include <signal.h>

/* 0, or the number of the first signal received. */
extern volatile sig_atomic_t interrupt_signal;

/* Installs the handlers (without SA_RESTART, so waits are woken). */
void interrupt_install(void);
