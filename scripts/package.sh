#!/bin/bash
# package.sh: makes opentoe's packages from a clean checkout, into
# packaging/out/ (or $PACKAGE_OUT):
#   scripts/package.sh tarball   the `make dist` tarball
#   scripts/package.sh deb       opentoe_VERSION_ARCH.deb (dpkg-buildpackage)
#   scripts/package.sh rpm       opentoe-VERSION-1.ARCH.rpm (Debian's rpmbuild)
#   scripts/package.sh all       all three
# Each package is built from the tarball, unpacked in a private temporary
# folder, so what is packaged is exactly what `make dist` ships.  The
# build's log is left in the output folder (KIND.log).  Needs the tools of
# `scripts/setup.sh --package`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${PACKAGE_OUT:-$top/packaging/out}
kind=${1:-}
case $kind in
deb | rpm | tarball | all) ;;
*)
        echo "usage: scripts/package.sh deb|rpm|tarball|all" >&2
        exit 2
        ;;
esac

# The identity written into the RPM's Packager tag (the spec's changelog
# names the same).
packager=${PACKAGE_PACKAGER:-Seed 467d816a maintainers <maintainers@users.noreply.r-seed-467d816a.example>}

work=$(mktemp -d "${TMPDIR:-/tmp}/opentoe-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# run LOG CMD...: runs CMD with its output in LOG; on failure shows the
# log's end and stops.
run() {
        local log=$1
        shift
        if ! "$@" >> "$log" 2>&1; then
                echo "package.sh: '$*' failed; the end of $log:" >&2
                tail -n 30 "$log" >&2
                exit 1
        fi
}

# ---- the tarball --------------------------------------------------------
make_tarball() {
        local log=$out/tarball.log
        : > "$log"
        cd "$top"
        if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
                run "$log" autoreconf -fi
        fi
        if [ -f "$top/config.status" ]; then
                # Configured in the source tree: make dist there.
                run "$log" make -C "$top" dist-gzip
                tarball=$(ls -t "$top"/opentoe-*.tar.gz | head -n 1)
                mv "$tarball" "$work/"
        else
                mkdir "$work/dist"
                cd "$work/dist"
                run "$log" "$top/configure" -q
                run "$log" make dist-gzip
                mv opentoe-*.tar.gz "$work/"
        fi
        tarball=$(ls "$work"/opentoe-*.tar.gz)
        version=$(basename "$tarball" .tar.gz)
        version=${version#opentoe-}
}

# unpack DIR: the tarball unpacked in DIR; prints the source folder.
unpack() {
        mkdir -p "$1"
        tar -C "$1" -xzf "$tarball"
        echo "$1/opentoe-$version"
}

# ---- the Debian package ------------------------------------------------
make_deb() {
        local log=$out/deb.log src
        : > "$log"
        src=$(unpack "$work/deb")
        cp -r "$src/packaging/debian" "$src/debian"
        local changelog
        changelog=$(cd "$src" && dpkg-parsechangelog -S Version)
        if [ "$changelog" != "$version" ]; then
                echo "package.sh: packaging/debian/changelog is at $changelog but the tarball is $version: add a changelog entry (dch -v $version)" >&2
                exit 1
        fi
        (cd "$src" && run "$log" dpkg-buildpackage -us -uc -b)
        rm -f "$out"/opentoe_*.deb "$out"/opentoe-dbgsym_*.deb "$out"/opentoe_*.buildinfo "$out"/opentoe_*.changes
        cp "$work"/deb/*.deb "$work"/deb/*.buildinfo "$work"/deb/*.changes "$out/"
        ls "$out"/opentoe_"$version"_*.deb
}

# ---- the RPM -----------------------------------------------------------
make_rpm() {
        local log=$out/rpm.log src spec
        : > "$log"
        src=$(unpack "$work/rpmsrc")
        spec=$src/packaging/rpm/opentoe.spec
        local specversion
        specversion=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
        if [ "$specversion" != "$version" ]; then
                echo "package.sh: packaging/rpm/opentoe.spec is at $specversion but the tarball is $version: update Version and %changelog" >&2
                exit 1
        fi
        local topdir=$work/rpm
        mkdir -p "$topdir/SOURCES" "$topdir/tmp"
        cp "$tarball" "$topdir/SOURCES/"
        # Debian's rpm database knows none of the BuildRequires (the Debian
        # packages are there: --nodeps).  Its brp-compress uses bash's
        # `read -d` under /bin/sh (dash), so it runs under bash here.  The
        # compiler flags are Debian's hardened ones (Debian's rpm has only
        # -O2 -g), as in the .deb.
        CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS) LDFLAGS=$(dpkg-buildflags --get LDFLAGS) \
                run "$log" rpmbuild -bb --nodeps \
                --define "_topdir $topdir" \
                --define "_tmppath $topdir/tmp" \
                --define "packager $packager" \
                --define "optflags $(dpkg-buildflags --get CFLAGS)" \
                --define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}' \
                "$spec"
        rm -f "$out"/opentoe-*.rpm
        cp "$topdir"/RPMS/*/*.rpm "$out/"
        ls "$out"/opentoe-"$version"-*.rpm | grep -v debuginfo
}

make_tarball
case $kind in
tarball) cp "$tarball" "$out/" && echo "$out/$(basename "$tarball")" ;;
deb) make_deb ;;
rpm) make_rpm ;;
all)
        cp "$tarball" "$out/" && echo "$out/$(basename "$tarball")"
        make_deb
        make_rpm
        ;;
esac
