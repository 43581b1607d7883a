#!/bin/bash
# dist-missing.sh: the files git tracks that a tarball's folder lacks.
# make distcheck runs it (distcheck-hook) on the folder it is about to
# pack, so a new file left out of EXTRA_DIST (or a dist_*_DATA list)
# fails there, by name, instead of as a test that cannot find it.  Outside
# a git checkout there is nothing to compare with, and it says so.
#
#   scripts/dist-missing.sh SRCDIR DISTDIR
set -euo pipefail
src=$1 distdir=$2
if ! git -C "$src" rev-parse --is-inside-work-tree > /dev/null 2>&1 ||
   [ -n "$(git -C "$src" rev-parse --show-prefix)" ]; then
        echo "dist-missing.sh: $src is not the top of a git checkout; nothing compared"
        exit 0
fi
# What a tarball does not need: git's own files and the CI entry point.
keep_out='^(\.gitignore|\.gitattributes|\.ci/.*)$'
missing=0
while IFS= read -r -d '' f; do
        [[ $f =~ $keep_out ]] && continue
        # Deleted in the working tree, not yet in a commit: not expected.
        [ -e "$src/$f" ] || [ -L "$src/$f" ] || continue
        if [ ! -e "$distdir/$f" ] && [ ! -L "$distdir/$f" ]; then
                [ $missing = 0 ] && echo "dist-missing.sh: tracked by git but not in $distdir (add to EXTRA_DIST):"
                echo "  $f"
                missing=$((missing + 1))
        fi
done < <(git -C "$src" ls-files -z)
[ $missing = 0 ] || exit 1
