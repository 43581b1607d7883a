#!/bin/bash
# journal.sh: the journal sink (agent/sinks/journal.c) against a real
# systemd-journald started here, never the host's: journald runs in a
# private mount namespace (unshare -m) with a tmpfs over /run (its
# sockets and /run/log/journal) and over /var/log/journal when there is
# one, and opentoe runs beside it in the same namespace; the entries are
# read back with journalctl --directory -o json and their fields checked.
# The suites' test system root turns the journal off unless
# OPENTOE_JOURNAL=1 (journal.h), as here.  Needs root (for the namespace).
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths

JOURNALD=${JOURNALD:-/lib/systemd/systemd-journald}
[ "$(id -u)" = 0 ] || skip_all "needs root (a private mount namespace for journald)"
[ -x "$JOURNALD" ] || skip_all "systemd-journald is not installed (scripts/setup.sh --test installs systemd)"
command -v journalctl > /dev/null || skip_all "journalctl is not installed"
unshare -m --propagation private true 2> /dev/null || skip_all "cannot make a mount namespace here"

plan 19
scratch_dir W journal
on_failure() { diag "$(cat "$W/ns.log" 2> /dev/null | tail -n 20)"; }

build_doc "$W/ok.yml" jok <<'STEPS'
      - name: hello
        action: ExecuteBash
        inputs:
          commands:
            - echo hello-out
STEPS
build_doc "$W/bad.yml" jbad <<'STEPS'
      - name: fine
        action: ExecuteBash
        inputs:
          commands:
            - echo fine
      - name: boom
        action: ExecuteBash
        inputs:
          commands:
            - echo bad-err >&2
            - exit 3
STEPS
build_doc "$W/rb.yml" jrb <<'STEPS'
      - name: first
        action: ExecuteBash
        inputs:
          commands:
            - if [ ! -e "$W/rebooted" ]; then touch "$W/rebooted"; exit 194; fi
      - name: after
        action: ExecuteBash
        inputs:
          commands:
            - echo after-out
STEPS

# Everything that touches journald happens in the namespace; what is
# read back is written to $W as JSON lines.
unshare -m --propagation private env W="$W" OPENTOE="$OPENTOE" JOURNALD="$JOURNALD" bash -c '
set -u
mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal || exit 1; fi
"$JOURNALD" > "$W/journald.log" 2>&1 &
jp=$!
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start"; exit 1; }
cd "$W"
export OPENTOE_JOURNAL=1
"$OPENTOE" run -d ok.yml -i jt-ok -l logs > ok.out 2>&1; echo "ok $?"
"$OPENTOE" run -d bad.yml -i jt-bad -l logs > bad.out 2>&1; echo "bad $?"
"$OPENTOE" run -d ok.yml -i jt-off -l logs --no-journal > off.out 2>&1; echo "off $?"
OPENTOE_JOURNAL=0 "$OPENTOE" run -d ok.yml -i jt-env0 -l logs > env0.out 2>&1; echo "env0 $?"
# A run that exits 194 and is resumed: the resumed steps keep their phase.
"$OPENTOE" run -d rb.yml -i jt-rb -l logs -s rbstate --reboot-mode exit > rb1.out 2>&1; echo "rb1 $?"
"$OPENTOE" run -d rb.yml -i jt-rb -l logs -s rbstate --reboot-mode exit > rb2.out 2>&1; echo "rb2 $?"
journalctl --sync 2> /dev/null || sleep 1
for id in jt-ok jt-bad jt-off jt-env0 jt-rb; do
        journalctl --directory /run/log/journal --no-pager -o json OPENTOE_EXECUTION_ID=$id > "$id.json"
done
journalctl --directory /run/log/journal --no-pager -o json MESSAGE_ID=ee05b99b7ea44464a19f0d77b4a2ca95 > failed.json
kill $jp
wait $jp
' > "$W/ns.log" 2>&1
check "journald ran and the runs ended as they should" grep -qx "bad 1" "$W/ns.log"

