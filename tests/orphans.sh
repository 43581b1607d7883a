#!/bin/bash
# orphans.sh: no step's processes outlive the run that started them.
# When `opentoe run` is killed with SIGKILL, its guard stops the running
# step's process group (children and grandchildren); when the guard is
# killed too, the resumed run stops what was left before it runs
# anything; a process that merely has the recorded number (another boot,
# or started before the recorded leader) is never touched.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
scratch_dir work orphans
tag="otorphan$$"
at_exit 'pkill -f "$tag" 2> /dev/null'
cd "$work" || exit 1
export OPENTOE_KILL_GRACE_MS=300
alive() { pgrep -f "$1" > /dev/null; }
# Waits up to $2 tenths of a second for $1 to be true.
wait_for() {
        for _ in $(seq 1 "$2"); do eval "$1" && return 0; sleep 0.1; done
        return 1
}

# The step starts a child and a grandchild and waits; run again (after a
# resume) it records whether the first run's processes were still there.
build_doc doc.yml <<YML
      - name: Sleeps
        action: ExecuteBash
        inputs:
          commands:
            - if pgrep -f "$tag-child" > /dev/null || pgrep -f "$tag-grand" > /dev/null; then echo overlap >> result; fi
            - if [ -e first-done ]; then echo second >> result; exit 0; fi
            - touch first-done
            - bash -c 'exec -a $tag-child sleep 300' &
            - bash -c '(exec -a $tag-grand sleep 300) & wait' &
            - echo started
            - wait
YML

start_run() {
        rm -rf logs state first-done result
        "$OPENTOE" run -d doc.yml -l logs -s state > out 2> err &
        pid=$!
        wait_for 'alive "$tag-grand" && alive "$tag-child"' 100
}

# 1. The runner dies: its guard stops the whole group.
start_run
check_eval "the step's child and grandchild are running" 'alive "$tag-child" && alive "$tag-grand"'
guard=$(pgrep -x opentoe-guard -P $pid)
kill -9 $pid
wait $pid 2> /dev/null
wait_for '! alive "$tag-child" && ! alive "$tag-grand"' 30
check_eval "after SIGKILL of opentoe, no process of the step is left (within the grace period)" \
        '! alive "$tag-child" && ! alive "$tag-grand"'
wait_for '! kill -0 $guard 2> /dev/null' 20
check_eval "... and its guard has exited" '[ -n "$guard" ] && ! kill -0 $guard 2> /dev/null'
"$OPENTOE" run -d doc.yml -l logs -s state > out2 2> err2; rc=$?
check_eval "... and the resumed run runs the step again and succeeds, with no overlap" \
        '[ $rc = 0 ] && grep -qx second result && ! grep -q overlap result'

# 2. The runner and its guard die: the resumed run stops what was left.
start_run
guard=$(pgrep -x opentoe-guard -P $pid)
check_eval "the guard runs beside opentoe" '[ -n "$guard" ]'
kill -9 $guard $pid
wait $pid 2> /dev/null
sleep 0.5
check_eval "with the guard killed too, the step's processes survive the runner" 'alive "$tag-child" && alive "$tag-grand"'
"$OPENTOE" run -d doc.yml -l logs -s state > out2 2> err2; rc=$?
check_eval "the resumed run stops them before it runs anything, and says so" \
        '[ $rc = 0 ] && ! alive "$tag-child" && ! alive "$tag-grand" && ! grep -q overlap result &&
         grep -qx second result && grep -q "Stopped [0-9]* process(es) that the previous run.s step Sleeps left running" logs/TOE_*/console.log'

