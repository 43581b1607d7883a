#!/bin/bash
# report-cmd.sh: `opentoe report` and `run --report`.  The data-driven
# cases under tests/cases/report/ are log folders made by real runs (and
# altered ones: an older folder without opentoe's timing records, one
# whose strings are hostile, one that is not a report); each `args` line
# is one `opentoe report FOLDER ARGS`, and expected.out holds every
# line's output and status (--update rewrites it: read the diff).  Then
# end to end: a run with --report, the HTML's bars, escaping, and the
# folder's files refused when they are links or too large.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W report-cmd
update=0
[ "${1:-}" = --update ] && update=1
opentoe=("$OPENTOE")

case_output() {
        local dir=$1 line
        while IFS= read -r line; do
                printf '$ opentoe report folder %s\n' "$line"
                # shellcheck disable=SC2086
                (cd "$dir" && "$OPENTOE" report folder $line 2>&1; echo "[exit $?]")
        done < "$dir/args"
}

for dir in "$top_srcdir"/tests/cases/report/*/; do
        dir=${dir%/}
        name=${dir##*/}
        got=$(case_output "$dir")
        if [ $update = 1 ]; then
                printf '%s\n' "$got" > "$dir/expected.out"
                ok "case $name: expected.out updated"
                continue
        fi
        if [ "$got" = "$(cat "$dir/expected.out" 2> /dev/null)" ]; then
                ok "case $name"
        else
                not_ok "case $name" "$(diff <(printf '%s\n' "$got") "$dir/expected.out" | head -40)"
        fi
done
[ $update = 1 ] && { done_testing; exit 0; }

hostile=$top_srcdir/tests/cases/report/hostile/folder
capture opentoe report "$hostile" --format html
check_eval "hostile strings: the HTML has no element the folder wrote (no <script, <img, <svg onload, <b>)" \
        '[ $rc -eq 0 ] && ! grep -qiE "<script|<img|<svg onload|<b>a" <<< "$out"'
check_eval "... they are shown escaped" \
        'grep -qF "&lt;script&gt;alert(3)&lt;/script&gt;" <<< "$out" && grep -qF "&lt;img src=x onerror=alert(1)&gt;.yml" <<< "$out"'
check_eval "... no control character reaches the page" '! LC_ALL=C grep -q $'"'"'[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]'"'"' <<< "$out"'
check_eval "... and the page allows no script (Content-Security-Policy)" \
        'grep -qF "default-src '"'"'none'"'"'" <<< "$out"'
capture opentoe report "$hostile" --format text
check_eval "text: control characters of the folder are shown as \\xNN, not sent to the terminal" \
        '[ $rc -eq 0 ] && grep -qF "Esc\\x1b[31mRed\\x07" <<< "$out" && ! LC_ALL=C grep -q $'"'"'[\x1b\x07]'"'"' <<< "$out"'

# End to end: a run's --report.
mkdir -p "$W/run"
# The document that made the loop-and-failure case's folder.
cp "$top_srcdir/tests/cases/report/loop-and-failure/doc.yml" "$W/run/doc.yml"
run_opentoe run --documents doc.yml --report "$W/run/report.html"
check_eval "run --report: the run goes on as before (status 1: a step failed) and writes the report" \
        '[ $rc -eq 1 ] && [ -s "$W/run/report.html" ] && grep -q "\"status\": \"failed\"" "$lastdir/stdout"'
bars=$(grep -c '<rect class="bar ' "$W/run/report.html")
check_eval "... one bar per step and iteration (4 steps, 3 iterations: $bars)" '[ "$bars" = 7 ]'
check_eval "... the failed step's bar is marked" \
        'grep -q "<g class=\"row step failed\">.*build/Fails.*<rect class=\"bar failed\"" "$W/run/report.html"'
check_eval "... with its stderr tail in the failures table" \
        'grep -qF "&lt;script&gt;alert(1)&lt;/script&gt;" "$W/run/report.html"'
check_eval "... detailedoutput.json keeps its keys and adds timing with the iterations" \
        'python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
s=d[\"documents\"][0][\"phases\"][0][\"steps\"][1]
t=s[\"timing\"]
assert s[\"name\"]==\"Loop\" and s[\"startTime\"] and s[\"detailedOutput\"] is None
assert [i[\"index\"] for i in t[\"iterations\"]]==[0,1,2], t
assert all(i[\"endMs\"]>=i[\"startMs\"]>=t[\"startMs\"] for i in t[\"iterations\"])
" "$last/detailedoutput.json"'
run_opentoe run2 --documents "$W/run/doc.yml" --report "$W/nonexistent/dir/r.html"
check_eval "run --report to a folder that does not exist: said on stderr, the run's status unchanged" \
        '[ $rc -eq 1 ] && grep -q "run: --report: cannot write the report to" "$lastdir/stderr"'
capture opentoe report "$last" -o "$W/run/r.json"
check_eval "report -o FILE.json writes JSON" '[ $rc -eq 0 ] && python3 -m json.tool "$W/run/r.json" > /dev/null'

# Iterations' times survive a reboot in the middle of a loop (the
# checkpoint keeps them): the iteration that asked for it, then the rest.
mkdir -p "$W/reboot"
build_doc "$W/reboot/doc.yml" rb << 'EOF_DOC'
      - name: Loop
        action: ExecuteBash
        loop:
          forEach: [a, b, c]
        inputs:
          commands: ["if [ {{ loop.value }} = b ] && [ ! -f flag ]; then touch flag; exit 194; fi"]
EOF_DOC
run_opentoe reboot --documents doc.yml
first=$rc
run_opentoe reboot --documents doc.yml
check_eval "a loop rebooted in its 2nd iteration keeps every iteration's times across the resume" \
        '[ $first -eq 194 ] && [ $rc -eq 0 ] && python3 -c "
import json,sys
t=json.load(open(sys.argv[1]))[\"documents\"][0][\"phases\"][0][\"steps\"][0][\"timing\"]
got=[(i[\"index\"],i[\"status\"]) for i in t[\"iterations\"]]
assert got==[(0,\"success\"),(1,\"reboot\"),(1,\"success\"),(2,\"success\")], got
" "$last/detailedoutput.json"'
capture opentoe report "$last" --format html
check_eval "... and the page draws the reboot's iteration as its own bar (5 bars)" \
        '[ "$(grep -c "<rect class=\"bar " <<< "$out")" = 5 ] && grep -q "<rect class=\"bar reboot\"" <<< "$out"'

# The folder may be anyone's: links and huge files are refused.
mkdir -p "$W/link" "$W/big"
ln -s "$last/detailedoutput.json" "$W/link/detailedoutput.json"
capture opentoe report "$W/link"
check_eval "a detailedoutput.json that is a link is not followed" '[ $rc -eq 1 ] && has_err "Too many levels of symbolic links"'
truncate -s 65M "$W/big/detailedoutput.json"
capture opentoe report "$W/big"
check_eval "a detailedoutput.json over 64 MiB is refused unread" '[ $rc -eq 1 ] && has_err "larger than 64 MiB"'
capture opentoe report
check_eval "no folder: usage error" '[ $rc -eq 2 ] && has_err "which log folder?"'
capture opentoe report "$last" --format pdf
check_eval "an unknown format: usage error" '[ $rc -eq 2 ] && has_err "unknown format '"'"'pdf'"'"'"'

done_testing
