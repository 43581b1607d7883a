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
. "$(dirname "$0")/lib.sh"
LINES=${BENCH_LINES:-1000000}
TARGET=100000
PY=/usr/bin/python3
need_opentoe
"$PY" -c 'import botocore' 2> /dev/null || die "install python3-botocore"
[ -x /usr/bin/time ] || die "install time"

bench_work
no_proxy_env
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret

start_server cwlogs "$PY" "$top/tests/servers/cwlogs.py" --count-only --key "$AWS_ACCESS_KEY_ID=$AWS_SECRET_ACCESS_KEY"
URL=http://127.0.0.1:$port_cwlogs
export AWS_ENDPOINT_URL_LOGS=$URL

# console.log-like lines, about 100 bytes.
awk -v n="$LINES" 'BEGIN {
        for (i = 1; i <= n; i++)
                printf "2026-01-01 00:00:%02d.%03d Info Step %d: yum install -y package-%07d (downloading 1.2 MB)\n",
                        i % 60, i % 1000, i % 97, i
}' > "$work/lines"
bytes=$(stat -c %s "$work/lines")

events() { server_json "$URL/_stats" 'd["streams"].get("bench " + a[0], {}).get("events", 0)' "$1"; }

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
