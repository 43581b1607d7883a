/* vm.h: the interpreter of compiled programs, as a coroutine.  vm_run
 * executes instructions until the program needs an action run (it returns
 * VM_YIELD with vm->pending describing the action) or ends (VM_DONE).
 * The runner runs the action and hands the result back with vm_complete.
 * The VM owns no clock and does no I/O: predicates that look at files are
 * evaluated through the host's callback, and events (phase and step
 * boundaries) go to the host, which stamps the times.  Its whole state
 * serialises to JSON (vm_save) and restores to the same behaviour
 * (vm_restore), so a run can resume at the exact instruction. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "predicates.h"
#include "program.h"
#include "render.h" /* vm_render(): what a constant is worth now */

enum vm_status {
        VM_YIELD,  /* an action must run: see vm->pending */
        VM_DONE,   /* the program ended */
        VM_ERROR,  /* an internal error: vm->error says what */
        VM_PAUSED, /* vm->budget instructions were executed (tests, debugging) */
        VM_STEP_END, /* a step ended and vm->pause_at_step_end is set: call vm_run again */
};

enum step_state {
        STEP_NOT_RUN,   /* its phase was not selected, or the run stopped first */
        STEP_RUNNING,
        STEP_SUCCESS,
        STEP_FAILED,
        STEP_IGNORED,   /* failed, onFailure: Ignore */
        STEP_SKIPPED,   /* its condition chose Skip */
        _STEP_STATE_MAX,
};

enum phase_state {
        PHASE_NOT_RUN,
        PHASE_RUNNING,
        PHASE_SUCCESS,
        PHASE_FAILED,
        PHASE_IGNORED,  /* succeeded with ignored failures */
        _PHASE_STATE_MAX,
};

struct vm_step {
        enum step_state state;
        uint32_t attempts;       /* attempts started */
        char *failure;           /* the last failure message, or NULL */
        bool aborted_by_condition;
        json_t *inputs;          /* rendered input entries of the last iteration run (array) */
        json_t *outputs;         /* consolidated outputs (array), or NULL */
        json_t *iterations;      /* this attempt: outputs of each successful iteration */
        json_t *failed_iterations; /* this attempt: indexes of failed iterations */
        bool redacted;           /* restored from a state that left out its values (disableLogging) */
        bool secret;             /* its rendering resolved a SecureString: private as if disableLogging */
};

enum vm_event {
        VM_EV_PHASE_START,
        VM_EV_PHASE_END,
        VM_EV_STEP_START,
        VM_EV_ATTEMPT,      /* an attempt begins: the timeout restarts */
        VM_EV_STEP_END,
        VM_EV_INPUT_ERROR,  /* the step's inputs could not be rendered: the attempt fails unrun (vm->steps[].failure says why) */
        _VM_EV_MAX,
};

struct vm;

struct vm_host {
        void *userdata;
        /* Phase and step boundaries, in order; may be NULL. */
        void (*event)(void *userdata, struct vm *vm, enum vm_event ev, uint32_t index);
        /* Evaluates a predicate (may read files).  Returns 0 and *ret, or
         * a negative errno with *reterr_msg (then the condition is false
         * and the message becomes the step's failure). */
        int (*pred)(void *userdata, const struct predicate *p, const char *operand, const char *value,
                    bool *ret, char **reterr_msg);
        /* Resolves {{ aws:ssm:NAME }}: the value (allocated) and whether it
         * is a SecureString.  A negative errno with *reterr_msg fails the
         * step with that message.  NULL: references fail the step (a
         * host without Parameter Store). */
        int (*ssm)(void *userdata, const char *name, char **ret, bool *ret_secure, char **reterr_msg);
};

struct vm_pending {
        uint32_t step;         /* S[] index */
        enum action_id action; /* the action to run: ACT's operand, the step's action */
        long iteration;        /* loop iteration, or -1 */
        json_t *inputs;        /* borrowed: rendered inputs with defaults materialised */
};

struct vm {
        const struct program *prog;
        const struct vm_host *host;
        uint32_t pc;
        json_t **regs;
        struct vm_step *steps;
        json_t **vars;            /* the value of each parameter and constant */
        bool *phase_selected;
        enum phase_state *phases;
        uint32_t cur_phase;       /* UINT32_MAX outside phases */
        uint32_t cur_step;        /* UINT32_MAX outside steps */
        unsigned loop_reg;        /* the current step's loop registers, or 255 */
        bool awaiting;            /* stopped at ACT until vm_complete */
        struct vm_pending pending;
        bool failed;              /* the document failed */
        bool ignored;             /* some failure was ignored */
        bool aborted;             /* an Abort (or vm_stop) stopped the document */
        bool stopped;             /* vm_stop ended it */
        bool pause_at_step_end;   /* vm_run returns VM_STEP_END after each step */
        uint32_t step_pc;         /* the STEP instruction of the current step */
        char *render_error;       /* why a value of the current step could not be rendered, or NULL */
        uint64_t instructions;    /* executed so far */
        uint64_t budget;          /* pause when instructions reaches it (0: never) */
        char *error;              /* why vm_run returned VM_ERROR (allocated), or NULL */
        /* Optional trace hook: called before each instruction. */
        void (*trace)(void *userdata, const struct vm *vm, uint32_t pc);
        void *trace_userdata;
};

/* Creates a VM.  `params` maps parameter names to string values (those
 * not given use their default; names not declared are ignored); `phases`
 * is NULL (all phases) or a NULL-terminated list of phase names to run. */
struct vm *vm_new(const struct program *prog, const struct vm_host *host, json_t *params,
                  const char *const *phases);
struct vm *vm_free(struct vm *vm);

enum vm_status vm_run(struct vm *vm);
/* Hands back the result of the pending action: `succeeded`, its outputs
 * (an array, one object per entry; reference taken, may be NULL) and a
 * failure message. */
int vm_complete(struct vm *vm, bool succeeded, json_t *outputs, const char *failure);

/* Ends the document now, without running the pending action: a step
 * that had not yet run anything goes back to "not run", one that had (an
 * earlier attempt or iteration) fails; the current phase and the
 * document fail.  The next vm_run returns VM_DONE. */
void vm_stop(struct vm *vm);

/* The whole state as JSON, and back.  Restoring checks the program's
 * SHA-256 and every index before accepting the state.
 *
 * Values of private steps (vm_step_private()) never leave the VM this way: a finished
 * such step is saved with every value of its inputs and outputs
 * replaced by "***" (restored as
 * `redacted`: a later reference to them fails that step with a message
 * saying why), and a state saved inside one is saved as it was at the
 * step's STEP instruction, so a restored VM runs the step again from its
 * start. */
json_t *vm_save(const struct vm *vm);
/* vm_save in parts, for a checkpoint that saves only what changed: the
 * state without "steps", and one step's entry of "steps". */
json_t *vm_save_core(const struct vm *vm);
json_t *vm_save_step(const struct vm *vm, size_t i);
struct vm *vm_restore(const struct program *prog, const struct vm_host *host, json_t *state, char **reterr_msg);

/* Whether step i's values must stay out of every record: it has
 * disableLogging, or a SecureString was resolved for it (then it is
 * treated in all things as if it had disableLogging; the value is
 * resolved again by a resumed run, never saved). */
bool vm_step_private(const struct vm *vm, size_t i);

const char *step_state_name(enum step_state s);   /* "success", "failed", ... */
const char *phase_state_name(enum phase_state s);

