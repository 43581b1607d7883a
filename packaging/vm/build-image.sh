#!/bin/bash
# build-image.sh: builds the guest image of `opentoe vm` (Debian 12, raw
# ext4 root, kernel and initrd for a direct kernel boot, image.json) into
# --out DIR, as the host/guest contract says (packaging/vm/README.md).
#
#   build-image.sh --out DIR [--deb FILE.deb] [--base DIR] [--build-dir DIR] [--size SIZE]
#
# The base root (debootstrap's minbase with the kernel, systemd and the
# libraries opentoe loads, configured for the VM) is kept under --base
# (default $XDG_CACHE_HOME/opentoe/vm/base), with debootstrap's tarball of
# the packages, so a rebuild with a new opentoe only copies the base,
# installs opentoe and the guest files, and makes the file system.
# opentoe comes from --deb; else from `scripts/package.sh deb` when the
# tree has it; else `make install` of a configured build tree (--build-dir,
# default $BUILD_DIR or build/).  Needs root (debootstrap, chroot) and the
# network for the first build only.  Builds into a temporary folder
# beside DIR and renames it into place, under a lock (DIR.lock, flock).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SUITE=bookworm
MIRROR=${OPENTOE_VM_MIRROR:-http://deb.debian.org/debian}
# What the guest needs beyond minbase: a kernel and its initramfs, systemd
# as init (dbus for `systemctl reboot`/poweroff through logind's peers,
# udev for /dev/virtio-ports), the tools of the guest scripts, and the
# libraries opentoe links or dlopens.  apt is minbase's (UpdateOS).
PACKAGES=linux-image-amd64,initramfs-tools,zstd,systemd,systemd-sysv,dbus,udev,kmod,e2fsprogs,tar,jq,\
libyaml-0-2,libjansson4,libpcre2-8-0,libcurl4,libarchive13,libsystemd0,libssl3
# Bump when the base's configuration below changes: a new key is a new base.
BASE_VERSION=1

out= deb= base= build_dir=${BUILD_DIR:-$top/build} size=2G
usage() {
        sed -n '6p' "$0" | sed 's/^#   /usage: /' >&2
        exit 2
}
while [ $# -gt 0 ]; do
        case $1 in
        --out) out=${2:?}; shift 2 ;;
        --deb) deb=${2:?}; shift 2 ;;
        --base) base=${2:?}; shift 2 ;;
        --build-dir) build_dir=${2:?}; shift 2 ;;
        --size) size=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) echo "build-image.sh: unknown argument '$1'" >&2; usage ;;
        esac
done
[ -n "$out" ] || usage
[ "$(id -u)" = 0 ] || { echo "build-image.sh: debootstrap and chroot need root" >&2; exit 1; }
for t in debootstrap mkfs.ext4 flock sha256sum; do
        command -v "$t" > /dev/null || { echo "build-image.sh: $t is missing (scripts/setup.sh --vm)" >&2; exit 1; }
