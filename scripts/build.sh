#!/bin/bash
# build.sh: configures and builds opentoe out of tree, in build/ (or the
# directory named by $BUILD_DIR), passing any arguments to configure.
# Reconfigures only when configure.ac, Makefile.am or the arguments change.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
stamp="$*"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$stamp" ]; then
        "$top/configure" -q "$@"
        printf '%s' "$stamp" > .configure-args
fi
make -j"$(nproc)" >/dev/null
