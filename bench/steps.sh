#!/bin/bash
# steps.sh: the cost of a step.  A document of 1000 ExecuteBash steps that
# each run `true` (run with its state directory, so with a checkpoint
# after every step) is timed against the physical limit: a shell loop
# that writes and runs the same 1000 one-line scripts with bash and
# removes their folder once at the end (an older anchor ran an extra `rm`
# process per step, which made opentoe look faster than the limit); and
# against ansible-playbook
# running 100 `command: true` tasks on the local connection; then the
# peak RSS of opentoe while one step prints 1 GiB.
#
#   bench/steps.sh [path/to/opentoe]
#
# Targets: opentoe <= 1.10x the strict shell loop (issue 14, item 3); ansible >= 40x opentoe
# per step; peak RSS < 16 MiB.  Exits non-zero if a target is missed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_opentoe
need hyperfine hyperfine
need ansible-playbook ansible-core
[ -x /usr/bin/time ] || need /usr/bin/time time
bench_work
cd "$work"

# 1000 steps.
{
        echo "schemaVersion: 1.0"
        echo "phases:"
        echo "  - name: build"
        echo "    steps:"
        for i in $(seq 1 1000); do
                printf '      - name: Step%d\n        action: ExecuteBash\n        inputs:\n          commands: ["true"]\n' "$i"
        done
} > steps.yml
cat > strict.sh <<'SH'
mkdir -p s
for i in $(seq 1 1000); do
        printf 'true\n' > s/step-$i.sh
        bash s/step-$i.sh
done
rm -rf s
SH
# 100 ansible tasks.
{
        echo "- hosts: localhost"
        echo "  connection: local"
        echo "  gather_facts: false"
        echo "  tasks:"
        for i in $(seq 1 100); do
                printf '    - name: t%d\n      command: "true"\n' "$i"
        done
} > play.yml

hyperfine --style basic --warmup 1 --runs 5 --export-json steps.json \
        -n opentoe "$OPENTOE run --documents steps.yml --log-directory logs --state-directory state" \
        -n strict "bash strict.sh" \
        --prepare "rm -rf logs" > hyperfine-steps.txt
hyperfine --style basic --runs 2 --export-json ansible.json \
        -n ansible "ANSIBLE_LOCALHOST_WARNING=false ansible-playbook -i localhost, play.yml" > hyperfine-ansible.txt

# One step printing 1 GiB.
cat > big.yml <<'YML'
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Loud
        action: ExecuteBash
        inputs:
          commands:
            - head -c 1073741824 /dev/zero | tr '\0' 'a' | fold -w 100
YML
/usr/bin/time -f '%M' -o rss.txt "$OPENTOE" run --documents big.yml --log-directory /dev/shm/opentoe-bench-logs \
        --state-directory state > /dev/null
rm -rf /dev/shm/opentoe-bench-logs
rss_kb=$(tail -n 1 rss.txt)

python3 - "$rss_kb" <<'PY'
import json, sys
m = {r["command"]: r["mean"] for f in ("steps.json", "ansible.json") for r in json.load(open(f))["results"]}
o, t, a = m["opentoe"], m["strict"], m["ansible"]
ratio = o / t
per_o, per_a = o / 1000, a / 100
rss = int(sys.argv[1]) / 1024
ok = ratio <= 1.10 and per_a / per_o >= 40 and rss < 16
print(f"1000 steps (a checkpoint after each): opentoe {o:.3f} s, strict shell loop {t:.3f} s, "
      f"ratio {ratio:.2f} (target <= 1.10)")
print(f"per step: opentoe {per_o*1000:.2f} ms, ansible {per_a*1000:.1f} ms, ansible/opentoe {per_a/per_o:.0f}x (target >= 40x)")
print(f"peak RSS while a step prints 1 GiB: {rss:.1f} MiB (target < 16 MiB)")
sys.exit(0 if ok else 1)
PY
