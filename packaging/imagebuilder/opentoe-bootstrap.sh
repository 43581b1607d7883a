#!/bin/sh
# opentoe-bootstrap.sh: takes the place of Image Builder's instance
# bootstrap (the bootstrap.sh it downloads to fetch awstoe): installs the
# opentoe package instead, and puts the awstoe name where Image Builder
# runs it from (TOE_DIR/awstoe, a link to the installed binary), so the
# unchanged `${TOE_DIR}/awstoe run --config ...` runs opentoe, which speaks
# AWSTOE's command line under that name.  See README.md.
#
# Usage: opentoe-bootstrap.sh [--package FILE.deb|FILE.rpm] [--toe-dir DIR] [--root DIR]
#   --package  the package to install; without it, an opentoe already
#              installed (baked into the image) is used
#   --toe-dir  where Image Builder runs awstoe from
#              (default /tmp/imagebuilder/TaskOrchestratorAndExecutor)
#   --root     install into this root instead of / (dpkg --root, rpm --root)
# OPENTOE_BOOTSTRAP_INSTALL, when set, is run in place of the package
# manager, with the package and the root as its two arguments (for tests).
set -u
package= toe_dir=/tmp/imagebuilder/TaskOrchestratorAndExecutor root=
say() { echo "opentoe-bootstrap: $*"; }
die() { echo "opentoe-bootstrap: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
        case $1 in
        --package) [ $# -ge 2 ] || die "--package needs a file"; package=$2; shift 2 ;;
        --toe-dir) [ $# -ge 2 ] || die "--toe-dir needs a folder"; toe_dir=$2; shift 2 ;;
        --root) [ $# -ge 2 ] || die "--root needs a folder"; root=${2%/}; shift 2 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
        esac
done
case $toe_dir in /*) ;; *) die "--toe-dir must be an absolute path" ;; esac
me=$(id -u)

# A folder we may write in, under a hostile /tmp: made one level at a time,
# never through a link, ours (or root's), and writable by no one else
# unless sticky (as /tmp itself).
safe_dir() {
        d=$1
        if [ ! -e "$d" ] && [ ! -L "$d" ]; then
                mkdir -m 0755 "$d" 2>/dev/null || [ -d "$d" ] || die "cannot make $d"
        fi
        [ -d "$d" ] && [ ! -L "$d" ] || die "$d is not a folder (or is a link): refusing it"
        [ "$(stat -c %u "$d")" = "$me" ] || [ "$(stat -c %u "$d")" = 0 ] || die "$d belongs to someone else: refusing it"
        case $(stat -c %A "$d") in
        *[tT]) ;;
        ?????w????|????????w?) die "$d is writable by others: refusing it" ;;
        esac
}

# 1. The package (or the opentoe already there).
if [ -n "$package" ]; then
        [ -f "$package" ] || die "no package file '$package'"
        say "installing $package${root:+ into $root}"
        if [ -n "${OPENTOE_BOOTSTRAP_INSTALL:-}" ]; then
                $OPENTOE_BOOTSTRAP_INSTALL "$package" "${root:-/}" || die "the install hook failed"
        else
                case $package in
                *.deb) dpkg ${root:+--root="$root"} -i "$package" || die "dpkg could not install $package" ;;
                *.rpm) rpm ${root:+--root "$root"} -Uvh --replacepkgs "$package" || die "rpm could not install $package" ;;
                *) die "$package is neither a .deb nor a .rpm" ;;
                esac
        fi
fi
bin=
for b in /usr/bin/opentoe /usr/local/bin/opentoe; do
        [ -x "$root$b" ] && { bin=$b; break; }
done
[ -n "$bin" ] || die "opentoe is not installed${root:+ in $root} (give --package)"
version=$("$root$bin" --version) || die "$root$bin does not run"
say "using $version ($bin)"

# 2. The awstoe name where Image Builder looks for it, replaced in one step.
path=$root
rest=${toe_dir#/}
while [ -n "$rest" ]; do
        path=$path/${rest%%/*}
        case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
        safe_dir "$path"
done
dir=$root$toe_dir
tmp=$dir/.awstoe.$$
rm -f "$tmp"
ln -s "$bin" "$tmp" || die "cannot link $tmp"
mv -Tf "$tmp" "$dir/awstoe" || { rm -f "$tmp"; die "cannot place $dir/awstoe"; }
say "$toe_dir/awstoe -> $bin: Image Builder's awstoe commands now run opentoe"
