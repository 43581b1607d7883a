#!/bin/bash
# webdownload-async.sh: WebDownload as a job on the runner's event loop:
# the step's timeoutSeconds stops a slow body with libcurl's own words,
# as the blocking download did, and an interrupt (SIGTERM to opentoe)
# ends a download at once instead of when the transfer ends.  The server
# is tests/servers/webserver.py on 127.0.0.1; its /stall sends 1000 of a
# declared 1 MiB, then nothing.  The pause between two attempts (the
# transport's request loop, WebDownload's retry policy) is a timer on the
# same loop: SIGTERM ends it at once too.  TAP output.
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
command -v python3 > /dev/null || skip_all "python3 (for the test server) is not available"
plan 13
scratch_dir W webdownload-async
on_failure() { diag "$(cat "$last/console.log" "$lastdir/stderr" 2>/dev/null)"; }

only_loopback
export OPENTOE_HTTP_RETRY_DELAY_MS=100
export OPENTOE_HTTP_CONNECT_TIMEOUT=5
# Only the step's deadline or a signal may end the stalled transfer.
export OPENTOE_HTTP_LOW_SPEED_TIME=600
mkdir -p "$W/root"
start_server http python3 "$top_srcdir/tests/servers/webserver.py" --root "$W/root" --log "$W/requests.log"
H=http://127.0.0.1:$port_http

steps() { # steps DEST [STEP_EXTRA]
        printf '      - name: Download\n        action: WebDownload\n'
        [ -z "${2:-}" ] || printf '%s\n' "$2"
        printf '        inputs:\n          - source: %s/stall\n            destination: %s\n' "$H" "$1"
        printf '      - name: After\n        action: ExecuteBash\n        inputs:\n'
        printf '          commands:\n            - echo after-ran\n'
}

# stop_run PID DIR: SIGTERM to the opentoe run PID in DIR; sets stop_ms
# (until it ended, at most 10 s), rc, lastdir and last (its log folder).
stop_run() {
        local t0
        t0=$(date +%s%N)
        kill -TERM "$1"
        for _ in $(seq 100); do
                kill -0 "$1" 2> /dev/null || break
                sleep 0.1
        done
        stop_ms=$((($(date +%s%N) - t0) / 1000000))
        kill -KILL "$1" 2> /dev/null
        wait "$1"
        rc=$?
        lastdir=$2
        last=$(ls -d "$lastdir"/logs/*/ 2> /dev/null | head -1)
        last=${last%/}
}

# ---- the step's deadline ---------------------------------------------------

t0=$(date +%s%N)
run_doc deadline "$(steps "$W/deadline/dl/x" "        timeoutSeconds: 2")"
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
check "a slow body is stopped by timeoutSeconds: the run fails" test "$rc" != 0
check "... after about 2 s (not before, and well before the transfer would end)" \
        test "$elapsed_ms" -ge 1900 -a "$elapsed_ms" -lt 15000
check "... with the words of before: the step timed out, in libcurl's words" \
        grep -Eq "WebDownload entry 1 \\($H/stall\\): the step timed out: Operation timed out after [0-9]+ milliseconds with 1000 out of 1048576 bytes received; nothing was written to $W/deadline/dl/x" \
        "$last/console.log"
check "... the step is reported as timed out in detailedoutput.json" \
        python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
s = d["documents"][0]["phases"][0]["steps"][0]
sys.exit(0 if s["status"] == "failed" and "the step timed out" in s["failureMessage"] else 1)' "$last/detailedoutput.json"
check "... and no temporary file is left" test -z "$(ls -A "$W/deadline/dl")"

# ---- an interrupt ------------------------------------------------------------

mkdir -p "$W/interrupt"
build_doc "$W/interrupt/doc.yml" interrupt <<< "$(steps "$W/interrupt/dl/x" "        timeoutSeconds: 60")"
(cd "$W/interrupt" && exec "$OPENTOE" run -l logs -s state --documents doc.yml > stdout 2> stderr) &
pid=$!
for _ in $(seq 100); do
        [ "$(grep -c '^GET /stall ' "$W/requests.log")" -ge 1 ] && break
        sleep 0.1
done
sleep 0.5
stop_run "$pid" "$W/interrupt"
check "SIGTERM during a download ends opentoe promptly (under 5 s)" test "$stop_ms" -lt 5000
check "... with the signal's exit status" test "$rc" = 143
check "... the entry failed as a run interrupted, nothing written" \
        console_has "WebDownload entry 1 ($H/stall): the run was interrupted; nothing was written to $W/interrupt/dl/x"
check "... no later step ran, and no temporary file is left" \
        eval '! grep -q after-ran "$last/console.log" && test -z "$(ls -A "$W/interrupt/dl")"'

# ---- an interrupt during the pause between two attempts ---------------------

mkdir -p "$W/pause"
printf '      - name: Download\n        action: WebDownload\n        timeoutSeconds: 120\n        inputs:\n          - source: %s/status/503\n            destination: %s\n' \
        "$H" "$W/pause/dl/x" > "$W/pause/steps"
build_doc "$W/pause/doc.yml" pause < "$W/pause/steps"
(cd "$W/pause" && OPENTOE_HTTP_RETRY_DELAY_MS=30000 exec "$OPENTOE" run -l logs -s state --documents doc.yml > stdout 2> stderr) &
pid=$!
for _ in $(seq 100); do
        grep -qs "attempt 1 of 5 failed: HTTP status 503; retrying in" "$W"/pause/logs/*/console.log && break
        sleep 0.1
done
stop_run "$pid" "$W/pause"
check "a failed attempt, then its pause (15-30 s): the retry is told" \
        console_has "WebDownload entry 1 ($H/status/503): attempt 1 of 5 failed: HTTP status 503; retrying in"
check "SIGTERM during the pause ends opentoe promptly (under 5 s), with the signal's status" \
        test "$stop_ms" -lt 5000 -a "$rc" = 143
check "... the entry failed as a run interrupted, naming the earlier failure" \
        console_has "WebDownload entry 1 ($H/status/503): the run was interrupted; nothing was written to $W/pause/dl/x; earlier failures: attempt 1: HTTP status 503"
check "... one request only, and no temporary file is left" \
        eval 'test "$(grep -c "^GET /status/503 " "$W/requests.log")" = 1 && test -z "$(ls -A "$W/pause/dl")"'

done_testing
