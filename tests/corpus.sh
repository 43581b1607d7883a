#!/bin/bash
# corpus.sh: every real component document in $OPENTOE_SHARED/corpus/public
# (../shared beside the checkout by default) must validate unchanged (on
# Linux, or on Windows for Windows documents), except the ones its README
# lists as invalid, which must fail for the stated reason.  The corpus is
# read in place, never copied; without it the suite is skipped, said so.
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/tap.sh"
OPENTOE=${OPENTOE:-$top_srcdir/opentoe}
corpus=${OPENTOE_CORPUS:-$OPENTOE_SHARED/corpus/public}
[ -d "$corpus" ] || skip_all "corpus not found at $corpus (configure --with-shared-dir=DIR, or set OPENTOE_SHARED or OPENTOE_CORPUS)"
# The documents the corpus README lists as invalid, with the diagnostic
# code that gives the README's reason.
declare -A invalid=(
        [aws-samples__amazon-ec2-image-builder-samples__chef-recipe-windows.yml]=yaml-syntax
        [JamesWoolfenden__terraform-aws-imagebuilder__examplea-component.yml]=wrong-type
        [aws__aws-parallelcluster__custom-script.yml]=ref-undeclared
)
files=("$corpus"/*.yml "$corpus"/*.yaml "$corpus"/*.json)
docs=()
for f in "${files[@]}"; do [ -f "$f" ] && docs+=("$f"); done
plan $(( ${#docs[@]} + 1 ))
for f in "${docs[@]}"; do
        base=$(basename "$f")
        if [ -n "${invalid[$base]:-}" ]; then
                out=$("$OPENTOE" validate "$f" 2>&1); rc=$?
                if [ $rc = 1 ] && echo "$out" | grep -q "\[${invalid[$base]}\]\$"; then
                        ok "$base is rejected [${invalid[$base]}]"
                else
                        not_ok "$base should be rejected with [${invalid[$base]}] (exit $rc)" "$(echo "$out" | head -n 10)"
                fi
                continue
        fi
        platform=linux
        out=$("$OPENTOE" validate --os-platforms linux "$f" 2>&1); rc=$?
        if [ $rc != 0 ]; then
                platform=windows
                out=$("$OPENTOE" validate --os-platforms windows "$f" 2>&1); rc=$?
        fi
        if [ $rc = 0 ]; then
                ok "$base validates ($platform)"
        else
                not_ok "$base does not validate" "$(echo "$out" | head -n 10)"
        fi
done
# All at once, as one invocation: every valid Linux document in one call.
linux_docs=()
for f in "${docs[@]}"; do
        [ -n "${invalid[$(basename "$f")]:-}" ] && continue
        "$OPENTOE" validate --os-platforms linux "$f" >/dev/null 2>&1 && linux_docs+=("$f")
done
if "$OPENTOE" validate --os-platforms linux "${linux_docs[@]}" >/dev/null 2>&1; then
        ok "${#linux_docs[@]} Linux documents validate in one call"
else
        not_ok "validating the Linux documents in one call failed"
fi
done_testing
