#!/bin/bash
# report-html.sh: the HTML report opened in headless Chromium: the page
# loads without errors (a page with a failing script shows the check
# would see one), the SVG has one bar per step and iteration, the failed
# step is marked, it prints, and a screenshot is taken (the reference
# picture of the README is tests/report-reference.png, made the same
# way by `tests/report-html.sh --reference`).  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
chromium=$(command -v chromium || command -v chromium-browser) ||
        skip_all "chromium is not installed (scripts/setup.sh --test installs Debian's chromium)"
scratch_dir W report-html

# chrome ARGS...: headless Chromium on its own profile; stderr (its log)
# in $W/chrome.err.
chrome() {
        timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$W/profile" \
                --enable-logging=stderr --v=0 "$@" 2> "$W/chrome.err"
}
# page_errors: what Chromium said of the page: its console messages,
# uncaught exceptions and refused loads.
page_errors() { grep -E 'CONSOLE|Uncaught|Refused to|ERR_' "$W/chrome.err" || true; }

printf '<!DOCTYPE html><html><body><script>throw new Error("boom")</script></body></html>\n' > "$W/bad.html"
chrome --dump-dom "file://$W/bad.html" > /dev/null
check_eval "control: a page whose script fails is reported" '[ -n "$(page_errors)" ]'

mkdir -p "$W/run"
if [ "${1:-}" = --reference ]; then
        cp "$top_srcdir/tests/cases/report/reference.yml" "$W/run/doc.yml"
else
        cp "$top_srcdir/tests/cases/report/loop-and-failure/doc.yml" "$W/run/doc.yml"
fi
run_opentoe run --documents doc.yml --report "$W/report.html"
check_eval "run --report wrote the page" '[ -s "$W/report.html" ]'

dom=$(chrome --dump-dom "file://$W/report.html")
errors=$(page_errors)
check_eval "the page loads without errors" '[ -n "$dom" ] && [ -z "$errors" ]' || diag "$errors"
bars=$(grep -o '<rect class="bar [a-zA-Z]*"' <<< "$dom" | wc -l)
steps=$(grep -o '<g class="row step[ "]' <<< "$dom" | wc -l)
iters=$(grep -o '<g class="row iter[ "]' <<< "$dom" | wc -l)
want_bars=7
[ "${1:-}" = --reference ] && want_bars=$bars
check_eval "the SVG has one bar per step and iteration ($steps steps, $iters iterations, $bars bars)" \
        '[ "$bars" = "$want_bars" ] && [ $((steps + iters)) = "$bars" ]'
check_eval "the failed step is marked (its row, its bar, its label)" \
        'grep -qE "<g class=\"row step failed\"><text class=\"label bad\"[^>]*>✖ build/Fails</text><rect class=\"bar failed\"" <<< "$dom"'
tail_text='&lt;script&gt;alert(1)&lt;/script&gt;'
[ "${1:-}" = --reference ] && tail_text='error: mirror unreachable'
check_eval "the failures table shows its stderr tail, as text" 'grep -qF "<pre>$tail_text" <<< "$dom"'

chrome --window-size=1200,900 --hide-scrollbars --screenshot="$W/shot.png" "file://$W/report.html" > /dev/null
check_eval "a screenshot is taken (a PNG of 1200 by 900)" \
        'python3 -c "
import struct,sys
b=open(sys.argv[1],\"rb\").read(24)
assert b[:8]==b\"\\x89PNG\\r\\n\\x1a\\n\", b
assert struct.unpack(\">II\", b[16:24])==(1200,900)
" "$W/shot.png"'
chrome --print-to-pdf="$W/report.pdf" --no-pdf-header-footer "file://$W/report.html" > /dev/null
check_eval "the page prints (a PDF)" '[ "$(head -c 5 "$W/report.pdf" 2> /dev/null)" = "%PDF-" ]'
if [ "${1:-}" = --reference ]; then
        cp "$W/shot.png" "$top_srcdir/tests/report-reference.png"
        diag "tests/report-reference.png updated"
fi

done_testing
