/* dryrun.c: the plan a dry run prints (see dryrun.h): a VM host that
 * completes every action at once with placeholder outputs. */
#include "dryrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predicates.h"
#include "strbuf.h"
#include "vm.h"

/* In a dry run, a condition whose operands are still unknown, or that
 * looks at files, is decided at run time: the plan assumes true. */
static int on_pred_dry(void *userdata, const struct predicate *p, const char *operand, const char *value, bool *ret,
                       char **err)
{
        (void)userdata;
        if (strstr(operand, "{{") || strstr(value, "{{") || p->operand == PO_PATH || p->operand == PO_HASH) {
                printf("      condition %s: decided at run time (the plan assumes true)\n", p->name);
                *ret = true;
                return 0;
        }
        return pred_eval(p, operand, value, ret, err);
}

static void dry_run_action(struct vm *vm)
{
        const struct vm_pending *pd = &vm->pending;
        const struct program *p = vm->prog;
        const struct prog_step *ps = &p->steps[pd->step];
        char *in = json_dumps(pd->inputs, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        if (pd->iteration >= 0)
                printf("      iteration %ld: %s\n", pd->iteration, in ? in : "?");
        else
                printf("      inputs: %s\n", in ? in : "?");
        free(in);
        /* Outputs are unknown: later steps show the reference itself. */
        json_t *outs = json_array();
        size_t entries = json_is_array(pd->inputs) ? json_array_size(pd->inputs) : 1;
        for (size_t e = 0; e < entries; e++) {
                json_t *o = json_object();
                for (size_t k = 0; ps->spec->outputs && ps->spec->outputs[k]; k++) {
                        char *ref = xasprintf("{{ %s.%s.outputs.%s }}", p->phases[ps->phase].name, ps->name,
                                              ps->spec->outputs[k]);
                        json_object_set_new(o, ps->spec->outputs[k], json_string(ref));
                        free(ref);
                }
                json_array_append_new(outs, o);
        }
        vm_complete(vm, true, outs, NULL);
}

static void on_event_dry(void *userdata, struct vm *vm, enum vm_event ev, uint32_t index)
{
        const struct program *p = vm->prog;
        (void)userdata;
        switch (ev) {
        case VM_EV_PHASE_START:
                printf("  Phase %s\n", p->phases[index].name);
                break;
        case VM_EV_STEP_START: {
                const struct prog_step *s = &p->steps[index];
                printf("    Step %s (%s", s->name, s->action);
                if (s->timeout_seconds >= 0)
                        printf(", timeout %llds", (long long)s->timeout_seconds);
                printf(", %u attempt%s, onFailure %s)\n", s->max_attempts, s->max_attempts == 1 ? "" : "s",
                       on_failure_name(s->on_failure));
                break;
        }
        case VM_EV_STEP_END:
                if (vm->steps[index].state == STEP_SKIPPED)
                        printf("      skipped by its condition\n");
                else if (vm->steps[index].aborted_by_condition)
                        printf("      aborted by its condition\n");
                break;
        default:
                break;
        }
}

int dry_run(const struct run_options *o, struct run_doc *docs, size_t n)
{
        struct vm_host host = { .event = on_event_dry, .pred = on_pred_dry };
        for (size_t i = 0; i < n; i++) {
                printf("Document %s%s%s%s\n", docs[i].path, docs[i].prog->name[0] ? " (" : "", docs[i].prog->name,
                       docs[i].prog->name[0] ? ")" : "");
                struct vm *vm = vm_new(docs[i].prog, &host, docs[i].params, o->phases);
                enum vm_status st;
                while ((st = vm_run(vm)) == VM_YIELD)
                        dry_run_action(vm);
                if (st == VM_ERROR)
                        fprintf(stderr, "%s: internal error in %s: %s\n", o->program_name, docs[i].path, vm->error);
                vm_free(vm);
        }
        printf("(dry run: nothing was run or changed)\n");
        return 0;
}
