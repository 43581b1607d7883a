#!/bin/bash
# update-os.sh: UpdateOS against fake package managers (apt-get with
# dpkg-query, dnf with rpm and needs-restarting) in an
# OPENTOE_TEST_SYSTEM_ROOT: the package lists refreshed first, every
# update, include, exclude, include minus exclude, a broken package, the
# non-interactive options, what changed and whether a reboot is asked for,
# rebootIfRequired through the reboot protocol, no manager, not root, and
# --strict-awstoe refusing the extension.  Nothing here touches the
# machine's own packages.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
enter_scratch work update-os
. "$top_srcdir/tests/lib/fakesys.sh"

doc() {
        # doc NAME INPUTS-YAML...
        local name=$1
        shift
        { printf '%s\n' "schemaVersion: 1.0" "phases:" "  - name: build" "    steps:" "      - name: Update" \
                "        action: UpdateOS"
          if [ $# -gt 0 ]; then echo "        inputs:"; printf '          %s\n' "$@"; fi
          printf '%s\n' "      - name: After" "        action: ExecuteBash" "        inputs:" \
                "          commands: [\"echo x >> after.count\"]"; } > "$name"
}
run() { # run ROOT DOC: rc in $rc, console.log in $con
        rm -rf logs state
        OPENTOE_TEST_SYSTEM_ROOT="$work/$1" "$OPENTOE" run -d "$2" -l logs -s state > out 2> err; rc=$?
        con=$(cat logs/TOE_*/console.log 2> /dev/null)
}
ver() { awk -v n="$2" '$1 == n { print $2 }' "$1/installed"; }

doc all.yml
make_apt apt
run apt all.yml
check_eval "every update when neither include nor exclude is given" \
        '[ $rc = 0 ] && [ "$(ver apt a)$(ver apt b)$(ver apt c)" = 222 ]'
check_eval "... the package lists are refreshed first" \
        '[ "$(sed -n 1p apt/calls | cut -d" " -f1-2)" = "apt-get -y" ] && sed -n 1p apt/calls | grep -q " update " &&
         grep -n " upgrade " apt/calls | grep -qv "^1:"'
check_eval "... non-interactively: DEBIAN_FRONTEND, --force-confold, a bounded wait for the dpkg lock" \
        '! grep -v "DEBIAN_FRONTEND=noninteractive$" apt/calls | grep -q . && grep -q "Dpkg::Options::=--force-confold" apt/calls &&
         grep -q "DPkg::Lock::Timeout=600" apt/calls'
check_eval "... the package manager's output is in console.log" 'echo "$con" | grep -q "Stdout: Setting up b (2) ..."'
check_eval "... with what changed and whether a reboot is asked for" \
        'echo "$con" | grep -q "UpdateOS: updated a 1 -> 2" && echo "$con" | grep -q "UpdateOS: 3 package(s) changed" &&
         echo "$con" | grep -q "UpdateOS: the system does not ask for a reboot"'
check_eval "... and the same report is in application.log" \
        'grep -q "Info step Update: .*updated a 1 -> 2; .*3 package(s) changed; the system does not ask for a reboot" logs/TOE_*/application.log'
check_eval "... and the run goes on" '[ -s after.count ]'

doc include.yml "include: [a, b]"
make_apt apt
run apt include.yml
check_eval "include: only those packages" '[ $rc = 0 ] && [ "$(ver apt a)$(ver apt b)$(ver apt c)" = 221 ] && grep -q "install --only-upgrade a b" apt/calls'

doc exclude.yml "exclude: [b]"
make_apt apt
run apt exclude.yml
check_eval "exclude: every update but those" '[ $rc = 0 ] && [ "$(ver apt a)$(ver apt b)$(ver apt c)" = 212 ]'

doc both.yml "include: [a, b]" "exclude: [b]"
make_apt apt
run apt both.yml
check_eval "include and exclude: include minus exclude" '[ $rc = 0 ] && [ "$(ver apt a)$(ver apt b)$(ver apt c)" = 211 ]'

doc none.yml "include: [b]" "exclude: [b]"
make_apt apt
run apt none.yml
check_eval "... nothing left: nothing is updated, and it says so" \
        '[ $rc = 0 ] && [ "$(ver apt a)$(ver apt b)$(ver apt c)" = 111 ] && echo "$con" | grep -q "nothing to update"'

make_apt apt
echo b > apt/broken
rm -f after.count
run apt all.yml
check_eval "a broken package fails the step with the package manager's words, and the run stops" \
        '[ $rc = 1 ] && echo "$con" | grep -q "Stderr: dpkg: error processing package b" && echo "$con" | grep -q "apt-get failed (exit status 100)" &&
         [ "$(ver apt a)$(ver apt c)" = 22 ] && [ ! -e after.count ]'

make_apt apt
touch apt/reboot-after-upgrade
run apt all.yml
check_eval "an update that leaves /run/reboot-required: said, and no reboot without rebootIfRequired" \
        '[ $rc = 0 ] && echo "$con" | grep -q "UpdateOS: the system asks for a reboot (.*/run/reboot-required)"'
doc reboot.yml "rebootIfRequired: true"
make_apt apt
touch apt/reboot-after-upgrade
rm -f after.count
rm -rf logs state
OPENTOE_TEST_SYSTEM_ROOT="$work/apt" "$OPENTOE" run -d reboot.yml -l logs -s state > out 2> err; rc1=$?
rm -f apt/run/reboot-required apt/reboot-after-upgrade    # the boot
OPENTOE_TEST_SYSTEM_ROOT="$work/apt" "$OPENTOE" run -d reboot.yml -l logs -s state > out2 2> err2; rc2=$?
check_eval "rebootIfRequired: the reboot goes through the protocol, and the step runs again after it" \
        '[ $rc1 = 194 ] && grep -q pending-reboot out && [ $rc2 = 0 ] && [ "$(grep -c " upgrade " apt/calls)" = 2 ] &&
         grep -q "UpdateOS: no package changed" logs/TOE_*/console.log && [ "$(wc -l < after.count)" = 1 ]'
"$OPENTOE" validate --strict-awstoe reboot.yml > vout 2>&1; vrc=$?
"$OPENTOE" validate reboot.yml > vout2 2>&1; vrc2=$?
check_eval "rebootIfRequired is refused under --strict-awstoe, accepted otherwise" \
        '[ $vrc = 1 ] && grep -q "input .rebootIfRequired. of UpdateOS is an opentoe extension" vout && [ $vrc2 = 0 ]'

OPENTOE_UPDATEOS_LOCK_WAIT_S=7 run apt all.yml
check_eval "OPENTOE_UPDATEOS_LOCK_WAIT_S bounds the wait for the dpkg lock" 'grep -q "DPkg::Lock::Timeout=7" apt/calls'

mkdir -p empty/bin
run empty all.yml
check_eval "no package manager: a clear error" \
        '[ $rc = 1 ] && echo "$con" | grep -q "UpdateOS: no package manager was found (looked for dnf, yum, apt-get and zypper)"'

# dnf: include and exclude are its own arguments; needs-restarting -r.
rm -rf dnf && mkdir -p dnf/bin
cat > dnf/bin/dnf <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
echo "dnf $*" >> "$root/calls"
[ "$2" = upgrade ] && echo "Upgraded: pkg-a-2-1.x86_64" && printf '%s\n' "pkg-a 2-1" > "$root/installed"
exit 0
SH
cat > dnf/bin/rpm <<'SH'
#!/bin/bash
root=$(cd "$(dirname "$0")/.." && pwd)
cat "$root/installed"
SH
cat > dnf/bin/needs-restarting <<'SH'
#!/bin/bash
echo "Reboot is required to fully utilize these updates."
exit 1
SH
chmod 755 dnf/bin/*
echo "pkg-a 1-1" > dnf/installed
run dnf exclude.yml
check_eval "dnf: exclude is --exclude, after makecache" \
        '[ $rc = 0 ] && [ "$(sed -n 1p dnf/calls)" = "dnf -y makecache" ] && [ "$(sed -n 2p dnf/calls)" = "dnf -y upgrade --exclude=b" ]'
check_eval "... what changed, and needs-restarting -r's answer" \
        'echo "$con" | grep -q "UpdateOS: updated pkg-a 1-1 -> 2-1" && echo "$con" | grep -q "asks for a reboot (needs-restarting -r)"'
: > dnf/calls
run dnf both.yml
check_eval "dnf: include minus exclude are the packages named" '[ "$(sed -n 2p dnf/calls)" = "dnf -y upgrade a" ]'

# Not root: an error before anything runs.
chmod 755 "$work"
mkdir -p user && chown nobody user && cp all.yml user/
make_apt apt
( cd user && as_user nobody env OPENTOE_TEST_SYSTEM_ROOT="$work/apt" "$OPENTOE" run -d all.yml -l logs -s state > out 2> err ); rc=$?
check_eval "not root: a clear error, and nothing runs" \
        '[ $rc = 1 ] && grep -q "UpdateOS: installing updates needs root" user/logs/TOE_*/console.log && [ ! -e apt/calls ]'

done_testing
