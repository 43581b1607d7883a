/* render.h: the values of constants at run time (render.c): what RENDER,
 * LOADK and LOOPINIT put in registers, and what ACT hands a module. */
#pragma once

#include <jansson.h>

#include "action_spec.h"
#include "constants.h"

struct vm;

/* Renders a constant (K_STRING, K_TEMPLATE or K_INPUTS) with the VM's
 * current values; null for a loop.  A value that cannot be rendered
 * renders as "" and sets vm->render_error (the first reason wins). */
json_t *vm_render(struct vm *vm, const struct kconst *k);
/* The same for one node: the JSON value a module receives. */
json_t *vm_render_node(struct vm *vm, const struct knode *n);

/* A step's rendered inputs as its action receives them: each entry with
 * every documented input in spec order, given values coerced to the
 * input's type, absent ones as their default or zero value. */
json_t *vm_materialise(const struct action_spec *a, json_t *rendered);
