#!/bin/bash
# extract-archive.sh: the ExtractArchive action (an opentoe extension).
# Builds archives in a scratch folder with tar, gzip, bzip2, xz and zstd,
# and hostile ones with Python's tarfile and zipfile, and extracts them with
# `opentoe run`.  Happy paths: every format gives back the source tree
# (diff -r, and the types, modes and link targets), stripComponents,
# overwrite false and true, a missing destination, two entries in a step.
# Hostile archives (names with '..' or absolute, links leading out, writes
# through links, hard links out, device nodes, bombs past bounds lowered
# through OPENTOE_EXTRACT_MAX_*): the run must fail, its message must name
# the offending member, and nothing may appear in the scratch folder
# outside the destination (a canary folder beside it stays empty).  Also
# checks validate, --strict-awstoe and that opentoe is not linked against
# libarchive.  A format whose compressor is missing is skipped.
#
#   OPENTOE=./opentoe tests/extract-archive.sh
#
# TAP output, plan at the end.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-./opentoe}
OPENTOE=$(cd "$(dirname "$OPENTOE")" && pwd)/$(basename "$OPENTOE")
PYTHON=${PYTHON:-python3}

scratch_dir scratch extract-archive
umask 022

have() { command -v "$1" > /dev/null 2>&1; }

# newcase NAME: a fresh case folder holding canary/ (must stay empty).
newcase() {
        case_dir=$scratch/cases/$1
        rm -rf "$case_dir"
        mkdir -p "$case_dir/canary"
}

# doc ENTRY...: writes $case_dir/doc.yml with one ExtractArchive step.
# Each ENTRY is "source|destination|extra; extra" (extra: YAML of the entry).
doc() {
        local e src dst extra item
        {
                printf 'schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n'
                printf '      - name: Extract\n        action: ExtractArchive\n        inputs:\n'
                for e in "$@"; do
                        IFS='|' read -r src dst extra <<< "$e"
                        printf '          - source: "%s"\n            destination: "%s"\n' "$src" "$dst"
                        IFS=';' read -r -a items <<< "$extra"
                        for item in "${items[@]}"; do
                                item=$(echo "$item" | sed 's/^ *//; s/ *$//')
                                [ -n "$item" ] && printf '            %s\n' "$item"
                        done
                done
        } > "$case_dir/doc.yml"
}

# run [VAR=VALUE...]: runs $case_dir/doc.yml there; sets $status and
# leaves stdout, stderr, console.log and detailedoutput.json in
# $case_dir/out.  The paths that appeared meanwhile in the scratch folder
# are in $case_dir/.new.
run() {
        find "$scratch" -mindepth 1 | sort > "$scratch/.before"
        (cd "$case_dir" && env "$@" "$OPENTOE" run --documents doc.yml \
                --log-directory logs --state-directory state > out.run 2>&1)
        status=$?
        find "$scratch" -mindepth 1 | sort > "$scratch/.after"
        comm -13 "$scratch/.before" "$scratch/.after" > "$case_dir/.new"
        cat "$case_dir/out.run" "$case_dir"/logs/TOE_*/console.log \
                "$case_dir"/logs/TOE_*/detailedoutput.json > "$case_dir/out" 2> /dev/null
}

# outside DEST: lists new paths outside DEST (the run's own files aside).
outside() {
        local dest=$1
        grep -v -x -F -e "$dest" -e "$scratch/.before" -e "$scratch/.after" "$case_dir/.new" |
                grep -v -e "^$dest/" -e "^$case_dir/logs" -e "^$case_dir/state" \
                        -e "^$case_dir/out" -e "^$case_dir/\.new"
}

# listing DIR: type, mode and link target of everything below DIR.
listing() {
        (cd "$1" && find . -mindepth 1 -printf '%p|%y|%m|%l\n' | sort)
}

