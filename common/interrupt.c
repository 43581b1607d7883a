/* interrupt.c: records the first stopping signal a run receives. */
#include "interrupt.h"

#include <string.h>

volatile sig_atomic_t interrupt_signal;

static void on_signal(int sig)
{
        if (!interrupt_signal)
                interrupt_signal = sig;
}

void interrupt_install(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}
