/* disasm.h: the one printer of bytecode.  `opentoe disasm` prints whole
 * programs with it and `opentoe run --trace` prints each instruction
 * before it runs. */
#pragma once

#include <stdio.h>

#include "program.h"

/* One line: pc, [line:col], opcode, operands, and a `;` comment decoding
 * constants, steps, phases and jump targets. */
void disasm_insn(FILE *f, const struct program *p, uint32_t pc);
/* The header line, every instruction, then the constant pool and the
 * step, phase and variable tables. */
void disasm_program(FILE *f, const struct program *p);
