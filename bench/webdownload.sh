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
. "$(dirname "$0")/lib.sh"
need_opentoe
need hyperfine hyperfine
need curl curl
need python3 python3
[ -x /usr/bin/time ] || need /usr/bin/time time

# Room for two copies of the file, with some to spare.
bench_work $((BYTES / 1024 * 2 + 262144))
cd "$work"

no_proxy_env
mkdir -p root
start_server web python3 "$top/tests/servers/webserver.py" --root root
url=http://127.0.0.1:$port_web/big/$BYTES

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

rss_plain=$(rss ./opentoe run --documents plain.yml -l "$work/logs" -s "$work/state")
rm -rf out-opentoe logs state
sum=$(python3 "$top/tests/servers/webserver.py" --big-sha256 "$BYTES")
doc sum.yml "$sum"
rss_sum=$(rss ./opentoe run --documents sum.yml -l "$work/logs" -s "$work/state")
[ "$(sha256sum out-opentoe | cut -d' ' -f1)" = "$sum" ] || { echo "webdownload.sh: the verified download is wrong" >&2; exit 1; }
rm -rf out-opentoe logs state
rss_curl=$(rss curl -s -o out-curl "$url")
rm -f out-curl

read -r t_ot sd_ot t_curl sd_curl < <(hyperfine_means times.json opentoe curl)
ratio=$(python3 -c "print('%.3f' % ($t_ot / $t_curl))")
verdict "$(python3 -c "print(1 if $ratio <= 1.05 else 0)")" v_time
verdict "$([ "$rss_plain" -lt 16384 ] && [ "$rss_sum" -lt 16384 ] && echo 1 || echo 0)" v_rss

echo
printf 'webdownload 1 GiB: opentoe %.3f s (± %.3f), curl %.3f s (± %.3f), ratio %s (target <= 1.0, noise allowed) %s\n' \
        "$t_ot" "$sd_ot" "$t_curl" "$sd_curl" "$ratio" "$v_time"
printf 'peak RSS: opentoe %d KiB, with SHA256 verification %d KiB (target < 16384) %s; curl %d KiB\n' \
        "$rss_plain" "$rss_sum" "$v_rss" "$rss_curl"
exit $status
