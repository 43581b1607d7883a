#!/bin/bash
# cwlogs.sh: the CPU cost of streaming console.log to CloudWatch Logs.
# 1,000,000 lines (about 100 bytes each, shaped like console.log lines)
# are piped into `opentoe debug cwlogs-ship`, which spools every line
# (one write(2) each, checksummed, fdatasync'd per MiB), batches them
# within PutLogEvents' limits and ships them to tests/servers/cwlogs.py on
# a free port of 127.0.0.1 (SigV4 checked by botocore; --count-only keeps
# no events).  Measured: opentoe's own user+sys CPU time from
# /usr/bin/time (the Python server's CPU is not counted; it is what
# limits wall time).  The run is repeated BENCH_RUNS times (default 3)
# and the best and the median are reported.
#
#   bench/cwlogs.sh [path/to/opentoe]
#
# Target: >= 100,000 lines per CPU second of opentoe.  Exits 1 if the
# median misses it, 2 if a tool is missing.  Needs /usr/bin/python3 with
# botocore (Debian: python3-botocore) and /usr/bin/time (Debian: time).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OPENTOE=${1:-$top/opentoe}
LINES=${BENCH_LINES:-1000000}
RUNS=${BENCH_RUNS:-3}
TARGET=100000
PY=/usr/bin/python3
[ -x "$OPENTOE" ] || { echo "cwlogs.sh: build opentoe first (make)" >&2; exit 2; }
"$PY" -c 'import botocore' 2> /dev/null || { echo "cwlogs.sh: install python3-botocore" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "cwlogs.sh: install time" >&2; exit 2; }

work=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill $spid 2> /dev/null; rm -rf "$work"' EXIT
cp "$OPENTOE" "$work/opentoe"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
for v in $(compgen -e); do
        case $v in AWS_* | OPENTOE_AWS_* | OPENTOE_CWLOGS_*) unset "$v" ;; esac
done
export no_proxy=127.0.0.1 AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret

"$PY" "$top/tests/servers/cwlogs.py" --count-only --port-file "$work/port" \
        --key "$AWS_ACCESS_KEY_ID=$AWS_SECRET_ACCESS_KEY" > /dev/null 2> "$work/server.err" &
spid=$!
for _ in $(seq 100); do
        [ -s "$work/port" ] && break
        sleep 0.1
done
[ -s "$work/port" ] || { echo "cwlogs.sh: the server did not start: $(cat "$work/server.err")" >&2; exit 2; }
URL=http://127.0.0.1:$(cat "$work/port")
export AWS_ENDPOINT_URL_LOGS=$URL

# console.log-like lines, about 100 bytes.
awk -v n="$LINES" 'BEGIN {
        for (i = 1; i <= n; i++)
                printf "2026-01-01 00:00:%02d.%03d Info Step %d: yum install -y package-%07d (downloading 1.2 MB)\n",
                        i % 60, i % 1000, i % 97, i
}' > "$work/lines"
bytes=$(stat -c %s "$work/lines")

events() {
        "$PY" -c 'import sys, json, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + "/_stats", timeout=30))
print(d["streams"].get("bench " + sys.argv[2], {}).get("events", 0))' "$URL" "$1"
}

rates=()
for run in $(seq 1 "$RUNS"); do
        rm -rf "$work/spool"
        /usr/bin/time -f '%U %S %e %M' -o "$work/time" "$work/opentoe" debug cwlogs-ship --group bench \
                --stream "run$run" --region us-east-1 --spool "$work/spool" --deadline-ms 600000 \
                < "$work/lines" > "$work/out" 2> "$work/err" || {
                echo "cwlogs.sh: run $run failed: $(cat "$work/err")" >&2
                exit 1
        }
        read -r user sys wall rss < "$work/time"
        got=$(events "run$run")
        if [ "$got" != "$LINES" ]; then
                echo "cwlogs.sh: run $run: the server holds $got events, not $LINES" >&2
                exit 1
        fi
        requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$work/out")
        rate=$(awk -v n="$LINES" -v u="$user" -v s="$sys" 'BEGIN { printf "%d", n / (u + s) }')
        rates+=("$rate")
        printf 'run %d: %d lines (%d bytes) in %d requests: user %.2f s + sys %.2f s = %.2f s CPU, %.1f s wall, max RSS %d KiB: %d lines per CPU second\n' \
                "$run" "$LINES" "$bytes" "$requests" "$user" "$sys" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
                "$wall" "$rss" "$rate"
done

sorted=$(printf '%s\n' "${rates[@]}" | sort -n)
median=$(sed -n "$(((RUNS + 1) / 2))p" <<< "$sorted")
best=$(tail -1 <<< "$sorted")
verdict=ok
[ "$median" -ge "$TARGET" ] || verdict=MISSED
echo "cwlogs shipping: median $median, best $best lines per CPU second of opentoe (target >= $TARGET) $verdict"
[ "$verdict" = ok ]
