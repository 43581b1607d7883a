#!/bin/bash
# dev-run.sh: boots the `opentoe vm` guest image the way the contract says
# the host does (packaging/vm/README.md), without the host's C side: for
# trying the image and its guest scripts.  Makes in.tar (job.json and
# documents/) with tar, a 256 MiB out.tar, a qcow2 overlay on root.img,
# runs qemu (TCG unless OPENTOE_VM_ACCEL=kvm), shows the console port's
# lines, and at the end the signal line, out.tar's summary.json, and the
# journal's execution ids and boots.  Exits with the run's status.
#
#   dev-run.sh --documents A.yml[,B.yml] [--phases P,Q] [--parameters K=V,...]
#              [--image DIR] [--work DIR] [--output DIR] [--timeout SECONDS] [--repo DIR] [--extra DIR]
#              [--in-tar FILE]  (a job disk made elsewhere, taken as it is)
set -euo pipefail

image=${XDG_CACHE_HOME:-$HOME/.cache}/opentoe/vm/debian-12
documents= phases= parameters= work= output=./opentoe-vm-out timeout=1800 repo= extra= in_tar=
while [ $# -gt 0 ]; do
        case $1 in
        --documents) documents=${2:?}; shift 2 ;;
        --phases) phases=${2:?}; shift 2 ;;
        --parameters) parameters=${2:?}; shift 2 ;;
        --image) image=${2:?}; shift 2 ;;
        --work) work=${2:?}; shift 2 ;;
        --output) output=${2:?}; shift 2 ;;
        --timeout) timeout=${2:?}; shift 2 ;;
        --repo) repo=${2:?}; shift 2 ;;
        --extra) extra=${2:?}; shift 2 ;;
        --in-tar) in_tar=${2:?}; shift 2 ;;
        *) sed -n '10,12p' "$0" | sed 's/^#   /usage: /; s/^#//' >&2; exit 2 ;;
        esac
done
[ -n "$documents" ] || [ -n "$in_tar" ] || { echo "dev-run.sh: --documents or --in-tar is needed" >&2; exit 2; }
[ -f "$image/image.json" ] || { echo "dev-run.sh: no image in $image (build-image.sh --out $image)" >&2; exit 1; }
work=${work:-$(mktemp -d /tmp/opentoe-vm-dev.XXXXXX)}
mkdir -p "$work"
say() { printf 'dev-run: %s\n' "$*" >&2; }

# ---- the job disk --------------------------------------------------------------
make_in_tar() {
        stage=$work/in
        rm -rf "$stage"
        mkdir -p "$stage/documents"
        docs=()
        IFS=, read -r -a dl <<< "$documents"
        for d in "${dl[@]}"; do
                cp "$d" "$stage/documents/$(basename "$d")"
                docs+=("documents/$(basename "$d")")
        done
        params=()
        [ -z "$parameters" ] || IFS=, read -r -a params <<< "$parameters"
        id=$(cat /proc/sys/kernel/random/uuid)
        jq -n --arg id "$id" --arg phases "$phases" --argjson timeout "$timeout" \
                '{documents: $ARGS.positional[0:$n], phases: (if $phases == "" then null else $phases end),
                  parameters: $ARGS.positional[$n:], executionId: $id, timeoutSeconds: $timeout}' \
                --argjson n "${#docs[@]}" --args "${docs[@]}" "${params[@]}" > "$stage/job.json"
        parts=(job.json documents)
        if [ -n "$repo" ]; then
                cp -a "$repo" "$stage/repo"
                parts+=(repo)
        fi
        if [ -n "$extra" ]; then
                cp -a "$extra" "$stage/extra"
                parts+=(extra)
        fi
        tar -c -f "$work/in.tar" -C "$stage" "${parts[@]}"
}
if [ -n "$in_tar" ]; then
        cp "$in_tar" "$work/in.tar"
        id=$(tar -x -O -f "$in_tar" job.json 2> /dev/null | jq -r '.executionId // "?"' 2> /dev/null || echo "?")
else
        make_in_tar
fi
# A disk of whole MiBs: the guest kernel's partition probes read past a
# small disk's end (zeros after the tar's end are its end marker anyway).
truncate -s %1M "$work/in.tar"
rm -f "$work/out.tar"
truncate -s 256M "$work/out.tar"
qemu-img create -q -f qcow2 -b "$image/root.img" -F raw "$work/root.qcow2"
: > "$work/console.jsonl"
: > "$work/signal.jsonl"

# ---- the machine -----------------------------------------------------------------
accel=${OPENTOE_VM_ACCEL:-tcg}
append=$(jq -r .append "$image/image.json")
say "execution $id, accel $accel, work folder $work"
qemu=(qemu-system-x86_64 -no-user-config -nodefaults -machine q35 -accel "$accel" -cpu max -m 1024 -smp 2
        -kernel "$image/$(jq -r .kernel "$image/image.json")" -initrd "$image/$(jq -r .initrd "$image/image.json")"
        -append "$append" -nic none -display none -serial "file:$work/serial.log"
        -drive "if=none,id=root,file=$work/root.qcow2,format=qcow2" -device virtio-blk-pci,drive=root
        -drive "if=none,id=in,file=$work/in.tar,format=raw,readonly=on" -device virtio-blk-pci,drive=in
        -drive "if=none,id=out,file=$work/out.tar,format=raw" -device virtio-blk-pci,drive=out
        -device virtio-serial-pci
        -chardev "file,id=console,path=$work/console.jsonl" -device virtserialport,chardev=console,name=org.opentoe.console
        -chardev "file,id=signal,path=$work/signal.jsonl" -device virtserialport,chardev=signal,name=org.opentoe.signal)
t0=$(date +%s)
# The console port's lines as they come: the boot, then the message.
tail -n +1 -F "$work/console.jsonl" 2> /dev/null |
        jq --unbuffered -r '"[\(.boot[0:8])] \(.document // "")\(if .step then "/" + .phase + "/" + .step else "" end) \(.message)"' &
tail_pid=$!
set +e
timeout --foreground -k 10 "$timeout" "${qemu[@]}"
qrc=$?
set -e
sleep 0.5
kill "$tail_pid" 2> /dev/null || true
say "qemu exited with $qrc after $(($(date +%s) - t0)) s"
[ "$qrc" = 124 ] && { say "timed out after $timeout s"; exit 124; }

# ---- what came out -------------------------------------------------------------------
say "signal port: $(head -n 1 "$work/signal.jsonl")"
mkdir -p "$output"
tar -x -f "$work/out.tar" -C "$output" || { say "out.tar holds no tar"; exit 1; }
say "out.tar: $(tar -t -f "$work/out.tar" | grep -v '/.' | tr '\n' ' ')"
boots=$(jq -r .boot "$work/console.jsonl" | sort -u | wc -l)
say "console: $(wc -l < "$work/console.jsonl") lines from $boots boot(s)"
cat "$output/summary.json" 2> /dev/null || say "no summary.json"
exit "$(cat "$output/status" 2> /dev/null || echo 1)"
