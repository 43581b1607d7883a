#!/bin/bash
# interrupt.sh: SIGTERM or SIGINT to `opentoe run` stops the running
# step's whole process group, fails the remaining steps without running
# them, still writes the summary and detailedoutput.json, and exits with
# 128 + the signal.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
enter_scratch work interrupt
marker="sleep 32$$"
at_exit 'pkill -f "$marker" 2> /dev/null'
build_doc doc.yml <<YML
      - name: Sleeps
        action: ExecuteBash
        onFailure: Continue
        inputs:
          commands: ["echo started", "bash -c 'exec -a \\"$marker\\" sleep 300' & wait"]
      - name: Later
        action: ExecuteBash
        inputs:
          commands: ["echo later-should-not-run"]
YML
build_doc doc2.yml <<YML
      - name: Second
        action: ExecuteBash
        inputs:
          commands: ["echo second-should-not-run"]
YML
for sig in TERM INT; do
        rm -rf logs
        OPENTOE_KILL_GRACE_MS=500 "$OPENTOE" run -d doc.yml,doc2.yml -l logs -s state > out 2> err &
        pid=$!
        for _ in $(seq 1 50); do grep -qs "Stdout: started" logs/TOE_*/console.log && break; sleep 0.1; done
        kill -$sig $pid
        wait $pid; rc=$?
        want=$((128 + $(kill -l $sig)))
        check_eval "SIG$sig: exit status $want" '[ $rc = $want ]'
        check_eval "... the step's process group is gone" '! pgrep -f "$marker" > /dev/null'
        check_eval "... the summary and detailedoutput.json are written" \
                'grep -q "\"status\": \"failed\"" out && [ -s logs/TOE_*/detailedoutput.json ]'
        check_eval "... later steps did not run" '! grep -q "Stdout: later-should-not-run" logs/TOE_*/console.log'
        check_eval "... detailedoutput.json lists the steps that never ran, as notrun, saying why" \
                'python3 -c "
import json
d = json.load(open(next(__import__(\"glob\").iglob(\"logs/TOE_*/detailedoutput.json\"))))
docs = d[\"documents\"]
steps = {s[\"name\"]: s for doc in docs for p in doc[\"phases\"] for s in p[\"steps\"]}
why = \"not run: opentoe was stopped by signal $(kill -l $sig)\"
assert steps[\"Sleeps\"][\"status\"] == \"failed\", steps[\"Sleeps\"]
assert steps[\"Later\"][\"status\"] == \"notrun\" and steps[\"Later\"][\"failureMessage\"] == why, steps[\"Later\"]
assert docs[1][\"status\"] == \"notrun\" and steps[\"Second\"][\"status\"] == \"notrun\"
assert steps[\"Second\"][\"failureMessage\"] == why
"'
        check_eval "... and the summary counts them as the listing does (1 executed, 1 failed)" \
                'grep -q "\"executedStepCount\": 1," out && grep -q "\"failedStepCount\": 1," out'
        check_eval "... and the run is over: no state is left to resume" '[ ! -e state/state.json ]'
done
done_testing
