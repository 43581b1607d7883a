#!/bin/bash
# test.sh: the README's test command.  Installs what is missing, builds
# with warnings as errors under AddressSanitizer and UndefinedBehavior-
# Sanitizer, runs every test, and ends with the line `N passed, N failed`.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" --test || exit 1
export BUILD_DIR=${BUILD_DIR:-$top/build-test}
"$top/scripts/build.sh" --enable-werror --enable-asan || { echo "0 passed, 1 failed"; exit 1; }
cd "$BUILD_DIR"
# LeakSanitizer needs ptrace, which some sandboxes deny; say so and go on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
make -j"$(nproc)" check >/dev/null 2>&1
status=$?
# Show every failure with its log, then the totals.
grep -h -E '^(FAIL|ERROR|XPASS): .* - ' test-suite.log 2>/dev/null | sed 's/^/  /' || true
for log in $(grep -l -E '^:test-result: (FAIL|ERROR)' $(find . -name '*.trs') 2>/dev/null); do
        echo "---- ${log%.trs}.log"
        grep -E '^(not ok|#)' "${log%.trs}.log" | head -n 60
done
pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null | head -n 1)
fail=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null | head -n 1)
error=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null | head -n 1)
pass=${pass:-0}
fail=$(( ${fail:-0} + ${error:-0} ))
if [ $status -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