done
[ -z "$deb" ] || [ -f "$deb" ] || { echo "build-image.sh: no such package: $deb" >&2; exit 1; }
[ -z "$deb" ] || deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
case $out in /*) ;; *) out=$PWD/$out ;; esac
out=${out%/}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/opentoe/vm
base=${base:-$cache/base}
mkdir -p "$(dirname "$out")" "$base"
chmod 0700 "$base"

say() { printf 'build-image: %s\n' "$*" >&2; }
t0=$(date +%s)

exec 9> "$out.lock"
if ! flock -n 9; then
        say "another build holds $out.lock; waiting"
        flock 9
fi

tmp=$(mktemp -d "$out.tmp.XXXXXX")
cleanup() {
        # The root may hold proc mounted by a failed chroot step.
        umount "$tmp/root/proc" 2> /dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the base root (cached) ------------------------------------------------
key=$(printf '%s\n' "$BASE_VERSION" "$SUITE" "$MIRROR" "$PACKAGES" | sha256sum | cut -c1-16)
tarball=$base/debootstrap-$SUITE-$key.tgz
baseroot=$base/root-$SUITE-$key

make_base() {
        local r=$tmp/base
        if [ ! -f "$tarball" ]; then
                say "downloading the packages (debootstrap --make-tarball)"
                debootstrap --variant=minbase --include="$PACKAGES" --make-tarball="$tmp/pkgs.tgz" \
                        "$SUITE" "$tmp/dl" "$MIRROR" > "$tmp/debootstrap.log" 2>&1 ||
                        { tail -n 20 "$tmp/debootstrap.log" >&2; exit 1; }
                mv "$tmp/pkgs.tgz" "$tarball"
                rm -rf "$tmp/dl"
        fi
        say "installing the base root (debootstrap --unpack-tarball)"
        debootstrap --variant=minbase --include="$PACKAGES" --unpack-tarball="$tarball" \
                "$SUITE" "$r" "$MIRROR" > "$tmp/debootstrap.log" 2>&1 ||
                { tail -n 20 "$tmp/debootstrap.log" >&2; exit 1; }
        # The VM's own configuration.
        printf '/dev/vda / ext4 rw,relatime,errors=remount-ro 0 0\n' > "$r/etc/fstab"
        printf 'opentoe-vm\n' > "$r/etc/hostname"
        printf '127.0.0.1 localhost\n127.0.1.1 opentoe-vm\n::1 localhost ip6-localhost ip6-loopback\n' > "$r/etc/hosts"
        # One machine id for the image: the persistent journal's folder is
        # the same at every boot, and there is no first-boot preset pass.
        od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$r/etc/machine-id"
        printf '\n' >> "$r/etc/machine-id"
        mkdir -p "$r/etc/systemd/journald.conf.d" "$r/var/log/journal"
        # No network in the guest: no source to reach.  A job's repo/ is
        # added at setup.
        : > "$r/etc/apt/sources.list"
        rm -f "$r/etc/apt/sources.list.d/"*
        chroot "$r" passwd -l root > /dev/null
        # console=ttyS0 is the log, not a login.
        chroot "$r" systemctl mask serial-getty@ttyS0.service getty@tty1.service > /dev/null 2>&1
        # apt's caches and the downloaded packages are not the image's.
        rm -rf "$r/var/cache/apt/archives/"*.deb "$r/var/lib/apt/lists/"*
        mkdir -p "$r/var/lib/apt/lists/partial"
        rm -rf "$baseroot.new"
        mv "$r" "$baseroot.new"
        mv "$baseroot.new" "$baseroot"
}
if [ ! -d "$baseroot" ]; then
        make_base
else
        say "base root from the cache: $baseroot"
fi
# Older bases of other keys are of no further use.
for old in "$base"/root-* "$base"/debootstrap-*; do
        case $old in "$baseroot" | "$tarball" | "$base/root-*" | "$base/debootstrap-*") ;; *) rm -rf "$old" ;; esac
done

say "copying the base root"
root=$tmp/root
cp -a "$baseroot" "$root"

# ---- opentoe -----------------------------------------------------------------
how=
if [ -z "$deb" ] && [ -x "$top/scripts/package.sh" ]; then
        say "building the package (scripts/package.sh deb)"
        PACKAGE_OUT=$tmp/package "$top/scripts/package.sh" deb > "$tmp/package.log" 2>&1 ||
                { tail -n 20 "$tmp/package.log" >&2; exit 1; }
        deb=$(ls "$tmp"/package/opentoe_*.deb 2> /dev/null | head -n 1 || true)
        [ -n "$deb" ] || { say "scripts/package.sh deb made no package that can be found"; exit 1; }
fi
# Nothing is started inside the build's chroot.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
if [ -n "$deb" ]; then
        say "installing $(basename "$deb")"
        cp "$deb" "$root/tmp/opentoe.deb"
        chroot "$root" dpkg -i /tmp/opentoe.deb > "$tmp/dpkg.log" 2>&1 ||
                { tail -n 20 "$tmp/dpkg.log" >&2; exit 1; }
        rm -f "$root/tmp/opentoe.deb"
        rm -rf "$tmp/package"
        how="package $(basename "$deb")"
else
        [ -f "$build_dir/Makefile" ] ||
                { say "no --deb, no scripts/package.sh and no configured build tree at $build_dir"; exit 1; }
        say "no package: make install of the build tree $build_dir into the root"
        make -C "$build_dir" install DESTDIR="$root" prefix=/usr > "$tmp/install.log" 2>&1 ||
                { tail -n 20 "$tmp/install.log" >&2; exit 1; }
        # The build tree's units were made for its own prefix (the sed of
        # Makefile.am at build time): point them at /usr.
        sed -i 's|^\(Exec[A-Za-z]*=\)/[^ ]*/bin/opentoe|\1/usr/bin/opentoe|' "$root"/usr/lib/systemd/system/opentoe-*.service
        how="make install of $build_dir"
