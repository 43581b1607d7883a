#!/bin/bash
# reboot-resume.sh: a step that exits 194 hands a reboot back (exit 194,
# checkpoint saved); running the same document again resumes at that
# step, in the same log folder, without running earlier steps again.
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
enter_scratch work reboot-resume
build_doc doc.yml <<'YML'
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
"$OPENTOE" run -d doc.yml -l logs -s state -i 22222222-3333-4444-5555-666666666666 > out1 2> err1; rc1=$?
check_eval "a step that exits 194: exit status 194 and a checkpoint" '[ $rc1 = 194 ] && [ -s state/state.jsonl ]'
check_eval "... console.log says so" 'grep -q "Getting reboot signal" logs/TOE_*/console.log'
"$OPENTOE" run -d doc.yml -l logs -s state -i 22222222-3333-4444-5555-666666666666 > out2 2> err2; rc2=$?
check_eval "the next run resumes and succeeds" '[ $rc2 = 0 ] && grep -q "\"status\": \"success\"" out2'
check_eval "... in the same log folder, with AWSTOE's recovery line" \
        '[ "$(ls -d logs/TOE_* | wc -l)" = 1 ] && grep -q "Recovery completed for detailed output." logs/TOE_*/console.log'
check_eval "... earlier steps did not run again" '[ "$(wc -l < before.count)" = 1 ]'
check_eval "... the interrupted iteration ran again, the ones before it did not" \
        '[ "$(tr -d "\n" < reboot.count)" = abb ]'
check_eval "... outputs of the iterations before the reboot survive" 'grep -q "Stdout: after-a" logs/TOE_*/console.log'
check_eval "... and the checkpoint is gone" '[ ! -e state/state.jsonl ]'
# The state of the run above is gone; leave a new one (exit 194) behind.
sed -i 's/echo ran/echo changed/' doc.yml
rm -f rebooted
"$OPENTOE" run -d doc.yml -l logs3 -s state > /dev/null 2> err3; rc3=$?
check_eval "a new run leaves a checkpoint at its reboot request" '[ $rc3 = 194 ] && [ -s state/state.jsonl ]'
sed -i 's/echo changed/echo changed-again/' doc.yml
"$OPENTOE" run -d doc.yml -l logs4 -s state > out4 2> err4; rc4=$?
check_eval "a checkpoint of another version of the document is refused, naming the file and --discard-state" \
        '[ $rc4 = 1 ] && grep -q "refusing to resume: state/state.jsonl belongs to other documents" err4 &&
         grep -q -- "--discard-state" err4 && grep -q "\"status\": \"failed\"" out4 && [ ! -d logs4 ] &&
         [ -s state/state.jsonl ]'
rm -f rebooted
"$OPENTOE" run -d doc.yml -l logs4 -s state --discard-state > out4b 2> err4b; rc4b=$?
check_eval "--discard-state starts over on purpose, and says so" \
        '[ $rc4b = 194 ] && grep -q "removed the saved state in state" err4b'
# A run of other documents does not touch this checkpoint.
build_doc other.yml <<'YML'
      - name: Other
        action: ExecuteBash
        inputs:
          commands: ["echo other"]
YML
before=$(sha256sum < state/state.jsonl)
"$OPENTOE" run -d other.yml -l logs6 -s state > out6 2> err6; rc6=$?
check_eval "a run of other documents is refused and leaves the checkpoint as it was" \
        '[ $rc6 = 1 ] && grep -q "belongs to other documents" err6 && [ "$(sha256sum < state/state.jsonl)" = "$before" ] &&
         ! grep -q "Stdout: other" logs6/TOE_*/console.log 2> /dev/null'
# The state directory is created with its parents, 0700.
rm -f rebooted
"$OPENTOE" run -d doc.yml -l logs5 -s deep/a/b/state > /dev/null 2>&1; rc5=$?
check_eval "a state directory whose parents are missing is created (0700) for the checkpoint" \
        '[ $rc5 = 194 ] && [ -s deep/a/b/state/state.jsonl ] && [ "$(stat -c %a deep/a/b/state)" = 700 ] &&
         [ "$(stat -c %a deep/a/b/state/state.jsonl)" = 600 ]'
# No place for a state: nothing runs.
rm -f rebooted before.count
touch not-a-dir
"$OPENTOE" run -d doc.yml -l logs7 -s not-a-dir/state > out7 2> err7; rc7=$?
check_eval "a state directory that cannot be made stops the run before anything runs, saying why" \
        '[ $rc7 = 1 ] && grep -q "not-a-dir" err7 && grep -q "\"status\": \"failed\"" out7 && [ ! -e before.count ]'
