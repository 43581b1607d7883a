#!/bin/bash
# resume-end.sh: a resumed run whose step was in flight goes over its old
# lines without writing them again (console.log is muted until that
# step), but however it ends, its end is written: here it ends before
# anything runs, because CloudWatch Logs cannot be opened.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
enter_scratch work resume-end
plan 3
build_doc doc.yml <<'YML'
      - name: One
        action: ExecuteBash
        inputs:
          commands:
            - echo one
            - if [ ! -e killed ]; then touch killed; kill -9 $PPID; sleep 5; fi
YML
"$OPENTOE" run -d doc.yml -l logs -s state > out1 2> err1
check_eval "(setup) the first run was killed with its step in flight" '[ -e killed ] && [ -e state/running.json ]'
# No region anywhere: the CloudWatch sink cannot open.
env -u AWS_REGION -u AWS_DEFAULT_REGION -u AWS_PROFILE AWS_CONFIG_FILE=/nonexistent \
        AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true \
        "$OPENTOE" run -d doc.yml -l logs -s state --cw-log-group g --cw-log-stream s > out2 2> err2
rc=$?
check_eval "(setup) the resumed run is refused because its logs cannot be shipped (exit $rc)" \
        '[ $rc = 1 ] && grep -q "cannot stream to CloudWatch Logs" err2'
on_failure() { tail -n 5 logs/TOE_*/console.log | sed 's/^/# /'; }
check_eval "console.log ends with the run's end" \
        'tail -n 1 logs/TOE_*/console.log | grep -q "TOE has completed execution with failure - Execution failed!"'
done_testing
