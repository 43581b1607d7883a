#!/bin/sh
# specs-fresh.sh: the generated action tables (interpreter/specs.c and
# interpreter/action_ids.h) and the editor schema must match
# schemas/actions/*.json.  TAP output.
echo "1..1"
if out=$(python3 "$top_srcdir/scripts/gen-action-specs.py" --check --root "$top_srcdir" 2>&1); then
        echo "ok 1 - generated action specs are fresh"
else
        echo "not ok 1 - generated action specs are stale: run scripts/gen-action-specs.py"
        echo "$out" | sed 's/^/# /'
fi