# same_tree DESCRIPTION SRC DEST: DEST holds exactly SRC.
same_tree() {
        local d
        if [ "$status" != 0 ]; then
                not_ok "$1" "exit status $status" "$(grep -m 3 -i 'ExtractArchive' "$case_dir/out")"
        elif ! d=$(diff -r "$2" "$3" 2>&1); then
                not_ok "$1" "$d"
        elif ! d=$(diff <(listing "$2") <(listing "$3")); then
                not_ok "$1" "$d"
        else
                ok "$1"
        fi
}

# refused DESCRIPTION MEMBER REASON: the run failed, naming MEMBER (as
# quoted in messages) and REASON, and wrote nothing outside dest/.
refused() {
        local why="" extra
        [ "$status" = 0 ] && why="the run succeeded"
        if [ -z "$why" ] && ! grep -q -F -- "member '$2'" "$case_dir/out"; then
                why="no message names member '$2'"
        fi
        if [ -z "$why" ] && ! grep -q -F -- "$3" "$case_dir/out"; then
                why="no message says: $3"
        fi
        if [ -z "$why" ] && [ -n "$(ls -A "$case_dir/canary")" ]; then
                why="the canary folder is not empty: $(ls -A "$case_dir/canary")"
        fi
        extra=$(outside "$case_dir/dest")
        if [ -z "$why" ] && [ -n "$extra" ]; then
                why="files appeared outside the destination: $extra"
        fi
        if [ -z "$why" ] && [ -d "$case_dir/dest" ] &&
                [ -n "$(find "$case_dir/dest" -name '.opentoe-*')" ]; then
                why="temporary files were left behind: $(find "$case_dir/dest" -name '.opentoe-*')"
        fi
        if [ -z "$why" ]; then ok "$1"; else not_ok "$1" "$why" "$(grep -m 2 'ErrorMessage' "$case_dir/out")"; fi
}

# ---- the source tree ---------------------------------------------------------

src=$scratch/src
mkdir -p "$src/sub/deeper" "$src/empty" "$src/ro"
echo hello > "$src/a.txt"
head -c 100000 /dev/urandom > "$src/sub/b.bin"
echo deep > "$src/sub/deeper/c.txt"
printf '#!/bin/sh\necho hi\n' > "$src/exec.sh" && chmod 755 "$src/exec.sh"
echo spaced > "$src/with space.txt"
echo private > "$src/private.txt" && chmod 600 "$src/private.txt"
ln -s a.txt "$src/link"
ln -s ../a.txt "$src/sub/uplink"
ln -s sub/deeper "$src/dirlink"
ln "$src/a.txt" "$src/sub/hard"
echo inside > "$src/ro/file" && chmod 555 "$src/ro"
chmod 750 "$src/sub"

arch=$scratch/arch
mkdir -p "$arch"
tar cf "$arch/t.tar" -C "$src" .

# ---- happy paths: every format -----------------------------------------------

# format NAME TOOL COMMAND...: COMMAND reads t.tar on stdin.
format() {
        local name=$1 tool=$2
        shift 2
        if ! have "$tool"; then
                skip "extracts .$name: $tool is not installed"
                return
        fi
        "$@" < "$arch/t.tar" > "$arch/t.$name"
        newcase "fmt-$name"
        doc "$arch/t.$name|$case_dir/dest|"
        run
        same_tree "extracts .$name" "$src" "$case_dir/dest"
}

newcase fmt-tar
doc "$arch/t.tar|$case_dir/dest|"
run
same_tree "extracts .tar" "$src" "$case_dir/dest"
format tar.gz gzip gzip -c
format tar.bz2 bzip2 bzip2 -c
format tar.xz xz xz -c
format tar.zst zstd zstd -q -c

# Times are those of the archive (tar keeps whole seconds).
d=$(diff <(cd "$src" && find . -mindepth 1 -exec stat -c '%n %Y' {} + | sort) \
         <(cd "$scratch/cases/fmt-tar/dest" && find . -mindepth 1 -exec stat -c '%n %Y' {} + | sort))
if [ -z "$d" ]; then ok "modification times are kept"; else not_ok "modification times are kept" "$d"; fi

