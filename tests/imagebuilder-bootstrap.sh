#!/bin/bash
# imagebuilder-bootstrap.sh: packaging/imagebuilder/opentoe-bootstrap.sh
# against a fake root (--root) with a fake package install hook: the
# package is "installed" (the built opentoe copied in), TOE_DIR/awstoe
# becomes a link to it, the awstoe name runs opentoe in AWSTOE's mode, a
# second bootstrap replaces the link, and the hostile-/tmp cases (a link,
# a folder of someone else's, one others may write) are refused.  TAP
# output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W imagebuilder-bootstrap
[ -n "$W" ] && [ -d "$W" ] || bail_out "no scratch folder"
boot=$top_srcdir/packaging/imagebuilder/opentoe-bootstrap.sh
toe=/tmp/imagebuilder/TaskOrchestratorAndExecutor
root=$W/root
on_failure() { diag "exit $rc"$'\n'"$(cat "$W/out" "$W/err" 2> /dev/null)"; }

# The hook, in dpkg's place: the package's files into the root.
{
        echo '#!/bin/sh'
        echo "echo \"\$1 \$2\" >> '$W/hook-calls'"
        echo "mkdir -p \"\$2/usr/bin\" && cp '$OPENTOE' \"\$2/usr/bin/opentoe\" && ln -sf opentoe \"\$2/usr/bin/awstoe\""
} > "$W/hook"
chmod +x "$W/hook"
pkg=$W/opentoe_0.1.0_amd64.deb
touch "$pkg"
# A fresh fake root with a sticky, world-writable tmp, as /tmp is.
newroot() {
        rm -rf "${root:?}"
        mkdir -p "$root"
        install -d -m 1777 "$root/tmp"
}
boot() { OPENTOE_BOOTSTRAP_INSTALL="$W/hook" sh "$boot" --root "$root" "$@" > "$W/out" 2> "$W/err"; rc=$?; }

newroot
boot
check_eval "without --package and nothing installed: refused, saying so" \
        '[ $rc -ne 0 ] && grep -q "opentoe is not installed in $root" "$W/err" && [ ! -e "$root$toe" ]'
boot --package "$pkg"
check_eval "with --package: the hook installs it into the root, exit 0" \
        '[ $rc -eq 0 ] && [ "$(cat "$W/hook-calls")" = "$pkg $root" ] && [ -x "$root/usr/bin/opentoe" ]'
check_eval "TOE_DIR/awstoe is a link to the installed opentoe" \
        '[ -L "$root$toe/awstoe" ] && [ "$(readlink "$root$toe/awstoe")" = /usr/bin/opentoe ]'
check_eval "TOE_DIR's folders are 0755, not world-writable" \
        '[ "$(stat -c %a "$root/tmp/imagebuilder")" = 755 ] && [ "$(stat -c %a "$root$toe")" = 755 ]'
check_eval "it says what it did" 'grep -q "using opentoe " "$W/out" && grep -q "awstoe -> /usr/bin/opentoe" "$W/out"'

# The awstoe name, as Image Builder runs it (the link's target is inside the root).
printf '%s\n' 'name: hello' 'schemaVersion: 1.0' 'phases:' '  - name: build' '    steps:' '      - name: Hello' \
        '        action: ExecuteBash' '        inputs:' '          commands:' '            - echo hello' > "$W/doc.yml"
(exec -a "$root$toe/awstoe" "$root$(readlink "$root$toe/awstoe")" validate -documents "$W/doc.yml" > "$W/out" 2> "$W/err")
rc=$?
check_eval "awstoe validate -documents through TOE_DIR/awstoe: AWSTOE's answer" \
        '[ $rc -eq 0 ] && grep -q "\"validationStatus\": \"success\"" "$W/out"'
(exec -a "$root$toe/awstoe" "$root/usr/bin/opentoe" --version > "$W/out" 2>&1)
rc=$?
check_eval "awstoe --version names awstoe" '[ $rc -eq 0 ] && grep -q "^awstoe " "$W/out"'

boot
check_eval "again, without --package: the installed opentoe is used, the link replaced" \
        '[ $rc -eq 0 ] && [ $(wc -l < "$W/hook-calls") -eq 1 ] && [ -L "$root$toe/awstoe" ] &&
         [ -z "$(find "$root$toe" -name ".awstoe.*")" ]'
rm -f "$root$toe/awstoe"
echo "not a link" > "$root$toe/awstoe"
boot
check_eval "an old awstoe file in TOE_DIR is replaced by the link" '[ $rc -eq 0 ] && [ -L "$root$toe/awstoe" ]'

# A hostile /tmp.
newroot
mkdir -p "$W/elsewhere"
ln -s "$W/elsewhere" "$root/tmp/imagebuilder"
boot --package "$pkg"
check_eval "/tmp/imagebuilder a link: refused, nothing placed through it" \
        '[ $rc -ne 0 ] && grep -q "is a link" "$W/err" && [ -z "$(ls -A "$W/elsewhere")" ]'
newroot
install -d -m 0777 "$root/tmp/imagebuilder"
boot --package "$pkg"
check_eval "/tmp/imagebuilder writable by others: refused" \
        '[ $rc -ne 0 ] && grep -q "writable by others" "$W/err" && [ ! -e "$root$toe" ]'
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
        newroot
        install -d -m 0755 -o nobody "$root/tmp/imagebuilder"
        boot --package "$pkg"
        check_eval "/tmp/imagebuilder of another user: refused" \
                '[ $rc -ne 0 ] && grep -q "belongs to someone else" "$W/err" && [ ! -e "$root$toe" ]'
else
        skip "not root (or no user nobody): the folder of another user cannot be made"
fi

# Arguments.
boot --package "$W/none.deb"
check_eval "a missing package file: refused" '[ $rc -ne 0 ] && grep -q "no package file" "$W/err"'
boot --toe-dir relative/dir
check_eval "a relative --toe-dir: refused" '[ $rc -ne 0 ] && grep -q "absolute path" "$W/err"'
sh "$boot" --help > "$W/out" 2>&1
rc=$?
check_eval "--help: the usage" '[ $rc -eq 0 ] && grep -q "^Usage: opentoe-bootstrap.sh" "$W/out"'

done_testing
