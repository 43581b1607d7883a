#!/bin/bash
# webdownload.sh: the speed and memory of WebDownload.  tests/servers/
# webserver.py serves 1 GiB of generated data (/big/1073741824) on
# 127.0.0.1; hyperfine times a one-step WebDownload document against
# `curl -s -o out URL` fetching the same URL, both writing to a scratch
# folder (in /dev/shm when it has room, so the disk is not what is
# measured); then /usr/bin/time reports opentoe's peak RSS for the same
# download, and for one that also verifies a SHA256 checksum.
#
#   bench/webdownload.sh [path/to/opentoe]
#
# Targets: opentoe's mean time <= curl's (ratio <= 1.0; a few per cent
# either way is measurement noise); peak RSS < 16 MiB.  Exits non-zero
# if a target is missed.  BENCH_RUNS (default 3) sets hyperfine's runs;
# BENCH_BYTES (default 1073741824) the size of the download.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OPENTOE=${1:-${OPENTOE:-$top/opentoe}}
RUNS=${BENCH_RUNS:-3}
BYTES=${BENCH_BYTES:-1073741824}
[ -x "$OPENTOE" ] || { echo "webdownload.sh: build opentoe first (make)" >&2; exit 2; }
need() { command -v "$1" >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -q "$2" >/dev/null; } || { echo "webdownload.sh: install $2" >&2; exit 2; }; }
need hyperfine hyperfine
need curl curl
need python3 python3
[ -x /usr/bin/time ] || need /usr/bin/time time

# Room for two copies of the file, with some to spare.
need_kb=$((BYTES / 1024 * 2 + 262144))
if [ -d /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt "$need_kb" ]; then
        work=$(mktemp -d /dev/shm/opentoe-bench-webdownload.XXXXXX)
else
        work=$(mktemp -d)
fi
server=
cleanup() {
        [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# The binary is copied so that a rebuild during the run changes nothing.
cp "$OPENTOE" ./opentoe

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
mkdir -p root
python3 "$top/tests/servers/webserver.py" --root root --port-file port > /dev/null 2> server.err &
server=$!
for _ in $(seq 100); do
        [ -s port ] && break
        sleep 0.1
done
[ -s port ] || { echo "webdownload.sh: the server did not start: $(cat server.err)" >&2; exit 1; }
url=http://127.0.0.1:$(cat port)/big/$BYTES

doc() { # doc FILE [checksum]
        {
                printf 'name: bench\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n'
                printf '      - name: Download\n        action: WebDownload\n        inputs:\n'
                printf '          - source: %s\n            destination: %s/out-opentoe\n' "$url" "$work"
                if [ -n "${2:-}" ]; then
                        printf '            checksum: "%s"\n            algorithm: SHA256\n' "$2"
                fi
        } > "$1"
}
doc plain.yml

echo "== hyperfine: $BYTES bytes from $url, $RUNS runs"
hyperfine --runs "$RUNS" --warmup 1 --export-json times.json \
        --prepare "rm -rf $work/out-opentoe $work/out-curl $work/logs $work/state" \
        -n opentoe "./opentoe run --documents plain.yml -l $work/logs -s $work/state" \
        -n curl "curl -s -o $work/out-curl $url"
rm -rf out-opentoe out-curl logs state

rss() { # rss COMMAND...: peak RSS in KiB
        /usr/bin/time -f %M -o rss.txt "$@" > /dev/null 2>&1
        tail -1 rss.txt
}
rss_plain=$(rss ./opentoe run --documents plain.yml -l "$work/logs" -s "$work/state")
rm -rf out-opentoe logs state
sum=$(python3 "$top/tests/servers/webserver.py" --big-sha256 "$BYTES")
doc sum.yml "$sum"
rss_sum=$(rss ./opentoe run --documents sum.yml -l "$work/logs" -s "$work/state")
[ "$(sha256sum out-opentoe | cut -d' ' -f1)" = "$sum" ] || { echo "webdownload.sh: the verified download is wrong" >&2; exit 1; }
rm -rf out-opentoe logs state
rss_curl=$(rss curl -s -o out-curl "$url")
rm -f out-curl

read -r t_ot sd_ot t_curl sd_curl < <(python3 -c 'import json,sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print(r["opentoe"]["mean"], r["opentoe"]["stddev"] or 0, r["curl"]["mean"], r["curl"]["stddev"] or 0)' times.json)
ratio=$(python3 -c "print('%.3f' % ($t_ot / $t_curl))")
status=0
verdict() { if [ "$1" = 1 ]; then echo ok; else echo MISSED; status=1; fi; }

echo
printf 'webdownload 1 GiB: opentoe %.3f s (± %.3f), curl %.3f s (± %.3f), ratio %s (target <= 1.0, noise allowed) %s\n' \
        "$t_ot" "$sd_ot" "$t_curl" "$sd_curl" "$ratio" \
        "$(verdict "$(python3 -c "print(1 if $ratio <= 1.05 else 0)")")"
printf 'peak RSS: opentoe %d KiB, with SHA256 verification %d KiB (target < 16384) %s; curl %d KiB\n' \
        "$rss_plain" "$rss_sum" \
        "$(verdict "$([ "$rss_plain" -lt 16384 ] && [ "$rss_sum" -lt 16384 ] && echo 1 || echo 0)")" "$rss_curl"
exit $status