# zip, written by Python's zipfile with Unix modes and symbolic links.
"$PYTHON" - "$src" "$arch/t.zip" <<'EOF'
import os, stat, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for n in sorted(dirs) + sorted(files):
            p = os.path.join(root, n)
            rel = os.path.relpath(p, src)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                zi = zipfile.ZipInfo(rel + '/')
                zi.external_attr = (st.st_mode << 16) | 0x10
                data = b''
            elif stat.S_ISLNK(st.st_mode):
                zi = zipfile.ZipInfo(rel)
                zi.external_attr = st.st_mode << 16
                data = os.readlink(p).encode()
            else:
                zi = zipfile.ZipInfo(rel)
                zi.external_attr = st.st_mode << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                data = open(p, 'rb').read()
            zi.create_system = 3
            z.writestr(zi, data)
EOF
newcase fmt-zip
doc "$arch/t.zip|$case_dir/dest|"
run
same_tree "extracts .zip" "$src" "$case_dir/dest"

# ---- happy paths: inputs -----------------------------------------------------

mkdir -p "$scratch/pkgparent"
cp -a "$src" "$scratch/pkgparent/pkg-1.0"
tar czf "$arch/pkg.tgz" -C "$scratch/pkgparent" pkg-1.0
tar czf "$arch/dotpkg.tgz" -C "$scratch/pkgparent" ./pkg-1.0
newcase strip1
doc "$arch/pkg.tgz|$case_dir/dest|stripComponents: 1"
run
same_tree "stripComponents 1 removes the top folder" "$src" "$case_dir/dest"
newcase strip2
doc "$arch/dotpkg.tgz|$case_dir/dest|stripComponents: 2"
run
same_tree "stripComponents counts a leading '.' as tar does" "$src" "$case_dir/dest"

newcase strip-all
doc "$arch/pkg.tgz|$case_dir/dest|stripComponents: 9"
run
if [ "$status" = 0 ] && [ -d "$case_dir/dest" ] && [ -z "$(ls -A "$case_dir/dest")" ]; then
        ok "members stripped to nothing are skipped"
else
        not_ok "members stripped to nothing are skipped" "exit status $status" "$(ls -A "$case_dir/dest" 2>&1)"
fi

newcase missing-dest
doc "$arch/t.tar|$case_dir/new/deep/dest|"
run
same_tree "a missing destination is created with its parents" "$src" "$case_dir/new/deep/dest"

newcase overwrite-false
mkdir -p "$case_dir/dest"
echo old > "$case_dir/dest/a.txt"
doc "$arch/t.tar|$case_dir/dest|overwrite: false"
run
if [ "$status" != 0 ] && grep -q -F "member './a.txt': it already exists in the destination and overwrite is false" "$case_dir/out" &&
        [ "$(cat "$case_dir/dest/a.txt")" = old ] && [ -z "$(find "$case_dir/dest" -name '.opentoe-*')" ]; then
        ok "overwrite false: an existing file fails the step, naming it, and is kept"
else
        not_ok "overwrite false: an existing file fails the step, naming it, and is kept" "exit status $status" \
                "$(grep -m 2 'ErrorMessage' "$case_dir/out")" "a.txt: $(cat "$case_dir/dest/a.txt")"
fi

newcase overwrite-false-merge
mkdir -p "$case_dir/dest/sub"
echo mine > "$case_dir/dest/sub/mine.txt"
doc "$arch/t.tar|$case_dir/dest|overwrite: false"
run
if [ "$status" = 0 ] && [ "$(cat "$case_dir/dest/sub/mine.txt")" = mine ] && diff -r "$src/sub" "$case_dir/dest/sub" | grep -q "^Only in $case_dir/dest/sub: mine.txt\$"; then
        ok "overwrite false: existing folders are merged into"
else
        not_ok "overwrite false: existing folders are merged into" "exit status $status" "$(grep -m 2 'ErrorMessage' "$case_dir/out")"
fi

