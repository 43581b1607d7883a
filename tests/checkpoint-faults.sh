#!/bin/bash
# checkpoint-faults.sh: a checkpoint that cannot be written (the disk is
# full: the write stops half-way and fails with ENOSPC) leaves the state
# as it was, the run goes on and says so, and the next checkpoint saves
# everything again: after a later kill -9 the run resumes with nothing
# lost and nothing completed run twice.  A run killed at the first write
# of a new state log leaves nothing a resume refuses, and one killed
# right after recording its step in flight loses no line of console.log.
# The faults are injected with a small LD_PRELOAD library built here.
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
scratch_dir work checkpoint-faults
cd "$work" || exit 1
cc=${CC:-cc}
cat > fail.c <<'C'
/* Fails the Nth write to state.jsonl (OT_FAIL_WRITE_AT) half-way, as a
 * full disk does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
ssize_t write(int fd, const void *buf, size_t len)
{
        static ssize_t (*real)(int, const void *, size_t);
        static int seen;
        char link[64], target[4096];
        if (!real)
                real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, target, sizeof target - 1);
        const char *at = getenv("OT_FAIL_WRITE_AT");
        /* OT_KILL_FIRST_STATE_WRITE: dies, as a crash does, at the first
         * write of a new state log, with nothing of it written. */
        if (k > 0 && getenv("OT_KILL_FIRST_STATE_WRITE")) {
                target[k] = '\0';
                if (strstr(target, "/state.jsonl"))
                        raise(SIGKILL);
        }
        if (k > 12 && at) {
                target[k] = '\0';
                if (!strcmp(target + k - 12, "/state.jsonl") && ++seen == atoi(at)) {
                        real(fd, buf, len / 2);
                        errno = ENOSPC;
                        return -1;
                }
        }
        return real(fd, buf, len);
}
/* OT_KILL_AFTER_RUNNING_WRITE: dies, as a crash does, right after the
 * first write of running.json (the step in flight recorded). */
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
        static ssize_t (*real)(int, const void *, size_t, off_t);
        char link[64], target[4096];
        if (!real)
                real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
        ssize_t n = real(fd, buf, len, off);
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k > 13 && getenv("OT_KILL_AFTER_RUNNING_WRITE")) {
                target[k] = '\0';
                if (!strcmp(target + k - 13, "/running.json"))
                        raise(SIGKILL);
        }
        return n;
}
C
if ! $cc -shared -fPIC -o fail.so fail.c -ldl 2> cc.err; then
        skip_all "no C compiler to build the fault library"
fi
{
        echo "schemaVersion: 1.0"
        echo "phases:"
        echo "  - name: build"
        echo "    steps:"
        for i in 1 2 3 4 5; do
                printf '      - name: S%d\n        action: ExecuteBash\n        inputs:\n          commands: ["echo S%d >> trace", "echo out-S%d"]\n' $i $i $i
        done
        printf '      - name: Last\n        action: ExecuteBash\n        inputs:\n          commands: ["echo Last >> trace", "touch last-started", "sleep 30"]\n'
} > doc.yml
# Record 4 of the log is the one after S2 (begin, start, S1, S2, ...).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$work/fail.so OT_FAIL_WRITE_AT=4 \
        "$OPENTOE" run -d doc.yml -l logs -s state > out1 2> err1 &
pid=$!
for _ in $(seq 1 100); do [ -e last-started ] && break; sleep 0.1; done
sleep 0.2
check_eval "(setup) the run reached its last step" '[ -e last-started ]'
check_eval "the failed checkpoint is said in console.log, and the run went on" \
        'grep -q "Warning: cannot write state/state.jsonl: No space left on device; the run goes on" logs/TOE_*/console.log'
"$OPENTOE" debug state state > shown 2> shown.err; rc=$?
check_eval "the saved state is whole (the half-written record was cut) and has the steps after the failure" \
        '[ $rc = 0 ] && python3 -c "