fi
rm -f "$root/usr/sbin/policy-rc.d"
version=$(chroot "$root" opentoe --version 2> /dev/null | head -n 1 | awk '{print $NF}')
[ -n "$version" ] || { say "opentoe does not run inside the root"; exit 1; }
# image.json names the package's version when there is one.
if [ -n "$deb" ]; then
        pv=$(chroot "$root" dpkg-query -W -f='${Version}' opentoe 2> /dev/null || true)
        version=${pv:-$version}
fi
# The agent starts at every boot: it is the resume path of its job.
[ -e "$root/etc/systemd/system/multi-user.target.wants/opentoe-agent.service" ] ||
        chroot "$root" systemctl enable opentoe-agent.service > /dev/null 2>&1
# The standalone runs' resume unit has nothing to do here (the agent's
# jobs resume through the agent).
chroot "$root" systemctl disable opentoe-resume.service > /dev/null 2>&1 || true

# ---- the guest side ----------------------------------------------------------
# The tree's packaging/vm/guest; installed, the scripts are in vm-guest/
# beside $(pkglibexecdir)/vm-build-image and the units in
# $(pkgdatadir)/vm-guest (make install writes that path below).
g=$here/guest gd=$here/guest
if [ ! -d "$g" ]; then
        g=$here/vm-guest
        gd='@vmguestdatadir@'
fi
[ -f "$g/opentoe-vm-guest" ] && [ -f "$gd/opentoe-vm-guest.service" ] ||
        { say "the guest files are not in $here/guest, nor in $here/vm-guest and $gd"; exit 1; }
install -d -m 0755 "$root/usr/lib/opentoe-vm"
install -m 0755 "$g/opentoe-vm-guest" "$g/opentoe-vm-forward" "$root/usr/lib/opentoe-vm/"
install -m 0644 "$gd/opentoe-vm-guest.service" "$gd/opentoe-vm-finish.service" "$gd/opentoe-vm-forward.service" \
        "$root/etc/systemd/system/"
install -m 0644 "$gd/journald-persistent.conf" "$root/etc/systemd/journald.conf.d/opentoe-vm.conf"
chroot "$root" systemctl enable opentoe-vm-guest.service opentoe-vm-finish.service opentoe-vm-forward.service \
        > /dev/null 2>&1
install -d -m 0700 "$root/var/lib/opentoe-vm"

# ---- the disk, the kernel, image.json ------------------------------------------
kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n 1)
initrd=$root/boot/initrd.img-${kernel##*/vmlinuz-}
[ -f "$initrd" ] || { say "no initrd for $kernel"; exit 1; }
mkdir "$tmp/img"
cp "$kernel" "$tmp/img/vmlinuz"
cp "$initrd" "$tmp/img/initrd.img"
chmod 0644 "$tmp/img/vmlinuz" "$tmp/img/initrd.img"
say "making the file system ($size)"
mkfs.ext4 -q -F -d "$root" -L opentoe-root -E root_owner=0:0 "$tmp/img/root.img" "$size" > "$tmp/mkfs.log" 2>&1 ||
        { cat "$tmp/mkfs.log" >&2; exit 1; }
append="root=/dev/vda rw rootfstype=ext4 console=ttyS0 quiet systemd.show_status=auto"
jq -n --arg v "$version" --arg built "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg append "$append" --arg how "$how" \
        --arg kver "${kernel##*/vmlinuz-}" '{
        name: "debian-12", kernel: "vmlinuz", initrd: "initrd.img", root: "root.img",
        append: $append, opentoe: $v, built: $built, kernelVersion: $kver, opentoeFrom: $how }' \
        > "$tmp/img/image.json" 2> /dev/null ||
        printf '{"name":"debian-12","kernel":"vmlinuz","initrd":"initrd.img","root":"root.img","append":"%s","opentoe":"%s","built":"%s"}\n' \
                "$append" "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$tmp/img/image.json"

# Into place: the old image aside, the new one in, the old one gone.
if [ -e "$out" ]; then
        mv "$out" "$tmp/old"
fi
mv "$tmp/img" "$out"
say "built $out in $(($(date +%s) - t0)) s: opentoe $version ($how), root.img $(du -h --apparent-size "$out/root.img" | cut -f1) ($(du -h "$out/root.img" | cut -f1) used)"