# f FILE EXPR: EXPR over e (the entries of FILE, a list of dicts).
f() { "$PY" -c 'import json, sys
e = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
m = lambda s: [x for x in e if x.get("MESSAGE", "").startswith(s)]
print(eval(sys.argv[2]))' "$W/$1" "$2"; }

check "a run's entries are found by OPENTOE_EXECUTION_ID" [ "$(f jt-ok.json 'len(e) > 5')" = True ]
check "every console line is an entry (as many as console.log has)" \
        [ "$(f jt-ok.json 'len(e) - 1')" = "$(cat "$W"/logs/TOE_*jt-ok/console.log | wc -l)" ]
check "run started: its MESSAGE_ID, first" [ "$(f jt-ok.json 'e[0]["MESSAGE_ID"]')" = 4953cd97750b4f4da6bc5ab402d1adac ]
check "a step's output: the document, phase, step, action and PRIORITY 6" \
        [ "$(f jt-ok.json '[(x["OPENTOE_DOCUMENT"], x["OPENTOE_PHASE"], x["OPENTOE_STEP"], x["OPENTOE_ACTION"], x["PRIORITY"]) for x in m("CmdExecution: Stdout: hello-out")]')" = "[('ok.yml', 'build', 'hello', 'ExecuteBash', '6')]" ]
check "a running step's status is running" [ "$(f jt-ok.json 'm("CmdExecution: Stdout: hello-out")[0]["OPENTOE_STATUS"]')" = running ]
check "the message is the console line without its date" [ "$(f jt-ok.json 'len(m("Step hello"))')" = 1 ]
check "run finished (success): its MESSAGE_ID, PRIORITY 6, status success" \
        [ "$(f jt-ok.json '[(x["MESSAGE_ID"], x["PRIORITY"], x["OPENTOE_STATUS"]) for x in m("TOE has completed")]')" = "[('d033a20250554bfc9b96fb9d40d844bc', '6', 'success')]" ]
check "SYSLOG_IDENTIFIER is opentoe" [ "$(f jt-ok.json 'set(x["SYSLOG_IDENTIFIER"] for x in e)')" = "{'opentoe'}" ]
check "step failed: PRIORITY 4, its MESSAGE_ID, status failed, the step" \
        [ "$(f jt-bad.json '[(x["PRIORITY"], x["MESSAGE_ID"], x["OPENTOE_STATUS"], x["OPENTOE_STEP"]) for x in e if "MESSAGE_ID" in x and x["MESSAGE_ID"].startswith("ee05")]')" = "[('4', 'ee05b99b7ea44464a19f0d77b4a2ca95', 'failed', 'boom')]" ]
check "journalctl MESSAGE_ID=<step failed> finds that one entry" [ "$(f failed.json '[x["OPENTOE_EXECUTION_ID"] for x in e]')" = "['jt-bad']" ]
check "the failure block is PRIORITY 4" [ "$(f jt-bad.json 'm("  ErrorMessage: ")[0]["PRIORITY"]')" = 4 ]
check "run finished with failure: PRIORITY 3" \
        [ "$(f jt-bad.json '[(x["PRIORITY"], x["MESSAGE_ID"]) for x in m("TOE has completed")]')" = "[('3', 'd033a20250554bfc9b96fb9d40d844bc')]" ]
check "the step that had ended keeps its status" [ "$(f jt-bad.json 'm("Step boom")[0]["OPENTOE_STATUS"]')" = running ]
check "a step's stderr is output too (PRIORITY 6)" [ "$(f jt-bad.json 'm("CmdExecution: Stderr: bad-err")[0]["PRIORITY"]')" = 6 ]
check "a run that exited 194 and was resumed ended well" grep -qx "rb2 0" "$W/ns.log"
check "after a resume, a step's entries still name its phase" \
        [ "$(f jt-rb.json '[(x.get("OPENTOE_PHASE"), x["OPENTOE_STEP"]) for x in m("CmdExecution: Stdout: after-out")]')" = "[('build', 'after')]" ]
check "--no-journal: nothing in the journal" [ "$(f jt-off.json 'len(e)')" = 0 ]
check "OPENTOE_JOURNAL=0: nothing in the journal" [ "$(f jt-env0.json 'len(e)')" = 0 ]

done_testing
