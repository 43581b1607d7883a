/* check_inputs.c: a step's `inputs` against its action's spec (the tables
 * generated from schemas/actions): map or list shape, required keys,
 * types, enum values, mutually exclusive keys, platform-only keys, and
 * unknown keys with a suggestion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chk_state.h"
#include "strbuf.h"
#include "suggest.h"

static bool has_ref(const struct ynode *n)
{
        return n->kind == YN_SCALAR && strstr(n->str, "{{") != NULL;
}

static bool is_scalar_value(const struct ynode *n)
{
        return n->kind == YN_SCALAR && !yn_is_null(n);
}

static void type_error(struct checker *c, const struct ynode *v, const struct input_field *f,
                       const struct action_spec *a, const char *help)
{
        char buf[64];
        chk_diag(c, DIAG_ERROR, "input-type", v, help, "input '%s' of %s must be %s, found %s", f->name, a->name,
                 input_type_describe(f->type), v->kind == YN_SCALAR && !yn_is_null(v) ? chk_show(v, buf, sizeof buf)
                                                                                        : yn_describe(v));
}

static void check_value(struct checker *c, const struct action_spec *a, const struct input_field *f,
                        const struct ynode *v)
{
        bool b;
        long long i;
        switch (f->type) {
        case IN_STRING:
                if (v->kind != YN_SCALAR)
                        type_error(c, v, f, a, NULL);
                else if (yn_is_null(v) && (f->flags & INF_REQUIRED))
                        type_error(c, v, f, a, NULL);
                break;
        case IN_BOOL:
                if (yn_as_bool(v, &b) || has_ref(v))
                        break;
                if (v->kind == YN_SCALAR && (!strcasecmp(v->str, "true") || !strcasecmp(v->str, "false")))
                        break;
                if (yn_is_null(v) && !(f->flags & INF_REQUIRED))
                        break;
                type_error(c, v, f, a, "write true or false");
                return;
        case IN_INT:
                if (yn_as_int(v, &i) || has_ref(v))
                        break;
                if (yn_is_null(v) && !(f->flags & INF_REQUIRED))
                        break;
                if (v->kind == YN_SCALAR && yn_is_quoted(v)) {
                        char *end;
                        (void)strtoll(v->str, &end, 10);
                        if (v->len && !*end)
                                break;
                }
                type_error(c, v, f, a, NULL);
                return;
        case IN_STRING_LIST:
                if (v->kind != YN_SEQ) {
                        if (yn_is_null(v) && !(f->flags & INF_REQUIRED))
                                break;
                        type_error(c, v, f, a, v->kind == YN_SCALAR ? "write it as a list: '- item' on its own line" : NULL);
                        return;
                }
                for (size_t k = 0; k < v->n; k++)
                        if (!is_scalar_value(v->items[k]))
                                chk_diag(c, DIAG_ERROR, "input-type", v->items[k], NULL,
                                         "each item of input '%s' of %s must be a string, found %s", f->name, a->name,
                                         yn_describe(v->items[k]));
                break;
        case IN_NAME_VALUE_LIST:
                if (v->kind != YN_SEQ) {
                        if (yn_is_null(v) && !(f->flags & INF_REQUIRED))
                                break;
                        type_error(c, v, f, a, "write items as '- name: x' with 'value: y' below");
                        return;
                }
                for (size_t k = 0; k < v->n; k++) {
                        const struct ynode *it = v->items[k];
                        static const char *const nv_keys[] = { "name", "value", NULL };
                        if (it->kind != YN_MAP) {
                                chk_diag(c, DIAG_ERROR, "input-type", it, NULL,
                                         "each item of input '%s' of %s must be a mapping with 'name' and 'value', found %s",
                                         f->name, a->name, yn_describe(it));
                                continue;
                        }
                        chk_unknown_keys(c, it, nv_keys, "a name/value item");
                        for (size_t j = 0; nv_keys[j]; j++) {
                                const struct ynode *x = yn_get(it, nv_keys[j]);
                                if (!x)
                                        chk_diag(c, DIAG_ERROR, "input-missing", it, NULL,
                                                 "an item of input '%s' of %s has no '%s'; it is required", f->name,
                                                 a->name, nv_keys[j]);
                                else if (!is_scalar_value(x))
                                        chk_diag(c, DIAG_ERROR, "input-type", x, NULL, "'%s' must be a string, found %s",
                                                 nv_keys[j], yn_describe(x));
                        }
                }
                break;
        case IN_STRING_MAP:
                if (v->kind != YN_MAP) {
                        if (yn_is_null(v) && !(f->flags & INF_REQUIRED))
                                break;
                        type_error(c, v, f, a, NULL);
                        return;
                }
                for (size_t k = 0; k < v->n; k++)
                        if (v->pairs[k].value->kind != YN_SCALAR)
                                chk_diag(c, DIAG_ERROR, "input-type", v->pairs[k].value, NULL,
                                         "value of '%s' in input '%s' of %s must be a string, found %s",
                                         v->pairs[k].key->str, f->name, a->name, yn_describe(v->pairs[k].value));
                break;
        case IN_ANY:
                if (v->kind == YN_MAP)
                        type_error(c, v, f, a, NULL);
                break;
        case _IN_TYPE_MAX:
                break;
        }
        /* Enum values, unless a reference decides the value at run time. */
        if (f->enum_values && v->kind == YN_SCALAR && !yn_is_null(v) && !has_ref(v)) {
                bool ok = false;
                for (size_t k = 0; f->enum_values[k]; k++)
                        ok |= (f->flags & INF_ENUM_NOCASE) ? !strcasecmp(v->str, f->enum_values[k])
                                                            : !strcmp(v->str, f->enum_values[k]);
                if (!ok) {
                        struct strbuf all = STRBUF_INIT;
                        for (size_t k = 0; f->enum_values[k]; k++)
                                sb_printf(&all, "%s%s", k ? ", " : "", f->enum_values[k]);
                        const char *sug = suggest_closest(v->str, f->enum_values);
                        char help[128], buf[64];
                        if (sug)
                                snprintf(help, sizeof help, "did you mean '%s'?", sug);
                        chk_diag(c, DIAG_ERROR, "input-enum", v, sug ? help : NULL,
                                 "input '%s' of %s is %s; expected one of: %s", f->name, a->name,
                                 chk_show(v, buf, sizeof buf), sb_str(&all));
                        sb_free(&all);
                }
        }
}

