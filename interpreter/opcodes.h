/* opcodes.h: the instruction set of opentoe's VM, in one table.
 *
 * The bytecode format matters in: compile.c (emits it), vm.c (runs it),
 * disasm.c (prints it) and program.c (verifies and stores it).
 *
 * Instructions are 32-bit words in four formats:
 *
 *   iABC    op:8 | A:8 | B:8 | C:8
 *   iABx    op:8 | A:8 | Bx:16         (Bx indexes K[], S[] or P[])
 *   iAsBx   op:8 | A:8 | sBx:16        (signed jump, relative to pc+1)
 *   isJ     op:8 | sJ:24               (signed jump, relative to pc+1)
 *
 * R[] are registers holding JSON values, K[] the constant pool, S[] the
 * step table and P[] the phase table of struct program.  Instructions are
 * coarse (one ACT may run for an hour), so the design favours clarity,
 * verification and exact resumption over dispatch speed.
 *
 * Notes:
 * - PHASE jumps to P[Bx].end_pc when the phase is not selected by --phases.
 * - A step's `if` is evaluated once, before its attempts (AWSTOE does not
 *   re-evaluate it after a reboot or a retry).
 * - An iteration that fails leaves the loop; RETRY then decides whether
 *   the whole step (every iteration) runs again.
 * - ACT's C is the step's action as an enum action_id (action_ids.h), so
 *   the runner takes the module from the instruction; the verifier checks
 *   that it is the action of the step the ACT is in.
 * - ENDSTEP applies onFailure: Abort stops the program (the document and
 *   the run fail), Continue marks the document failed, Ignore records an
 *   ignored failure.
 *
 * Grep "ORDER OP" if you change this table.
 */
#pragma once

#include <stdint.h>

/* Operand formats. */
enum op_format {
        FMT_ABC,
        FMT_ABX,
        FMT_ASBX,
        FMT_SJ,
};

/* What operands index, for the verifier and the disassembler. */
enum {
        OPF_A_REG = 1u << 0,   /* A is a register */
        OPF_B_REG = 1u << 1,   /* B is a register (iABC) */
        OPF_BX_K = 1u << 2,    /* Bx indexes K[] */
        OPF_BX_S = 1u << 3,    /* Bx indexes S[] */
        OPF_BX_P = 1u << 4,    /* Bx indexes P[] */
        OPF_JUMP = 1u << 5,    /* sBx or sJ is a jump */
        OPF_C_PRED = 1u << 6,  /* C indexes the predicate table */
        OPF_YIELDS = 1u << 7,  /* the VM returns to the runner here */
        OPF_A_REG4 = 1u << 8,  /* A..A+3 are registers (loop state) */
        OPF_C_ACTION = 1u << 9, /* C is an enum action_id: the current step's action */
};

