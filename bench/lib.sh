# bench/lib.sh: what the benchmarks share, sourced by each after
# `set -euo pipefail` as `. "$(dirname "$0")/lib.sh"`.  The scratch
# folder and the test servers come from tests/lib/servers.sh (a server
# that does not start ends the benchmark with status 2).
#
#   top                    the repository
#   OPENTOE                what is measured: the script's argument, else
#                          $OPENTOE, else ./opentoe (make) or build/opentoe
#                          (scripts/build.sh) of the repository
#   RUNS, BYTES            BENCH_RUNS (default 3) and BENCH_BYTES (default
#                          1 GiB), for the benchmarks that take them
#   die MSG                "SCRIPT: MSG" on standard error, exit 2
#   need CMD PACKAGE       CMD is there, or installed with apt-get when
#                          running as root; else die naming PACKAGE
#   need_opentoe           OPENTOE is an executable, else die
#   bench_work [KIB]       the scratch folder in work (in /dev/shm when it
#                          has more than KIB free), removed at exit, with a
#                          copy of OPENTOE in it (work/opentoe), so that a
#                          rebuild while the benchmark runs changes nothing
#   no_proxy_env           nothing but 127.0.0.1, no AWS settings
#   rss CMD...             CMD's peak RSS in KiB (/usr/bin/time)
#   verdict 1|0 VAR        VAR is "ok", or "MISSED" and status is 1
#   hyperfine_means FILE NAME...  the mean and the standard deviation of
#                          each named command in hyperfine's JSON FILE

top=$(cd "$(dirname "$0")/.." && pwd)
bench=$(basename "$0")
status=0
OPENTOE=${1:-${OPENTOE:-}}
if [ -z "$OPENTOE" ]; then
        OPENTOE=$top/opentoe
        [ -x "$OPENTOE" ] || OPENTOE=$top/build/opentoe
fi
RUNS=${BENCH_RUNS:-3}
BYTES=${BENCH_BYTES:-1073741824}
# The benchmarks keep what they measure with KEEP=1, the tests with KEEP_SCRATCH.
[ "${KEEP:-0}" = 1 ] && export KEEP_SCRATCH=1
. "$top/tests/lib/servers.sh"

die() {
        echo "$bench: $*" >&2
        exit 2
}
bail_out() { die "$1"; }

need() {
        command -v "$1" > /dev/null && return 0
        if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
                apt-get install -y -q "$2" > /dev/null && return 0
        fi
        die "install $2 (apt-get install $2)"
}

need_opentoe() {
        [ -x "$OPENTOE" ] || die "build opentoe first (scripts/build.sh), or name it: $bench path/to/opentoe"
}

bench_work() {
        if [ -n "${1:-}" ] && [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt "$1" ]; then
                TMPDIR=/dev/shm scratch_dir work "bench-${bench%.sh}"
        else
                scratch_dir work "bench-${bench%.sh}"
        fi
        cp "$OPENTOE" "$work/opentoe"
}

no_proxy_env() {
        only_loopback
        clear_env AWS_ OPENTOE_AWS_ OPENTOE_S3_ OPENTOE_CWLOGS_
        export AWS_EC2_METADATA_DISABLED=true
}

rss() {
        /usr/bin/time -f %M -o "$work/rss.txt" "$@" > /dev/null 2>&1
        tail -1 "$work/rss.txt"
}

verdict() {
        if [ "$1" = 1 ]; then
                printf -v "$2" ok
        else
                printf -v "$2" MISSED
                status=1
        fi
}

hyperfine_means() {
        python3 -c 'import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print(" ".join("%s %s" % (r[n]["mean"], r[n]["stddev"] or 0) for n in sys.argv[2:]))' "$@"
}
