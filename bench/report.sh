#!/bin/bash
# report.sh: `opentoe report` of a large run.  A log folder of 10,000
# steps (one in a hundred a loop of 5 iterations, a few failed), shaped
# as a real run writes it (each record a copy of one from a real run,
# with its names and times changed), is reported as HTML, text and JSON;
# each is timed (the best of RUNS) and the HTML's size measured.
#
#   bench/report.sh [path/to/opentoe]
#
# Targets: each format < 0.5 s; the HTML < 1 MiB (tiny bars are drawn
# together, and the page says so).  Exits non-zero if a target is missed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_opentoe
bench_work
cd "$work"

# A real run's folder gives the records' shape.
cp "$top/tests/cases/report/loop-and-failure/doc.yml" doc.yml
OPENTOE_TEST_SYSTEM_ROOT=/nonexistent/x ./opentoe run -l logs --documents doc.yml > /dev/null || true
real=$(ls -d logs/*/ | head -1)
mkdir -p big
python3 - "$real/detailedoutput.json" big/detailedoutput.json << 'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
steps = d["documents"][0]["phases"][0]["steps"]
plain, loop, failed = steps[0], steps[1], steps[2]
t = plain["timing"]["startMs"]
out = []
for i in range(10000):
    kind = loop if i % 100 == 50 else failed if i % 2500 == 1234 else plain
    s = copy.deepcopy(kind)
    s["name"] = "Step%05d" % i
    dur = 20 + (i * 7919) % 400 + (30000 if i % 1000 == 999 else 0)
    s["timing"]["startMs"] = t
    s["timing"]["endMs"] = t + dur
    if "iterations" in s["timing"]:
        its = []
        for k in range(5):
            its.append({"index": k, "attempt": 1, "status": "success",
                        "startMs": t + k * dur // 5, "endMs": t + (k + 1) * dur // 5})
        s["timing"]["iterations"] = its
        s["loop"] = {"name": "l", "forEach": ["a", "b", "c", "d", "e"]}
    t += dur + 1
    out.append(s)
d["documents"][0]["phases"] = [{"name": "build", "status": "failed", "startTime": "", "endTime": "",
                                "failureMessage": "", "steps": out}]
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
cp "$real/console.log" big/

best() {
        local fmt=$1 i t0 t1 b=
        for ((i = 0; i < RUNS; i++)); do
                t0=$(date +%s%N)
                ./opentoe report big --format "$fmt" -o "out.$fmt"
                t1=$(date +%s%N)
                t=$(((t1 - t0) / 1000000))
                [ -z "$b" ] || [ "$t" -lt "$b" ] && b=$t
        done
        echo "$b"
}
echo "folder: $(du -k big/detailedoutput.json | cut -f1) KiB of detailedoutput.json, 10000 steps, 100 loops of 5"
for fmt in html text json; do
        ms=$(best $fmt)
        size=$(stat -c %s "out.$fmt")
        ok=ok
        [ "$ms" -lt 500 ] || { ok=MISSED; status=1; }
        printf '%-5s %5d ms (target < 500 ms: %s)  %8d bytes\n' $fmt "$ms" $ok "$size"
done
size=$(stat -c %s out.html)
ok=ok
[ "$size" -lt 1048576 ] || { ok=MISSED; status=1; }
echo "html size: $size bytes (target < 1 MiB: $ok); bars: $(grep -c '<rect class="bar ' out.html)," \
        "$(grep -o 'short ones that did not fail are drawn together' out.html | head -1 || true)"
exit $status
