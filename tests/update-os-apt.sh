#!/bin/bash
# update-os-apt.sh: UpdateOS against real apt, in a Debian 12 root
# (scripts/debian-root.sh: debootstrap, cached) copied into the scratch
# folder and entered only through chroot: opentoe's system root holds
# apt-get and dpkg-query wrappers that chroot into it, so nothing runs
# against the machine's own packages.  A local repository of small
# packages made with dpkg-deb offers version 2 of what has version 1
# installed: every update, include, exclude, include minus exclude, a
# broken package, a dpkg lock held by another process, /run/reboot-required.
# Skips when the root cannot be built or chroot is not allowed.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
resolve_paths
[ "$(id -u)" = 0 ] || skip_all "needs root (chroot)"
cache=$(bash "$top_srcdir/scripts/debian-root.sh" 2> /dev/null) || skip_all "no Debian 12 root (scripts/debian-root.sh could not build one)"
scratch_dir W update-os-apt
cd "$W" || exit 1
deb=$W/debian
cp -a "$cache" "$deb" || bail_out "cannot copy the Debian root"
/usr/sbin/chroot "$deb" /bin/true 2> /dev/null || skip_all "chroot is not allowed here"
in_root() { /usr/sbin/chroot "$deb" "$@"; }

# ---- the packages: otp-a, otp-b, otp-c (c's version 2 asks for a reboot),
# otp-bad (its version 2 fails to configure) ----
mkpkg() { # mkpkg NAME VERSION [POSTINST]
        local d=$W/pkgsrc/$1-$2
        mkdir -p "$d/DEBIAN" "$d/usr/share/otp"
        printf '%s\n' "Package: $1" "Version: $2" "Architecture: all" "Maintainer: opentoe tests <tests@opentoe.invalid>" \
                "Description: opentoe UpdateOS test package $1" > "$d/DEBIAN/control"
        echo "$1 $2" > "$d/usr/share/otp/$1"
        if [ -n "${3:-}" ]; then printf '#!/bin/sh\n%s\n' "$3" > "$d/DEBIAN/postinst"; chmod 755 "$d/DEBIAN/postinst"; fi
        mkdir -p "$W/debs/$2"
        dpkg-deb --root-owner-group -b "$d" "$W/debs/$2/$1_$2_all.deb" > /dev/null || bail_out "dpkg-deb failed for $1 $2"
}
for p in otp-a otp-b otp-c otp-bad; do mkpkg $p 1; done
mkpkg otp-a 2
mkpkg otp-b 2
mkpkg otp-c 2 "touch /run/reboot-required"
mkpkg otp-bad 2 "echo 'otp-bad: configuration refused' >&2; exit 1"
# A flat repository of the version-2 packages inside the root.
mkdir -p "$deb/srv/repo" "$deb/srv/v1"
cp "$W"/debs/2/*.deb "$deb/srv/repo/"
cp "$W"/debs/1/*.deb "$deb/srv/v1/"
python3 - "$deb/srv/repo" <<'PY' || bail_out "cannot write the repository index"
import hashlib, os, subprocess, sys
repo = sys.argv[1]
entries = []
for f in sorted(os.listdir(repo)):
    if not f.endswith(".deb"):
        continue
    path = os.path.join(repo, f)
    data = open(path, "rb").read()
    control = subprocess.run(["dpkg-deb", "-f", path], check=True, capture_output=True, text=True).stdout.strip()
    entries.append("%s\nFilename: ./%s\nSize: %d\nSHA256: %s\n" % (control, f, len(data), hashlib.sha256(data).hexdigest()))
packages = "\n".join(entries).encode()
open(os.path.join(repo, "Packages"), "wb").write(packages)
open(os.path.join(repo, "Release"), "w").write(
    "Origin: opentoe-tests\nLabel: opentoe-tests\nSuite: local\nCodename: local\nArchitectures: all\n"
    "SHA256:\n %s %d Packages\n" % (hashlib.sha256(packages).hexdigest(), len(packages)))
PY
echo "deb [trusted=yes] file:/srv/repo ./" > "$deb/etc/apt/sources.list"

# opentoe's view of the machine: apt-get and dpkg-query run in the root.
mkdir -p sys/bin
for tool in apt-get dpkg-query; do
        printf '#!/bin/bash\n[ -d %q/var/lib/dpkg ] || exit 99\nexec /usr/sbin/chroot %q /usr/bin/%s "$@"\n' "$deb" "$deb" "$tool" > sys/bin/$tool
done
chmod 755 sys/bin/*
ln -s "$deb/run" sys/run

reset() { # version 1 of otp-a, otp-b, otp-c; otp-bad only when asked
        in_root dpkg --purge otp-bad > /dev/null 2>&1
        in_root dpkg -i /srv/v1/otp-a_1_all.deb /srv/v1/otp-b_1_all.deb /srv/v1/otp-c_1_all.deb > /dev/null 2>&1 ||
                bail_out "cannot install version 1 in the root"
        [ "${1:-}" = with-bad ] && { in_root dpkg -i /srv/v1/otp-bad_1_all.deb > /dev/null 2>&1 || bail_out "cannot install otp-bad 1"; }
        rm -f "$deb/run/reboot-required"
}
ver() { in_root dpkg-query -W -f='${Version}' "$1" 2> /dev/null; }
vers() { echo "$(ver otp-a)$(ver otp-b)$(ver otp-c)"; }
. "$top_srcdir/tests/lib/updateos.sh"

doc all.yml
reset
run all.yml
check_eval "real apt: every update" '[ $rc = 0 ] && [ "$(vers)" = 222 ]'
check_eval "... apt's own output in console.log, the lists refreshed from the local repository" \
        'echo "$con" | grep -q "Stdout: Get:1 file:/srv/repo ./ Release\|Stdout: Hit:1 file:/srv/repo\|Stdout: Get:.*file:/srv/repo" && echo "$con" | grep -q "Stdout: Setting up otp-a (2)"'
check_eval "... what changed, and /run/reboot-required (otp-c's postinst) reported" \
        'echo "$con" | grep -q "UpdateOS: updated otp-a 1 -> 2" && echo "$con" | grep -q "UpdateOS: 3 package(s) changed" &&
         echo "$con" | grep -q "UpdateOS: the system asks for a reboot"'
doc include.yml "include: [otp-a, otp-b]"
reset
run include.yml
check_eval "real apt: include" '[ $rc = 0 ] && [ "$(vers)" = 221 ]'
doc exclude.yml "exclude: [otp-b]"
reset
run exclude.yml
check_eval "real apt: exclude" '[ $rc = 0 ] && [ "$(vers)" = 212 ]'
doc both.yml "include: [otp-a, otp-b]" "exclude: [otp-b]"
reset
run both.yml
check_eval "real apt: include minus exclude" '[ $rc = 0 ] && [ "$(vers)" = 211 ]'
reset with-bad
run all.yml
check_eval "real apt: a broken package fails the step with dpkg's words" \
        '[ $rc = 1 ] && echo "$con" | grep -q "otp-bad: configuration refused" && echo "$con" | grep -q "ErrorMessage: exit status 100"'
reset
# A dpkg lock held by another process (fcntl, as apt and dpkg take it).
hold_lock() { # hold_lock SECONDS: in the background; prints its pid
        python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[3], "w").write("held")
time.sleep(float(sys.argv[2]))' "$deb/var/lib/dpkg/lock-frontend" "$1" "$W/held" &
        for _ in $(seq 50); do [ -e "$W/held" ] && break; sleep 0.1; done
        rm -f "$W/held"
}
hold_lock 8
holder=$!
OPENTOE_UPDATEOS_LOCK_WAIT_S=1 run all.yml
kill $holder 2> /dev/null; wait $holder 2> /dev/null
check_eval "the dpkg lock held by another process: apt waits at most OPENTOE_UPDATEOS_LOCK_WAIT_S, then the step fails saying so" \
        '[ $rc = 1 ] && echo "$con" | grep -qi "could not get lock" && [ "$(vers)" = 111 ]'
reset
hold_lock 3
holder=$!
start=$(date +%s)
OPENTOE_UPDATEOS_LOCK_WAIT_S=60 run all.yml
took=$(( $(date +%s) - start ))
wait $holder 2> /dev/null
check_eval "... a lock released within the bound is waited for, and the update goes on" \
        '[ $rc = 0 ] && [ "$(vers)" = 222 ] && [ $took -ge 2 ]'
done_testing