static void check_entry(struct checker *c, const struct chk_step *s, const struct ynode *entry)
{
        const struct action_spec *a = chk_step_action(s);
        const char *names[64];
        size_t nn = 0;
        for (size_t i = 0; i < a->n_fields && nn < 63; i++)
                names[nn++] = a->fields[i].name;
        names[nn] = NULL;
        char where[96];
        snprintf(where, sizeof where, "the inputs of %s", a->name);
        for (size_t i = 0; i < entry->n; i++) {
                const struct ynode *k = entry->pairs[i].key, *v = entry->pairs[i].value;
                const struct input_field *f = action_spec_field(a, k->str);
                if (!f) {
                        const char *sug = suggest_closest(k->str, names);
                        char help[128];
                        if (sug)
                                snprintf(help, sizeof help, "did you mean '%s'?", sug);
                        chk_diag(c, DIAG_WARNING, "unknown-key", k, sug ? help : NULL,
                                 "%s has no input '%s'; it is ignored", a->name, k->str);
                        continue;
                }
                /* Only platforms the action runs on: the action itself is
                 * reported once for the others. */
                unsigned fp = f->platforms ? f->platforms : a->platforms;
                if (c->opts->platforms & a->platforms & ~fp)
                        chk_diag(c, DIAG_ERROR, "input-platform", k, "remove it from documents meant for Windows",
                                 "input '%s' of %s is not supported on %s", f->name, a->name,
                                 (c->opts->platforms & a->platforms & ~fp & PLAT_WINDOWS) ? "windows"
                                 : (c->opts->platforms & a->platforms & ~fp & PLAT_DARWIN) ? "darwin" : "linux");
                if ((f->flags & INF_EXTENSION) && c->opts->strict_awstoe)
                        chk_diag(c, DIAG_ERROR, "extension", k, "drop --strict-awstoe to use it",
                                 "input '%s' of %s is an opentoe extension; AWSTOE does not have it", f->name, a->name);
                check_value(c, a, f, v);
        }
        for (size_t i = 0; i < a->n_fields; i++)
                if ((a->fields[i].flags & INF_REQUIRED) && !yn_pair(entry, a->fields[i].name))
                        chk_diag(c, DIAG_ERROR, "input-missing", entry, NULL, "%s needs input '%s'; it is missing",
                                 a->name, a->fields[i].name);
        for (size_t g = 0; a->exactly_one_of && a->exactly_one_of[g]; g++) {
                const char *const *grp = a->exactly_one_of[g];
                size_t present = 0;
                struct strbuf all = STRBUF_INIT;
                for (size_t k = 0; grp[k]; k++) {
                        present += yn_pair(entry, grp[k]) != NULL;
                        sb_printf(&all, "%s'%s'", k ? (grp[k + 1] ? ", " : " or ") : "", grp[k]);
                }
                if (present != 1)
                        chk_diag(c, DIAG_ERROR, "input-exclusive", entry, NULL, "%s needs exactly one of %s; found %s",
                                 a->name, sb_str(&all), present ? "more than one" : "none");
                sb_free(&all);
        }
}

