#!/bin/bash
# report-shapes.sh: the shapes of the reports and logs.  An ExecuteDocument
# loop's detailedOutput is an array of the nested runs and its outputs one
# summary per executed document (AWS: toe-action-modules, ExecuteDocument),
# also when the run is resumed after a reboot or after opentoe was killed
# in the middle of the loop: no run is lost and none is listed twice.  The
# times of each file follow AWS's examples (awstoe-reference.md 3.8):
# console.log in UTC like the folder's name, detailedoutput.json in RFC
# 3339 with the local offset.  chaining.json, rewritten by a resumed run,
# still lists each document's expressions once, nested runs included, and
# a document that had finished before the reboot from the saved state.
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
enter_scratch work report-shapes

# The child says which parameter it got; for "second" it can be made to
# wait (a marker file says it has started) so that opentoe can be killed.
cat > child.yml <<'YML'
name: Child
schemaVersion: 1.0
parameters:
  - Who:
      type: string
      default: nobody
phases:
  - name: build
    steps:
      - name: Greet
        action: ExecuteBash
        inputs:
          commands:
            - echo "{{ Who }}" >> ../child.count
            - if [ "{{ Who }}" = second ] && [ -e ../hold ] && [ ! -e ../held ]; then touch ../held; sleep 60; fi
            - echo "hello {{ Who }}"
YML
cat > doc.yml <<'YML'
name: Parent
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: RunChildren
        action: ExecuteDocument
        loop:
          forEach: [first, second]
        inputs:
          document: child.yml
          parameters:
            - name: Who
              value: '{{ loop.value }}'
      - name: NeedsReboot
        action: ExecuteBash
        inputs:
          commands:
            - if [ -e want-reboot ] && [ ! -e rebooted ]; then touch rebooted; exit 194; fi
      - name: UseSummaries
        action: ExecuteBash
        inputs:
          commands: ['echo "statuses {{ build.RunChildren.outputs[0].status }} {{ build.RunChildren.outputs[1].status }}"']
YML

# The shape of RunChildren in a detailedoutput.json: "<runs> <summaries>
# <who...>", e.g. "2 2 first second".
shape() {
        python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
step = [x for x in d["documents"] if x["filePath"] == "doc.yml"][0]["phases"][0]["steps"][0]
det = step["detailedOutput"]
outs = json.loads(step["outputs"])
who = [json.loads(r["documents"][0]["phases"][0]["steps"][0]["outputs"])[0]["stdout"].split()[-1] for r in det]
assert isinstance(det, list) and all(o["status"] == "success" for o in outs), step
print(len(det), len(outs), *who)
PY
}

args=(run -d doc.yml -l logs -s state -i 33333333-4444-5555-6666-777777777777)
run() { "$OPENTOE" "${args[@]}" "$@"; }

# chaining.json in short: per document "<file>:<expressions resolved>/<all>",
# e.g. "pre.yml:1/1 doc.yml:2/2 child.yml:0/0 child.yml:0/0".
chains() {
        python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s:%d/%d" % (r["filePath"], sum(e["status"] == "resolved" for e in r["expressions"]),
                             len(r["expressions"])) for r in d["documents"]))
PY
}
cat > pre.yml <<'YML'
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Make
        action: ExecuteBash
        inputs:
          commands: ["echo made"]
      - name: Use
        action: ExecuteBash
        inputs:
          commands: ['echo "using {{ build.Make.outputs.stdout }}"']
YML

# ---- a reboot after the loop --------------------------------------------------------------
mkdir -p reboot/work && cd reboot/work && cp ../../doc.yml ../../child.yml ../../pre.yml . && touch want-reboot
args=(run -d pre.yml,doc.yml -l logs -s state -i 33333333-4444-5555-6666-777777777777)
run > out1 2> err1; rc1=$?
check_eval "a reboot after an ExecuteDocument loop: exit status 194" '[ $rc1 = 194 ]'
check_eval "... chaining.json is written before the reboot" \
        '[ "$(chains logs/TOE_*/chaining.json)" = "pre.yml:1/1 doc.yml:0/2 child.yml:0/0 child.yml:0/0" ]'
run > out2 2> err2; rc2=$?
check_eval "... the resumed run succeeds" '[ $rc2 = 0 ] && grep -q "\"status\": \"success\"" out2'
check_eval "... detailedOutput keeps both nested runs, outputs both summaries" \
        '[ "$(shape logs/TOE_*/detailedoutput.json)" = "2 2 first second" ]'
check_eval "... chaining.json: the finished document's record from the state, the nested runs once" \
        '[ "$(chains logs/TOE_*/chaining.json)" = "pre.yml:1/1 doc.yml:2/2 child.yml:0/0 child.yml:0/0" ]'
