#!/bin/bash
# validate.sh: how fast is `opentoe validate`, against the floor (libyaml's
# parser alone, bench/yaml_events.c) and against a popular linter (yamllint).
#
#   bench/validate.sh            (from anywhere; run `make` first)
#
# Environment:
#   OPENTOE         the binary to measure (default: ./opentoe at the repository
#                   root, else build/opentoe)
#   OPENTOE_CORPUS  the corpus directory (default: ../shared/corpus/public
#                   relative to the repository root)
#   BENCH_RUNS      minimum hyperfine runs for opentoe and yaml_events (default 50)
#   YAMLLINT_RUNS   minimum runs for yamllint, which takes about a second (default 10)
#   KEEP=1          keep the scratch directory (hyperfine's JSON) and print its name
#
# Measures, with hyperfine (--shell=none, 3 warm-up runs):
#   corpus    opentoe validate ALL.yml  vs  yaml_events ALL.yml  vs  yamllint -d relaxed ALL.yml
#             targets: opentoe/yaml_events <= 2.0, yamllint/opentoe >= 30
#   start-up  opentoe validate hello-world.yml  vs  yaml_events hello-world.yml
#             target:  opentoe/yaml_events <= 1.5
# Exit status: 0 all targets met, 1 a target missed, 2 a tool or file is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$top
corpus=${OPENTOE_CORPUS:-$root/../shared/corpus/public}
runs=${BENCH_RUNS:-50}
lint_runs=${YAMLLINT_RUNS:-10}
small_name=aws-samples__amazon-ec2-image-builder-samples__hello-world-component.yml

TARGET_CORPUS=2.0
TARGET_YAMLLINT=30
TARGET_STARTUP=1.5

# ---- tools ------------------------------------------------------------------

need hyperfine hyperfine
need yamllint yamllint
need python3 python3
need pkg-config pkg-config
need cc gcc
pkg-config --exists yaml-0.1 || die "libyaml is missing: install the Debian package 'libyaml-dev'"

need_opentoe
[ -d "$corpus" ] || die "no corpus at $corpus; set OPENTOE_CORPUS"
corpus=$(cd "$corpus" && pwd)
files=("$corpus"/*.yml)
[ -e "${files[0]}" ] || die "no .yml files in $corpus"
small=$corpus/$small_name
[ -f "$small" ] || die "$small is missing"

# KEEP=1 keeps the scratch folder (and says where at the end).
bench_work
scratch=$work
# pkg-config prints several words on purpose.
# shellcheck disable=SC2046
cc -O2 -Wall -o "$scratch/yaml_events" "$root/bench/yaml_events.c" $(pkg-config --cflags --libs yaml-0.1)

if ! "$scratch/opentoe" validate "$small" >/dev/null; then
        die "opentoe validate $small_name fails; the start-up benchmark needs a valid document"
fi

# Commands for hyperfine --shell=none, which splits them into words itself.
quoted=$(printf '%q ' "${files[@]}")
small_q=$(printf '%q' "$small")

hf() {
        hyperfine --shell=none --warmup 3 --style basic "$@"
}

echo "== corpus: ${#files[@]} documents, $(cat "${files[@]}" | wc -c) bytes, from $corpus"
# Some documents are Windows-only or invalid on purpose: exit status 1 is
# expected from all three, hence --ignore-failure.
hf --ignore-failure --min-runs "$runs" --export-json "$scratch/corpus.json" \
        -n opentoe "$scratch/opentoe validate $quoted" \
        -n yaml_events "$scratch/yaml_events $quoted"
hf --ignore-failure --min-runs "$lint_runs" --export-json "$scratch/yamllint.json" \
        -n yamllint "yamllint -d relaxed $quoted"

echo
echo "== start-up: $small_name"
hf --min-runs "$runs" --export-json "$scratch/startup.json" \
        -n opentoe "$scratch/opentoe validate $small_q" \
        -n yaml_events "$scratch/yaml_events $small_q"

# ---- summary ----------------------------------------------------------------

echo
python3 - "$scratch" "$TARGET_CORPUS" "$TARGET_YAMLLINT" "$TARGET_STARTUP" <<'EOF'
import json, sys

scratch = sys.argv[1]
t_corpus, t_lint, t_startup = map(float, sys.argv[2:5])

def means(name):
    with open(f"{scratch}/{name}.json") as f:
        return {r["command"]: (r["mean"], r["stddev"] or 0.0) for r in json.load(f)["results"]}

def ms(m):
    return f"{m[0] * 1000:.2f} ms (± {m[1] * 1000:.2f})"

corpus, lint, startup = means("corpus"), means("yamllint"), means("startup")
rows = [
    ("validate corpus", "opentoe", corpus["opentoe"], "yaml_events", corpus["yaml_events"],
     corpus["opentoe"][0] / corpus["yaml_events"][0], "<=", t_corpus),
    ("yamllint corpus", "yamllint", lint["yamllint"], "opentoe", corpus["opentoe"],
     lint["yamllint"][0] / corpus["opentoe"][0], ">=", t_lint),
    ("validate start-up", "opentoe", startup["opentoe"], "yaml_events", startup["yaml_events"],
     startup["opentoe"][0] / startup["yaml_events"][0], "<=", t_startup),
]
missed = noisy = 0
for what, a, am, b, bm, ratio, op, target in rows:
    ok = ratio <= target if op == "<=" else ratio >= target
    missed += not ok
    spread = max(am[1] / am[0], bm[1] / bm[0])
    noisy += spread > 0.25
    print(f"{what}: {a} {ms(am)}, {b} {ms(bm)}, ratio {ratio:.2f} "
          f"(target {op} {target:g}) {'ok' if ok else 'MISSED'}"
          + (f"  [noisy: σ is {spread:.0%} of the mean]" if spread > 0.25 else ""))
if noisy:
    print("some measurements are noisy (other programs were running?); "
          "rerun on an idle machine before trusting the ratios")
sys.exit(1 if missed else 0)
EOF
