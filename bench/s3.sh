#!/bin/bash
# s3.sh: the speed and memory of S3Upload and S3Download.  s3rver (npm,
# 3.7.1, as tests/s3.sh uses it) serves a bucket on 127.0.0.1; hyperfine
# times, in the same run, a one-step S3Upload document against
# `aws s3 cp FILE s3://...`, and a one-step S3Download document against
# `aws s3 cp s3://... FILE`, for a 1 GiB object of random bytes (opentoe
# with its defaults: multipart above 64 MiB in 16 MiB parts, one part at
# a time; awscli with its own: 8 MiB parts, 10 at a time).  Then
# /usr/bin/time reports opentoe's and awscli's peak RSS for each.  Files
# and s3rver's store are in /dev/shm when it has room, so the disk is not
# what is measured.
#
#   bench/s3.sh [path/to/opentoe]
#
# Targets: opentoe's mean time <= awscli's for each direction (ratio <=
# 1.0; 5 per cent of noise allowed); opentoe's peak RSS < 32 MiB.  Exits 1
# if a target is missed, 2 if a tool is missing.  BENCH_RUNS (default 3)
# sets hyperfine's runs; BENCH_BYTES (default 1073741824) the object's
# size; S3RVER or S3RVER_PREFIX and AWS as for tests/s3.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
find_s3_tools
need_opentoe
need hyperfine hyperfine
need python3 python3
need node nodejs
[ -x /usr/bin/time ] || need /usr/bin/time time
[ -n "$AWS" ] || die "install awscli (apt-get install awscli)"
[ -f "$S3RVER" ] || die "s3rver is missing; scripts/setup.sh --test installs it in $S3RVER_PREFIX"

# Room for the source, two stored objects, a multipart upload's parts and
# two downloads, with some to spare.
bench_work $((BYTES / 1024 * 6 + 262144))
cd "$work"

no_proxy_env
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

start_s3rver s3rver -d "$work/store" -s --configure-bucket bench
ep=http://127.0.0.1:$port_s3rver
export AWS_ENDPOINT_URL_S3=$ep

head -c "$BYTES" /dev/urandom > src.bin
"$AWS" --endpoint-url "$ep" s3 cp src.bin s3://bench/object.bin --quiet

doc() { # doc FILE ACTION SOURCE DESTINATION
        printf 'name: bench\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n' > "$1"
        printf '      - name: Transfer\n        action: %s\n        inputs:\n' "$2" >> "$1"
        printf '          - source: %s\n            destination: %s\n' "$3" "$4" >> "$1"
}
doc up.yml S3Upload "$work/src.bin" s3://bench/by-opentoe.bin
doc down.yml S3Download s3://bench/object.bin "$work/out-opentoe.bin"

echo "== $("$AWS" --version 2>&1); s3rver on $ep; $BYTES bytes, $RUNS runs"
hyperfine --runs "$RUNS" --warmup 1 --export-json times.json \
        --prepare "rm -rf $work/out-opentoe.bin $work/out-aws.bin $work/logs $work/state" \
        -n "opentoe upload" "./opentoe run --documents up.yml -l $work/logs -s $work/state" \
        -n "aws upload" "$AWS --endpoint-url $ep s3 cp $work/src.bin s3://bench/by-aws.bin --quiet" \
        -n "opentoe download" "./opentoe run --documents down.yml -l $work/logs -s $work/state" \
        -n "aws download" "$AWS --endpoint-url $ep s3 cp s3://bench/object.bin $work/out-aws.bin --quiet"

rm -rf out-opentoe.bin out-aws.bin logs state

rss_up=$(rss ./opentoe run --documents up.yml -l "$work/logs" -s "$work/state")
rss_down=$(rss ./opentoe run --documents down.yml -l "$work/logs" -s "$work/state")
# What was measured was right: both transfers, byte for byte.
cmp -s src.bin out-opentoe.bin || { echo "s3.sh: opentoe's download differs from the object" >&2; exit 1; }
"$AWS" --endpoint-url "$ep" s3 cp s3://bench/by-opentoe.bin check.bin --quiet
cmp -s src.bin check.bin || { echo "s3.sh: opentoe's upload differs from the file" >&2; exit 1; }
rm -rf check.bin out-opentoe.bin logs state
rss_aws_up=$(rss "$AWS" --endpoint-url "$ep" s3 cp src.bin s3://bench/by-aws.bin --quiet)
rss_aws_down=$(rss "$AWS" --endpoint-url "$ep" s3 cp s3://bench/object.bin out-aws.bin --quiet)

read -r t_up sd_up t_aup sd_aup t_down sd_down t_adown sd_adown < <(hyperfine_means times.json \
        "opentoe upload" "aws upload" "opentoe download" "aws download")
ratio_up=$(python3 -c "print('%.3f' % ($t_up / $t_aup))")
ratio_down=$(python3 -c "print('%.3f' % ($t_down / $t_adown))")
within() { python3 -c "print(1 if $1 <= 1.05 else 0)"; }
verdict "$(within "$ratio_up")" v_up
verdict "$(within "$ratio_down")" v_down
verdict "$([ "$rss_up" -lt 32768 ] && [ "$rss_down" -lt 32768 ] && echo 1 || echo 0)" v_rss

echo
label=$(python3 -c "b = $BYTES; print('%g GiB' % (b / 2**30) if b >= 2**30 else '%g MiB' % (b / 2**20))")
printf 's3 upload %s:   opentoe %.3f s (± %.3f), aws s3 cp %.3f s (± %.3f), ratio %s (target <= 1.0) %s\n' \
        "$label" "$t_up" "$sd_up" "$t_aup" "$sd_aup" "$ratio_up" "$v_up"
printf 's3 download %s: opentoe %.3f s (± %.3f), aws s3 cp %.3f s (± %.3f), ratio %s (target <= 1.0) %s\n' \
        "$label" "$t_down" "$sd_down" "$t_adown" "$sd_adown" "$ratio_down" "$v_down"
printf 'peak RSS: opentoe upload %d KiB, download %d KiB (target < 32768) %s; aws s3 cp upload %d KiB, download %d KiB\n' \
        "$rss_up" "$rss_down" "$v_rss" "$rss_aws_up" "$rss_aws_down"
exit $status
