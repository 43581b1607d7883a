#!/bin/bash
# specs-fresh.sh: the generated action tables (interpreter/specs.c and
# interpreter/action_ids.h) and the editor schema must match
# schemas/actions/*.json.  TAP output.
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/tap.sh"
plan 1
if out=$(python3 "$top_srcdir/scripts/gen-action-specs.py" --check --root "$top_srcdir" 2>&1); then
        ok "generated action specs are fresh"
else
        not_ok "generated action specs are stale: run scripts/gen-action-specs.py" "$out"
fi
