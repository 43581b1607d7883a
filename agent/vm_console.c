/* vm_console.c: the console port of `opentoe vm` on the terminal
 * (standard error: standard output holds the summary alone, as for `opentoe
 * run`).  The guest's forwarder writes one JSON object per line ({"boot",
 * "message", "document", "phase", "step", "status"}); each message is
 * printed (its control characters made visible: the guest is not trusted
 * with the terminal), and, on a terminal, a progress line below them is
 * drawn again (document, phase, step, reboots so far, elapsed time); when
 * it is not one, a plain line says each change of that progress.  Reboots
 * are the distinct boot ids seen, less one.  Also the bounded line
 * splitter the signal port uses too. */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "strbuf.h"
#include "vmhost.h"

void vm_lines_feed(struct vm_lines *l, const char *data, size_t n,
                   void (*line)(void *userdata, char *s, size_t len, bool cut), void *userdata)
{
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t)(nl - data) : n;
                if (!l->buf)
                        l->buf = xmalloc(VM_LINE_MAX + 1);
                if (!l->dropping) {
                        size_t room = VM_LINE_MAX - l->len;
                        size_t k = take < room ? take : room;
                        memcpy(l->buf + l->len, data, k);
                        l->len += k;
                        if (k < take) {
                                /* Past the bound: what there is goes out
                                 * now, the rest of the line is dropped. */
                                l->buf[l->len] = 0;
                                line(userdata, l->buf, l->len, true);
                                l->len = 0;
                                l->dropping = true;
                        }
                }
                if (!nl)
                        return;
                if (!l->dropping) {
                        l->buf[l->len] = 0;
                        line(userdata, l->buf, l->len, false);
                }
                l->len = 0;
                l->dropping = false;
                data = nl + 1;
                n -= take + 1;
        }
}

void vm_lines_free(struct vm_lines *l)
{
        free(l->buf);
        l->buf = NULL;
        l->len = 0;
}

void vm_console_init(struct vm_console *c, FILE *out, bool tty)
{
        memset(c, 0, sizeof *c);
        c->out = out;
        c->tty = tty;
}

/* The guest's text as the terminal may show it: control characters
 * (escape sequences above all) as \xNN, tabs kept. */
static void put_clean(struct strbuf *b, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];
                if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                        sb_printf(b, "\\x%02x", ch);
                else
                        sb_putc(b, (char)ch);
        }
}