newcase overwrite-true
mkdir -p "$case_dir/dest"
echo old > "$case_dir/dest/a.txt"
echo keep > "$case_dir/dest/keep.txt"
ln -s ../canary/through-link "$case_dir/dest/exec.sh"
doc "$arch/t.tar|$case_dir/dest|overwrite: true"
run
if [ "$status" = 0 ] && [ "$(cat "$case_dir/dest/a.txt")" = hello ] && [ "$(cat "$case_dir/dest/keep.txt")" = keep ] &&
        [ -f "$case_dir/dest/exec.sh" ] && [ ! -L "$case_dir/dest/exec.sh" ] && cmp -s "$src/exec.sh" "$case_dir/dest/exec.sh" &&
        [ -z "$(ls -A "$case_dir/canary")" ]; then
        ok "overwrite true replaces files, and a link in the way is replaced, not written through"
else
        not_ok "overwrite true replaces files, and a link in the way is replaced, not written through" "exit status $status" \
                "$(grep -m 2 'ErrorMessage' "$case_dir/out")" "canary: $(ls -A "$case_dir/canary")"
fi

newcase two-entries
doc "$arch/t.tar|$case_dir/one|" "$arch/pkg.tgz|$case_dir/two|stripComponents: 1"
run
if [ "$status" = 0 ] && diff -r "$src" "$case_dir/one" > /dev/null && diff -r "$src" "$case_dir/two" > /dev/null &&
        grep -q -F '"outputs": "[{},{}]"' "$case_dir/out"; then
        ok "two entries: both extracted, one {} output each"
else
        not_ok "two entries: both extracted, one {} output each" "exit status $status" "$(grep -m 2 '"outputs"' "$case_dir/out")"
fi

# Default mode applies without setuid and setgid.
"$PYTHON" - "$arch/suid.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    i = tarfile.TarInfo('suid'); i.mode = 0o6755; i.size = 3
    t.addfile(i, io.BytesIO(b'hi\n'))
EOF
newcase suid
doc "$arch/suid.tar|$case_dir/dest|"
run
m=$(stat -c %a "$case_dir/dest/suid" 2>/dev/null)
if [ "$status" = 0 ] && [ "$m" = 755 ]; then ok "setuid and setgid bits are dropped"
else not_ok "setuid and setgid bits are dropped" "exit status $status, mode $m"; fi

# ---- failures that are not hostile ---------------------------------------------

newcase not-an-archive
echo "just text" > "$case_dir/plain.txt"
doc "$case_dir/plain.txt|$case_dir/dest|"
run
if [ "$status" != 0 ] && grep -q "ExtractArchive entry 1 ($case_dir/plain.txt): cannot read the archive" "$case_dir/out" &&
        [ ! -e "$case_dir/dest" ]; then
        ok "a file that is not an archive fails and creates no destination"
else
        not_ok "a file that is not an archive fails and creates no destination" "exit status $status" \
                "$(grep -m 2 'ErrorMessage' "$case_dir/out")"
fi

newcase missing-source
doc "$case_dir/nope.tar|$case_dir/dest|"
run
if [ "$status" != 0 ] && grep -q -F "cannot open the archive: No such file or directory" "$case_dir/out"; then
        ok "a missing archive fails with a clear message"
else
        not_ok "a missing archive fails with a clear message" "exit status $status" "$(grep -m 2 'ErrorMessage' "$case_dir/out")"
fi

# ---- hostile archives ----------------------------------------------------------

# hostile NAME FORMAT MEMBER REASON [VAR=VALUE...]: runs $case_dir/evil
# (built by the caller) into $case_dir/dest and checks the refusal.
hostile() {
        local name=$1 member=$2 reason=$3
        shift 3
        doc "$case_dir/evil|$case_dir/dest|"
        run "$@"
        refused "$name" "$member" "$reason"
}

# mktar CASE SPEC: a tar built by Python; SPEC is Python adding members to
# `t` (helpers: f(name, data), d(name), sym(name, target), hard(name, target)).
mktar() {
        "$PYTHON" - "$case_dir/evil" "$case_dir" "$1" <<'EOF'
import io, sys, tarfile
out, case, spec = sys.argv[1], sys.argv[2], sys.argv[3]
mode = 'w:gz' if 'GZIP' in spec else 'w'
with tarfile.open(out, mode, format=tarfile.PAX_FORMAT) as t:
    def f(name, data=b'evil\n'):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
    def d(name):
        i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
    def sym(name, target):
        i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)
    def hard(name, target):
        i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)
    exec(spec)