/*      name       format    flags                              meaning */
#define OPCODE_LIST(OPCODE)                                                                              \
        OPCODE(PHASE, FMT_ABX, OPF_BX_P, "enter phase P[Bx]; if not selected, pc := P[Bx].end_pc")       \
        OPCODE(ENDPHASE, FMT_ABX, OPF_BX_P, "leave phase P[Bx]; its status is settled")                 \
        OPCODE(STEP, FMT_ABX, OPF_BX_S, "enter step S[Bx]: status pending, attempt 0")                  \
        OPCODE(SKIP, FMT_ABX, OPF_BX_S, "step S[Bx] is skipped by its condition")                       \
        OPCODE(ABORT, FMT_ABX, OPF_BX_S, "step S[Bx] fails without running (its condition said Abort)") \
        OPCODE(ATTEMPT, FMT_ABX, OPF_BX_S, "attempt += 1 for step S[Bx]; clear its outputs; restart its timeout") \
        OPCODE(LOADBOOL, FMT_ABC, OPF_A_REG, "R[A] := (B != 0)")                                        \
        OPCODE(LOADK, FMT_ABX, OPF_A_REG | OPF_BX_K, "R[A] := K[Bx]")                                   \
        OPCODE(RENDER, FMT_ABX, OPF_A_REG | OPF_BX_K, "R[A] := K[Bx] with every {{ }} substituted")     \
        OPCODE(PRED, FMT_ABC, OPF_A_REG | OPF_B_REG | OPF_C_PRED,                                       \
               "R[A] := predicate[C](R[B], R[B+1])")                                                    \
        OPCODE(NOT, FMT_ABC, OPF_A_REG | OPF_B_REG, "R[A] := not R[B]")                                 \
        OPCODE(JMP, FMT_SJ, OPF_JUMP, "pc += sJ")                                                       \
        OPCODE(JMPIF, FMT_ASBX, OPF_A_REG | OPF_JUMP, "if R[A] is true: pc += sBx")                     \
        OPCODE(JMPIFNOT, FMT_ASBX, OPF_A_REG | OPF_JUMP, "if R[A] is false: pc += sBx")                 \
        OPCODE(LOOPINIT, FMT_ABX, OPF_A_REG4 | OPF_BX_K,                                                \
               "R[A] := iterator over loop K[Bx]; R[A+1], R[A+2] := first index, value; R[A+3] := any?") \
        OPCODE(LOOPNEXT, FMT_ASBX, OPF_A_REG4 | OPF_JUMP,                                               \
               "advance R[A]; if an item remains: R[A+1], R[A+2] := index, value; pc += sBx")           \
        OPCODE(ACT, FMT_ABC, OPF_A_REG | OPF_B_REG | OPF_C_ACTION | OPF_YIELDS,                         \
               "run action C (the current step's) with inputs R[B]; yield; R[A] := succeeded?")         \
        OPCODE(RETRY, FMT_ASBX, OPF_A_REG | OPF_JUMP,                                                   \
               "if R[A] is false and attempts remain: pc += sBx")                                       \
        OPCODE(ENDSTEP, FMT_ABC, OPF_A_REG, "step result := R[A]; consolidate outputs; apply onFailure") \
        OPCODE(HALT, FMT_ABC, 0, "end of the document")

enum opcode {
#define OPCODE_ENUM(name, fmt, flags, doc) OP_##name,
        OPCODE_LIST(OPCODE_ENUM)
#undef OPCODE_ENUM
        _OP_MAX,
};

struct opcode_info {
        const char *name;
        enum op_format format;
        unsigned flags;
        const char *doc;
};

/* Indexed by enum opcode (ORDER OP); defined in program.c. */
extern const struct opcode_info opcode_info[_OP_MAX];

/* Encoding and decoding. */
#define OP_MAXARG_A 255u
#define OP_MAXARG_BX 65535u
#define OP_MAXARG_SBX 32767
#define OP_MAXARG_SJ 8388607

static inline uint32_t op_abc(enum opcode op, unsigned a, unsigned b, unsigned c)
{
        return (uint32_t)op | (uint32_t)(a & 0xff) << 8 | (uint32_t)(b & 0xff) << 16 | (uint32_t)(c & 0xff) << 24;
}
static inline uint32_t op_abx(enum opcode op, unsigned a, unsigned bx)
{
        return (uint32_t)op | (uint32_t)(a & 0xff) << 8 | (uint32_t)(bx & 0xffff) << 16;
}
static inline uint32_t op_asbx(enum opcode op, unsigned a, int sbx)
{
        return (uint32_t)op | (uint32_t)(a & 0xff) << 8 | (uint32_t)((unsigned)sbx & 0xffff) << 16;
}
static inline uint32_t op_sj(enum opcode op, int sj)
{
        return (uint32_t)op | (uint32_t)((unsigned)sj & 0xffffff) << 8;
}
static inline enum opcode op_get(uint32_t i)
{
        return (enum opcode)(i & 0xff);
}
static inline unsigned op_a(uint32_t i)
{
        return (i >> 8) & 0xff;
}
static inline unsigned op_b(uint32_t i)
{
        return (i >> 16) & 0xff;
}
static inline unsigned op_c(uint32_t i)
{
        return (i >> 24) & 0xff;
}
static inline unsigned op_bx(uint32_t i)
{
        return (i >> 16) & 0xffff;
}
static inline int op_sbx(uint32_t i)
{
        return (int)(int16_t)(uint16_t)((i >> 16) & 0xffff);
}
static inline int op_sj_get(uint32_t i)
{
        int32_t v = (int32_t)(i >> 8);
        return (v & 0x800000) ? v - 0x1000000 : v;
}