# Damaged states are refused, never ignored.
rm -rf dmg && mkdir dmg && cp deep/a/b/state/state.jsonl dmg/good
for how in empty truncated garbage edited reordered; do
        rm -rf sd && mkdir -m 700 sd
        case $how in
        empty) : > sd/state.jsonl ;;
        truncated) head -c 300 dmg/good > sd/state.jsonl ;;
        garbage) head -c 4096 /dev/urandom > sd/state.jsonl ;;
        edited) sed 's/"seq":\([0-9]*\)/"seq":9\1/' dmg/good > sd/state.jsonl ;;
        reordered) { head -n 1 dmg/good; sed -n 3p dmg/good; sed -n 2p dmg/good; sed -n '4,$p' dmg/good; } > sd/state.jsonl ;;
        esac
        chmod 600 sd/state.jsonl
        "$OPENTOE" run -d doc.yml -l logs8 -s sd > out8 2> err8; rc8=$?
        check_eval "a state file that is $how is refused with a message naming it (and nothing runs)" \
                '[ $rc8 = 1 ] && grep -q "refusing to resume: sd/state.jsonl" err8 && [ ! -e before.count ]'
done
# A last record cut short (a crash while it was written) was never a
# checkpoint: the run resumes from the one before, and says so.
rm -rf sd logs9 && mkdir -m 700 sd && touch rebooted
lines=$(wc -l < dmg/good)
{ head -n $((lines - 1)) dmg/good; tail -n 1 dmg/good | head -c 40; } > sd/state.jsonl
chmod 600 sd/state.jsonl
size=$(stat -c %s sd/state.jsonl)
"$OPENTOE" debug state sd > shown 2> /dev/null
check_eval "debug state shows it without changing it" \
        '[ "$(stat -c %s sd/state.jsonl)" = "$size" ] && grep -q "\"lastRecordCutShort\": true" shown'
"$OPENTOE" run -d doc.yml -l logs9 -s sd > out9 2> err9; rc9=$?
check_eval "a last record that a crash cut short is dropped, and the run resumes from the one before, saying so" \
        '[ $rc9 = 0 ] && grep -q "was cut short by the interruption; the one before it is used" logs5/TOE_*/console.log'

# A record with a valid digest but out of bounds (a forger with the
# owner's rights) is refused at once, not applied.
rm -rf sd && mkdir -m 700 sd
cat > forge.py <<'PY'
# forge.py GOOD OUT PATCH: GOOD's records, then PATCH as a record with a valid digest.
import hashlib, sys
lines = [l for l in open(sys.argv[1], "rb").read().split(b"\n") if l]
header, records = lines[0], lines[1:]
prev = hashlib.sha256(b"opentoe-state 3\n" + header).hexdigest()
out = [header]
for rec in records:
    out.append(rec)
    prev = hashlib.sha256(prev.encode() + b"\n" + rec.split(b',"patch":', 1)[1][:-1]).hexdigest()
patch = sys.argv[3].encode()
prev = hashlib.sha256(prev.encode() + b"\n" + patch).hexdigest()
out.append(b'{"n":%d,"digest":"%s","patch":' % (len(records) + 1, prev.encode()) + patch + b"}")
open(sys.argv[2], "wb").write(b"\n".join(out) + b"\n")
PY
python3 forge.py dmg/good sd/state.jsonl '{"@merge":true,"vm":{"@merge":true,"steps":{"@len":1099511627776,"@patch":[]}}}'
chmod 600 sd/state.jsonl
timeout 20 "$OPENTOE" run -d doc.yml -l logs10 -s sd > out10 2> err10; rc10=$?
check_eval "a record out of bounds (a huge array length) is refused at once, naming it" \
        '[ $rc10 = 1 ] && grep -q "sd/state.jsonl is damaged: record [0-9]* is out of bounds" err10'
rm -rf sd victim && mkdir -m 700 sd && mkdir victim
python3 forge.py dmg/good sd/state.jsonl "{\"@merge\":true,\"logFolderAbsolute\":\"$PWD/victim\",\"logFolderInode\":0}"
chmod 600 sd/state.jsonl
"$OPENTOE" run -d doc.yml -l logs11 -s sd > out11 2> err11; rc11=$?
check_eval "a state naming a log folder opentoe would not make is refused, and nothing is written there" \
        '[ $rc11 = 1 ] && grep -q "is not one opentoe makes" err11 && [ -z "$(ls -A victim)" ]'

done_testing