EOF
}

# mkzip SPEC: a zip built by Python; f(name, data) adds a member.
mkzip() {
        "$PYTHON" - "$case_dir/evil" "$case_dir" "$1" <<'EOF'
import sys, zipfile
out, case, spec = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    def f(name, data=b'evil\n'):
        zi = zipfile.ZipInfo(name); zi.create_system = 3; zi.external_attr = 0o644 << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, data)
    exec(spec)
EOF
}

newcase tar-traversal
mktar "f('ok.txt'); f('../canary/evil')"
hostile "tar: a '..' name is refused" "../canary/evil" "has a '..' element"

newcase tar-traversal-deep
mktar "d('a'); f('a/../../canary/evil')"
hostile "tar: a '..' inside a name is refused" "a/../../canary/evil" "has a '..' element"

newcase zip-traversal
mkzip "f('ok.txt'); f('../canary/evil')"
hostile "zip: a '..' name is refused" "../canary/evil" "has a '..' element"

newcase tar-absolute
mktar "f(case + '/canary/evil')"
hostile "tar: an absolute name is refused" "$case_dir/canary/evil" "is an absolute path"

newcase zip-absolute
mkzip "f(case + '/canary/evil')"
hostile "zip: an absolute name is refused" "$case_dir/canary/evil" "is an absolute path"

newcase symlink-out-then-write
mktar "sym('link', '../canary'); f('link/evil')"
hostile "a link leading out of the destination is refused (before a file is written through it)" \
        "link" "leads outside the destination"

newcase symlink-out-deep
mktar "d('a'); sym('a/link', '../../canary'); f('a/link/evil')"
hostile "a link climbing more '..' than it is deep is refused" "a/link" "leads outside the destination"

newcase symlink-absolute
mktar "sym('abs', case + '/canary'); f('abs/evil')"
hostile "a link to an absolute path is refused" "abs" "points to the absolute path"

newcase symlink-chain
mktar "sym('s', '.'); sym('t', 's/..'); f('t/canary/evil')"
hostile "a link with '..' after a name (a chain out) is refused" "t" "has '..' after a name"

newcase write-through-archive-link
mktar "d('sub'); sym('l', 'sub'); f('l/evil')"
hostile "nothing is written through a link the archive made" "l/evil" "is a symbolic link in the destination"
if [ -e "$case_dir/dest/sub/evil" ]; then not_ok "the link's target folder stays empty" "dest/sub/evil exists"
else ok "the link's target folder stays empty"; fi

newcase write-through-existing-link
mkdir -p "$case_dir/dest"
ln -s ../canary "$case_dir/dest/pre"
mktar "f('pre/evil')"
hostile "nothing is written through a link already in the destination" "pre/evil" "is a symbolic link in the destination"

newcase dir-over-existing-link
mkdir -p "$case_dir/dest"
ln -s ../canary "$case_dir/dest/pre"
mktar "d('pre')"
hostile "a folder member where the destination has a link is refused" "pre/" "is a symbolic link in the destination"

newcase hardlink-out
echo secret > "$case_dir/secret"
mktar "hard('hl', '../secret')"
hostile "a hard link to a file outside ('..') is refused" "hl" "hard link's target has a '..' element"
if [ "$(stat -c %h "$case_dir/secret")" = 1 ]; then ok "the outside file has no new link"
else not_ok "the outside file has no new link" "link count $(stat -c %h "$case_dir/secret")"; fi

newcase hardlink-absolute
echo secret > "$case_dir/secret"
mktar "hard('hl', case + '/secret')"
hostile "a hard link to an absolute path is refused" "hl" "hard link's target is an absolute path"

newcase hardlink-to-link
mkdir -p "$case_dir/dest"
ln -s ../canary "$case_dir/dest/pre"
mktar "hard('hl', 'pre')"
hostile "a hard link to a symbolic link is refused" "hl" "is not a regular file"

