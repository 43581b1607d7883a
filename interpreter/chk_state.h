/* chk_state.h: the state shared by the checker's files (check.c for
 * the document's structure, check_inputs.c for action inputs, check_expr.c
 * for conditions, check_refs.c for `{{ }}` references, check_diag.c for
 * reporting, check_names.c for finding names).  Calls run one way:
 * check.c -> check_inputs.c -> check_expr.c -> check_refs.c, and every one
 * of them -> check_diag.c and check_names.c.  This header belongs to
 * none of them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action_spec.h"
#include "checker.h"
#include "hindex.h"

/* What the checker learned about one step, in document order: 24 bytes,
 * one for each step of the document.  What a probe of the step's mapping
 * finds again is not kept: its inputs, its loop, its loop's name and its
 * phase's name come from the accessors below. */
struct chk_step {
        const struct ynode *node;        /* the step mapping */
        const struct ynode *name_node;   /* its 'name' when that is a string, else NULL */
        uint32_t phase_index;            /* its phase's place in 'phases' */
        uint8_t action;                  /* its action's action_specs[] index + 1; 0 if missing or unknown */
        bool has_loop : 1;               /* it has a 'loop' */
        bool loop_named : 1;             /* its loop has a 'name' that is a non-empty string */
};

struct chk_var {
        const char *name;
        const struct ynode *key;
        bool constant;
};

struct checker {
        const struct ydoc *doc;
        struct diag_list *diags;
        const struct check_options *opts;
        struct chk_step *steps;
        size_t n_steps, cap_steps;
        const char **phase_names;  /* each phase's name, NULL if it has none */
        struct chk_var *vars;
        size_t n_vars, cap_vars;
        /* Names found in one probe, not by comparing with every earlier
         * one (hindex.h): each holds the first of its key only. */
        struct hindex var_index;   /* a parameter's or constant's name */
        struct hindex step_index;  /* a step's phase name and name */
        struct hindex loop_index;  /* a loop's name */
        /* "phase.step" of every named step, for suggestions: made once,
         * at the first reference to a step that does not exist. */
        char **step_labels;
        size_t n_step_labels;
};

/* A step's name, action, inputs, loop, loop name and phase name (NULL when it
 * has none, or none that is valid). */
static inline const char *chk_step_name(const struct chk_step *s)
{
        return s->name_node ? s->name_node->str : NULL;
}

static inline const struct action_spec *chk_step_action(const struct chk_step *s)
{
        return s->action ? &action_specs[s->action - 1] : NULL;
}

static inline const struct ynode *chk_step_inputs(const struct chk_step *s)
{
        return yn_get(s->node, "inputs");
}

static inline const struct ynode *chk_step_loop(const struct chk_step *s)
{
        return s->has_loop ? yn_get(s->node, "loop") : NULL;
}

static inline const char *chk_step_loop_name(const struct chk_step *s)
{
        return s->loop_named ? yn_get(chk_step_loop(s), "name")->str : NULL;
}

static inline const char *chk_step_phase(const struct checker *c, const struct chk_step *s)
{
        return c->phase_names[s->phase_index];
}

/* ---- check_names.c ---- */

/* The index of the first step named `step` in a phase named `phase`, or
 * of the first loop named `name`, or of the variable `name`; -1 if none. */
uint64_t chk_step_hash(const char *phase, const char *step);
long chk_find_step(const struct checker *c, const char *phase, const char *step);
long chk_find_loop(const struct checker *c, const char *name);
long chk_find_var(const struct checker *c, const char *name);

/* Where a `{{ }}` reference is being checked. */
struct chk_ctx {
        const struct chk_step *step;  /* the step it belongs to, or NULL */
        bool in_loop;                 /* loop variables are available */
};

/* ---- check_diag.c ---- */

void chk_diag(struct checker *c, enum diag_severity sev, const char *code, const struct ynode *at,
              const char *help, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void chk_diag_at(struct checker *c, enum diag_severity sev, const char *code, unsigned line,
                 unsigned column, unsigned span, const char *help, const char *fmt, ...)
        __attribute__((format(printf, 8, 9)));

/* Reports every key of `map` that is not in `known` (NULL-terminated) as
 * an unknown-key warning with a suggestion. */
void chk_unknown_keys(struct checker *c, const struct ynode *map, const char *const *known,
                      const char *where);

/* A short printable rendering of a scalar, for messages. */
const char *chk_show(const struct ynode *n, char *buf, size_t size);

/* Reports a scalar that holds a reference where none is substituted. */
void chk_no_refs(struct checker *c, const struct ynode *n, const char *code, enum diag_severity sev,
                 const char *what);

/* ---- check_inputs.c, check_expr.c, check_refs.c ---- */

void chk_inputs(struct checker *c, const struct chk_step *s);
/* `top` is true for a step's `if` (then/else allowed), false for Assert. */
void chk_expression(struct checker *c, const struct ynode *expr, const struct chk_ctx *ctx, bool top);
/* Checks every `{{ }}` in every scalar under `n`. */
void chk_refs_in(struct checker *c, const struct ynode *n, const struct chk_ctx *ctx);
/* Checks one scalar's references. */
void chk_refs_scalar(struct checker *c, const struct ynode *n, const struct chk_ctx *ctx);
