#!/bin/bash
# tests/vm/run.sh [RUNS]: opentoe vm end to end, with real reboots.  Each
# run boots the cached Debian 12 image (built first when it is not there)
# with tests/vm/e2e.yml, the repository of tests/vm/make-repo.sh as the
# job disk's repo/ and a job config that streams console.log to a
# CloudWatch spool (no network in the guest: the lines stay spooled).
# The guest reboots twice (the Reboot action, then exit 194 in a loop
# iteration); the document's last step checks, inside the guest, that no
# completed step ran again and that UpdateOS and the spool did their
# part.  From outside, each run must exit 0 and print a successful
# summary, its log folder must come out, and the journal must show the
# one execution id across three boots.  TAP; RUNS defaults to
# OPENTOE_VM_RUNS or 1 (`make check-vm` runs 10).
#
# Needs root, qemu-system-x86_64 and debootstrap (scripts/setup.sh --vm);
# skipped without them.  The image build needs Debian's mirror; the guest
# has no network device.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/run.sh"
resolve_paths
runs=${1:-${OPENTOE_VM_RUNS:-1}}
[[ $runs =~ ^[1-9][0-9]?$ ]] || bail_out "RUNS must be 1 to 99, not '$runs'"
[ "$(id -u)" = 0 ] || skip_all "opentoe vm needs root here (debootstrap builds the image)"
command -v qemu-system-x86_64 > /dev/null || skip_all "no qemu-system-x86_64 (scripts/setup.sh --vm)"
command -v debootstrap > /dev/null || skip_all "no debootstrap (scripts/setup.sh --vm)"
command -v dpkg-scanpackages > /dev/null || skip_all "no dpkg-scanpackages (dpkg-dev)"
scratch_dir W vm-e2e
[ -n "$W" ] && [ -d "$W" ] || bail_out "no scratch folder"

bash "$top_srcdir/tests/vm/make-repo.sh" "$W/repo" || bail_out "cannot build the test repository"
mkdir -p "$W/extra"
# AWSTOE's CloudWatch settings, for the agent's job (no credentials and no
# network in the guest: the spool keeps the lines, failures are ignored).
printf '{"cwLogGroup": "opentoe-vm-e2e", "cwLogStream": "run", "cwLogRegion": "us-east-1", "cwIgnoreFailures": true}\n' \
        > "$W/extra/job.json"

# The image once, outside the timed runs, so a build failure says so:
# rebuilt from this tree (the package inside is what is tested; its base
# root stays cached, so this takes about a minute) unless
# OPENTOE_VM_TEST_REUSE=1 keeps a cached one.
start=$(date +%s)
rebuild=--rebuild
[ "${OPENTOE_VM_TEST_REUSE:-0}" = 1 ] && rebuild=
if ! "$OPENTOE" vm image $rebuild > "$W/image.out" 2> "$W/image.err"; then
        diag "$(tail -n 30 "$W/image.err")"
        bail_out "opentoe vm image failed"
fi
diag "image ready in $(($(date +%s) - start)) s"

boots_of() { grep -c '^-- Boot ' "$1" 2> /dev/null || true; }
for ((i = 1; i <= runs; i++)); do
        out=$W/out$i
        start=$(date +%s)
        "$OPENTOE" vm run --documents "$top_srcdir/tests/vm/e2e.yml" --repo "$W/repo" --extra "$W/extra" \
                --output "$out" --timeout "${OPENTOE_VM_RUN_TIMEOUT:-1200}" > "$W/summary$i.json" 2> "$W/err$i"
        rc=$?
        secs=$(($(date +%s) - start))
        on_failure() { diag "$(tail -n 40 "$W/err$i")"; }
        check "run $i: opentoe vm run exits 0 (exit $rc, $secs s)" test "$rc" = 0
        check "run $i: the summary says success" \
                "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("status","").lower()=="success" else 1)' \
                "$W/summary$i.json"
        toe=$(find "$out" -maxdepth 1 -name 'TOE_*' -type d | head -n 1)
        check "run $i: the log folder came out" test -n "$toe" -a -f "$toe/console.log"
        on_failure() { diag "$(tail -n 30 "$toe/console.log" 2> /dev/null)"; }
        check "run $i: the checks inside the guest passed" grep -q 'E2E CHECKS PASSED' "$toe/console.log"
        on_failure() { diag "$(head -n 20 "$out/journal.txt" 2> /dev/null)"; }
        check "run $i: the journal has the execution's lines across three boots ($(boots_of "$out/journal.txt") boot lines)" \
                test "$(boots_of "$out/journal.txt")" -ge 2
        on_failure() { :; }
        diag "run $i took $secs s"
done
done_testing
