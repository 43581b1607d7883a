/* live.c: the terminal's view of a run (see live.h): the ended steps'
 * lines, the line in place for the step in flight and its timer,
 * --verbose's echo of console.log. */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "atomicfile.h"
#include "loopinfo.h"
#include "sdevent_dl.h"
#include "strbuf.h"
#include "tunables.h"

#define TICK_US (1000000 / LIVE_HZ)

static unsigned term_width(int fd)
{
        struct winsize ws;
        if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

/* Appends `s` to `b` with at most *room columns, dropping control
 * characters (a line of output may hold escapes) and never cutting a
 * UTF-8 sequence; one column per character. */
static void put_cut(struct strbuf *b, const char *s, size_t len, unsigned *room)
{
        for (size_t i = 0; i < len && *room > 0;) {
                unsigned char c = (unsigned char)s[i];
                size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                if (i + n > len)
                        break;
                if (c < 0x20 || c == 0x7f) {
                        sb_putc(b, ' ');
                } else
                        sb_append(b, s + i, n);
                i += n;
                (*room)--;
        }
}

static void clear_line(struct live *l)
{
        if (l->drawn)
                (void)write_all(l->fd, "\r\033[K", 4);
        l->drawn = false;
}

/* The line in place, written at once ("\r", the text, then erase to the
 * end of the line: no blank frame between two). */
static void draw(struct live *l)
{
        if (l->mode != LIVE_TTY || !l->running)
                return;
        unsigned room = term_width(l->fd) - 1;
        struct strbuf b = STRBUF_INIT, t = STRBUF_INIT;
        int64_t ms = monotonic_ms() - l->start_ms;
        sb_printf(&t, "[ .. ] %s", l->label);
        if (l->n_iterations > 0) {
                sb_printf(&t, "  iteration %ld/%ld", l->iteration + 1, l->n_iterations);
                if (l->value)
                        sb_printf(&t, " (%s)", l->value);
        }
        if (l->max_attempts > 1)
                sb_printf(&t, "  attempt %u/%u", l->attempt, l->max_attempts);
        sb_printf(&t, "  %lld.%llds", (long long)(ms / 1000), (long long)(ms % 1000 / 100));
        sb_puts(&b, "\r");
        if (l->color)
                sb_puts(&b, "\033[1m");
        put_cut(&b, t.s, t.len, &room);
        if (l->color)
                sb_puts(&b, "\033[0m");
        if (l->last[0] && room > 3) {
                sb_puts(&b, "  ");
                room -= 2;
                if (l->color)
                        sb_puts(&b, "\033[2m");
                put_cut(&b, l->last, strlen(l->last), &room);
                if (l->color)
                        sb_puts(&b, "\033[0m");
        }
        sb_puts(&b, "\033[K");
        (void)write_all(l->fd, b.s, b.len);
        l->drawn = true;
        sb_free(&t);
        sb_free(&b);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata)
{
        draw(userdata);
        sdev->source_set_time(src, usec + TICK_US);
        return 0;
}

void live_open(struct live *l, enum live_mode mode, bool verbose, struct sd_event *event)
{
        const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
        bool dumb = term && !strcmp(term, "dumb");
        *l = (struct live){ .mode = mode, .verbose = verbose, .fd = STDERR_FILENO, .event = event, .iteration = -1 };
        l->color = mode == LIVE_TTY && !dumb && !(nc && nc[0]);
        if (mode == LIVE_TTY && (dumb || !event || !sdev ||
                                 sdev->add_time(event, &l->timer, CLOCK_MONOTONIC, 0, TICK_US / 10, on_tick, l) < 0 ||
                                 sdev->source_set_enabled(l->timer, SD_EVENT_OFF) < 0))
                l->mode = LIVE_LINES;
}

void live_close(struct live *l)
{
        clear_line(l);
        if (l->timer)
                l->timer = sdev->source_disable_unref(l->timer);
        free(l->label);
        free(l->value);
        l->label = l->value = NULL;
        l->running = false;
}

void live_step_begin(struct live *l, const struct vm *vm, uint32_t index)
{
        if (l->mode != LIVE_TTY)
                return;
        const struct program *p = vm->prog;
        const struct prog_step *ps = &p->steps[index];
        if (!l->running || vm->steps[index].attempts <= 1) {
                free(l->label);
                l->label = xasprintf("%s/%s", p->phases[ps->phase].name, ps->name);
                l->start_ms = monotonic_ms();
                l->last[0] = 0;
        }
        l->attempt = vm->steps[index].attempts;
        l->max_attempts = ps->max_attempts;
        l->n_iterations = loop_count(ps->loop);
        l->iteration = -1;
        l->running = true;
        uint64_t now = 0;
        if (sdev->now(l->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        sdev->source_set_time(l->timer, now + TICK_US);
        sdev->source_set_enabled(l->timer, SD_EVENT_ON);
}

void live_iteration(struct live *l, const struct vm *vm, uint32_t index, long iteration)
{
        if (l->mode != LIVE_TTY)
                return;
        l->iteration = iteration;
        free(l->value);
        l->value = loop_value(vm->prog->steps[index].loop, iteration);
}

void live_output(struct live *l, const char *line, size_t len)
{
        if (l->mode != LIVE_TTY)
                return;
        if (len >= sizeof l->last)
                len = sizeof l->last - 1;
        memcpy(l->last, line, len);
        l->last[len] = 0;
}

void live_console_line(struct live *l, const char *line, size_t len)
{
        if (!l->verbose)
                return;
        clear_line(l);
        struct strbuf b = STRBUF_INIT;
        sb_append(&b, line, len);
        sb_putc(&b, '\n');
        (void)write_all(l->fd, b.s, b.len);
        sb_free(&b);
}

void live_step_ended(struct live *l, const struct vm *vm, uint32_t index, double seconds, const char *stderr_tail)
{
        if (l->mode == LIVE_OFF)
                return;
        clear_line(l);
        l->running = false;
        if (l->timer)
                sdev->source_set_enabled(l->timer, SD_EVENT_OFF);
        const struct program *p = vm->prog;
        const struct vm_step *s = &vm->steps[index];
        const char *mark = s->state == STEP_SUCCESS   ? "ok  "
                           : s->state == STEP_SKIPPED ? "skip"
                           : s->state == STEP_IGNORED ? "ign "
                                                      : "FAIL";
        const char *on = "", *off = "";
        if (l->color) {
                on = s->state == STEP_SUCCESS ? "\033[32m" : s->state == STEP_FAILED ? "\033[31m" : "\033[33m";
                off = "\033[0m";
        }
        fflush(stderr);
        struct strbuf b = STRBUF_INIT;
        sb_printf(&b, "[%s%s%s] %s/%s  %s  attempt %u/%u  %.2fs\n", on, mark, off, p->phases[p->steps[index].phase].name,
                  p->steps[index].name, step_state_name(s->state), s->attempts, p->steps[index].max_attempts, seconds);
        if ((s->state == STEP_FAILED || s->state == STEP_IGNORED) && stderr_tail) {
                size_t len = strlen(stderr_tail);
                /* The last lines, at most about 2 KiB. */
                const char *from = len > 2048 ? stderr_tail + len - 2048 : stderr_tail;
                sb_puts(&b, "       stderr (last lines):\n");
                for (const char *q = from; *q;) {
                        const char *nl = strchr(q, '\n');
                        size_t n = nl ? (size_t)(nl - q) : strlen(q);
                        sb_printf(&b, "       | %.*s\n", (int)n, q);
                        q += n + (nl ? 1 : 0);
                }
        }
        (void)write_all(l->fd, b.s, b.len);
        sb_free(&b);
}
