/* interrupt.h: SIGTERM, SIGINT and SIGHUP during a run.  They are blocked
 * (interrupt_install) so that they wait, pending, until the runner's
 * event loop reads them from its signal sources and records the first in
 * interrupt_signal; the runner then stops the running step's process
 * group (SIGTERM, then SIGKILL after the grace period), fails the
 * remaining steps without running them, writes its reports, and exits
 * with 128 + the signal. */
#pragma once

#include <signal.h>

/* The stopping signals, in the order they are watched. */
#define INTERRUPT_SIGNALS { SIGTERM, SIGINT, SIGHUP }

/* 0, or the number of the first signal received. */
extern volatile sig_atomic_t interrupt_signal;

/* Blocks the stopping signals, so none is lost or acted on before the
 * runner's loop reads it (children and the guard unblock them). */
void interrupt_install(void);

/* Records `sig` unless a signal was recorded before. */
void interrupt_note(int sig);

/* A stopping signal that has arrived but not been read yet, or 0. */
int interrupt_pending(void);
