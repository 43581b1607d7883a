/* fuzz_otc.c: libFuzzer target for the .otc loader.  Any bytes given to
 * prog_deserialize must be rejected with a message or give a program that
 * verifies, disassembles and runs (with a fake host and a bounded number
 * of instructions) without a crash.  The loader checks a trailing SHA-256
 * first, so random bytes rarely get past it: tests/fuzz/run.sh seeds this
 * target with real programs, and OPENTOE_FUZZ_OTC_NO_DIGEST=1 (read once)
 * makes it fix the digest of each input before loading, so the fuzzer
 * reaches the parser behind the checksum.
 *
 * Build and run like fuzz_validate (see its comment); the target is
 * tests/fuzz/fuzz_otc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "hash.h"
#include "program.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_pred(void *userdata, const struct predicate *p, const char *operand, const char *value, bool *ret,
                     char **err)
{
        (void)userdata;
        (void)p;
        (void)operand;
        (void)value;
        (void)err;
        *ret = true;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static FILE *sink;
        static int fix_digest = -1;
        if (!sink)
                sink = fopen("/dev/null", "w");
        if (fix_digest < 0)
                fix_digest = getenv("OPENTOE_FUZZ_OTC_NO_DIGEST") != NULL;
        unsigned char *buf = malloc(size ? size : 1);
        memcpy(buf, data, size);
        if (fix_digest && size > PROG_SHA256_LEN) {
                size_t n;
                hash_buffer(HASH_SHA256, buf, size - PROG_SHA256_LEN, buf + size - PROG_SHA256_LEN, &n, NULL);
        }
        struct program *p = NULL;
        char *err = NULL;
        if (prog_deserialize(buf, size, &p, &err) == 0) {
                if (sink)
                        disasm_program(sink, p);
                struct vm_host host = { .pred = fake_pred };
                struct vm *vm = vm_new(p, &host, NULL, NULL);
                vm->budget = 10000;
                while (vm_run(vm) == VM_YIELD)
                        vm_complete(vm, true, NULL, NULL);
                vm_free(vm);
                prog_free(p);
        } else if (!err)
                abort(); /* a refusal always says why */
        free(err);
        free(buf);
        return 0;
}
