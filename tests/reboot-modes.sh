#!/bin/bash
# reboot-modes.sh: the reboot protocol's three modes (ssm, self, exit)
# against a fake machine (OPENTOE_TEST_SYSTEM_ROOT: a systemctl, reboot
# and crontab that only record what they were asked); Reboot steps go on
# with the next step, exit-194 steps run again, the reboot counter's
# bound, reboots inside nested documents, and a run killed between
# "persisted" and "rebooting" resumed exactly once.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
enter_scratch work reboot-modes
. "$top_srcdir/tests/lib/fakesys.sh"

# Waits (5 s at most) for the detached reboot to have been asked for.
wait_reboot() {
        local i
        for i in $(seq 50); do grep -q "$2" "$1/calls" 2> /dev/null && return 0; sleep 0.1; done
        return 1
}

build_doc reboot.yml <<'YML'
      - name: Before
        action: ExecuteBash
        inputs:
          commands: ["echo x >> before.count"]
      - name: RebootNow
        action: Reboot
        inputs:
          delaySeconds: 0
      - name: After
        action: ExecuteBash
        inputs:
          commands: ["echo x >> after.count; echo after-ran"]
YML
build_doc b194.yml <<'YML'
      - name: Wants
        action: ExecuteBash
        inputs:
          commands:
            - echo x >> wants.count
            - if [ ! -e rebooted ]; then touch rebooted; exit 194; fi
      - name: After
        action: ExecuteBash
        inputs:
          commands: ["echo x >> after.count"]
