#!/bin/bash
# document-size.sh: a document over the 1 MiB limit is refused with its
# real size in bytes, by validate, compile and run alike, and without being
# read: the big files are made here, in a temporary folder, not committed.
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
limit=1048576
plan 9
scratch_dir tmp document-size
cd "$tmp" || exit 1

# 52 MiB of a valid-looking document: comment lines.
yes '# padding padding padding padding padding padding padding padding' | head -c 54525952 > big.yml
size=$(stat -c %s big.yml)
msg="document is $size bytes; the limit is $limit bytes [yaml-too-large]"

timeout 60 "$OPENTOE" validate big.yml > out 2> err
status=$?
check "validate: a 52 MiB document is invalid (exit 1)" test "$status" = 1
check "validate: the message gives its real size, $size bytes" grep -qxF "big.yml: error: $msg" out
timeout 60 "$OPENTOE" validate --format json big.yml > out.json 2> err
check "validate --format json: the same message" \
        grep -qF "\"message\": \"document is $size bytes; the limit is $limit bytes\"" out.json

timeout 60 "$OPENTOE" run --documents big.yml > out 2> err
status=$?
check "run: the document is refused before anything runs (exit 1)" test "$status" = 1
check "run: the message gives its real size" grep -qxF "big.yml: error: $msg" err
timeout 60 "$OPENTOE" compile big.yml -o big.otc > out 2> err
status=$?
check "compile: refused with its real size, and no program written" \
        eval 'test "$status" = 1 && grep -qxF "big.yml: error: $msg" err && test ! -e big.otc'

# A sparse file of 1 TiB: its size comes from fstat, nothing is read (reading
# it would not finish within the timeout).
if truncate -s 1T sparse.yml 2> /dev/null; then
        timeout 20 "$OPENTOE" validate sparse.yml > out 2> err
        check "validate: a sparse 1 TiB file is refused at once, with its size" \
                grep -qxF "sparse.yml: error: document is 1099511627776 bytes; the limit is $limit bytes [yaml-too-large]" out
else
        skip "this file system has no sparse files"
fi

# The boundary: the limit itself is allowed, one byte more is not.
{ echo 'name: x'; echo 'schemaVersion: 1.0'; echo 'phases:'; echo '  - name: build'; echo '    steps:'
  echo '      - name: s'; echo '        action: ExecuteBash'; echo '        inputs:'; echo '          commands: [echo hi]'
  yes '# padding' ; } | head -c $((limit - 1)) > edge.yml
echo >> edge.yml
timeout 60 "$OPENTOE" validate edge.yml > out 2> err
check "validate: a document of exactly $limit bytes is within the limit" grep -qxF "edge.yml: valid" out
echo '#' >> edge.yml
truncate -s $((limit + 1)) edge.yml
timeout 60 "$OPENTOE" validate edge.yml > out 2> err
check "validate: $((limit + 1)) bytes is over it, and says so" \
        grep -qxF "edge.yml: error: document is $((limit + 1)) bytes; the limit is $limit bytes [yaml-too-large]" out
done_testing
