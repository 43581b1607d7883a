#!/bin/bash
# copyfolder.sh: the cost of CopyFolder.  A tree of 10,000 small files
# (100 folders of 100 files, 1-4 KiB each) is copied by a document with one
# CopyFolder step, timed with hyperfine against `cp -r` of the same tree (the same work:
# the bytes and the modes, neither owners nor times; `cp -a` does more);
# every run copies into a fresh destination, and is checked to have copied
# every file (an unchecked run that failed early flattered us).
# bench/run measures the same, interleaved, at 100 to 100,000 files.
#
#   bench/copyfolder.sh [path/to/opentoe]
#
# Target: opentoe <= 1.5x cp -r.  Exits non-zero if it is missed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_opentoe
need hyperfine hyperfine
need python3 python3
bench_work
cd "$work"

python3 - <<'PY'
import os, random
random.seed(42)
for d in range(100):
    os.makedirs(f"src/d{d:03}")
    for f in range(100):
        with open(f"src/d{d:03}/f{f:03}.txt", "wb") as fh:
            fh.write(random.randbytes(random.randint(1024, 4096)))
PY
cat > copy.yml <<'YML'
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Copy
        action: CopyFolder
        inputs:
          - source: ./src
            destination: ./dest
YML

# Every timed run did the whole copy: the next run's preparation counts
# the files its predecessor left (hyperfine stops if one is short), and
# the last run is counted after hyperfine.
check='test ! -d dest || [ "$(find dest -type f | wc -l)" = 10000 ] || { echo "a timed run copied $(find dest -type f | wc -l) of 10000 files" >&2; exit 1; }'
hyperfine --style basic --warmup 1 --runs 5 --export-json copy.json \
        --prepare "$check; rm -rf dest logs state; sync" \
        -n opentoe "./opentoe run --documents copy.yml --log-directory logs --state-directory state" \
        -n "cp -r" "cp -r src dest"

bash -c "$check" || { echo "copyfolder.sh: the last timed run did not copy every file" >&2; exit 1; }
# The copy is complete and equal.
rm -rf dest logs state
./opentoe run --documents copy.yml --log-directory logs --state-directory state > /dev/null
diff -r src dest > /dev/null || { echo "copyfolder.sh: the copy differs from the source" >&2; exit 1; }
[ "$(find dest -type f | wc -l)" = 10000 ] || { echo "copyfolder.sh: the copy lacks files" >&2; exit 1; }

python3 - <<'PY'
import json, sys
m = {r["command"]: r for r in json.load(open("copy.json"))["results"]}
o, c = m["opentoe"], m["cp -r"]
ratio = o["mean"] / c["mean"]
ok = ratio <= 1.5
print(f"CopyFolder of 10,000 files: opentoe {o['mean']*1000:.1f} ms (± {o['stddev']*1000:.1f}), "
      f"cp -r {c['mean']*1000:.1f} ms (± {c['stddev']*1000:.1f}), ratio {ratio:.2f} (target <= 1.5) "
      + ("ok" if ok else "MISSED"))
sys.exit(0 if ok else 1)
PY