newcase device
"$PYTHON" - "$case_dir/evil" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], 'w') as t:
    i = tarfile.TarInfo('dev'); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)
EOF
hostile "a device node is refused" "dev" "is a device node"
if [ -e "$case_dir/dest/dev" ]; then not_ok "no device node is created" "dest/dev exists"
else ok "no device node is created"; fi

newcase fifo
mktar "i = tarfile.TarInfo('fifo'); i.type = tarfile.FIFOTYPE; t.addfile(i)"
hostile "a fifo is refused" "fifo" "is a fifo"

# Bombs: bounds lowered through the environment.
zeros='
class Zeros(io.RawIOBase):
    def __init__(self, n): self.n = n
    def readable(self): return True
    def readinto(self, b):
        k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
'
newcase bomb-bytes
mktar "GZIP = 1
$zeros
f('small.txt')
i = tarfile.TarInfo('zeros'); i.size = 64 << 20; t.addfile(i, io.BufferedReader(Zeros(i.size)))"
hostile "a gzip bomb past OPENTOE_EXTRACT_MAX_BYTES stops, naming the member" "zeros" \
        "OPENTOE_EXTRACT_MAX_BYTES" OPENTOE_EXTRACT_MAX_BYTES=1048576
if [ -e "$case_dir/dest/zeros" ]; then not_ok "the bomb's file is not left half-written" "dest/zeros exists"
else ok "the bomb's file is not left half-written"; fi

newcase bomb-bytes-stream
# The member's declared size is within the bound; the data is counted too.
mktar "GZIP = 1
f('a', bytes(600000)); f('b', bytes(600000))"
hostile "uncompressed bytes are counted across members" "b" "OPENTOE_EXTRACT_MAX_BYTES" \
        OPENTOE_EXTRACT_MAX_BYTES=1000000

newcase zip-bomb
mkzip "f('zeros', bytes(64 << 20))"
hostile "a zip bomb past OPENTOE_EXTRACT_MAX_BYTES stops, naming the member" "zeros" \
        "OPENTOE_EXTRACT_MAX_BYTES" OPENTOE_EXTRACT_MAX_BYTES=1048576

newcase bomb-entries
mktar "[f('f%d' % n, b'') for n in range(500)]"
hostile "too many members stop at OPENTOE_EXTRACT_MAX_ENTRIES, naming the first one past it" "f100" \
        "OPENTOE_EXTRACT_MAX_ENTRIES" OPENTOE_EXTRACT_MAX_ENTRIES=100

newcase long-name
mktar "f('a' * 300)"
# Messages quote the first 256 bytes of a name.
hostile "a name past OPENTOE_EXTRACT_MAX_PATH is refused" "$(printf 'a%.0s' $(seq 256))" \
        "OPENTOE_EXTRACT_MAX_PATH" OPENTOE_EXTRACT_MAX_PATH=200

# ---- validate, and how opentoe is linked -----------------------------------------

newcase validate
doc "$arch/t.tar|$case_dir/dest|"
if (cd "$case_dir" && "$OPENTOE" validate doc.yml > out 2>&1); then ok "validate accepts ExtractArchive"
else not_ok "validate accepts ExtractArchive" "$(cat "$case_dir/out")"; fi
(cd "$case_dir" && "$OPENTOE" validate --strict-awstoe doc.yml > out 2>&1)
status=$?
if [ "$status" = 1 ] && grep -q 'error: action ExtractArchive is an opentoe extension \[extension\]' "$case_dir/out"; then
        ok "validate --strict-awstoe refuses it as an extension"
else
        not_ok "validate --strict-awstoe refuses it as an extension" "exit status $status" "$(cat "$case_dir/out")"
fi

if ! have ldd; then
        skip "opentoe is not linked against libarchive: ldd is not installed"
elif ldd "$OPENTOE" 2>&1 | grep -q 'libarchive\.so'; then
        not_ok "opentoe is not linked against libarchive" "$(ldd "$OPENTOE")"
else
        ok "opentoe is not linked against libarchive"
fi

done_testing
