#!/bin/bash
# make-repo.sh DIR: a flat apt repository in DIR for tests/vm's UpdateOS
# step: the package opentoe-e2e-hello in versions 1.0 and 2.0 (each a
# script in /usr/share/opentoe-e2e-hello), built with dpkg-deb, indexed
# with dpkg-scanpackages (dpkg-dev).  The guest reads it from the job disk
# as `deb [trusted=yes] file:... ./`, without network.
set -euo pipefail
out=${1:?usage: make-repo.sh DIR}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for v in 1.0 2.0; do
        d=$work/hello-$v
        mkdir -p "$d/DEBIAN" "$d/usr/share/opentoe-e2e-hello"
        printf 'Package: opentoe-e2e-hello\nVersion: %s\nArchitecture: all\nMaintainer: opentoe tests <tests@opentoe.invalid>\nDescription: a package for opentoe vm tests\n an UpdateOS test fixture.\n' "$v" > "$d/DEBIAN/control"
        printf '#!/bin/sh\necho hello %s\n' "$v" > "$d/usr/share/opentoe-e2e-hello/hello"
        chmod 0755 "$d/usr/share/opentoe-e2e-hello/hello"
        dpkg-deb --root-owner-group -Zgzip -b "$d" "$out/opentoe-e2e-hello_${v}_all.deb" > /dev/null
done
(cd "$out" && dpkg-scanpackages --multiversion . /dev/null 2> /dev/null > Packages)
