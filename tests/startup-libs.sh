#!/bin/bash
# startup-libs.sh: validate, compile, disasm, status and --version must not
# pay for libraries they do not use.  libcurl (~34 shared libraries) and
# libarchive are reached through dlopen by the features that need them, so
# the opentoe binary must not be linked against them.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/tap.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
heavy=(libcurl libarchive libsystemd libcrypto libssl)
plan ${#heavy[@]}
libs=$(ldd "$OPENTOE" 2>&1)
for lib in "${heavy[@]}"; do
        if echo "$libs" | grep -q "$lib\.so"; then
                not_ok "opentoe links $lib at start-up" "$libs"
        else
                ok "opentoe does not load $lib at start-up"
        fi
done
