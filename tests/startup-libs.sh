#!/bin/bash
# startup-libs.sh: validate, compile, disasm, status and --version must not
# pay for libraries they do not use.  libcurl (~34 shared libraries) and
# libarchive are reached through dlopen by the features that need them, so
# the opentoe binary must not be linked against them.  TAP output.
set -u
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
heavy=(libcurl libarchive libsystemd libcrypto libssl)
echo "1..${#heavy[@]}"
libs=$(ldd "$OPENTOE" 2>&1)
n=0
for lib in "${heavy[@]}"; do
        n=$((n + 1))
        if echo "$libs" | grep -q "$lib\.so"; then
                echo "not ok $n - opentoe links $lib at start-up"
                echo "$libs" | sed 's/^/# /'
        else
                echo "ok $n - opentoe does not load $lib at start-up"
        fi
done
