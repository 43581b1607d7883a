#!/bin/bash
# resume-begin.sh: a run killed right after its first checkpoint record
# (the "begin" record, written before the log folder exists and before
# any VM state) resumes cleanly: into the folder that record names, with
# every step run.  The state is made exactly so by cutting a real
# checkpoint log after its first record, so the case does not depend on
# when a kill lands (tests/crash-resume.sh reaches it only by chance).
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
enter_scratch work resume-begin
plan 5
build_doc doc.yml <<'YML'
      - name: One
        action: ExecuteBash
        inputs:
          commands:
            - echo one >> trace
            - if [ ! -e killed ]; then touch killed; kill -9 $PPID; sleep 5; fi
      - name: Two
        action: ExecuteBash
        inputs:
          commands:
            - echo two >> trace
YML
"$OPENTOE" run -d doc.yml -l logs -s state > out1 2> err1
check_eval "(setup) the first run was killed in its first step and left a checkpoint log" \
        '[ -e killed ] && [ -s state/state.jsonl ]'
# The header line and the begin record; nothing of the step in flight.
n=$(head -n 2 state/state.jsonl | wc -c)
truncate -s "$n" state/state.jsonl
rm -f state/running.json
"$OPENTOE" debug state state > shown 2> shown.err
check_eval "(setup) the cut log holds only the begin record" \
        'python3 -c "
import json, sys
d = json.load(open(\"shown\"))[\"state\"]
sys.exit(0 if d.get(\"reason\") == \"begin\" and \"vm\" not in d else 1)
"'
timeout 20 "$OPENTOE" run -d doc.yml -l logs -s state > out2 2> err2; rc=$?
on_failure() { sed 's/^/# /' err2 out2; }
check_eval "the resumed run ends with success (exit $rc)" '[ $rc = 0 ] && grep -q "\"status\": \"success\"" out2'
on_failure() { :; }
check_eval "it ran in the one log folder the begin record named" '[ "$(ls -d logs/TOE_* | wc -l)" = 1 ]'
check_eval "every step ran after the resume" '[ "$(grep -c two trace)" = 1 ] && [ ! -e state/state.jsonl ]'
done_testing
