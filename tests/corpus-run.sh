#!/bin/bash
# corpus-run.sh: every Linux document of $OPENTOE_SHARED/corpus/public dry-runs
# (the plan is printed, nothing runs), and the documents that are safe to
# run here (they only echo or write under $HOME) really run, with the
# outputs AWSTOE documents.  Runs happen in a scratch folder.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$top_srcdir/opentoe}
corpus=${OPENTOE_CORPUS:-$OPENTOE_SHARED/corpus/public}
scratch_dir scratch corpus-run
[ -d "$corpus" ] || skip_all "corpus not found at $corpus (configure --with-shared-dir=DIR, or set OPENTOE_SHARED or OPENTOE_CORPUS)"
docs=()
for f in "$corpus"/*.yml; do
        "$OPENTOE" validate --os-platforms linux "$f" >/dev/null 2>&1 && docs+=("$f")
done
# Safe to run: they echo, or write one file under $HOME.
safe=(
        "aws-samples__amazon-ec2-image-builder-samples__hello-world-component.yml|Hello world echo file created"
        "cloudadder__cdk-ec2-imagebuilder__helloworld.yml|Hello World"
        "jacklin213__imagebuilder-component-builder__hello-world-json.yml|Hello World! Test."
)
plan $(( ${#docs[@]} + ${#safe[@]} ))
for f in "${docs[@]}"; do
        out=$(cd "$scratch" && "$OPENTOE" run --dry-run --documents "$f" 2>&1); rc=$?
        if [ $rc = 0 ] && echo "$out" | grep -q '^(dry run: nothing was run or changed)$' && echo "$out" | grep -q '    Step '; then
                ok "$(basename "$f") dry-runs"
        else
                not_ok "$(basename "$f") does not dry-run (exit $rc)" "$(echo "$out" | head -n 20)"
        fi
done
for entry in "${safe[@]}"; do
        base=${entry%%|*}
        want=${entry#*|}
        dir="$scratch/run-$((tap_n + 1))"
        mkdir -p "$dir/home"
        out=$(cd "$dir" && HOME="$dir/home" "$OPENTOE" run --documents "$corpus/$base" -l logs -s state 2>&1); rc=$?
        console=$(cat "$dir"/logs/TOE_*/console.log 2>/dev/null)
        if [ $rc = 0 ] && echo "$out" | grep -q '"status": "success"' && echo "$console" | grep -qF "Stdout: $want" &&
                grep -qF '"outputs": "[{\"stdout\":' "$dir"/logs/TOE_*/detailedoutput.json; then
                ok "$base runs"
        else
                not_ok "$base does not run as documented (exit $rc)" "$({ echo "$out"; echo "$console"; } | head -n 30)"
        fi
done
done_testing
