#!/bin/bash
# make-probe-repo.sh DIR: the disks' extras for update-os.yml: DIR/extra/
# holds opentoe-vm-probe 1 (installed by the document), DIR/repo/ a flat
# apt repository with opentoe-vm-probe 2 (UpdateOS's update, offline, from
# the job disk).  Needs dpkg-deb and dpkg-scanpackages (dpkg-dev).
set -euo pipefail
dir=${1:?usage: make-probe-repo.sh DIR}
rm -rf "$dir/extra" "$dir/repo" "$dir/pkg"
mkdir -p "$dir/extra" "$dir/repo"
for v in 1 2; do
        p=$dir/pkg/$v
        mkdir -p "$p/DEBIAN" "$p/usr/share/opentoe-vm-probe"
        printf '%s\n' "$v" > "$p/usr/share/opentoe-vm-probe/version"
        cat > "$p/DEBIAN/control" <<CTL
Package: opentoe-vm-probe
Version: $v
Architecture: all
Maintainer: opentoe <opentoe@localhost>
Description: a package for opentoe vm's UpdateOS try
 Holds its own version in /usr/share/opentoe-vm-probe/version.
CTL
        dpkg-deb --root-owner-group -b "$p" "$dir/pkg/opentoe-vm-probe_${v}_all.deb" > /dev/null
done
mv "$dir/pkg/opentoe-vm-probe_1_all.deb" "$dir/extra/"
mv "$dir/pkg/opentoe-vm-probe_2_all.deb" "$dir/repo/"
rm -rf "$dir/pkg"
(cd "$dir/repo" && dpkg-scanpackages --multiversion . /dev/null 2> /dev/null > Packages)
