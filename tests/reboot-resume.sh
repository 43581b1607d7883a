#!/bin/bash
# reboot-resume.sh: a step that exits 194 hands a reboot back (exit 194,
# checkpoint saved); running the same document again resumes at that
# step, in the same log folder, without running earlier steps again.
# TAP output.
set -u
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
cat > doc.yml <<'YML'
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Before
        action: ExecuteBash
        inputs:
          commands: ["echo ran >> before.count"]
      - name: NeedsReboot
        action: ExecuteBash
        loop:
          forEach: [a, b]
        inputs:
          commands:
            - echo "{{ loop.value }}" | tee -a reboot.count
            - if [ "{{ loop.value }}" = b ] && [ ! -e rebooted ]; then touch rebooted; exit 194; fi
      - name: After
        action: ExecuteBash
        inputs:
          commands: ["echo 'after-{{ build.NeedsReboot.outputs.stdout }}'"]
YML
n=0
check() {
        n=$((n + 1))
        if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}
"$OPENTOE" run -d doc.yml -l logs -s state -i 22222222-3333-4444-5555-666666666666 > out1 2> err1; rc1=$?
check "a step that exits 194: exit status 194 and a checkpoint" '[ $rc1 = 194 ] && [ -s state/state.json ]'
check "... console.log says so" 'grep -q "Getting reboot signal" logs/TOE_*/console.log'
"$OPENTOE" run -d doc.yml -l logs -s state -i 22222222-3333-4444-5555-666666666666 > out2 2> err2; rc2=$?
check "the next run resumes and succeeds" '[ $rc2 = 0 ] && grep -q "\"status\": \"success\"" out2'
check "... in the same log folder, with AWSTOE's recovery line" \
        '[ "$(ls -d logs/TOE_* | wc -l)" = 1 ] && grep -q "Recovery completed for detailed output." logs/TOE_*/console.log'
check "... earlier steps did not run again" '[ "$(wc -l < before.count)" = 1 ]'
check "... the interrupted iteration ran again, the ones before it did not" \
        '[ "$(tr -d "\n" < reboot.count)" = abb ]'
check "... outputs of the iterations before the reboot survive" 'grep -q "Stdout: after-a" logs/TOE_*/console.log'
check "... and the checkpoint is gone" '[ ! -e state/state.json ]'
sed -i 's/echo ran/echo changed/' doc.yml
"$OPENTOE" run -d doc.yml -l logs2 -s state > /dev/null 2>&1
rm -f rebooted
"$OPENTOE" run -d doc.yml -l logs3 -s state > /dev/null 2> err3
sed -i 's/echo changed/echo changed-again/' doc.yml
"$OPENTOE" run -d doc.yml -l logs4 -s state > out4 2> err4; rc4=$?
check "a checkpoint of another version of the document is not resumed" \
        '[ $rc4 = 0 ] && grep -q "ignoring the checkpoint" err4'
# The state directory is created with its parents.
rm -f rebooted
"$OPENTOE" run -d doc.yml -l logs5 -s deep/a/b/state > /dev/null 2>&1; rc5=$?
check "a state directory whose parents are missing is created for the checkpoint" \
        '[ $rc5 = 194 ] && [ -s deep/a/b/state/state.json ]'
# A run of other documents leaves that checkpoint alone.
cat > other.yml <<'YML'
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Other
        action: ExecuteBash
        inputs:
          commands: ["echo other"]
YML
"$OPENTOE" run -d other.yml -l logs6 -s deep/a/b/state > /dev/null 2>&1; rc6=$?
check "a run of other documents succeeds and keeps another run's checkpoint" \
        '[ $rc6 = 0 ] && [ -s deep/a/b/state/state.json ]'
# No place for a checkpoint: the step fails instead of rebooting.
rm -f rebooted
touch not-a-dir
"$OPENTOE" run -d doc.yml -l logs7 -s not-a-dir/state > out7 2> /dev/null; rc7=$?
check "when the checkpoint cannot be saved, the step fails (exit 1, failedStepCount 1)" \
        '[ $rc7 = 1 ] && grep -q "\"failedStepCount\": 1" out7 &&
         grep -q "cannot save the execution state for the reboot" logs7/TOE_*/console.log'

echo "1..$n"