check_eval "... the children ran once each" '[ "$(tr "\n" " " < ../child.count)" = "first second " ]'
check_eval "... and the outputs chain after the resume" \
        'grep -q "Stdout: statuses success success" logs/TOE_*/console.log'
cd "$work" || exit 1

# ---- killed in the middle of the loop -----------------------------------------------------
mkdir -p kill/work && cd kill/work && cp ../../doc.yml ../../child.yml . && touch ../hold
args=(run -d doc.yml -l logs -s state -i 33333333-4444-5555-6666-777777777777)
OPENTOE_KILL_GRACE_MS=200 "$OPENTOE" "${args[@]}" > out1 2> err1 &
pid=$!
for _ in $(seq 1 100); do [ -e ../held ] && break; sleep 0.1; done
kill -KILL "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
check_eval "opentoe killed while the second nested run runs" '[ -e ../held ]'
# The guard stops what the step left running (TERM, grace, KILL), then
# lets the state go.
for _ in $(seq 1 50); do
        OPENTOE_KILL_GRACE_MS=200 run > out2 2> err2; rc2=$?
        grep -q "another opentoe run is using" err2 || break
        sleep 0.2
done
check_eval "... the resumed run succeeds" '[ $rc2 = 0 ]'
check_eval "... detailedOutput lists each nested run once" \
        '[ "$(shape logs/TOE_*/detailedoutput.json)" = "2 2 first second" ]'
check_eval "... and so does chaining.json" \
        '[ "$(chains logs/TOE_*/chaining.json)" = "doc.yml:2/2 child.yml:0/0 child.yml:0/0" ]'
check_eval "... the interrupted run ran again, the one before it did not" \
        '[ "$(tr "\n" " " < ../child.count)" = "first second second " ]'
cd "$work" || exit 1

# ---- times: console.log in UTC, detailedoutput.json with the local offset ------------------
# AWS's examples: the folder TOE_2020-07-31_11-57-10_UTC-0_... holds
# console.log lines "2020-07-31 11:57:10.575 Info Document ..." (the same
# UTC time), and detailedoutput.json "startTime": "2021-08-26T17:20:31-07:00".
mkdir -p tz && cd tz || exit 1
printf 'schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Hello\n        action: ExecuteBash\n        inputs:\n          commands: ["echo Hello World"]\n' > hello.yml
before=$(date -u +%s)
TZ=XXX+7 "$OPENTOE" run -d hello.yml -l logs -s state > out 2> err; rc=$?
after=$(date -u +%s)
check_eval "a run in a zone 7 hours west of UTC succeeds" '[ $rc = 0 ]'
times() {
        python3 - "$before" "$after" logs/TOE_*/ <<'PY'
import datetime as dt, json, os, re, sys
lo, hi, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].rstrip("/")
utc = dt.timezone.utc
def near(t):
    return lo - 1 <= t.timestamp() <= hi + 1
name = re.search(r"TOE_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)_UTC-0_", os.path.basename(folder)).group(1)
stamp = dt.datetime.strptime(name, "%Y-%m-%d_%H-%M-%S").replace(tzinfo=utc)
lines = open(os.path.join(folder, "console.log")).read().splitlines()
con = [dt.datetime.strptime(l[:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=utc) for l in lines if l[:2] == "20"]
det = json.load(open(os.path.join(folder, "detailedoutput.json")))
start = det["startTime"]
ok = {
    "folder": near(stamp),
    "console": bool(con) and all(near(t) for t in con) and con[0].replace(microsecond=0) >= stamp,
    "detailed": start.endswith("-07:00") and near(dt.datetime.fromisoformat(start)),
    "detailed-steps": det["documents"][0]["phases"][0]["steps"][0]["endTime"].endswith("-07:00"),
}
print(" ".join(k for k, v in ok.items() if not v) or "ok")
PY
}
check_eval "... the folder's name and console.log are in UTC, detailedoutput.json at -07:00" \
        '[ "$(times)" = ok ]'
check_eval "... console.log's prefixes are AWSTOE's newest" \
        'grep -q "Info CmdExecution: Stdout: Hello World\$" logs/TOE_*/console.log &&
         grep -q "Info CmdExecution: ExitCode 0\$" logs/TOE_*/console.log &&
         grep -q "Info ExecuteBash: FINISHED EXECUTION\$" logs/TOE_*/console.log &&
         tail -n 2 logs/TOE_*/console.log | head -n 1 | grep -q "Info Executor: FINISHED EXECUTION OF ALL DOCUMENTS\$"'
cd "$work" || exit 1

done_testing