# 3. A recorded group whose number now belongs to someone else is left
# alone: the state is forged (with a valid digest) to name an unrelated
# process group.
start_run
guard=$(pgrep -x opentoe-guard -P $pid)
kill -9 $guard $pid
wait $pid 2> /dev/null
pkill -f "$tag-" ; sleep 0.3
setsid bash -c "exec -a $tag-other sleep 300" &
sleep 0.3
other=$(pgrep -f "$tag-other")
forge() { # forge FIELD VALUE: rewrites running.json's FIELD and its digest
        python3 - "$1" "$2" "$other" <<'PY'
import hashlib, json, sys
field, value, other = sys.argv[1], sys.argv[2], int(sys.argv[3])
start = int(open(f"/proc/{other}/stat").read().rsplit(")", 1)[1].split()[19])
head, body = open("state/running.json", "rb").read().split(b"\n", 1)
h, b = json.loads(head), json.loads(body)
b["pgid"] = other
b["leaderStart"] = start
if field == "leaderStart":
        b["leaderStart"] = start + int(value)
else:
        b[field] = value
text = json.dumps(b, separators=(",", ":")).encode()
d = hashlib.sha256(b"opentoe-state 3\n" + b"".join(x.encode() + b"\n" for x in h["documents"]) + text)
h["digest"] = d.hexdigest()
open("state/running.json", "wb").write(json.dumps(h, separators=(",", ":")).encode() + b"\n" + text + b"\n")
PY
}
cp state/state.jsonl state.saved; cp state/running.json running.saved
restore() {
        rm -rf state logs result && mkdir -m 700 state && cp state.saved state/state.jsonl &&
                cp running.saved state/running.json && chmod 600 state/*
}
restore
forge leaderStart 1
"$OPENTOE" run -d doc.yml -l logs -s state > out3 2> err3; rc=$?
check_eval "a process that started before the recorded leader is not taken for it" \
        '[ $rc = 0 ] && alive "$tag-other" && grep -qx second result'
restore
forge bootId "00000000-0000-0000-0000-000000000000"
"$OPENTOE" run -d doc.yml -l logs -s state > out4 2> err4; rc=$?
check_eval "a group recorded in another boot is not touched" '[ $rc = 0 ] && alive "$tag-other" && grep -qx second result'
# The control: the same forgery with the real start time is stopped, so
# the two checks above can fail.
restore
forge leaderStart 0
"$OPENTOE" run -d doc.yml -l logs -s state > out5 2> err5; rc=$?
wait_for '! alive "$tag-other"' 20
check_eval "the control: a group recorded with its leader's real start time is stopped" \
        '[ $rc = 0 ] && ! alive "$tag-other"'

# 4. A recorded group whose number was given to another process (a real
# reuse: the number is handed out again with ns_last_pid) is left alone.
pkill -f "$tag-" ; sleep 0.3
start_run
guard=$(pgrep -x opentoe-guard -P $pid)
leader=$(python3 -c "import json; print(json.load(open('/dev/stdin'))['running']['pgid'])" < <("$OPENTOE" debug state state))
kill -9 $guard $pid
wait $pid 2> /dev/null
pkill -9 -f "$tag-child"; pkill -9 -f "$tag-grand"
wait_for '! kill -0 $leader 2> /dev/null && [ ! -e /proc/$leader ]' 50
victim=""
if [ -w /proc/sys/kernel/ns_last_pid ]; then
        for _ in 1 2 3; do
                echo $((leader - 1)) > /proc/sys/kernel/ns_last_pid
                setsid bash -c "exec -a $tag-victim sleep 300" &
                sleep 0.2
                victim=$(pgrep -f "$tag-victim")
                [ "$victim" = "$leader" ] && break
                pkill -f "$tag-victim"; victim=""
        done
fi
if [ -n "$victim" ]; then
        "$OPENTOE" run -d doc.yml -l logs -s state > out6 2> err6; rc=$?
        check_eval "a process given the dead leader's number later is not taken for the step's group" \
                '[ $rc = 0 ] && alive "$tag-victim" && ! grep -q "Stopped" logs/TOE_*/console.log'
        pkill -f "$tag-victim"
else
        skip "cannot hand out a chosen pid here"
        "$OPENTOE" run -d doc.yml -l logs -s state > /dev/null 2>&1
fi

# 5. The guard dies while the runner lives: the run goes on.
build_doc two.yml <<YML
      - name: Waits
        action: ExecuteBash
        inputs:
          commands: ["sleep 1", "echo one"]
      - name: Then
        action: ExecuteBash
        inputs:
          commands: ["echo two"]
YML
rm -rf logs state
"$OPENTOE" run -d two.yml -l logs -s state > out7 2> err7 &
pid=$!
wait_for 'pgrep -x opentoe-guard -P $pid > /dev/null' 50
kill -9 "$(pgrep -x opentoe-guard -P $pid)"
wait $pid; rc=$?
check_eval "when the guard is killed, the run still ends normally (no SIGPIPE)" \
        '[ $rc = 0 ] && grep -q "\"status\": \"success\"" out7 && grep -q "Stdout: two" logs/TOE_*/console.log'
rm -rf logs state
"$OPENTOE" run -d two.yml -l logs -s state <&- >&- 2> err8; rc=$?
check_eval "with its standard input and output closed, a run still succeeds" \
        '[ $rc = 0 ] && grep -q "Stdout: two" logs/TOE_*/console.log'

# 6. --discard-state stops what the discarded run's step left running.
start_run
guard=$(pgrep -x opentoe-guard -P $pid)
kill -9 $guard $pid
wait $pid 2> /dev/null
sleep 0.3
check_eval "(setup) the killed run's step is still running" 'alive "$tag-child"'
rm -f first-done result
touch first-done
"$OPENTOE" run -d doc.yml -l logs -s state --discard-state > out9 2> err9; rc=$?
check_eval "--discard-state stops the discarded run's leftover processes before starting over" \
        '[ $rc = 0 ] && ! alive "$tag-child" && ! alive "$tag-grand" && ! grep -q overlap result'
done_testing
