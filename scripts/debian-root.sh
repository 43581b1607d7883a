#!/bin/bash
# debian-root.sh: the Debian 12 (bookworm) root that tests/update-os-apt.sh
# runs real apt in (through chroot, never on the machine itself).  Built
# once with debootstrap (minbase) and kept in $OPENTOE_DEBIAN_ROOT
# (default /var/cache/opentoe-test/debian12); made atomically (a
# temporary folder renamed into place), so an interrupted build is never
# taken for a root.  The mirror is the one this machine's apt uses.
# Prints the root's path; exits 1 when it cannot be built.
set -euo pipefail
root=${OPENTOE_DEBIAN_ROOT:-/var/cache/opentoe-test/debian12}
if [ -x "$root/usr/bin/apt-get" ] && [ -e "$root/.opentoe-root-complete" ]; then
        echo "$root"
        exit 0
fi
if ! command -v debootstrap > /dev/null; then
        apt-get install -y -q debootstrap > /dev/null 2>&1 || { echo "debian-root.sh: cannot install debootstrap" >&2; exit 1; }
fi
# The machine's own Debian mirror (deb822 or one-line sources).
mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2> /dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(http|https|file):/) { print $i; exit } }' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2> /dev/null | head -n 1)
[ -n "$mirror" ] || { echo "debian-root.sh: no Debian mirror in this machine's apt sources" >&2; exit 1; }
mkdir -p "$(dirname "$root")"
tmp=$(mktemp -d "$root.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
debootstrap --variant=minbase bookworm "$tmp" "$mirror" > "$tmp.log" 2>&1 || {
        echo "debian-root.sh: debootstrap failed; its last lines:" >&2
        tail -n 20 "$tmp.log" >&2
        rm -f "$tmp.log"
        exit 1
}
rm -f "$tmp.log"
# Nothing in the root reaches a network: the tests give it their own
# repository.
rm -f "$tmp/etc/apt/sources.list" "$tmp"/etc/apt/sources.list.d/*
rm -rf "$tmp/var/lib/apt/lists/"*
touch "$tmp/.opentoe-root-complete"
rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
echo "$root"
