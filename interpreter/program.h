/* program.h: a compiled component document.  Plain data: instructions
 * (opcodes.h) with a source location each, a deduplicated pool of typed
 * constants (constants.h: strings, templates, input trees, loops), the
 * phase, step and variable tables, the source text and its SHA-256.  It
 * can be written to a versioned `.otc` file and loaded back; prog_verify
 * checks any program before it runs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action_spec.h"
#include "constants.h"
#include "loopfor.h" /* what a K_LOOP_FOR constant counts */

struct srcloc {
        uint32_t line, column;
};

enum on_failure {
        ONFAIL_ABORT,
        ONFAIL_CONTINUE,
        ONFAIL_IGNORE,
        _ONFAIL_MAX,
};

const char *on_failure_name(enum on_failure f);

struct prog_phase {
        char *name;
        uint32_t end_pc;    /* first instruction after its ENDPHASE */
        struct srcloc loc;
};

struct prog_step {
        char *name;
        uint32_t phase;              /* index into phases */
        char *action;                /* action name */
        const struct action_spec *spec; /* resolved from action */
        int64_t timeout_seconds;     /* -1: none */
        uint32_t max_attempts;
        enum on_failure on_failure;
        bool disable_logging;
        json_t *loop;                /* the loop as written (for reports), or NULL */
        struct srcloc loc;
};

struct prog_var {
        char *name;
        bool constant;
        bool has_value;              /* default (parameter) or value (constant) */
        char *value;
};

#define PROG_SHA256_LEN 32

struct program {
        uint32_t *code;
        struct srcloc *loc;          /* loc[pc] */
        size_t n_code, cap_code;
        struct kconst *k;
        size_t n_k, cap_k;
        struct kconst_index *k_index; /* finds equal constants, while compiling */
        struct prog_phase *phases;
        size_t n_phases;
        struct prog_step *steps;
        size_t n_steps;
        struct prog_var *vars;
        size_t n_vars;
        unsigned n_regs;
        char *name;                  /* the document's name field, "" if absent */
        char *description;
        char *source_path;           /* as given when compiled */
        char *source;                /* the document's text */
        size_t source_len;
        uint8_t sha256[PROG_SHA256_LEN];
};

struct program *prog_new(void);
struct program *prog_free(struct program *p);

/* Appends an instruction; returns its pc. */
uint32_t prog_emit(struct program *p, uint32_t insn, struct srcloc loc);
/* Adds a constant (taking what it holds: *k is left empty) or finds an
 * equal one. */
uint32_t prog_constant(struct program *p, struct kconst *k);
/* Compiling is over: equal constants are no longer looked for. */
void prog_constants_done(struct program *p);

/* Checks every instruction: opcode range, jump targets, indexes into K, S,
 * P and the predicate table, registers below n_regs, and the tables'
 * consistency.  Returns 0, or -EINVAL with a message naming the pc. */
int prog_verify(const struct program *p, char **reterr_msg);

/* .otc files: "OTC" magic, format version, the source's SHA-256, then the
 * program, then a SHA-256 of everything before it.  Version 2: ACT names
 * its action (through the header's "actions"), and constants are in the
 * byte form of constants.c, not JSON. */
#define OTC_VERSION 2
int prog_save(const struct program *p, const char *path, char **reterr_msg);
int prog_load(const char *path, struct program **ret, char **reterr_msg);
/* The same on memory, for tests and fuzzing. */
int prog_serialize(const struct program *p, unsigned char **ret_buf, size_t *ret_len);
int prog_deserialize(const unsigned char *buf, size_t len, struct program **ret, char **reterr_msg);
/* True if the bytes start with the .otc magic. */
bool prog_is_otc(const unsigned char *buf, size_t len);
