/* render.c: the values of constants at run time.  {{ }} references are
 * substituted with the VM's parameters, loop registers and other steps'
 * inputs and outputs (a value of a disableLogging step restored from a
 * saved state, one with a NUL byte, or a result over 16 MiB fails the
 * step, through vm->render_error); input trees become the JSON a module
 * receives; and a step's inputs get the defaults and types of its action
 * spec.  vm.c calls it; it calls back into nothing but the host's SSM
 * resolver: {{ aws:ssm: }} references are resolved here, while a step's
 * inputs are rendered (before its action runs); a SecureString marks
 * the step private (vm_step_private()) and a failed lookup fails it
 * with the service's error. */
#include "render.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "errmsg.h"
#include "strbuf.h"
#include "template.h"
#include "vm.h"

/* Rendered strings are bounded: a reference loop cannot grow memory. */
#define MAX_RENDERED (16u * 1024u * 1024u)

/* ---- references ------------------------------------------------------- */

/* Records why a value of the current step could not be rendered (the
 * first reason wins); ACT, PRED or ENDSTEP turn it into the step's
 * failure. */
static void render_fail(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void render_fail(struct vm *vm, const char *fmt, ...)
{
        if (vm->render_error)
                return;
        va_list ap;
        va_start(ap, fmt);
        errmsg_vset(&vm->render_error, -EINVAL, fmt, ap);
        va_end(ap);
}

/* A rendering in progress: bytes are kept up to MAX_RENDERED, and all of
 * them are counted, so an overflow can say how big the value was. */
struct render {
        struct strbuf b;
        size_t total;
};

static void put(struct render *rd, const char *s, size_t n)
{
        rd->total += n;
        if (rd->total <= MAX_RENDERED)
                sb_append(&rd->b, s, n);
}

/* The text of a JSON value as it appears inside a string. */
static void append_value(struct render *rd, const json_t *v)
{
        char buf[32];
        if (!v || json_is_null(v))
                return;
        if (json_is_string(v)) {
                put(rd, json_string_value(v), json_string_length(v));
                return;
        }
        if (json_is_integer(v)) {
                int n = snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
                put(rd, buf, (size_t)n);
                return;
        }
        if (json_is_true(v) || json_is_false(v)) {
                put(rd, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
                return;
        }
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s)
                put(rd, s, strlen(s));
        free(s);
}

static const json_t *entry_value(const json_t *arr, json_int_t idx, const char *key)
{
        if (!json_is_array(arr))
                return NULL;
        json_t *e = json_array_get(arr, idx < 0 ? 0 : (size_t)idx);
        return json_object_get(e, key);
}

/* A reference to another step's value: "{{ build.Step.outputs.x }}". */
static void render_step_value(struct vm *vm, struct render *rd, json_int_t s, json_int_t idx, const char *key,
                              bool out)
{
        const struct prog_step *ps = &vm->prog->steps[s];
        const struct vm_step *st = &vm->steps[s];
        const char *phase = vm->prog->phases[ps->phase].name;
        if (st->redacted) {
                render_fail(vm, "{{ %s.%s.%s.%s }} is not available: step %s %s, so its %s were not "
                            "saved when the run was interrupted, and this resumed run does not have them",
                            phase, ps->name, out ? "outputs" : "inputs", key, ps->name,
                            ps->disable_logging ? "has disableLogging" : "used a SecureString parameter",
                            out ? "outputs" : "inputs");
                return;
        }
        /* A value of a step that resolved a SecureString may hold it:
         * the step that uses it is private too. */
        if (st->secret && vm->cur_step < vm->prog->n_steps)
                vm->steps[vm->cur_step].secret = true;
        const json_t *v = entry_value(out ? st->outputs : st->inputs, idx, key);
        if (json_is_string(v)) {
                const char *nul = memchr(json_string_value(v), '\0', json_string_length(v));
                if (nul) {
                        render_fail(vm, "{{ %s.%s.%s.%s }} holds a NUL byte (at byte %zu of %zu), which cannot be "
                                    "passed on to a step; remove it in step %s (for example with tr -d '\\000')",
                                    phase, ps->name, out ? "outputs" : "inputs", key,
                                    (size_t)(nul - json_string_value(v)), json_string_length(v), ps->name);
                        return;
                }
        }
        append_value(rd, v);
}

/* One GetParameter through the host: the value (allocated) or NULL, the
 * step's failure recorded.  A SecureString makes the current step
 * private. */
static char *ssm_lookup(struct vm *vm, const char *shown, const char *name, bool hide_name, bool *ret_secure)
{
        char *val = NULL, *err = NULL;
        bool secure = false;
        const char *why;
        if (ssm_name_check(name, &why) < 0) {
                if (hide_name)
                        render_fail(vm, "%s: the name it holds (a SecureString's value, not shown) does not name a "
                                    "Systems Manager parameter: %s", shown, why);
                else
                        render_fail(vm, "%s: '%s' does not name a Systems Manager parameter: %s", shown, name, why);
                return NULL;
        }
        if (!vm->host || !vm->host->ssm) {
                render_fail(vm, "%s cannot be resolved here: this run has no access to Parameter Store", shown);
                return NULL;
        }
        int r = vm->host->ssm(vm->host->userdata, name, &val, &secure, &err);
        if (r < 0 || !val) {
                if (hide_name)
                        render_fail(vm, "%s: the parameter it names (a SecureString's value, not shown) could not be "
                                    "read", shown);
                else
                        render_fail(vm, "%s: %s", shown, err ? err : "the parameter could not be read");
                free(err);
                free(val);
                return NULL;
        }
        free(err);
        if (ret_secure)
                *ret_secure = secure;
        if (secure && vm->cur_step != UINT32_MAX && vm->cur_step < vm->prog->n_steps)
                vm->steps[vm->cur_step].secret = true;
        return val;
}

/* {{ aws:ssm:NAME }}, or {{ aws:ssm:resolve(X) }}: X a parameter or
 * constant, or an aws:ssm: reference, whose value is the name. */
static void render_ssm(struct vm *vm, struct render *rd, const struct kseg *g)
{
        if (vm->render_error)
                return; /* the step fails already: ask nothing more */
        if (!g->resolve) {
                _cleanup_free_ char *shown = xasprintf("{{ aws:ssm:%s }}", g->text);
                _cleanup_free_ char *v = ssm_lookup(vm, shown, g->text, false, NULL);
                if (v)
                        put(rd, v, strlen(v));
                return;
        }
        _cleanup_free_ char *shown = xasprintf("{{ aws:ssm:resolve(%s) }}", g->text);
        const char *x = g->text;
        size_t n = strlen(x);
        while (*x == ' ' || *x == '\t')
                x++, n--;
        while (n && (x[n - 1] == ' ' || x[n - 1] == '\t'))
                n--;
        _cleanup_free_ char *inner = xstrndup(x, n), *name = NULL;
        bool hide = false;
        if (!strncmp(inner, "aws:ssm:", 8)) {
                /* A SecureString holding a name: never say it. */
                name = ssm_lookup(vm, shown, inner + 8, false, &hide);
                if (!name)
                        return;
        } else {
                for (size_t i = 0; i < vm->prog->n_vars && !name; i++)
                        if (!strcmp(vm->prog->vars[i].name, inner))
                                name = xstrdup(json_is_string(vm->vars[i]) ? json_string_value(vm->vars[i]) : "");
                if (!name) {
                        render_fail(vm, "%s: '%s' is not a parameter or constant of this document", shown, inner);
                        return;
                }
        }
        _cleanup_free_ char *v = ssm_lookup(vm, shown, name, hide, NULL);
        if (v)
                put(rd, v, strlen(v));
}

static void render_segment(struct vm *vm, struct render *rd, const struct kseg *g)
{
        const struct program *p = vm->prog;
        switch (g->kind) {
        case KSEG_TEXT:
                put(rd, g->text, g->len);
                break;
        case KSEG_VAR:
                if (g->index < p->n_vars)
                        append_value(rd, vm->vars[g->index]);
                break;
        case KSEG_REG:
                /* Loop variables: an index or a value, never a collection. */
                if (g->index < p->n_regs && !json_is_object(vm->regs[g->index]) && !json_is_array(vm->regs[g->index]))
                        append_value(rd, vm->regs[g->index]);
                break;
        case KSEG_OUTPUT:
        case KSEG_INPUT:
                if (g->index < p->n_steps && g->text)
                        render_step_value(vm, rd, g->index, g->entry, g->text, g->kind == KSEG_OUTPUT);
                break;
        case KSEG_SSM:
                if (g->text)
                        render_ssm(vm, rd, g);
                break;
        case _KSEG_MAX:
                break;
        }
}

static json_t *render_template(struct vm *vm, const struct knode *t)
{
        struct render rd = { STRBUF_INIT, 0 };
        for (size_t i = 0; i < t->tmpl.n_segs; i++)
                render_segment(vm, &rd, &t->tmpl.segs[i]);
        json_t *r;
        if (rd.total > MAX_RENDERED) {
                render_fail(vm, "a rendered value is %zu bytes; the limit is %u bytes (16 MiB)", rd.total,
                            MAX_RENDERED);
                r = json_string("");
        } else
                r = json_stringn(sb_str(&rd.b), rd.b.len);
        sb_free(&rd.b);
        return r ? r : json_string("");
}

json_t *vm_render_node(struct vm *vm, const struct knode *n)
{
        json_t *r;
        switch (n->kind) {
        case KN_BOOL:
                return json_boolean(n->b);
        case KN_INT:
                return json_integer(n->i);
        case KN_REAL:
                return json_real(n->f);
        case KN_STRING:
                r = json_stringn(n->str.s, n->str.len);
                return r ? r : json_string("");
        case KN_TEMPLATE:
                return render_template(vm, n);
        case KN_LIST:
                r = json_array();
                for (size_t i = 0; i < n->list.n; i++)
                        json_array_append_new(r, vm_render_node(vm, &n->list.items[i]));
                return r;
        case KN_MAP:
                r = json_object();
                for (size_t i = 0; i < n->list.n; i++)
                        json_object_set_new(r, n->list.keys[i], vm_render_node(vm, &n->list.items[i]));
                return r;
        default:
                return json_null();
        }
}

json_t *vm_render(struct vm *vm, const struct kconst *k)
{
        switch (k->kind) {
        case K_STRING:
        case K_TEMPLATE:
        case K_INPUTS:
                return vm_render_node(vm, &k->node);
        default:
                return json_null();
        }
}

/* ---- inputs: shape and defaults ---------------------------------------- */

static json_t *zero_value(enum input_type t)
{
        switch (t) {
        case IN_STRING:
                return json_string("");
        case IN_BOOL:
                return json_false();
        case IN_INT:
                return json_integer(0);
        default:
                return json_null();
        }
}

/* Coerces a rendered value to the input's type, as AWSTOE's decoder would:
 * "true" for booleans, "5" for integers, any scalar for strings. */
static json_t *coerce(const struct input_field *f, json_t *v)
{
        switch (f->type) {
        case IN_STRING:
                if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
                        struct render rd = { STRBUF_INIT, 0 };
                        append_value(&rd, v);
                        json_t *s = json_string(sb_str(&rd.b));
                        sb_free(&rd.b);
                        return s;
                }
                return json_is_null(v) ? json_string("") : json_incref(v);
        case IN_BOOL:
                if (json_is_string(v))
                        return json_boolean(!strcasecmp(json_string_value(v), "true"));
                return json_incref(v);
        case IN_INT:
                if (json_is_string(v))
                        return json_integer(strtoll(json_string_value(v), NULL, 10));
                return json_incref(v);
        default:
                return json_incref(v);
        }
}

