#!/bin/bash
# run-cases.sh: the data-driven cases under tests/cases/<suite>/<case>/.
# Each case runs the binary in a scratch copy of its directory and
# compares standard output and exit status with expected.out and
# expected.status; the hand-written `expect` file is then checked against
# the diagnostics, so a regenerated golden file cannot drop the diagnostic
# a case is about.  A suite's `default-args` gives the command line of
# cases without `args`; in the run suite the normalised console.log and
# detailedoutput.json (times, dates and the log folder's date replaced)
# are compared too, as part of expected.out (and chaining.json in a case
# with a file `show-chaining`).  A case with `as-user`
# runs as that (unprivileged) user.
#
#   tests/run-cases.sh [--update] [SUITE/CASE...]
#
# TAP output; --update rewrites the golden files from the current binary.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
top_builddir=${top_builddir:-$top_srcdir}
OPENTOE=${OPENTOE:-$top_builddir/opentoe}
AWSTOE=$(dirname "$OPENTOE")/awstoe
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi

cases=()
if [ $# -gt 0 ]; then
        for c in "$@"; do cases+=("$top_srcdir/tests/cases/$c"); done
else
        for suite in validate compile run; do
                for c in "$top_srcdir"/tests/cases/$suite/*/; do [ -d "$c" ] && cases+=("${c%/}"); done
        done
fi
plan ${#cases[@]}

scratch_dir scratch run-cases
for dir in "${cases[@]}"; do
        name=${dir#"$top_srcdir"/tests/cases/}
        suite=${name%%/*}
        args="validate input.yml"
        [ -f "$dir/../default-args" ] && args=$(head -n 1 "$dir/../default-args")
        [ -f "$dir/args" ] && args=$(head -n 1 "$dir/args")
        bin=$OPENTOE
        read -r -a argv <<< "$args"
        if [ "${argv[0]}" = awstoe ]; then bin=$AWSTOE; argv=("${argv[@]:1}"); fi
        work="$scratch/work"
        # Writable by its owner, as in a checkout: a tarball's tree may be
        # read-only (make distcheck), and cp keeps the modes.
        rm -rf "$work" && cp -r "$dir" "$work" && chmod -R u+w "$work"
        # `as-user` names an unprivileged user to run the case as.
        wrap=()
        if [ -f "$dir/as-user" ]; then
                user=$(head -n 1 "$dir/as-user")
                chmod 755 "$scratch"
                chown -R "$user" "$work"
                wrap=(as_user "$user" --reset-env)
        fi
        (cd "$work" && OPENTOE_KILL_GRACE_MS=300 "${wrap[@]}" "$bin" "${argv[@]}" > "$scratch/out" 2> "$scratch/err"); status=$?
        if [ "$suite" = run ]; then
                # chaining.json too, in the cases about it (`show-chaining`).
                chaining=()
                [ -f "$dir/show-chaining" ] && chaining=("$work"/logs/TOE_*/chaining.json)
                for f in "$work"/logs/TOE_*/console.log "$work"/logs/TOE_*/detailedoutput.json "${chaining[@]}"; do
                        [ -f "$f" ] || continue
                        echo "--- ${f##*/}" >> "$scratch/out"
                        cat "$f" >> "$scratch/out"
                done
                sed -E -i -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} /<time> /g' \
                        -e 's/TOE_[0-9_-]+_UTC-0_/TOE_<date>_UTC-0_/g' \
                        -e 's/"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(Z|[+-][0-9:]{5})"/"<time>"/g' \
                        -e 's/"(startMs|endMs)": [0-9]+/"\1": "<ms>"/g' \
                        -e "s|$work|<work>|g" \
                        -e 's/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/<uuid>/g' "$scratch/out"
        fi
        if [ $update = 1 ]; then
                cp "$scratch/out" "$dir/expected.out"
                echo "$status" > "$dir/expected.status"
                if [ -s "$scratch/err" ]; then cp "$scratch/err" "$dir/expected.err"; else rm -f "$dir/expected.err"; fi
        fi
        why=""
        if ! cmp -s "$scratch/out" "$dir/expected.out"; then
                why="standard output differs from expected.out"
                diff -u "$dir/expected.out" "$scratch/out" | head -n 40 | sed 's/^/# /'
        elif [ "$status" != "$(cat "$dir/expected.status" 2>/dev/null)" ]; then
                why="exit status $status, expected $(cat "$dir/expected.status" 2>/dev/null)"
        elif [ -f "$dir/expected.err" ] && ! cmp -s "$scratch/err" "$dir/expected.err"; then
                why="standard error differs from expected.err"
                diff -u "$dir/expected.err" "$scratch/err" | head -n 20 | sed 's/^/# /'
        elif [ ! -f "$dir/expected.err" ] && [ -s "$scratch/err" ] && [ "$status" != 2 ]; then
                why="unexpected standard error: $(head -n 1 "$scratch/err")"
        fi
        # The diagnostics the case was written for, checked in text form.
        if [ -z "$why" ] && [ -f "$dir/expect" ]; then
                text_argv=("${argv[@]}")
                if [ "$bin" = "$AWSTOE" ] || printf '%s\n' "${argv[@]}" | grep -qx -- '--format\|--format=json'; then
                        text_argv+=(--format text)
                fi
                (cd "$work" && "$OPENTOE" "${text_argv[@]}" > "$scratch/text" 2>&1)
                found=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: (error|warning): |^[^ ][^:]*: (error|warning): ' "$scratch/text")
                want=0
                while read -r sev pos code; do
                        [ -z "$sev" ] && continue
                        case $sev in
                        valid) [ "$status" = 0 ] || why="expected a valid document, exit status $status" ;;
                        usage) [ "$status" = 2 ] || why="expected a usage error (exit 2), got $status" ;;
                        error|warning)
                                want=$((want + 1))
                                if [ "$pos" = "?:?" ]; then pat=": $sev: .*\[$code\]\$"
                                else pat=":$pos: $sev: .*\[$code\]\$"; fi
                                grep -q -- "$pat" "$scratch/text" || why="${why:+$why; }no $sev at $pos [$code]"
                                ;;
                        *) why="bad line in expect: $sev $pos $code" ;;
                        esac
                done < "$dir/expect"
                if [ -z "$why" ] && [ "$found" != "$want" ]; then
                        why="$found diagnostics reported, expect lists $want"
                fi
                [ -n "$why" ] && sed 's/^/# /' "$scratch/text" | head -n 30
        fi
        # Lines the output must contain, written by hand like `expect`.
        if [ -z "$why" ] && [ -f "$dir/must-contain" ]; then
                while IFS= read -r line; do
                        [ -z "$line" ] && continue
                        grep -qF -- "$line" "$scratch/out" || why="${why:+$why; }output lacks: $line"
                done < "$dir/must-contain"
        fi
        if [ -z "$why" ]; then ok "$name"; else not_ok "$name: $why"; fi
done
done_testing
