#!/bin/sh
# opentoe-step.sh: what the Packer template (opentoe.json) runs on the
# machine being built, as root.  `install PACKAGE` installs the opentoe
# .deb or .rpm; `run` runs the component documents with opentoe in the
# exit reboot mode, and when a step asks for a reboot (opentoe exits 194,
# its state saved) reboots the machine: Packer's next provisioner
# reconnects and calls `run` again, which resumes the saved execution (or,
# once it has ended, says so and does nothing); `check` fails the build
# unless the run ended, successfully, within the rounds the template has.
#
# Settings (environment): OPENTOE_DOCUMENTS (comma-separated documents, as
# for --documents) or OPENTOE_CONFIG (an AWSTOE --config file);
# OPENTOE_PHASES (optional); OPENTOE_STEP_DIR, where the state, the logs and
# this script's records go (default /var/lib/opentoe/packer);
# OPENTOE_STEP_REBOOT, a command run in place of the reboot (for tests).
set -u
dir=${OPENTOE_STEP_DIR:-/var/lib/opentoe/packer}
say() { echo "opentoe-step: $*"; }
die() { echo "opentoe-step: $*" >&2; exit 1; }

install_package() {
        [ -f "${1:-}" ] || die "install: no package file '${1:-}'"
        case $1 in
        *.deb) dpkg -i "$1" || { apt-get update -q && apt-get install -f -y -q; } || die "install: $1 did not install" ;;
        *.rpm) if command -v dnf >/dev/null; then dnf install -y "$1"; elif command -v yum >/dev/null; then
                       yum install -y "$1"; else rpm -Uvh "$1"; fi || die "install: $1 did not install" ;;
        *) die "install: $1 is neither a .deb nor a .rpm" ;;
        esac
        command -v opentoe >/dev/null || die "install: no opentoe in PATH after installing $1"
        say "installed $(opentoe --version)"
}

# The reboot: later than this script's end, so Packer gets its exit status
# before the connection drops (expect_disconnect covers the rest).
reboot_soon() {
        nohup setsid sh -c "sleep 3; ${OPENTOE_STEP_REBOOT:-shutdown -r now || reboot}" > /dev/null 2>&1 < /dev/null &
}

run() {
        umask 077
        mkdir -p "$dir" || die "cannot make $dir"
        if [ -f "$dir/exit-status" ]; then
                say "the run has already ended (exit $(cat "$dir/exit-status")); nothing to do"
                return 0
        fi
        [ -n "${OPENTOE_DOCUMENTS:-}${OPENTOE_CONFIG:-}" ] || die "set OPENTOE_DOCUMENTS or OPENTOE_CONFIG"
        [ ! -f "$dir/reboots" ] || say "back after reboot $(cat "$dir/reboots"); resuming"
        # The same command every round: the same state folder resumes the run.
        set -- run --reboot-mode exit --state-directory "$dir/state" --log-directory "$dir/logs"
        [ -z "${OPENTOE_CONFIG:-}" ] || set -- "$@" --config "$OPENTOE_CONFIG"
        [ -z "${OPENTOE_DOCUMENTS:-}" ] || set -- "$@" --documents "$OPENTOE_DOCUMENTS"
        [ -z "${OPENTOE_PHASES:-}" ] || set -- "$@" --phases "$OPENTOE_PHASES"
        opentoe "$@"
        status=$?
        if [ "$status" -eq 194 ]; then
                n=$(( $(cat "$dir/reboots" 2>/dev/null || echo 0) + 1 ))
                echo "$n" > "$dir/reboots.new" && mv -f "$dir/reboots.new" "$dir/reboots"
                say "reboot $n asked for: rebooting; the next round resumes the run"
                reboot_soon
                return 0
        fi
        echo "$status" > "$dir/exit-status.new" && mv -f "$dir/exit-status.new" "$dir/exit-status"
        return "$status"
}

check() {
        [ -f "$dir/exit-status" ] ||
                die "the run has not ended after $(cat "$dir/reboots" 2>/dev/null || echo 0) reboot(s): add rounds to the template"
        status=$(cat "$dir/exit-status")
        [ "$status" = 0 ] || die "the run failed (exit $status); its logs are in $dir/logs"
        say "the run succeeded after $(cat "$dir/reboots" 2>/dev/null || echo 0) reboot(s)"
}

case ${1:-} in
install) install_package "${2:-}" ;;
run) run ;;
check) check ;;
*) die "usage: opentoe-step.sh install PACKAGE | run | check" ;;
esac
