#!/bin/bash
# packer.sh: packaging/packer, the Packer template and the script it runs
# on the machine being built.  `packer validate` passes with the
# variables a user gives (and fails without a host or with a missing
# package, so it is a real check); the template's shape is the reboot
# hand-off (rounds that expect the disconnect, a pause before each later
# one, the final check); and opentoe-step.sh is run here, round by round,
# against the built opentoe in the exit reboot mode with the reboot
# replaced by a command that records it: 194, "reboot", resume, done.
# Without packer the validate checks are skipped (Debian: apt-get install
# packer; scripts/setup.sh --test installs it).  Nothing reboots.  TAP
# output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W packer
tpl=$top_srcdir/packaging/packer/opentoe.json
step=$top_srcdir/packaging/packer/opentoe-step.sh
mkdir -p "$W/docs" "$W/bin" "$W/fake"
touch "$W/opentoe.deb" "$W/docs/component.yml"
ln -s "$OPENTOE" "$W/bin/opentoe"
on_failure() { diag "$(cat "$W/out" "$W/err" 2> /dev/null | tail -n 30)"; }

if command -v packer > /dev/null; then
        vars=(-var "package=$W/opentoe.deb" -var "documents_dir=$W/docs" -var host=192.0.2.10 -var ssh_password=x)
        version=$(packer version | head -n 1)
        (cd "$W" && packer validate "${vars[@]}" "$tpl" > "$W/out" 2> "$W/err"); rc=$?
        check_eval "packer validate: the template is valid ($version)" '[ $rc -eq 0 ]'
        (cd "$W" && packer validate -var "package=$W/opentoe.deb" -var "documents_dir=$W/docs" "$tpl" > "$W/out" 2>&1)
        rc=$?
        check_eval "packer validate without a host fails (the check is real)" \
                '[ $rc -ne 0 ] && grep -q "Host must be specified" "$W/out"'
        (cd "$W" && packer validate "${vars[@]}" -var "package=$W/none.deb" "$tpl" > "$W/out" 2>&1); rc=$?
        check_eval "packer validate with a missing package fails" '[ $rc -ne 0 ] && grep -q "none.deb" "$W/out"'
else
        skip "packer is not installed (Debian: apt-get install packer): packer validate not run"
        skip "packer is not installed: the failing validate not run"
        skip "packer is not installed: the missing-package validate not run"
fi

# The shape of the hand-off, read from the template.
python3 - "$tpl" > "$W/shape" 2>&1 <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
ps = t["provisioners"]
out = []
def check(what, ok):
    out.append(("ok: " if ok else "bad: ") + what)
check("one builder, the null builder (validates offline)", [b["type"] for b in t["builders"]] == ["null"])
rounds = [p for p in ps if p["type"] == "shell" and any(c.endswith("opentoe-step.sh run") for c in p.get("inline", []))]
check("at least two rounds of opentoe-step.sh run", len(rounds) >= 2)
check("every round expects the disconnect", all(p.get("expect_disconnect") is True for p in rounds))
check("every round after the first pauses before it (the reboot begins)", all("pause_before" in p for p in rounds[1:]))
check("every round waits for the machine to come back (start_retry_timeout)", all("start_retry_timeout" in p for p in rounds))
check("the rounds run as root with the settings in their environment",
      all("sudo -E" in p.get("execute_command", "") and p.get("environment_vars") for p in rounds))
check("the package is installed before the first round",
      any("opentoe-step.sh install" in c for p in ps[:ps.index(rounds[0])] for c in p.get("inline", [])))
check("the last provisioner checks the run ended", any(c.endswith("opentoe-step.sh check") for c in ps[-1].get("inline", [])))
check("the step script is uploaded from beside the template",
      any(p["type"] == "file" and p["source"] == "{{template_dir}}/opentoe-step.sh" for p in ps))
print("\n".join(out))
EOF
tap_verdicts "$W/shape" "the template reads as JSON"

