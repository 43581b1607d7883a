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
# Extra tools for the test suite and benchmarks.
if [ "${1:-}" = --test ] || [ "${1:-}" = --bench ]; then
        packages+=(valgrind)
fi
if [ "${1:-}" = --bench ]; then
        packages+=(hyperfine yamllint clang)
fi

missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
        sudo=sudo
fi
echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