/* One entry with every documented input in spec order: given values
 * coerced, absent ones as their default or zero value. */
static json_t *materialise_entry(const struct action_spec *a, const json_t *given)
{
        if (!json_is_object(given))
                return json_incref((json_t *)given);
        json_t *o = json_object();
        for (size_t i = 0; i < a->n_fields; i++) {
                const struct input_field *f = &a->fields[i];
                json_t *v = json_object_get(given, f->name);
                if (v)
                        json_object_set_new(o, f->name, coerce(f, v));
                else if (f->default_json)
                        json_object_set_new(o, f->name, json_loads(f->default_json, JSON_DECODE_ANY, NULL));
                else
                        json_object_set_new(o, f->name, zero_value(f->type));
        }
        return o;
}

json_t *vm_materialise(const struct action_spec *a, json_t *rendered)
{
        if (!a || a->shape == SHAPE_EXPRESSION)
                return json_incref(rendered);
        if (a->shape == SHAPE_MAP) {
                if (!json_is_null(rendered))
                        return materialise_entry(a, rendered);
                json_t *empty = json_object();
                json_t *r = materialise_entry(a, empty);
                json_decref(empty);
                return r;
        }
        json_t *out = json_array(), *e;
        size_t i;
        json_array_foreach(rendered, i, e) json_array_append_new(out, materialise_entry(a, e));
        return out;
}
