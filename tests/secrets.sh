#!/bin/bash
# secrets.sh: a disableLogging step's inputs and outputs are not written
# anywhere in clear (console.log, application.log, detailedoutput.json,
# --trace, the summary, the state), also across a reboot; and values that
# cannot be passed on fail the step that uses them instead of being cut
# in silence: an output of a disableLogging step that a resumed run does
# not have, an output holding a NUL byte, and a rendered value over
# 16 MiB.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
enter_scratch work secrets
SECRET=s3cr3t-value-4711
# The secret never appears in the document: the step makes it.
build_doc doc.yml <<'YML'
      - name: GetSecret
        action: ExecuteBash
        disableLogging: true
        inputs:
          commands: ["printf 's3cr3t-%s-%s\n' value 4711"]
      - name: UseSecret
        action: ExecuteBash
        disableLogging: true
        onFailure: Continue
        inputs:
          commands:
            - echo "using {{ build.GetSecret.outputs.stdout }}"
            - echo "{{ build.GetSecret.outputs.stdout }}" >&2
            - exit 3
      - name: Reboot
        action: ExecuteBash
        inputs:
          commands: ["if [ ! -e rebooted ]; then touch rebooted; exit 194; fi"]
      - name: After
        action: ExecuteBash
        inputs:
          commands: ["echo 'after: {{ build.GetSecret.outputs.stdout }}'"]
YML
leaks() { grep -rl -a -- "$SECRET" "$@" 2> /dev/null; }
"$OPENTOE" run -d doc.yml -l logs -s state -t > out1 2> err1; rc1=$?
check_eval "(setup) the document asks for a reboot after its private steps" '[ $rc1 = 194 ]'
check_eval "while the run waits for its reboot, the secret is nowhere on disk (logs, reports, state) nor in --trace" \
        '[ -z "$(leaks logs state out1 err1)" ]'
"$OPENTOE" run -d doc.yml -l logs -s state -t > out2 2> err2; rc2=$?
check_eval "after the resume the secret is still nowhere (console.log, application.log, detailedoutput.json, --trace, summary)" \
        '[ -z "$(leaks logs state out2 err2)" ]'
det=$(ls logs/TOE_*/detailedoutput.json)
check_eval "detailedoutput.json masks the private steps' inputs and outputs" \
        'python3 -c "
import json, sys
d = json.load(open(\"$det\"))
s = {x[\"name\"]: x for p in d[\"documents\"][0][\"phases\"] for x in p[\"steps\"]}
u = s[\"UseSecret\"]
assert json.loads(u[\"inputs\"]) == [{\"commands\": \"***\"}], u[\"inputs\"]
assert json.loads(u[\"outputs\"]) == [], u[\"outputs\"]
assert json.loads(s[\"GetSecret\"][\"outputs\"]) == [{\"stdout\": \"***\"}]
assert u[\"status\"] == \"failed\" and u[\"failureMessage\"] == \"exit status 3\", u
"'
check_eval "a later step that needs a private output the resumed run does not have fails, saying why" \
        'grep -q "\"failureMessage\": \"{{ build.GetSecret.outputs.stdout }} is not available: step GetSecret has disableLogging, so its outputs were not saved" "$det" &&
         grep -q "Step After cannot run: {{ build.GetSecret.outputs.stdout }} is not available" logs/TOE_*/console.log &&
         [ $rc2 = 1 ]'
check_eval "console.log keeps the private steps' exit codes but none of their output" \
        'grep -q "ExitCode 3" logs/TOE_*/console.log && ! grep -q "Stdout: using" logs/TOE_*/console.log &&
         ! grep -q "Stderr:" logs/TOE_*/console.log'
# Without a reboot, the value is passed on within the run.
sed -i 's/if \[ ! -e rebooted \]; then touch rebooted; exit 194; fi/true/' doc.yml
"$OPENTOE" run -d doc.yml -l logs2 -s state2 > out3 2> err3; rc3=$?
check_eval "without a reboot a later step gets the private output (and, not private itself, logs it)" \
        'grep -q "Stdout: after: $SECRET" logs2/TOE_*/console.log'

# A private step's script is never a file, even while it runs.
# It starts as doc.yml does, with GetSecret.
head -n 9 doc.yml > slow.yml
cat >> slow.yml <<'YML'
      - name: Slow
        action: ExecuteBash
        disableLogging: true
        inputs:
          commands: ["echo '{{ build.GetSecret.outputs.stdout }}' > /dev/null", "echo \"$0\" > slow-script-name", "sleep 1"]
YML
"$OPENTOE" run -d slow.yml -l logs5 -s state5 > out6 2> err6 &
spid=$!
for _ in $(seq 1 50); do [ -s slow-script-name ] && break; sleep 0.1; done
during=$(leaks logs5 state5)
wait $spid; rc6=$?
check_eval "while a private step runs, its script is nowhere on disk (bash reads it from /dev/fd/3)" \
        '[ $rc6 = 0 ] && [ -z "$during" ] && [ "$(cat slow-script-name)" = /dev/fd/3 ]'

# Outputs that cannot be passed on.
# cannot_run DOC LOGS FILE WHAT MESSAGE: running DOC (logs in LOGS) fails,
# console.log says MESSAGE, and the step that would write FILE never ran.
cannot_run() {
        local doc=$1 logs=$2 file=$3 what=$4 msg=$5 rc
        "$OPENTOE" run -d "$doc" -l "$logs" -s "state-$logs" > "$logs.out" 2> "$logs.err"
        rc=$?
        check_eval "$what" '[ $rc = 1 ] && [ ! -e "$file" ] && grep -qF -- "$msg" "$logs"/TOE_*/console.log'
}
build_doc nul.yml <<'YML'
      - name: Binary
        action: ExecuteBash
        inputs:
          commands: ["printf 'ab\\000cd'"]
      - name: Uses
        action: ExecuteBash
        inputs:
          commands: ["echo 'got {{ build.Binary.outputs.stdout }}' > got"]
YML
cannot_run nul.yml logs3 got \
        "an output holding a NUL byte fails the step that uses it, naming the byte and the output, and the step does not run" \
        "Step Uses cannot run: {{ build.Binary.outputs.stdout }} holds a NUL byte (at byte 2 of 5)"
# 17 references to a 1 MiB output: one value of 17 MiB.
refs=$(for i in $(seq 1 17); do printf '{{ build.Big.outputs.stdout }}'; done)
build_doc big.yml <<YML
      - name: Big
        action: ExecuteBash
        disableLogging: true
        inputs:
          commands: ["head -c 1048576 /dev/zero | tr -c x a"]
      - name: Huge
        action: ExecuteBash
        inputs:
          commands: ["echo '$refs' | wc -c > size"]
YML
cannot_run big.yml logs4 size "a rendered value over 16 MiB fails the step with its size and the limit; nothing is cut in silence" \
        "Step Huge cannot run: a rendered value is 17825814 bytes; the limit is 16777216 bytes (16 MiB)"
done_testing
