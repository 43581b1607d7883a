#!/bin/bash
# setup.sh: installs, with apt, every Debian package opentoe needs to
# build and test, and only those that are missing.  Safe to run again.
set -euo pipefail

packages=(
        build-essential autoconf automake pkg-config
        libyaml-dev libjansson-dev libpcre2-dev libcurl4-openssl-dev
        libarchive-dev libsystemd-dev libssl-dev
        check python3 bash
        bzip2 xz-utils zstd openssl python3-botocore awscli time
)
# Extra tools for the test suite and benchmarks: the S3 tests run s3rver
# (npm) with Debian's awscli as an independent client.
testing=0
if [ "${1:-}" = --test ] || [ "${1:-}" = --bench ]; then
        testing=1
        # clang: tests/cleanup-jumps.sh (a goto past a cleanup variable).
        packages+=(valgrind clang)
        # UpdateOS's real package managers: debootstrap (a Debian 12 root
        # for apt, tests/update-os-apt.sh), dnf, rpm and createrepo-c (an
        # --installroot for dnf, tests/update-os-dnf.sh).
        packages+=(debootstrap dnf rpm createrepo-c)
        # systemd-journald and journalctl: tests/journal.sh starts a
        # journald of its own in a private mount namespace (never PID 1's).
        packages+=(systemd)
        # tmux: the live view in a real terminal (tests/live.sh);
        # chromium: the HTML report rendered (tests/report-html.sh).
        packages+=(tmux chromium)
        # strace: tests/output-path.sh counts opentoe's writes.
        packages+=(strace)
        # jq: tests/corpus-parallelcluster.sh (the document reads its
        # JSON with it).
        packages+=(jq)
        # qemu-img: tests/vm-cmd.sh (opentoe vm makes its overlay with it).
        packages+=(qemu-utils)
        # A machine with Node.js from elsewhere already has npm; Debian's
        # npm package would conflict with it.
        command -v npm >/dev/null || packages+=(nodejs npm)
        # packer: tests/packer.sh validates packaging/packer's template.
        packages+=(packer)
        # systemd-analyze: tests/agent.sh verifies the units with it.
        command -v systemd-analyze >/dev/null || packages+=(systemd)
fi
# scripts/package.sh (--package) and tests/package.sh (--test): the Debian
# and RPM tool chains; systemd for its pkg-config file (the unit folders);
# elfutils for eu-strip, which the RPM's debuginfo package needs.
if [ "${1:-}" = --package ] || [ $testing = 1 ]; then
        packages+=(debhelper lintian rpm rpmlint devscripts fakeroot elfutils systemd)
fi
# --vm: `opentoe vm` and its image (packaging/vm/build-image.sh): a
# Debian root from debootstrap, qemu to boot it, qemu-img for the overlay
# disk, mkfs.ext4 -d for the root file system, jq for image.json and
# dev-run.sh, dpkg-dev for the UpdateOS try's local repository.
if [ "${1:-}" = --vm ]; then
        packages+=(debootstrap qemu-system-x86 qemu-utils e2fsprogs jq dpkg-dev)
fi
if [ "${1:-}" = --bench ]; then
        # bench/run's peers: yamllint, python yaml, ansible-playbook, curl
        # (awscli and s3rver come with the test tools).
        packages+=(hyperfine yamllint python3-yaml ansible-core curl)
fi

missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
sudo=""
if [ "$(id -u)" != 0 ]; then
        sudo=sudo
fi
if [ ${#missing[@]} -gt 0 ]; then
        [ -z "$sudo" ] || command -v sudo >/dev/null ||
                { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
        echo "setup.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -q >/dev/null
        $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# s3rver, pinned, where tests/s3.sh and bench/s3.sh look for it.
if [ $testing = 1 ]; then
        prefix=${S3RVER_PREFIX:-/usr/local/lib/opentoe-test}
        have=$(node -p "require('$prefix/node_modules/s3rver/package.json').version" 2>/dev/null || true)
        if [ "$have" != 3.7.1 ]; then
                echo "setup.sh: installing s3rver 3.7.1 into $prefix" >&2
                $sudo npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" s3rver@3.7.1 >/dev/null
        fi
fi
