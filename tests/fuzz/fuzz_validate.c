/* fuzz_validate.c: libFuzzer target for the front end and the compiler.
 *
 * (Besides validation, described below, every document that checks clean
 * is compiled, its program serialised to the .otc encoding and loaded
 * back, disassembled, and run in the VM with a fake host, with a state
 * save and restore on the way; an internal error aborts.)
 *
 * Each input is treated as the bytes of one component document.  It is
 * loaded with ydoc_load_buffer (libyaml events to the yamldoc tree: size,
 * depth and alias limits, duplicate keys, merge keys, position tracking)
 * and then checked with check_document twice: once for Linux, as
 * `opentoe validate` does by default, and once for Windows with
 * strict_awstoe set, so Windows-only actions and the strict-compatibility
 * rules are reached as well.  Like cmd_validate.c, it also checks a
 * document whose loading reported an error but kept a root (a duplicate
 * key, an unquoted '{{'), since the command does.  The diagnostics are
 * then rendered in text form (source line and caret, as the command prints
 * them) into /dev/null, so the position arithmetic is exercised too.
 * Everything is freed, so LeakSanitizer reports any leak in either stage.
 *
 * Build it out of tree, so the main build is untouched (needs clang):
 *
 *     mkdir -p /tmp/fuzzbuild && cd /tmp/fuzzbuild
 *     /path/to/opentoe/configure CC=clang --enable-fuzz
 *     make -j2 tests/fuzz/fuzz_validate
 *
 * configure compiles everything with -fsanitize=fuzzer-no-link,address,
 * undefined and this target is linked with -fsanitize=fuzzer.  configure
 * refuses such a build ("source directory already configured") when the
 * source tree is configured in place; tests/fuzz/run.sh then builds from a
 * snapshot of the tree instead.  Run it over a scratch copy of the seeds:
 *
 *     mkdir -p /tmp/corpus && cp /path/to/opentoe/tests/fuzz/seed/[0-9]* /tmp/corpus/
 *     chmod u+w /tmp/corpus/[0-9]*
 *     UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ./tests/fuzz/fuzz_validate \
 *         -dict=/path/to/opentoe/tests/fuzz/yaml.dict -max_len=65536 -timeout=10 \
 *         -rss_limit_mb=2048 -max_total_time=600 /tmp/corpus
 *
 * (halt_on_error, because UBSan only reports and carries on otherwise), or
 * simply `tests/fuzz/run.sh [-B BUILD-DIR] [SECONDS]`, which does all of
 * that.  A finding leaves crash-<sha1> (or leak-, timeout-, oom-) in the
 * current directory; replay it with `./tests/fuzz/fuzz_validate FILE`. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <stdlib.h>

#include "action_spec.h"
#include "checker.h"
#include "compile.h"
#include "diag.h"
#include "disasm.h"
#include "program.h"
#include "vm.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;

/* Sorts and prints diagnostics the way cmd_validate.c does, into /dev/null. */
static void render(struct diag_list *diags, const struct ydoc *doc)
{
        size_t budget = SIZE_MAX; /* all of them, unlike the command */
        diag_sort(diags, 0);
        if (sink)
                diag_print_text(sink, diags, 0, diags->n, doc ? doc->src : NULL, doc ? doc->src_len : 0,
                                &budget);
}

static void check_as(const struct ydoc *doc, unsigned platforms, bool strict_awstoe)
{
        struct diag_list diags = { 0 };
        struct check_options opts = { .platforms = platforms, .strict_awstoe = strict_awstoe };
        check_document(doc, &opts, &diags);
        render(&diags, doc);
        diag_list_free(&diags);
}

static int fake_pred(void *userdata, const struct predicate *p, const char *operand, const char *value, bool *ret,
                     char **err)
{
        (void)userdata;
        (void)p;
        (void)err;
        /* No file-system access while fuzzing: a pure function of the text. */
        *ret = (operand[0] ^ value[0]) & 1;
        return 0;
}

/* Compiles a valid document, round-trips the program through the .otc
 * encoding, prints it, and runs it in the VM with every action alternately
 * succeeding and failing, saving and restoring the state on the way. */
static void compile_and_run(const struct ydoc *doc)
{
        struct diag_list diags = { 0 };
        struct check_options opts = { .platforms = PLAT_LINUX };
        struct program *p = NULL;
        if (comp_program(doc, &opts, &p, &diags) < 0) {
                diag_list_free(&diags);
                return;
        }
        diag_list_free(&diags);
        unsigned char *buf;
        size_t len;
        if (prog_serialize(p, &buf, &len) == 0) {
                struct program *q = NULL;
                if (prog_deserialize(buf, len, &q, NULL) != 0)
                        abort(); /* a program we wrote must load back */
                prog_free(q);
                free(buf);
        }
        if (sink)
                disasm_program(sink, p);
        struct vm_host host = { .pred = fake_pred };
        struct vm *vm = vm_new(p, &host, NULL, NULL);
        unsigned acts = 0;
        enum vm_status st;
        vm->budget = 20000; /* loops of a million iterations are legal */
        while ((st = vm_run(vm)) == VM_YIELD) {
                json_t *outs = json_pack("[{s:s}]", "stdout", "out");
                vm_complete(vm, acts++ % 3 != 1, outs, "failed");
                if (acts == 7) {
                        json_t *state = vm_save(vm);
                        struct vm *again = vm_restore(p, &host, state, NULL);
                        json_decref(state);
                        if (!again)
                                abort(); /* a state we saved must restore */
                        again->budget = vm->budget;
                        vm_free(vm);
                        vm = again;
                }
        }
        if (st == VM_ERROR)
                abort(); /* a verified program never hits an internal error */
        vm_free(vm);
        prog_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct diag_list diags = { 0 };
        struct ydoc *doc = NULL;

        if (!sink)
                sink = fopen("/dev/null", "w");
        /* Documents that fail to load are still returned (with their
         * source, for quoting), so they must be freed either way; those
         * that kept a root are checked, as cmd_validate.c does. */
        if (ydoc_load_buffer("fuzz.yml", (const char *)data, size, NULL, &doc, &diags) >= 0 ||
            (doc && doc->root)) {
                check_as(doc, PLAT_LINUX, false);
                check_as(doc, PLAT_WINDOWS, true);
                if (diags.n_errors == 0)
                        compile_and_run(doc);
        }
        render(&diags, doc);
        diag_list_free(&diags);
        ydoc_free(doc);
        return 0;
}
