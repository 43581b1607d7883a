#!/bin/bash
# corpus-run.sh: every Linux document of ../shared/corpus/public dry-runs
# (the plan is printed, nothing runs), and the documents that are safe to
# run here (they only echo or write under $HOME) really run, with the
# outputs AWSTOE documents.  Runs happen in a scratch folder.  TAP output.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
OPENTOE=${OPENTOE:-$top_srcdir/opentoe}
corpus=${OPENTOE_CORPUS:-$top_srcdir/../shared/corpus/public}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ ! -d "$corpus" ]; then
        echo "1..1"
        echo "not ok 1 - corpus not found at $corpus"
        exit 0
fi
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
echo "1..$(( ${#docs[@]} + ${#safe[@]} ))"
n=0
for f in "${docs[@]}"; do
        n=$((n + 1))
        out=$(cd "$scratch" && "$OPENTOE" run --dry-run --documents "$f" 2>&1); rc=$?
        if [ $rc = 0 ] && echo "$out" | grep -q '^(dry run: nothing was run or changed)$' && echo "$out" | grep -q '    Step '; then
                echo "ok $n - $(basename "$f") dry-runs"
        else
                echo "not ok $n - $(basename "$f") does not dry-run (exit $rc)"
                echo "$out" | head -n 20 | sed 's/^/# /'
        fi
done
for entry in "${safe[@]}"; do
        n=$((n + 1))
        base=${entry%%|*}
        want=${entry#*|}
        dir="$scratch/run-$n"
        mkdir -p "$dir/home"
        out=$(cd "$dir" && HOME="$dir/home" "$OPENTOE" run --documents "$corpus/$base" -l logs -s state 2>&1); rc=$?
        console=$(cat "$dir"/logs/TOE_*/console.log 2>/dev/null)
        if [ $rc = 0 ] && echo "$out" | grep -q '"status": "success"' && echo "$console" | grep -qF "Stdout: $want" &&
                grep -qF '"outputs": "[{\"stdout\":' "$dir"/logs/TOE_*/detailedoutput.json; then
                echo "ok $n - $base runs"
        else
                echo "not ok $n - $base does not run as documented (exit $rc)"
                { echo "$out"; echo "$console"; } | head -n 30 | sed 's/^/# /'
        fi
done
