#!/bin/bash
# cleanup-jumps.sh: no goto jumps past a variable with a cleanup
# attribute (common/cleanup.h).  GCC accepts such a jump and the cleanup
# then frees whatever the skipped variable's stack slot held; clang
# refuses it, so every source is run through clang -fsyntax-only.  This
# caught a crash on resuming a run killed right after its first
# checkpoint record.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/tap.sh"
top_builddir=${top_builddir:-$top_srcdir}
command -v clang > /dev/null || skip_all "clang is not installed (scripts/setup.sh --test installs it)"
[ -e "$top_builddir/config.h" ] || skip_all "no config.h in $top_builddir (configure first)"
cd "$top_srcdir" || exit 1
flags=(-fsyntax-only -std=c11 -w -include "$top_builddir/config.h" -I"$top_builddir" -Icommon -Iinterpreter -Imodules -Iagent -Iaws)
# shellcheck disable=SC2207
flags+=($(pkg-config --cflags yaml-0.1 jansson libpcre2-8 libcurl libarchive libsystemd 2> /dev/null))
plan 2
n=0
bad=
# git's list in a checkout; the files themselves in a tarball (whose
# folder may sit inside some other checkout, where git lists nothing).
if [ -e .git ]; then
        srcs=$(git ls-files 'agent/*.c' 'aws/*.c' 'common/*.c' 'interpreter/*.c' 'modules/*.c')
else
        srcs=$(find agent aws common interpreter modules -name '*.c' | LC_ALL=C sort)
fi
for f in $srcs; do
        n=$((n + 1))
        out=$(clang "${flags[@]}" "$f" 2>&1) || bad+="$f: ${out}"$'\n'
done
check_eval "every source was checked ($n files)" '[ "$n" -gt 100 ]'
if [ -z "$bad" ]; then
        ok "no jump bypasses a cleanup variable (clang accepts every source)"
else
        not_ok "clang refuses some sources" "$(printf '%s' "$bad" | grep -E 'error|note: jump' | head -20)"
fi
done_testing
