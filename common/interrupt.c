/* interrupt.c: the stopping signals of a run: blocking them until the
 * runner's loop reads them, and the record of the first one. */
#include "interrupt.h"

#include <stddef.h>

volatile sig_atomic_t interrupt_signal;

static const int stopping[] = INTERRUPT_SIGNALS;

static void stopping_set(sigset_t *set)
{
        sigemptyset(set);
        for (size_t i = 0; i < sizeof stopping / sizeof stopping[0]; i++)
                sigaddset(set, stopping[i]);
}

void interrupt_install(void)
{
        sigset_t set;

        stopping_set(&set);
        sigprocmask(SIG_BLOCK, &set, NULL);
}

void interrupt_note(int sig)
{
        if (!interrupt_signal)
                interrupt_signal = sig;
}

int interrupt_pending(void)
{
        sigset_t pending;

        if (sigpending(&pending) < 0)
                return 0;
        for (size_t i = 0; i < sizeof stopping / sizeof stopping[0]; i++)
                if (sigismember(&pending, stopping[i]) == 1)
                        return stopping[i];
        return 0;
}
