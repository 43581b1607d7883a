/* program.h: a compiled component document.  Plain data: instructions
 * (opcodes.h) with a source location each, a deduplicated constant pool of
 * JSON values, the phase, step and variable tables, the source text and
 * its SHA-256.  It can be written to a versioned `.otc` file and loaded
 * back; prog_verify checks any program before it runs.
 *
 * Constants are JSON objects with one key naming their kind:
 *   {"str": "text"}                      a literal string
 *   {"tmpl": [seg, ...]}                 a string with {{ }} references;
 *        seg is a literal string, or {"var": i}, {"reg": r},
 *        {"out": [step, index, "key"]}, {"in": [step, index, "key"]},
 *        {"ssm": "path"} or {"ssm": "name", "resolve": true}
 *   {"inputs": node}                     a step's inputs; node is
 *        {"s": "text"}, {"t": [seg, ...]}, {"b": true}, {"i": 5},
 *        {"f": 1.5}, {"null": true}, {"list": [node, ...]} or
 *        {"map": [["key", node], ...]}
 *   {"loop": {"for": [start, end, by]}}  a loop's items;
 *   {"loop": {"each": [node, ...]}}      (nodes are "s" or "t")
 *   {"loop": {"list": node, "delimiter": ","}}
 * (index is -1 when the reference has no [N]). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action_spec.h"
#include "loopfor.h" /* what a {"for": [start, end, by]} constant counts */

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
        json_t **k;
        size_t n_k, cap_k;
        json_t *k_index;             /* compact JSON text -> index, while compiling */
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
/* Adds a constant (taking the reference) or finds an equal one. */
uint32_t prog_constant(struct program *p, json_t *k);

/* Checks every instruction: opcode range, jump targets, indexes into K, S,
 * P and the predicate table, registers below n_regs, and the tables'
 * consistency.  Returns 0, or -EINVAL with a message naming the pc. */
int prog_verify(const struct program *p, char *reterr, size_t errsize);

/* .otc files: "OTC" magic, format version, the source's SHA-256, then the
 * program, then a SHA-256 of everything before it.  Version 2: ACT names
 * its action (through the header's "actions"). */
#define OTC_VERSION 2
int prog_save(const struct program *p, const char *path, char *reterr, size_t errsize);
int prog_load(const char *path, struct program **ret, char *reterr, size_t errsize);
/* The same on memory, for tests and fuzzing. */
int prog_serialize(const struct program *p, unsigned char **ret_buf, size_t *ret_len);
int prog_deserialize(const unsigned char *buf, size_t len, struct program **ret, char *reterr, size_t errsize);
/* True if the bytes start with the .otc magic. */
bool prog_is_otc(const unsigned char *buf, size_t len);