/* True when the inputs `in` of action `a` are of `kind` ("a mapping" or
 * "a list of mappings", as `shape` says); else the error, with `help`
 * when they are the other kind of collection. */
static bool inputs_are(struct checker *c, const struct ynode *in, enum ynode_kind kind, const char *shape,
                       const char *help, const struct action_spec *a)
{
        enum ynode_kind other = kind == YN_MAP ? YN_SEQ : YN_MAP;

        if (in->kind == kind)
                return true;
        chk_diag(c, DIAG_ERROR, "inputs-shape", in, in->kind == other ? help : NULL,
                 "the inputs of %s must be %s, found %s", a->name, shape, yn_describe(in));
        return false;
}

void chk_inputs(struct checker *c, const struct chk_step *s)
{
        const struct action_spec *a = chk_step_action(s);
        const struct ypair *p = yn_pair(s->node, "inputs");
        const struct ynode *in = p ? p->value : NULL;
        if (!in || yn_is_null(in)) {
                if (!(a->flags & ACT_INPUTS_OPTIONAL))
                        chk_diag(c, DIAG_ERROR, "inputs-missing", p ? p->key : s->node, NULL,
                                 "step '%s' has no inputs; %s requires 'inputs'",
                                 chk_step_name(s) ? chk_step_name(s) : "?", a->name);
                return;
        }
        switch (a->shape) {
        case SHAPE_EXPRESSION: {
                struct chk_ctx ctx = { .step = s, .in_loop = s->has_loop };
                chk_expression(c, in, &ctx, false);
                return;
        }
        case SHAPE_MAP:
                if (inputs_are(c, in, YN_MAP, "a mapping", "remove the '-': write the inputs as one mapping", a))
                        check_entry(c, s, in);
                return;
        case SHAPE_LIST:
                if (!inputs_are(c, in, YN_SEQ, "a list of mappings", "write each entry as a list item: '- key: value'",
                                a))
                        return;
                if (in->n == 0) {
                        chk_diag(c, DIAG_ERROR, "inputs-empty", in, NULL,
                                 "action %s has no inputs; it requires at least one entry in 'inputs'", a->name);
                        return;
                }
                for (size_t i = 0; i < in->n; i++) {
                        if (in->items[i]->kind != YN_MAP) {
                                chk_diag(c, DIAG_ERROR, "not-a-mapping", in->items[i], NULL,
                                         "each entry of the inputs of %s must be a mapping, found %s", a->name,
                                         yn_describe(in->items[i]));
                                continue;
                        }
                        check_entry(c, s, in->items[i]);
                }
                return;
        case _SHAPE_MAX:
                return;
        }
}