YML
fresh() { rm -rf state logs ./*.count rebooted; }
count() { if [ -e "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# ---- exit ----
fresh
"$OPENTOE" run -d reboot.yml -l logs -s state --reboot-mode exit > out1 2> err1; rc=$?
check_eval "exit mode: a Reboot step exits 194 with the state saved" '[ $rc = 194 ] && [ -s state/state.jsonl ]'
check_eval "... the summary is printed, status pending-reboot" \
        'grep -q "\"status\": \"pending-reboot\"" out1 && grep -q "\"executionId\"" out1'
check_eval "... console.log says the caller reboots" \
        'grep -q "Reboot pending: opentoe exits with 194; reboot the machine and run the same command again" logs/TOE_*/console.log'
check_eval "... the step after it has not run yet" '[ "$(count after.count)" = 0 ]'
"$OPENTOE" run -d reboot.yml -l logs -s state --reboot-mode exit > out2 2> err2; rc=$?
check_eval "... run again: it goes on with the next step and succeeds" \
        '[ $rc = 0 ] && grep -q "\"status\": \"success\"" out2 && [ "$(count after.count)" = 1 ] && [ "$(count before.count)" = 1 ]'
check_eval "... the Reboot step did not run again (one reboot signal in console.log)" \
        '[ "$(grep -c "Getting reboot signal" logs/TOE_*/console.log)" = 1 ] && grep -q "System has rebooted successfully" logs/TOE_*/console.log'
check_eval "... and detailedoutput.json records it once, a success" \
        'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=[x for p in d[\"documents\"][0][\"phases\"] for x in p[\"steps\"] if x[\"name\"]==\"RebootNow\"]; sys.exit(0 if len(s)==1 and s[0][\"status\"]==\"success\" else 1)" logs/TOE_*/detailedoutput.json'
fresh
"$OPENTOE" run -d b194.yml -l logs -s state --reboot-mode exit > /dev/null 2>&1; rc1=$?
"$OPENTOE" run -d b194.yml -l logs -s state --reboot-mode exit > /dev/null 2>&1; rc2=$?
check_eval "exit mode: an exit-194 step runs again after the reboot" \
        '[ $rc1 = 194 ] && [ $rc2 = 0 ] && [ "$(count wants.count)" = 2 ] && [ "$(count after.count)" = 1 ]'

# ---- ssm ----
fresh
make_root root-ssm no
env -u OPENTOE_REBOOT_MODE AWS_SSM_INSTANCE_ID=i-0123456789abcdef0 AWS_SSM_REGION_NAME=eu-west-1 \
        OPENTOE_TEST_SYSTEM_ROOT="$work/root-ssm" "$OPENTOE" run -d reboot.yml -l logs -s state > out3 2> err3; rc=$?
check_eval "ssm mode (chosen from SSM Agent's environment): exit 194, summary printed, nothing rebooted here" \
        '[ $rc = 194 ] && grep -q pending-reboot out3 && [ ! -s root-ssm/calls ]'
check_eval "... console.log says SSM Agent reboots and runs the command again" \
        'grep -q "opentoe exits with 194, SSM Agent reboots the instance and runs this command again" logs/TOE_*/console.log'
env -u OPENTOE_REBOOT_MODE AWS_SSM_INSTANCE_ID=i-0123456789abcdef0 OPENTOE_TEST_SYSTEM_ROOT="$work/root-ssm" \
        "$OPENTOE" run -d reboot.yml -l logs -s state > out4 2> err4; rc=$?
check_eval "... SSM's re-run resumes after the Reboot step" '[ $rc = 0 ] && [ "$(count after.count)" = 1 ] && [ "$(count before.count)" = 1 ]'
fresh
OPENTOE_REBOOT_MODE=ssm "$OPENTOE" run -d b194.yml -l logs -s state > /dev/null 2>&1; rc1=$?
OPENTOE_REBOOT_MODE=ssm "$OPENTOE" run -d b194.yml -l logs -s state > /dev/null 2>&1; rc2=$?
check_eval "ssm mode (OPENTOE_REBOOT_MODE=ssm): an exit-194 step runs again on the re-run" \
        '[ $rc1 = 194 ] && [ $rc2 = 0 ] && [ "$(count wants.count)" = 2 ] && [ "$(count after.count)" = 1 ]'

# ---- self, with systemd ----
fresh
make_root root-sd yes
sed 's/delaySeconds: 0/delaySeconds: 2/' reboot.yml > delayed.yml
start=$(date +%s.%N)
env -u OPENTOE_REBOOT_MODE OPENTOE_TEST_SYSTEM_ROOT="$work/root-sd" "$OPENTOE" run -d delayed.yml -l logs -s state > out5 2> err5; rc=$?
check_eval "self mode (root, no SSM): the summary is printed, pending-reboot" '[ $rc = 194 ] && grep -q pending-reboot out5'
check_eval "... the resume unit is enabled before the reboot" 'grep -qx "systemctl enable opentoe-resume.service" root-sd/calls'
check_eval "... a pending-resume record names the command" \
        'ls root-sd/var/lib/opentoe/resume/pending/*.json > /dev/null 2>&1 && grep -q "delayed.yml" root-sd/var/lib/opentoe/resume/pending/*.json &&
         [ "$(stat -c %a root-sd/var/lib/opentoe/resume/pending)" = 700 ]'
check_eval "... console.log says the system reboots and the execution resumes at boot" \
        'grep -q "Rebooting the system now (after the delay): execution .* resumes at boot (opentoe-resume.service)" logs/TOE_*/console.log'
check_eval "... systemctl reboot is asked for once opentoe has exited, after delaySeconds" \
        'wait_reboot root-sd "systemctl reboot"'
check_eval "... not before delaySeconds (2 s) after the run began" \
        'sleep 2.5; [ "$(grep -c "systemctl reboot" root-sd/calls)" = 1 ] && [ "$(tail -n 1 root-sd/calls)" = "systemctl reboot" ] && [ "$(wc -l < root-sd/calls)" = 2 ] && python3 -c "import sys,os; t=os.path.getmtime(\"root-sd/calls\"); sys.exit(0 if t - float(sys.argv[1]) >= 2 else 1)" "$start"'
# The simulated boot: what the unit runs, from another folder.
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-sd" "$OPENTOE" run --resume > "$work/out6" 2> "$work/err6"); rc=$?
check_eval "boot: 'opentoe run --resume' resumes the execution after the Reboot step" \
        '[ $rc = 0 ] && [ "$(count after.count)" = 1 ] && [ "$(count before.count)" = 1 ] && grep -q "\"status\": \"success\"" out6'
check_eval "... in its own folder, the same log folder, and the unit is disabled again" \
        '[ "$(ls -d logs/TOE_* | wc -l)" = 1 ] && grep -qx "systemctl disable opentoe-resume.service" root-sd/calls'
check_eval "... the pending record is gone" '[ -z "$(ls -A root-sd/var/lib/opentoe/resume/pending)" ] && [ -z "$(ls -A root-sd/var/lib/opentoe/resume/claimed)" ]'
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-sd" "$OPENTOE" run --resume > "$work/out7" 2> "$work/err7"); rc=$?
check_eval "... a second boot resumes nothing" '[ $rc = 0 ] && grep -q "no execution is waiting to resume" err7 && [ "$(count after.count)" = 1 ]'

# ---- self, run by systemd as a service: the reboot outlives the unit ----
# A service's leftover processes die when it stops (the agent's unit
# when the agent exits, opentoe-resume.service when its run exits 194):
# there the wait for opentoe's exit runs as a transient unit of its own.
fresh
make_root root-unit yes
cat > root-unit/bin/systemd-run <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "systemd-run $*" >> "$root/calls"
[ -e "$root/run-fails" ] && exit 1
while [ $# -gt 0 ] && [ "$1" != /bin/sh ]; do shift; done
setsid "$@" > /dev/null 2>&1 < /dev/null &
SH
chmod 755 root-unit/bin/systemd-run
INVOCATION_ID=0123abcd OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-unit" "$OPENTOE" run -d reboot.yml -l logs -s state > /dev/null 2>&1; rc=$?
check_eval "self mode under a service (INVOCATION_ID): systemd-run is asked for a unit of its own, before opentoe exits" \
        '[ $rc = 194 ] && grep -q "^systemd-run --quiet --no-block --collect --unit=opentoe-reboot-[0-9]* .* /bin/sh -c .* sh [0-9]* 0 .*/bin/systemctl reboot$" root-unit/calls'
check_eval "... and that unit asks for systemctl reboot once opentoe has exited" \
        'wait_reboot root-unit "^systemctl reboot" && [ "$(grep -c "systemctl reboot" root-unit/calls)" = 2 ]'
fresh
make_root root-unit yes
touch root-unit/run-fails
INVOCATION_ID=0123abcd OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-unit" "$OPENTOE" run -d reboot.yml -l logs -s state > /dev/null 2>&1; rc=$?
check_eval "... when systemd-run fails, the detached process reboots all the same" \
        '[ $rc = 194 ] && grep -q "^systemd-run" root-unit/calls && wait_reboot root-unit "^systemctl reboot"'

# ---- self, without systemd: the crontab ----
fresh
make_root root-cron no
echo "5 4 * * * /usr/bin/true # someone else's" > root-cron/crontab
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-cron" "$OPENTOE" run -d b194.yml -l logs -s state > out8 2> err8; rc=$?
check_eval "self mode without systemd: a crontab @reboot entry runs 'run --resume', other entries kept" \
        '[ $rc = 194 ] && grep -q "^@reboot .*opentoe run --resume # opentoe-resume$" root-cron/crontab && grep -q "someone else" root-cron/crontab'
check_eval "... and plain reboot is asked for" 'wait_reboot root-cron "^reboot  at"'
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-cron" "$OPENTOE" run --resume > "$work/out9" 2> "$work/err9"); rc=$?
check_eval "boot: the exit-194 step runs again, the run ends, and the crontab entry is gone" \
        '[ $rc = 0 ] && [ "$(count wants.count)" = 2 ] && [ "$(count after.count)" = 1 ] && ! grep -q opentoe-resume root-cron/crontab && grep -q "someone else" root-cron/crontab'

# ---- self mode that cannot reboot: exit mode, said ----
fresh
make_root root-none no
rm -f root-none/bin/reboot
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-none" "$OPENTOE" run -d reboot.yml -l logs -s state > out10 2> err10; rc=$?
check_eval "self mode where nothing can reboot: exit 194 for the caller, saying why" \
        '[ $rc = 194 ] && grep -q "Cannot arrange the reboot on this machine (neither systemctl (with systemd) nor reboot was found)" logs/TOE_*/console.log'

# ---- the bound ----
fresh
build_doc always.yml <<'YML'
      - name: Forever
        action: ExecuteBash
        inputs:
          commands: ["echo x >> forever.count; exit 194"]
YML
rcs=
for i in 1 2 3 4; do
        OPENTOE_REBOOT_LIMIT=3 "$OPENTOE" run -d always.yml -l logs -s state > outb 2> errb
        rcs="$rcs $?"
done
check_eval "the reboot counter: past OPENTOE_REBOOT_LIMIT the step fails instead of rebooting" \
        '[ "$rcs" = " 194 194 194 1" ] && [ "$(count forever.count)" = 4 ] && [ ! -e state/state.jsonl ]'
check_eval "... with a clear message" \
        'grep -q "this execution has already rebooted 3 times, the bound (OPENTOE_REBOOT_LIMIT" logs/TOE_*/console.log'

# ---- if is not evaluated again after the reboot ----
fresh
build_doc gated.yml <<YML
      - name: Gated
        action: ExecuteBash
        if:
          fileExists: $work/gate
        inputs:
          commands:
            - echo x >> gated.count
            - if [ -e gate ]; then rm gate; exit 194; fi
YML
touch gate
"$OPENTOE" run -d gated.yml -l logs -s state > /dev/null 2>&1; rc1=$?
"$OPENTOE" run -d gated.yml -l logs -s state > /dev/null 2>&1; rc2=$?
check_eval "a step's if is not evaluated again after its reboot (AWSTOE's rule)" \
        '[ $rc1 = 194 ] && [ $rc2 = 0 ] && [ "$(count gated.count)" = 2 ]'

# ---- nested documents ----
fresh
build_doc child.yml <<'YML'
      - name: ChildFirst
        action: ExecuteBash
        inputs:
          commands: ["echo x >> child-first.count"]
      - name: ChildReboot
        action: Reboot
      - name: ChildWants
        action: ExecuteBash
        inputs:
          commands:
            - echo x >> child-wants.count
            - if [ ! -e rebooted ]; then touch rebooted; exit 194; fi
      - name: ChildLast
        action: ExecuteBash
        inputs:
          commands: ["echo x >> child-last.count; echo child-done"]
YML
build_doc parent.yml <<'YML'
      - name: ParentFirst
        action: ExecuteBash
        inputs:
          commands: ["echo x >> parent-first.count"]
      - name: Nested
        action: ExecuteDocument
        inputs:
          document: child.yml
      - name: ParentLast
        action: ExecuteBash
        inputs:
          commands: ["echo x >> parent-last.count"]
YML
rcs=
for i in 1 2 3; do
        "$OPENTOE" run -d parent.yml -l logs -s state > outn$i 2> errn$i
        rcs="$rcs $?"
done
check_eval "a nested document's Reboot step and exit-194 step each reboot, and the nested run resumes" \
        '[ "$rcs" = " 194 194 0" ] && grep -q "\"status\": \"success\"" outn3'
check_eval "... nothing before the reboots ran again; the exit-194 step did" \
        '[ "$(count parent-first.count)" = 1 ] && [ "$(count child-first.count)" = 1 ] && [ "$(count child-wants.count)" = 2 ] &&
         [ "$(count child-last.count)" = 1 ] && [ "$(count parent-last.count)" = 1 ]'
check_eval "... and the nested step records survive the reboots" \
        'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); n=[x for p in d[\"documents\"][0][\"phases\"] for x in p[\"steps\"] if x[\"name\"]==\"Nested\"][0]; s=json.dumps(n[\"detailedOutput\"]); sys.exit(0 if all(k in s for k in (\"ChildFirst\",\"ChildReboot\",\"ChildLast\")) else 1)" logs/TOE_*/detailedoutput.json'

# ---- kill -9 between persisted and rebooting ----
fresh
make_root root-kill yes
touch root-kill/kill-on-enable
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-kill" "$OPENTOE" run -d reboot.yml -l logs -s state > outk 2> errk; rc=$?
check_eval "a run killed (-9) after persisting, before rebooting: no reboot was asked for" \
        '[ $rc = 137 ] && sleep 1 && ! grep -q "systemctl reboot" root-kill/calls'
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-kill" "$OPENTOE" run --resume > "$work/outk2" 2> "$work/errk2"); rc=$?
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-kill" "$OPENTOE" run --resume > "$work/outk3" 2> "$work/errk3"); rc3=$?
check_eval "... the next boot resumes it exactly once" \
        '[ $rc = 0 ] && [ $rc3 = 0 ] && [ "$(count after.count)" = 1 ] && [ "$(count before.count)" = 1 ] && grep -q "no execution is waiting" errk3'

# ---- two resumers at one boot (the unit and the crontab entry, say) ----
fresh
make_root root-two yes
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-two" "$OPENTOE" run -d reboot.yml -l logs -s state > /dev/null 2>&1
wait_reboot root-two "systemctl reboot"
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-two" "$OPENTOE" run --resume > "$work/outr1" 2> "$work/errr1") &
r1=$!
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-two" "$OPENTOE" run --resume > "$work/outr2" 2> "$work/errr2") &
r2=$!
wait $r1; rc1=$?
wait $r2; rc2=$?
check_eval "two resumers at once: the execution resumes exactly once" \
        '[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$(count after.count)" = 1 ] && [ "$(cat errr1 errr2 | grep -c "resuming execution")" = 1 ]'

# ---- a resumed run killed (-9) before it ends: resumed at the next boot ----
# The fake machine's boot id (ROOT/proc/sys/kernel/random/boot_id) is
# changed to play a reboot.  Waits is in flight when the resumed run is
# killed; After never began.
sed '/- name: After/,$d' reboot.yml > waits.yml
cat >> waits.yml <<'YML'
      - name: Waits
        action: ExecuteBash
        inputs:
          commands:
            - echo x >> waits.count; touch waiting
            - for i in $(seq 600); do [ -e go ] && exit 0; sleep 0.1; done; exit 1
      - name: After
        action: ExecuteBash
        inputs:
          commands: ["echo x >> after.count"]
YML
boot() { mkdir -p "$1/proc/sys/kernel/random" && echo "$2" > "$1/proc/sys/kernel/random/boot_id"; }
# A --resume at boot $2 of root $1 whose resumed run is killed once
# Waits runs; sets rc (the resumer's status).
resume_killed() {
        rm -f waiting
        boot "$1" "$2"
        (cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/$1" exec "$OPENTOE" run --resume > "$work/out-$2" 2> "$work/err-$2") &
        local resumer=$! i runner=
        for i in $(seq 100); do [ -e waiting ] && break; sleep 0.1; done
        runner=$(pgrep -P "$resumer")
        [ -n "$runner" ] && kill -9 $runner
        wait "$resumer"; rc=$?
}
fresh
rm -f waits.count go
make_root root-rk yes
boot root-rk boot-1
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-rk" "$OPENTOE" run -d waits.yml -l logs -s state > /dev/null 2>&1
wait_reboot root-rk "systemctl reboot"
resume_killed root-rk boot-2
claimed=root-rk/var/lib/opentoe/resume/claimed
check_eval "a resumed run killed (-9) in a step: the claim is kept, with the boot, and the trigger stays armed" \
        '[ $rc != 0 ] && grep -q "was killed (signal 9) before it ended; it resumes again at the next boot" err-boot-2 &&
         grep -q "\"bootId\":\"boot-2\"" $claimed/*.json && ! grep -q "systemctl disable" root-rk/calls &&
         [ "$(count waits.count)" = 1 ] && [ "$(count after.count)" = 0 ]'
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-rk" "$OPENTOE" run --resume > "$work/out-again" 2> "$work/err-again"); rc=$?
check_eval "... another --resume at the same boot leaves it for the next boot (once per boot)" \
        '[ $rc = 0 ] && grep -q "was resumed at this boot already and did not finish" err-again &&
         [ "$(count waits.count)" = 1 ] && ls $claimed/*.json > /dev/null 2>&1 && ! grep -q "systemctl disable" root-rk/calls'
touch go
boot root-rk boot-3
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-rk" "$OPENTOE" run --resume > "$work/out-3" 2> "$work/err-3"); rc=$?
check_eval "... the next boot resumes it to success: every completed step ran once, the killed one again" \
        '[ $rc = 0 ] && grep -q "\"status\": \"success\"" out-3 && [ "$(count before.count)" = 1 ] &&
         [ "$(count waits.count)" = 2 ] && [ "$(count after.count)" = 1 ] && [ "$(grep -c "Getting reboot signal" logs/TOE_*/console.log)" = 1 ]'
check_eval "... then the claim is gone and the trigger disarmed" \
        '[ -z "$(ls -A $claimed)" ] && [ -z "$(ls -A root-rk/var/lib/opentoe/resume/pending)" ] &&
         grep -qx "systemctl disable opentoe-resume.service" root-rk/calls'
boot root-rk boot-4
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-rk" "$OPENTOE" run --resume > /dev/null 2> "$work/err-4"); rc=$?
check_eval "... and the boot after resumes nothing" '[ $rc = 0 ] && grep -q "no execution is waiting" err-4 && [ "$(count after.count)" = 1 ]'

# A resumed run that asks for another reboot hands off: its claim goes,
# a new pending record and the armed trigger wait for the next boot.
fresh
make_root root-rh yes
boot root-rh boot-1
# reboot.yml's After as Mid, then its last two steps again.
{ sed 's/name: After/name: Mid/; s/after.count/mid.count/' reboot.yml
  sed -n '/- name: RebootNow/,$p' reboot.yml | sed 's/RebootNow/RebootAgain/'; } > twice.yml
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-rh" "$OPENTOE" run -d twice.yml -l logs -s state > /dev/null 2>&1
wait_reboot root-rh "systemctl reboot"
boot root-rh boot-2
(cd / && OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-rh" "$OPENTOE" run --resume > /dev/null 2> "$work/err-rh2"); rc=$?
check_eval "a resumed run that reboots again: exit 194, the claim gone, a new pending record, the trigger kept" \
        '[ $rc = 194 ] && [ "$(count mid.count)" = 1 ] && [ "$(count after.count)" = 0 ] &&
         [ -z "$(ls -A root-rh/var/lib/opentoe/resume/claimed)" ] && ls root-rh/var/lib/opentoe/resume/pending/*.json > /dev/null &&
         [ "$(grep -c "systemctl enable" root-rh/calls)" = 2 ] && ! grep -q "systemctl disable" root-rh/calls'
boot root-rh boot-3
(cd / && OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-rh" "$OPENTOE" run --resume > /dev/null 2> "$work/err-rh3"); rc=$?
check_eval "... and the next boot finishes it, each step once" \
        '[ $rc = 0 ] && [ "$(count before.count)" = 1 ] && [ "$(count mid.count)" = 1 ] && [ "$(count after.count)" = 1 ] &&
         [ -z "$(ls -A root-rh/var/lib/opentoe/resume/pending)" ] && grep -q "systemctl disable" root-rh/calls'

# The resumer killed, its run alive: the state's lock tells, and the
# run removes the claim itself when it ends.
fresh
rm -f waits.count go waiting
make_root root-ro yes
boot root-ro boot-1
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-ro" "$OPENTOE" run -d waits.yml -l logs -s state > /dev/null 2>&1
wait_reboot root-ro "systemctl reboot"
boot root-ro boot-2
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-ro" exec "$OPENTOE" run --resume > /dev/null 2>&1) &
resumer=$!
for _ in $(seq 100); do [ -e waiting ] && break; sleep 0.1; done
orphan=$(pgrep -P "$resumer")
kill -9 "$resumer"
wait "$resumer" 2> /dev/null
boot root-ro boot-3
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-ro" "$OPENTOE" run --resume > /dev/null 2> "$work/err-ro3"); rc=$?
check_eval "a run still going (its resumer killed): the next --resume leaves it alone, its state being locked" \
        '[ -n "$orphan" ] && [ $rc = 0 ] && grep -q "another opentoe run holds its state; the record stays for it" err-ro3 &&
         [ "$(count waits.count)" = 1 ] && ls root-ro/var/lib/opentoe/resume/claimed/*.json > /dev/null 2>&1'
touch go
for _ in $(seq 100); do kill -0 "$orphan" 2> /dev/null || break; sleep 0.1; done
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-ro" "$OPENTOE" run --resume > /dev/null 2> "$work/err-ro4"); rc=$?
check_eval "... that run ends it and removes its claim; nothing runs twice, and the trigger goes" \
        '[ "$(count waits.count)" = 1 ] && [ "$(count after.count)" = 1 ] && [ "$(count before.count)" = 1 ] &&
         [ -z "$(ls -A root-ro/var/lib/opentoe/resume/claimed)" ] && grep -q "no execution is waiting" err-ro4 &&
         grep -qx "systemctl disable opentoe-resume.service" root-ro/calls'

# The bound: killed every time, it is dropped past OPENTOE_REBOOT_LIMIT.
fresh
rm -f waits.count go
make_root root-rb yes
boot root-rb boot-1
OPENTOE_REBOOT_MODE=self OPENTOE_TEST_SYSTEM_ROOT="$work/root-rb" "$OPENTOE" run -d waits.yml -l logs -s state > /dev/null 2>&1
wait_reboot root-rb "systemctl reboot"
export OPENTOE_REBOOT_LIMIT=2
resume_killed root-rb boot-b2; rc1=$rc
resume_killed root-rb boot-b3; rc2=$rc
boot root-rb boot-b4
(cd / && OPENTOE_TEST_SYSTEM_ROOT="$work/root-rb" "$OPENTOE" run --resume > /dev/null 2> "$work/err-b4"); rc=$?
unset OPENTOE_REBOOT_LIMIT
check_eval "a resume killed at every boot is dropped past OPENTOE_REBOOT_LIMIT (2), saying so" \
        '[ $rc1 != 0 ] && [ $rc2 != 0 ] && [ $rc = 1 ] && [ "$(count waits.count)" = 2 ] &&
         grep -q "was resumed 2 times without finishing, the bound (OPENTOE_REBOOT_LIMIT" err-b4 &&
         [ -z "$(ls -A root-rb/var/lib/opentoe/resume/claimed)" ] && grep -qx "systemctl disable opentoe-resume.service" root-rb/calls'

# ---- the flag ----
"$OPENTOE" run -d reboot.yml --reboot-mode sometimes > /dev/null 2> errf; rc=$?
check_eval "--reboot-mode takes ssm, self or exit" '[ $rc = 2 ] && grep -q "must be ssm, self or exit" errf'

done_testing
