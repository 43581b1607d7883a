#!/bin/bash
# run.sh: build tests/fuzz/fuzz_validate out of tree and fuzz it for a while.
#
#   tests/fuzz/run.sh [-B BUILD-DIR] [-j JOBS] [-H] [SECONDS] [-- LIBFUZZER-ARGS...]
#
# -H builds the last commit (git archive HEAD) with this directory's fuzz
# files laid over it, instead of the working tree: use it when the working
# tree is half-edited and does not build.  It needs autoreconf and rebuilds
# everything each time.
#
# BUILD-DIR defaults to $TMPDIR/opentoe-fuzz (/tmp/opentoe-fuzz without
# TMPDIR); SECONDS defaults to 600.  Everything the run writes goes below
# BUILD-DIR:
#
#   src/        a snapshot of the source tree (with -H, or when the tree is
#               configured in place: automake's configure then refuses a
#               VPATH build with "source directory already configured")
#   obj/        the clang build, configured with --enable-fuzz
#   corpus/     a fresh, writable copy of tests/fuzz/seed plus what the run adds
#   artifacts/  crash-*, leak-*, timeout-*, oom-* reproducers, if any (an
#               earlier run's are moved to artifacts.DATE)
#   fuzz.log    libFuzzer's output
#
# The seed corpus in the source tree is only read.  UBSan is told to halt on
# its first report, so undefined behaviour counts as a crash.  The exit
# status is libFuzzer's: 0 when the time ran out without a finding.
set -euo pipefail

# The whole script is one block, so bash has read all of it before the
# long run starts and editing this file meanwhile cannot break the summary.
{
usage() {
        sed -n '4p' "$0" | sed 's/^# *//' >&2
        exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
build=${TMPDIR:-/tmp}/opentoe-fuzz
jobs=$(nproc 2>/dev/null || echo 2)
seconds=600
from_head=0
while [ $# -gt 0 ]; do
        case $1 in
        -B) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
        -j) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
        -j?*) jobs=${1#-j}; shift ;;
        -H) from_head=1; shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        [0-9]*) seconds=$1; shift ;;
        *) usage ;;
        esac
done
case $seconds in *[!0-9]*|'') echo "run.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;; esac

command -v clang >/dev/null || { echo "run.sh: clang is needed (apt-get install clang)" >&2; exit 1; }
mkdir -p "$build"
build=$(cd "$build" && pwd)
case $build/ in
"$srcdir"/*) echo "run.sh: put the build directory outside the source tree ($srcdir)" >&2; exit 2 ;;
esac

# ---- build ------------------------------------------------------------------

configure_from=$srcdir
if [ "$from_head" = 1 ]; then
        echo "run.sh: building $(git -C "$srcdir" rev-parse --short HEAD) with the working tree's tests/fuzz in $build/src" >&2
        rm -rf "$build/src.new" "$build/obj"
        mkdir -p "$build/src.new"
        git -C "$srcdir" archive HEAD | tar -C "$build/src.new" -xf -
        tar -C "$srcdir" --exclude=.deps --exclude=.dirstamp --exclude='*.o' --exclude=fuzz_validate \
                -cf - tests/fuzz | tar -C "$build/src.new" -xf -
        rm -rf "$build/src"
        mv "$build/src.new" "$build/src"
        (cd "$build/src" && autoreconf -fi >/dev/null 2>&1) || { echo "run.sh: autoreconf failed" >&2; exit 1; }
        configure_from=$build/src
elif [ -f "$srcdir/config.status" ]; then
        # Copy the tree without its in-place build products.  tar keeps the
        # modification times, so make only rebuilds what really changed.
        echo "run.sh: $srcdir is configured in place; building from a snapshot in $build/src" >&2
        rm -rf "$build/src.new"
        mkdir -p "$build/src.new"
        tar -C "$srcdir" --exclude=.git --exclude=autom4te.cache --exclude='*.o' --exclude='*.a' \
                --exclude=.deps --exclude=.dirstamp --exclude='*.log' --exclude='*.trs' -cf - . |
                tar -C "$build/src.new" -xf -
        (cd "$build/src.new" && rm -f config.status config.h Makefile stamp-h1 opentoe awstoe \
                tests/unit/check_yamldoc tests/unit/check_template tests/unit/check_action_specs \
                tests/fuzz/fuzz_validate)
        rm -rf "$build/src"
        mv "$build/src.new" "$build/src"
        configure_from=$build/src
fi
if [ ! -x "$configure_from/configure" ]; then
        (cd "$configure_from" && autoreconf -fi)
fi
mkdir -p "$build/obj"
if [ ! -f "$build/obj/Makefile" ]; then
        (cd "$build/obj" && "$configure_from/configure" CC=clang --enable-fuzz >configure.out 2>&1) || {
                tail -20 "$build/obj/configure.out" >&2
                exit 1
        }
fi
make -C "$build/obj" -j"$jobs" tests/fuzz/fuzz_validate
fuzzer=$build/obj/tests/fuzz/fuzz_validate

# ---- run --------------------------------------------------------------------

rm -rf "$build/corpus"
if [ -n "$(ls -A "$build/artifacts" 2>/dev/null)" ]; then
        # Keep an earlier run's findings, but out of this run's report.
        mv "$build/artifacts" "$build/artifacts.$(date +%Y%m%d-%H%M%S)"
fi
mkdir -p "$build/corpus" "$build/artifacts"
cp "$here"/seed/* "$build/corpus/"
chmod u+w "$build/corpus"/*

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
cmd=("$fuzzer" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -dict="$here/yaml.dict"
     -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/artifacts/"
     "$@" "$build/corpus")
echo "run.sh: ${cmd[*]}" >&2
status=0
"${cmd[@]}" 2>&1 | tee "$build/fuzz.log" || status=${PIPESTATUS[0]}

# ---- summary ----------------------------------------------------------------

log=$build/fuzz.log
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) .*/\1 edges, \2 features/p' <<<"$last")
echo
echo "fuzz_validate: ${execs:-?} executions in ${seconds} s (${rate:-?} exec/s), coverage ${cov:-?}," \
     "corpus $(ls "$build/corpus" | wc -l) files"
findings=$(ls "$build/artifacts" 2>/dev/null || true)
if [ -n "$findings" ]; then
        echo "findings in $build/artifacts:"
        sed 's/^/  /' <<<"$findings"
        echo "replay one with: $fuzzer $build/artifacts/<file>"
else
        echo "no crash, leak, timeout or out-of-memory"
fi
exit "$status"
}