# The rounds, here: the reboot is a command that records it.
reboot_once_doc "$W/reboot.yml" "$W"
# Belt and braces: reboot and shutdown in PATH only record, too.
for c in reboot shutdown; do
        printf '#!/bin/sh\necho "%s $*" >> "%s/fake-calls"\n' "$c" "$W" > "$W/fake/$c"
        chmod +x "$W/fake/$c"
done
step_run() {
        env PATH="$W/fake:$W/bin:$PATH" OPENTOE_STEP_DIR="$W/step" OPENTOE_DOCUMENTS="$W/reboot.yml" \
                OPENTOE_PHASES=build OPENTOE_STEP_REBOOT="echo rebooted >> '$W/reboots-asked'" \
                sh "$step" "$@" > "$W/out" 2> "$W/err"
        rc=$?
}
wait_for() { for _ in $(seq 50); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

step_run check
check_eval "check before any round: fails, saying the run has not ended" \
        '[ $rc -ne 0 ] && grep -q "has not ended" "$W/err"'
step_run run
check_eval "round 1: exit 0 after opentoe's 194, the step before done, a reboot asked for" \
        '[ $rc -eq 0 ] && [ "$(cat "$W/marks")" = before ] && grep -q "reboot 1 asked for" "$W/out" &&
         wait_for "$W/reboots-asked"'
check_eval "the reboot is the recording command, not the machine's" '[ ! -e "$W/fake-calls" ]'
step_run run
check_eval "round 2: resumes, the step before not run again, the run ends" \
        '[ $rc -eq 0 ] && [ "$(printf "%s\n" before after)" = "$(cat "$W/marks")" ] &&
         grep -q "back after reboot 1; resuming" "$W/out" && [ "$(cat "$W/step/exit-status")" = 0 ]'
check_eval "one log folder for the whole run" '[ $(ls "$W/step/logs" | wc -l) -eq 1 ]'
step_run run
check_eval "round 3: nothing to do" '[ $rc -eq 0 ] && grep -q "already ended (exit 0)" "$W/out" && [ $(wc -l < "$W/marks") -eq 2 ]'
step_run check
check_eval "check: the run succeeded after 1 reboot" '[ $rc -eq 0 ] && grep -q "succeeded after 1 reboot" "$W/out"'
check_eval "one reboot asked for in all" '[ $(wc -l < "$W/reboots-asked") -eq 1 ]'

# A failing document fails its round and the check.
build_doc "$W/fail.yml" fails <<'EOF'
      - name: Fail
        action: ExecuteBash
        inputs:
          commands:
            - exit 3
EOF
env PATH="$W/fake:$W/bin:$PATH" OPENTOE_STEP_DIR="$W/step2" OPENTOE_DOCUMENTS="$W/fail.yml" \
        OPENTOE_STEP_REBOOT=true sh "$step" run > "$W/out" 2> "$W/err"; rc=$?
check_eval "a failing run fails its round (Packer stops the build)" '[ $rc -ne 0 ] && [ "$(cat "$W/step2/exit-status")" = 1 ]'
env OPENTOE_STEP_DIR="$W/step2" sh "$step" check > "$W/out" 2> "$W/err"; rc=$?
check_eval "and the check says so" '[ $rc -ne 0 ] && grep -q "the run failed (exit 1)" "$W/err"'

# install: dpkg for a .deb (a recording dpkg here).
printf '#!/bin/sh\necho "dpkg $*" >> "%s/dpkg-calls"\n' "$W" > "$W/fake/dpkg"
chmod +x "$W/fake/dpkg"
env PATH="$W/fake:$W/bin:$PATH" sh "$step" install "$W/opentoe.deb" > "$W/out" 2> "$W/err"; rc=$?
check_eval "install PACKAGE.deb: dpkg -i it, then opentoe answers" \
        '[ $rc -eq 0 ] && grep -qx "dpkg -i $W/opentoe.deb" "$W/dpkg-calls" && grep -q "installed opentoe " "$W/out"'
env PATH="$W/fake:$W/bin:$PATH" sh "$step" install "$W/docs/component.yml" > "$W/out" 2> "$W/err"; rc=$?
check_eval "install of something else: refused" '[ $rc -ne 0 ] && grep -q "neither a .deb nor a .rpm" "$W/err"'

done_testing