import json
d = json.load(open(\"shown\"))[\"state\"]
st = [s[\"state\"] for s in d[\"vm\"][\"steps\"]]
assert st[:5] == [2, 2, 2, 2, 2], st
"'
kill -9 $pid
wait $pid 2> /dev/null
sleep 0.5
rm -f last-started
timeout 5 "$OPENTOE" run -d doc.yml -l logs -s state > out2 2> err2 &
rpid=$!
for _ in $(seq 1 50); do [ -e last-started ] && break; sleep 0.1; done
kill -TERM $rpid 2> /dev/null
wait $rpid 2> /dev/null
check_eval "the resumed run runs no completed step again: S1 to S5 once each, only the step in flight twice" \
        '[ "$(grep -c "^S" trace)" = 5 ] && [ "$(sort trace | uniq -d)" = Last ] &&
         [ "$(grep -c . trace)" = 7 ]'
check_eval "... and each step's output is in console.log once" \
        'for i in 1 2 3 4 5; do [ "$(grep -c "Stdout: out-S$i\$" logs/TOE_*/console.log)" = 1 ] || exit 1; done'

# killed_then_rerun NAME FAULT MARKER < DOC: in the folder NAME (made and
# entered), DOC as doc.yml, run as execution NAME-1 with the fault library
# and FAULT=1 (a fault that kills the run), then again with no fault.
# Sets rc1 and rc2 (the two runs' exit statuses), ran1 (yes when MARKER
# existed after the first run, else no) and recorded (yes when the first
# run left a non-empty state/running.json, else no).
killed_then_rerun() {
        mkdir -p "$1" && cd "$1" || exit 1
        cat > doc.yml
        env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" LD_PRELOAD="$work/fail.so" "$2=1" \
                "$OPENTOE" run -d doc.yml -l logs -s state -i "$1-1" > out1 2> err1
        rc1=$?
        ran1=$([ -e "$3" ] && echo yes || echo no)
        recorded=$([ -s state/running.json ] && echo yes || echo no)
        "$OPENTOE" run -d doc.yml -l logs -s state -i "$1-1" > out2 2> err2
        rc2=$?
}

# A crash between creating the state log and writing its first record
# (the "begin" checkpoint) leaves no state that a resume would refuse as
# damaged: the next run starts the execution and finishes it.
killed_then_rerun early OT_KILL_FIRST_STATE_WRITE trace < <(
        printf 'schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: One\n        action: ExecuteBash\n        inputs:\n          commands: ["echo one >> trace"]\n')
check_eval "(setup) the first run died at its first state write" '[ $rc1 = 137 ] && [ $ran1 = no ]'
check_eval "killed before the state log's first record, the next run is not refused and finishes" \
        '[ $rc2 = 0 ] && [ "$(cat trace)" = one ] && ! grep -q "damaged" err2'
cd "$work" || exit 1

# A crash right after the step in flight was recorded: the resumed run
# goes over the lines before it without writing them again, so they must
# be in console.log already (its buffer is not), headers included.
killed_then_rerun inflight OT_KILL_AFTER_RUNNING_WRITE flipped < <(
        printf 'schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Flip\n        action: ExecuteBash\n        if:\n          not:\n            - fileExists: flipped\n        inputs:\n          commands: ["touch flipped", "echo out-Flip"]\n')
check_eval "(setup) the first run died with its step recorded in flight, before it ran" \
        '[ $rc1 = 137 ] && [ $ran1 = no ] && [ $recorded = yes ]'
check_eval "the resumed run ran the step in flight (its condition not evaluated again)" \
        '[ $rc2 = 0 ] && [ -e flipped ] && [ "$(grep -c "Stdout: out-Flip\$" logs/TOE_*/console.log)" = 1 ]'
check_eval "... and console.log has the phase and step headers written before the crash, once each" \
        '[ "$(grep -c " Info Phase build\$" logs/TOE_*/console.log)" = 1 ] &&
         [ "$(grep -c " Info Step Flip\$" logs/TOE_*/console.log)" = 1 ]'
cd "$work" || exit 1
done_testing
