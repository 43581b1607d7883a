#!/bin/bash
# output-path.sh: the output path of a chatty step.  console.log and the
# CloudWatch Logs spool are buffered and leave in large writes (counted
# with strace: a step printing 100,000 lines costs opentoe far fewer
# than 100,000 writes), yet a line reaches both as soon as the step's
# output pauses (a step that prints and then sleeps), a SIGKILL after a
# step ended loses none of that step's lines, and the resumed run writes
# them once.  The time stamps, formatted once a second, stay exact
# across a second's boundary.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W output-path
only_loopback
clear_env AWS_ OPENTOE_AWS_ OPENTOE_IMDS_ OPENTOE_CWLOGS_
export HOME=$W/home AWS_ACCESS_KEY_ID=AKIDOUTPUTTEST AWS_SECRET_ACCESS_KEY=output-test-secret
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
# No CloudWatch Logs endpoint listens: lines stay in the spool.
export AWS_ENDPOINT_URL_LOGS=http://127.0.0.1:1 OPENTOE_AWS_MAX_ATTEMPTS=1 OPENTOE_CWLOGS_CLOSE_WAIT_MS=200
mkdir -p "$HOME"
lines_of() { grep -c "$1" "$2" 2> /dev/null || true; }

# ---- large writes --------------------------------------------------------
# (The run fails: the spooled lines cannot be delivered.)
if command -v strace > /dev/null; then
        build_doc "$W/loud.yml" <<'EOF'
      - name: Loud
        action: ExecuteBash
        inputs:
          commands:
            - head -c 9900000 /dev/zero | tr '\0' a | fold -w 99
EOF
        mkdir -p "$W/loud"
        # Without -f: only opentoe's own writes are counted, not the step's.
        (cd "$W/loud" && strace -o trace -e trace=write,pwrite64 "$OPENTOE" run -d ../loud.yml -l logs -s state \
                --cw-log-group /ot/out --cw-log-stream loud > stdout 2> stderr)
        rc=$?
        log=$(ls "$W"/loud/logs/*/console.log 2> /dev/null | head -1)
        n=$(lines_of 'CmdExecution: Stdout: aaaaaaaaaa' "$log")
        writes=$(grep -c '^write(' "$W/loud/trace")
        # A write a line would be 100,000; strace slows opentoe, so its loop
        # wakes (and flushes) more often than untraced.
        check "100,000 lines printed: all in console.log (got $n), in $writes writes of opentoe's (< 10,000)" \
                eval '[ $rc -eq 1 ] && [ "$n" -eq 100000 ] && [ "$writes" -lt 10000 ]'
        n=$(cat "$W"/loud/state/cwlogs/* 2> /dev/null | grep -ao 'Stdout: aaaaaaaaaa' | wc -l)
        writes=$(grep -c '^pwrite64(' "$W/loud/trace")
        check "... all in the CloudWatch Logs spool (got $n), in $writes writes (< 10,000)" \
                eval '[ "$n" -eq 100000 ] && [ "$writes" -lt 10000 ]'
else
        skip "strace is not installed (scripts/setup.sh --test installs it)"
        skip "strace is not installed"
fi

# ---- a pause flushes -----------------------------------------------------
# The pause lasts until the test creates $W/go (the document stays the
# same, so the killed run can be resumed).
build_doc "$W/pause.yml" <<EOF
      - name: Quick
        action: ExecuteBash
        inputs:
          commands:
            - for i in \$(seq 1 5000); do echo "first-step line \$i"; done
      - name: Pause
        action: ExecuteBash
        inputs:
          commands:
            - echo "before the pause"
            - for i in \$(seq 1 600); do [ -e $W/go ] && break; sleep 0.1; done
            - echo "after the pause"
EOF
mkdir -p "$W/pause"
(cd "$W/pause" && exec "$OPENTOE" run -d ../pause.yml -l logs -s state --cw-log-group /ot/out \
        --cw-log-stream s1 > stdout 2> stderr) &
pid=$!
seen=0
for _ in $(seq 1 100); do
        log=$(ls "$W"/pause/logs/*/console.log 2> /dev/null | head -1)
        if [ -n "$log" ] && grep -q 'Stdout: before the pause' "$log"; then
                seen=1
                break
        fi
        sleep 0.1
done
check "a line printed before a pause is in console.log while the step sleeps" eval '[ $seen = 1 ]'
spooled=0
for _ in $(seq 1 50); do
        if cat "$W"/pause/state/cwlogs/* 2> /dev/null | grep -aq 'Stdout: before the pause'; then
                spooled=1
                break
        fi
        sleep 0.1
done
check "... and in the CloudWatch Logs spool" eval '[ $spooled = 1 ]'
{ kill -KILL "$pid" && wait "$pid"; } 2> /dev/null
n=$(lines_of 'Stdout: first-step line' "$log")
check "SIGKILL in the next step: the ended step's 5,000 lines are all in console.log (got $n)" \
        eval '[ "$n" -eq 5000 ]'
# Spool records are not lines: count the matches.
n=$(cat "$W"/pause/state/cwlogs/* 2> /dev/null | grep -ao 'Stdout: first-step line [0-9]*' | wc -l)
check "... and in the spool (got $n)" eval '[ "$n" -eq 5000 ]'
touch "$W/go"
(cd "$W/pause" && "$OPENTOE" run -d ../pause.yml -l logs -s state > stdout 2> stderr)
rc=$?
n=$(lines_of 'Stdout: first-step line' "$log")
after=$(lines_of 'Stdout: after the pause' "$log")
check "the resumed run ends; console.log holds the first step's lines once ($n) and the rest" \
        eval '[ $rc -eq 0 ] && [ "$n" -eq 5000 ] && [ "$after" -eq 1 ]'

# ---- time stamps across a second -----------------------------------------
build_doc "$W/stamps.yml" <<'EOF'
      - name: Ticks
        action: ExecuteBash
        inputs:
          commands:
            - for i in 1 2 3; do echo "tick $i $(date -u '+%Y-%m-%d %H:%M:%S')"; sleep 0.6; done
EOF
mkdir -p "$W/stamps"
(cd "$W/stamps" && "$OPENTOE" run -d ../stamps.yml -l logs -s state > stdout 2> stderr)
rc=$?
log=$(ls "$W"/stamps/logs/*/console.log 2> /dev/null | head -1)
# Each tick's stamp is at or just after the time the step printed.
bad=$("${PY:-python3}" - "$log" <<'EOF'
import re, sys, datetime
bad = 0
prev = None
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) Info ", line)
    if not m:
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S") + datetime.timedelta(milliseconds=int(m.group(2)))
    if prev and t < prev:
        bad += 1
    prev = t
    k = re.search(r"Stdout: tick \d (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$", line.rstrip("\n"))
    if k:
        n += 1
        printed = datetime.datetime.strptime(k.group(1), "%Y-%m-%d %H:%M:%S")
        if not (printed <= t < printed + datetime.timedelta(seconds=2)):
            bad += 1
print(bad if n == 3 else "missing ticks")
EOF
)
check "stamps are in order and each tick's is the second it was printed in (problems: $bad)" \
        eval '[ $rc -eq 0 ] && [ "$bad" = 0 ]'

done_testing