static int columns(const struct vm_console *c)
{
        struct winsize ws;
        if (ioctl(fileno(c->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
                return ws.ws_col;
        return 80;
}

static void progress_text(const struct vm_console *c, struct strbuf *b)
{
        const char *d = c->document, *p = c->phase, *s = c->step;
        sb_puts(b, "[vm] ");
        if (!d && !p && !s)
                sb_puts(b, "booting");
        if (d) {
                sb_puts(b, "document ");
                put_clean(b, d, strlen(d));
        }
        if (p) {
                sb_puts(b, d ? ", phase " : "phase ");
                put_clean(b, p, strlen(p));
        }
        if (s) {
                sb_puts(b, d || p ? ", step " : "step ");
                put_clean(b, s, strlen(s));
                if (c->status) {
                        sb_puts(b, " (");
                        put_clean(b, c->status, strlen(c->status));
                        sb_puts(b, ")");
                }
        }
        sb_printf(b, ", reboots %u", c->reboots);
}

static void draw(struct vm_console *c)
{
        if (!c->tty)
                return;
        struct strbuf b = { 0 };
        progress_text(c, &b);
        sb_printf(&b, ", %ld:%02ld", c->elapsed / 60, c->elapsed % 60);
        /* One screen line, or the next \r would not reach its start. */
        size_t max = (size_t)columns(c) - 1, len = strlen(sb_str(&b));
        if (len > max) {
                len = max;
                while (len > 0 && ((unsigned char)sb_str(&b)[len] & 0xc0) == 0x80)
                        len--;
        }
        fprintf(c->out, "\r\033[K%.*s", (int)len, sb_str(&b));
        fflush(c->out);
        c->shown = true;
        sb_free(&b);
}

void vm_console_clear(struct vm_console *c)
{
        if (c->shown) {
                fputs("\r\033[K", c->out);
                fflush(c->out);
                c->shown = false;
        }
}

static void print_line(struct vm_console *c, const char *text)
{
        vm_console_clear(c);
        fprintf(c->out, "%s\n", text);
        draw(c);
        if (!c->tty)
                fflush(c->out);
}

void vm_console_say(struct vm_console *c, const char *fmt, ...)
{
        va_list ap;
        struct strbuf b = { 0 };
        va_start(ap, fmt);
        sb_vprintf(&b, fmt, ap);
        va_end(ap);
        print_line(c, sb_str(&b));
        sb_free(&b);
}

void vm_console_tick(struct vm_console *c, long elapsed)
{
        c->elapsed = elapsed;
        draw(c);
}

/* Sets *field to the object's string `key` when present; true when it
 * changed. */
static bool take(json_t *o, const char *key, char **field)
{
        const char *v = json_string_value(json_object_get(o, key));
        if (!v || (*field && !strcmp(*field, v)))
                return false;
        free(*field);
        *field = xstrdup(v);
        return true;
}

/* The guest's path of a document as the user gave it on the host. */
static bool take_document(struct vm_console *c, json_t *o)
{
        const char *v = json_string_value(json_object_get(o, "document"));
        if (!v)
                return false;
        size_t n = strlen(v);
        for (size_t i = 0; i < c->n_docs; i++) {
                size_t k = strlen(c->doc_tar[i]);
                if (n >= k && !strcmp(v + n - k, c->doc_tar[i]) && (n == k || v[n - k - 1] == '/')) {
                        v = c->doc_host[i];
                        break;
                }
        }
        if (c->document && !strcmp(c->document, v))
                return false;
        free(c->document);
        c->document = xstrdup(v);
        return true;
}

static void note_boot(struct vm_console *c, const char *boot)
{
        for (size_t i = 0; i < c->n_boots; i++)
                if (!strcmp(c->boots[i], boot))
                        return;
        if (c->n_boots == VM_BOOTS_MAX)
                return; /* more boots than any run makes: counted no further */
        c->boots[c->n_boots++] = xstrdup(boot);
        if (c->n_boots > 1) {
                c->reboots = (unsigned)c->n_boots - 1;
                vm_console_say(c, "opentoe vm: the guest rebooted (boot %zu)", c->n_boots);
        }
}

static void on_line(void *userdata, char *s, size_t len, bool cut)
{
        struct vm_console *c = userdata;
        json_error_t je;
        json_t *o = cut ? NULL : json_loadb(s, len, 0, &je);
        struct strbuf b = { 0 };
        if (!json_is_object(o)) {
                /* Not the forwarder's JSON: shown as it came. */
                put_clean(&b, s, len);
                if (cut)
                        sb_puts(&b, " [line cut]");
                if (len > 0)
                        print_line(c, sb_str(&b));
                goto out;
        }
        const char *boot = json_string_value(json_object_get(o, "boot"));
        if (boot && *boot && strlen(boot) <= 64) /* _BOOT_ID is 32 hex digits */
                note_boot(c, boot);
        bool changed = take_document(c, o);
        changed |= take(o, "phase", &c->phase);
        changed |= take(o, "step", &c->step);
        changed |= take(o, "status", &c->status);
        const char *m = json_string_value(json_object_get(o, "message"));
        if (m) {
                put_clean(&b, m, strlen(m));
                print_line(c, sb_str(&b));
        }
        if (changed) {
                if (c->tty)
                        draw(c);
                else {
                        struct strbuf p = { 0 };
                        progress_text(c, &p);
                        print_line(c, sb_str(&p));
                        sb_free(&p);
                }
        }
out:
        sb_free(&b);
        json_decref(o);
}

void vm_console_feed(struct vm_console *c, const char *data, size_t n)
{
        vm_lines_feed(&c->lines, data, n, on_line, c);
}

void vm_console_free(struct vm_console *c)
{
        vm_console_clear(c);
        vm_lines_free(&c->lines);
        free_many(c->document, c->phase, c->step, c->status);
        for (size_t i = 0; i < c->n_boots; i++)
                free(c->boots[i]);
        c->n_boots = 0;
}
