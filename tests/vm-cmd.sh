#!/bin/bash
# vm-cmd.sh: the host side of `opentoe vm run` and `opentoe vm image`
# without booting anything: qemu is tests/servers/qemu_standin.py
# (OPENTOE_VM_QEMU), which checks nothing itself but records the command
# line, reads in.tar, plays two boots on the console port, signals, and
# writes out.tar (or hangs, fails, or writes hostile entries), and the
# image cache is a fake one in the scratch folder.  Checked: qemu's
# command line (no network, the three disks, the ports, the
# accelerator and why), in.tar's job, the console lines and progress
# (plain, and on a terminal), the summary and the exit status, the log
# folder in --output, the time limit and SIGINT (no process left, work
# folder removed), --keep, hostile out.tar entries refused, a bad
# document never booting, and the image built when the cache is empty.
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W vm-cmd
command -v qemu-img > /dev/null || skip_all "qemu-img (qemu-utils) is not installed"

STANDIN=$top_srcdir/tests/servers/qemu_standin.py
MARK=vmcmd-mark-$$-$RANDOM
export XDG_CACHE_HOME=$W/cache TMPDIR=$W/tmp OPENTOE_VM_QEMU=$STANDIN STANDIN_DIR=$W/sd STANDIN_MARK=$MARK
mkdir -p "$TMPDIR" "$STANDIN_DIR"
img=$XDG_CACHE_HOME/opentoe/vm/debian-12
# Never the real build (debootstrap as root, the network): a check that
# wants a build names its own script.
printf '#!/bin/sh\necho "vm-cmd.sh: no build here" >&2\nexit 99\n' > "$W/no-build.sh"
chmod +x "$W/no-build.sh"
export OPENTOE_VM_BUILD_IMAGE=$W/no-build.sh

# A cached image as the build script leaves it (the files' contents are
# the stand-in's business: it never boots them).
fake_image() {
        mkdir -p "$1"
        truncate -s 4M "$1/root.img"
        echo kernel > "$1/vmlinuz"
        echo initrd > "$1/initrd.img"
        cat > "$1/image.json" << 'EOF'
{"name": "debian-12", "kernel": "vmlinuz", "initrd": "initrd.img", "root": "root.img",
 "append": "root=/dev/vda rw console=ttyS0 quiet", "opentoe": "0.test", "built": "2026-12-02T00:00:00Z"}
EOF
}
fake_image "$img"

cd "$W" || bail_out "no scratch folder"
cat > a.yml << 'EOF'
name: a
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: S1
        action: ExecuteBash
        inputs:
          commands:
            - echo one
EOF
sed 's/name: a$/name: b/' a.yml > b.yml
cat > bad.yml << 'EOF'
name: bad
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: S1
        action: NoSuchAction
EOF

vm=("$OPENTOE" vm run)
reset_sd() { rm -rf "$STANDIN_DIR" && mkdir -p "$STANDIN_DIR"; }
argv_has() { python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if sys.argv[2:] == a[a.index(sys.argv[2]):a.index(sys.argv[2])+len(sys.argv[2:])] else 1)' "$STANDIN_DIR/argv.json" "$@" 2> /dev/null; }
argv_grep() { python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))))' "$STANDIN_DIR/argv.json" | grep -E -- "$1" > /dev/null; }
work_dirs() { find "$TMPDIR" -maxdepth 1 -name 'opentoe-vm.*' | wc -l; }
# No stand-in and none of its children, after a moment for SIGKILL.
no_strays() {
        local i
        for i in $(seq 20); do
                pgrep -f "$MARK|qemu_standin" > /dev/null || return 0
                sleep 0.1
        done
        pgrep -af "$MARK|qemu_standin" | sed 's/^/# stray: /'
        return 1
}
on_failure() {
        diag "rc=$rc"
        diag "stdout: ${out:0:3000}"
        diag "stderr: ${err:0:3000}"
}

# ---- a run that succeeds, with a reboot --------------------------------

reset_sd
capture vm OPENTOE_VM_ACCEL=tcg -d a.yml,b.yml -p build,validate --parameters 'x=1,y=a\,b' --parameters z=3 \
        -o out1 --timeout 600
check "a successful run exits 0" eval '[ $rc -eq 0 ]'
check "the accelerator is said, and why" has_err "accelerator TCG: OPENTOE_VM_ACCEL says so"
check "the image is said" has_err "image debian-12, opentoe 0.test ($img)"
check_eval "the work folder is said, under TMPDIR" 'grep -qE "work folder $TMPDIR/opentoe-vm\.[A-Za-z0-9]{6}$" <<< "$err"'
check "argv: -nic none" argv_has -nic none
check "argv: -accel tcg -cpu max" eval 'argv_has -accel tcg && argv_has -cpu max'
check "argv: no display, no defaults, q35, 1 GiB, 2 CPUs" \
        eval 'argv_has -display none && argv_has -nodefaults && argv_has -machine q35 && argv_has -m 1024 && argv_has -smp 2'
check "argv: direct kernel boot from the cache with image.json's append" \
        eval 'argv_has -kernel "$img/vmlinuz" && argv_has -initrd "$img/initrd.img" && argv_has -append "root=/dev/vda rw console=ttyS0 quiet"'
check "argv: vda the qcow2 overlay, vdb in.tar read-only, vdc out.tar, in that order" \
        eval 'python3 -c "import json,sys; a=json.load(open(sys.argv[1])); d=[a[i+1] for i,x in enumerate(a) if x==\"-drive\"]; import re; sys.exit(0 if len(d)==3 and re.match(r\"file=.*/root\.qcow2,format=qcow2,if=virtio$\",d[0]) and re.match(r\"file=.*/in\.tar,format=raw,if=virtio,readonly=on$\",d[1]) and re.match(r\"file=.*/out\.tar,format=raw,if=virtio$\",d[2]) else 1)" "$STANDIN_DIR/argv.json"'
check "argv: the serial console to serial.log in the work folder" argv_grep '^file:.*/opentoe-vm\.[^/]+/serial\.log$'
check "argv: the two virtio-serial ports on sockets" \
        eval 'argv_has -device virtio-serial-pci && argv_grep "^virtserialport,chardev=console,name=org\.opentoe\.console$" && argv_grep "^virtserialport,chardev=signal,name=org\.opentoe\.signal$" && argv_grep "^socket,id=console,path=.*/console\.sock$"'
check_eval "in.tar: job.json names the documents, phases, parameters, id and time limit" \
        'python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j[\"documents\"]==[\"documents/a.yml\",\"documents/b.yml\"] and j[\"phases\"]==\"build,validate\" and j[\"parameters\"]==[\"x=1\",\"y=a,b\",\"z=3\"] and len(j[\"executionId\"])==36 and j[\"timeoutSeconds\"]==600 else 1)" "$STANDIN_DIR/in/job.json"'
check "in.tar: the documents as given" eval 'cmp -s a.yml "$STANDIN_DIR/in/documents/a.yml" && cmp -s b.yml "$STANDIN_DIR/in/documents/b.yml"'
check "the console's messages are printed" eval 'has_err "step S1 begins" && has_err "resumed after the reboot" && has_err "step S2 done"'
check "progress (not a terminal): plain lines with document, phase, step" \
        has_err "[vm] document a.yml, phase build, step S1 (running), reboots 0"
check "a second boot id is a reboot" eval 'has_err "the guest rebooted (boot 2)" && has_err "step S2 (success), reboots 1"'
check "the signal line is noticed" has_err "the guest signalled the end of the run (success)"
check_eval "stdout is the summary JSON, and nothing else" '[ "$(python3 -c "import json,sys; print(json.load(sys.stdin)[\"status\"])" <<< "$out")" = success ]'
check "the TOE_ folder is in --output, with its files" \
        eval 'ls -d out1/TOE_*/ > /dev/null && [ "$(cat out1/TOE_*/console.log)" = "the run'"'"'s console" ] && [ -f out1/TOE_*/sub/detailedoutput.json ]'
check "summary.json and journal.txt are in --output too" eval '[ -s out1/summary.json ] && grep -q "a line" out1/journal.txt'
check "the log folder is said" has_err "the run's log folder: out1/TOE_"
check "the work folder is removed at the end" eval '[ "$(work_dirs)" -eq 0 ]'

# ---- status, accelerator, keep --------------------------------------------

reset_sd
capture vm STANDIN_STATUS=1 -d a.yml -o out2
check "a failed run: its status (1) is the exit status" eval '[ $rc -eq 1 ] && has_out "\"status\": \"failed\""'
reset_sd
capture vm STANDIN_STATUS=194 -d a.yml -o out2b
check "any status is passed on (194)" eval '[ $rc -eq 194 ]'

mkdir -p sysroot/sys/module/kvm_pvm sysroot/dev
reset_sd
capture vm OPENTOE_TEST_SYSTEM_ROOT="$W/sysroot" -d a.yml -o out3
check "kvm-pvm present: TCG, and why" eval '[ $rc -eq 0 ] && has_err "accelerator TCG: this host'"'"'s KVM is kvm-pvm" && argv_has -accel tcg'
rmdir sysroot/sys/module/kvm_pvm
reset_sd
capture vm OPENTOE_TEST_SYSTEM_ROOT="$W/sysroot" -d a.yml -o out3
check "no /dev/kvm: TCG, and why" eval '[ $rc -eq 0 ] && has_err "accelerator TCG: $W/sysroot/dev/kvm cannot be opened read-write" && argv_has -accel tcg'
reset_sd
capture vm OPENTOE_VM_ACCEL=kvm -d a.yml -o out3
check "OPENTOE_VM_ACCEL=kvm: -accel kvm -cpu host" eval '[ $rc -eq 0 ] && argv_has -accel kvm && argv_has -cpu host'
capture vm OPENTOE_VM_ACCEL=hvf -d a.yml -o out3
check "a bad OPENTOE_VM_ACCEL is refused" eval '[ $rc -eq 1 ] && has_err "OPENTOE_VM_ACCEL is kvm or tcg"'

reset_sd
capture vm --keep -d a.yml -o out4
kept=$(sed -n 's/.*kept the work folder //p' <<< "$err")
check "--keep keeps the work folder and says where" \
        eval '[ $rc -eq 0 ] && [ -n "$kept" ] && [ -f "$kept/in.tar" ] && [ -f "$kept/root.qcow2" ] && [ -f "$kept/qemu.log" ] && [ -f "$kept/out.tar" ]'
check "in.tar is a disk of whole MiBs" eval '[ $(( $(stat -c %s "$kept/in.tar") % (1 << 20) )) -eq 0 ]'
check "out.tar is a 256 MiB disk" eval '[ "$(stat -c %s "$kept/out.tar")" -eq $((256 << 20)) ]'
check_eval "the overlay's backing file is the cached root.img" 'qemu-img info "$kept/root.qcow2" | grep -qF "backing file: $img/root.img"'
rm -rf "$kept"

# ---- the time limit and SIGINT ---------------------------------------------

reset_sd
capture vm STANDIN_MODE=hang -d a.yml -o out5 --timeout 2
check "--timeout: the VM is killed, exit 124, said" eval '[ $rc -eq 124 ] && has_err "ran past --timeout (2 s)"'
check "--timeout: within the limit" eval '[ $elapsed_ms -lt 10000 ]'
check "--timeout: no stand-in or child of it is left" no_strays
check "--timeout: the work folder is removed" eval '[ "$(work_dirs)" -eq 0 ]'

# Bash starts background commands with SIGINT ignored; opentoe gets it
# as a terminal's Ctrl-C would give it.
sigint_run() {
        reset_sd
        STANDIN_MODE=hang python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$OPENTOE" vm run -d a.yml -o out6 "$@" > sigint.out 2> sigint.err &
        local pid=$! i
        for i in $(seq 100); do
                grep -q "guest: hanging" sigint.out 2> /dev/null && break
                sleep 0.1
        done
        kill -INT "$pid"
        wait "$pid"
        rc=$?
        out=$(cat sigint.out)
        err=$(cat sigint.err)
}
sigint_run
check "SIGINT: the VM is killed, exit 130, said" eval '[ $rc -eq 130 ] && has_err "stopped by signal 2"'
check "SIGINT: no stand-in or child of it is left" no_strays
check "SIGINT: the work folder is removed" eval '[ "$(work_dirs)" -eq 0 ]'
sigint_run --keep
kept=$(sed -n 's/.*kept the work folder //p' <<< "$err")
check "SIGINT with --keep: the work folder stays" eval '[ $rc -eq 130 ] && [ -d "$kept" ] && [ -f "$kept/in.tar" ]'
check "SIGINT with --keep: no stand-in left either" no_strays
rm -rf "$kept"

# kill -9 of opentoe: qemu goes with it (PR_SET_PDEATHSIG; the work
# folder is left, nothing can remove it).
reset_sd
STANDIN_MODE=hangsolo "$OPENTOE" vm run -d a.yml -o out-k9 > k9.out 2> k9.err &
k9=$!
for i in $(seq 100); do
        grep -q "guest: hanging" k9.err 2> /dev/null && break
        sleep 0.1
done
running=$(pgrep -f "qemu_standin" | wc -l)
kill -9 "$k9"
wait "$k9" 2> /dev/null
check "kill -9 of opentoe: the stand-in was running, and dies with it" eval '[ "$running" -eq 1 ] && no_strays'
rm -rf "$TMPDIR"/opentoe-vm.*

# ---- what comes back from the guest is not trusted ------------------------

for mode in dotdot absolute symlink hardlink; do
        reset_sd
        rm -rf "out-$mode" "$W/escaped" "$W/abs-target"
        capture vm STANDIN_MODE=$mode STANDIN_ABS="$W/abs-target" -d a.yml -o "out-$mode/x"
        check "out.tar with a $mode entry: refused, the run fails" eval '[ $rc -eq 1 ] && has_err "out.tar: refusing"'
        check "out.tar with a $mode entry: nothing outside the TOE_ folder" \
                eval '[ ! -e "$W/escaped" ] && [ ! -e "out-$mode/escaped" ] && [ ! -e "$W/abs-target" ] && [ ! -e /etc/passwd-x ] && ! ls out-$mode/x/TOE_*/link/passwd-x 2> /dev/null && ! ls out-$mode/x/TOE_*/hard 2> /dev/null'
done
reset_sd
capture vm STANDIN_MODE=control -d a.yml -o out-control
check "out.tar with control characters in a name: refused, never shown" \
        eval '[ $rc -eq 1 ] && has_err "its path holds control characters" && ! grep -q $'"'"'\x1b'"'"' <<< "$err"'
reset_sd
capture vm STANDIN_MODE=tfile -d a.yml -o out-tfile
check "out.tar with a TOE_ name that is a file: refused" eval '[ $rc -eq 1 ] && has_err "refusing '"'"'TOE_file'"'"': not a folder"'
reset_sd
capture vm STANDIN_MODE=guesterror STANDIN_STATUS=125 -d a.yml -o out-ge
check "the guest's own error file: shown (made safe), its status passed on" \
        eval '[ $rc -eq 125 ] && has_err "the guest failed: guest error: no job disk at /dev/vdb?[2J" && ! has_err "left out"'
reset_sd
capture vm STANDIN_MODE=nopoweroff STANDIN_STATUS=1 OPENTOE_VM_POWEROFF_GRACE_S=1 -d a.yml -o out-np --timeout 60
check "a guest that signals but does not power off: stopped after the grace, its results read" \
        eval '[ $rc -eq 1 ] && has_err "still up 1 s later: stopped" && [ $elapsed_ms -lt 20000 ] && ls -d out-np/TOE_*/ > /dev/null && has_out "\"failed\""'
check "... and no stand-in is left" no_strays
reset_sd
capture vm STANDIN_MODE=empty -d a.yml -o out7
check "no results in out.tar: exit 1, said" eval '[ $rc -eq 1 ] && has_err "the guest wrote no results"'
reset_sd
capture vm STANDIN_MODE=fail -d a.yml -o out7
check "qemu failing: its status and its log's end are shown, exit 1" \
        eval '[ $rc -eq 1 ] && has_err "qemu ended with status 1" && has_err "could not initialize the accelerator"'
reset_sd
capture vm STANDIN_MODE=noise -d a.yml -o out8
check "console: lines that are not JSON are shown as they came" has_err "plain text from the guest"
check "console: a line past 64 KiB is cut" eval 'has_err "[line cut]" && [ "$(grep -c "^xxxx" <<< "$err")" -eq 1 ] && [ "$(grep "^xxxx" <<< "$err" | wc -c)" -lt 66000 ]'
check "console: control characters are made visible, never sent to the terminal" \
        eval 'has_err "bell\\x07 and \\x1b[2Jclear" && ! grep -q $'"'"'[\x07\x1b]'"'"' <<< "$err"'

# ---- on a terminal: the progress line ---------------------------------------

reset_sd
python3 - "$OPENTOE" > tty.out 2> tty.err << 'EOF'
import os, sys
pid, fd = os.forkpty()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "vm", "run", "-d", "a.yml", "-o", "out9"])
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(data)
sys.exit(os.waitstatus_to_exitcode(st))
EOF
trc=$?
check "on a terminal: the run succeeds" eval '[ $trc -eq 0 ]'
check "on a terminal: a progress line redrawn in place (\\r, erase line)" \
        eval 'grep -qaF $'"'"'\r\e[K[vm] document a.yml, phase build, step S2 (success), reboots 1, 0:0'"'"' tty.out'
check "on a terminal: the progress line is not printed as its own lines" eval '! grep -qa "^\[vm\]" tty.out'

# ---- documents are checked before anything boots ---------------------------

reset_sd
capture vm -d bad.yml -o out10
check "a bad document: the usual diagnostics, exit 1" eval '[ $rc -eq 1 ] && has_err "bad.yml:7" && has_err "NoSuchAction"'
check "a bad document: nothing boots, no work folder" eval '[ ! -e "$STANDIN_DIR/argv.json" ] && [ "$(work_dirs)" -eq 0 ]'
capture vm -d a.yml,missing.yml -o out10
check "a missing document: nothing boots" eval '[ $rc -eq 1 ] && [ ! -e "$STANDIN_DIR/argv.json" ]'
capture vm -d s3://bucket/doc.yml -o out10
check "an s3:// document: refused (no network in the guest)" eval '[ $rc -eq 1 ] && has_err "the VM has no network"'
capture vm -o out10
check "no documents: a usage error" eval '[ $rc -eq 2 ] && has_err "no documents"'
capture vm -d a.yml --parameters novalue
check "a bad parameter: a usage error" eval '[ $rc -eq 2 ] && has_err "each parameter needs a name and a value"'
capture vm -d a.yml --image ../x
check "a bad image name: a usage error" eval '[ $rc -eq 2 ] && has_err "is not an image name"'

# ---- extra/ and repo/ -------------------------------------------------------

mkdir -p extra/sub repo/dists
echo data > extra/sub/file
echo x > repo/dists/Release
reset_sd
capture vm -d a.yml --extra extra --repo repo -o out11
check "--extra and --repo: in in.tar as extra/ and repo/" \
        eval '[ $rc -eq 0 ] && cmp -s extra/sub/file "$STANDIN_DIR/in/extra/sub/file" && cmp -s repo/dists/Release "$STANDIN_DIR/in/repo/dists/Release"'
ln -s /etc/passwd extra/link
capture vm -d a.yml --extra extra -o out11
check "--extra with a link in it: refused before the boot" eval '[ $rc -eq 1 ] && has_err "links are not followed"'
rm extra/link

# ---- the image: built when the cache is empty -------------------------------

cat > build-image.sh << 'EOF'
#!/bin/bash
# A stand-in for packaging/vm/build-image.sh: --out DIR [--deb FILE].
set -eu
[ "$1" = --out ] && out=$2
echo "fake build into $out" >&2
echo "args: $*" >> "$BUILD_LOG"
mkdir -p "$out"
truncate -s 1M "$out/root.img"
echo k > "$out/vmlinuz"; echo i > "$out/initrd.img"
echo '{"name":"debian-12","kernel":"vmlinuz","initrd":"initrd.img","root":"root.img","append":"console=ttyS0","opentoe":"0.built"}' > "$out/image.json"
EOF
chmod +x build-image.sh
rm -rf "$img"
export BUILD_LOG=$W/build.log
reset_sd
capture vm OPENTOE_VM_BUILD_IMAGE="$W/build-image.sh" -d a.yml -o out12
check "an empty cache: the image is built first, said, and the run goes on" \
        eval '[ $rc -eq 0 ] && has_err "is not in the cache" && has_err "building the image debian-12" && has_err "built the image debian-12 in 0 min" && has_err "opentoe 0.built"'
check "the build writes into a temporary folder renamed into place" \
        eval 'grep -q "^args: --out $XDG_CACHE_HOME/opentoe/vm/\.debian-12\.build\." "$BUILD_LOG" && [ -f "$img/image.json" ] && [ -z "$(ls -A "$XDG_CACHE_HOME/opentoe/vm" | grep "^\.")" ]'
: > "$BUILD_LOG"
capture vm OPENTOE_VM_BUILD_IMAGE="$W/build-image.sh" -d a.yml -o out12
check "a cached image is not built again" eval '[ $rc -eq 0 ] && [ ! -s "$BUILD_LOG" ] && ! has_err "building"'
vmi=("$OPENTOE" vm image)
capture vmi OPENTOE_VM_BUILD_IMAGE="$W/build-image.sh"
check "vm image with a cached image: says so, prints where" eval '[ $rc -eq 0 ] && has_err "is cached" && [ "$out" = "$img" ] && [ ! -s "$BUILD_LOG" ]'
capture vmi OPENTOE_VM_BUILD_IMAGE="$W/build-image.sh" --rebuild --deb /tmp/x.deb
check "vm image --rebuild --deb: built again, the package passed on, the old image replaced" \
        eval '[ $rc -eq 0 ] && grep -q -- "--deb /tmp/x.deb" "$BUILD_LOG" && [ "$out" = "$img" ] && [ -z "$(ls -A "$XDG_CACHE_HOME/opentoe/vm" | grep "^\.")" ]'
printf '#!/bin/sh\necho broken >&2\nexit 3\n' > broken.sh
chmod +x broken.sh
capture vmi OPENTOE_VM_BUILD_IMAGE="$W/broken.sh" --rebuild
check "a failed build: exit 1, the cached image kept, no temporary left" \
        eval '[ $rc -eq 1 ] && has_err "failed (exit status 3)" && [ -f "$img/image.json" ] && [ -z "$(ls -A "$XDG_CACHE_HOME/opentoe/vm" | grep "^\.")" ]'
rm -rf "$img"
reset_sd
capture vm OPENTOE_VM_BUILD_IMAGE="$W/no-such-script" -d a.yml -o out12
check "a build script that cannot run: said, exit 1, nothing boots" \
        eval '[ $rc -eq 1 ] && has_err "the image build script $W/no-such-script: No such file" && [ ! -e "$STANDIN_DIR/argv.json" ] && [ ! -e "$img" ]'

reset_sd
capture vm OPENTOE_VM_BUILD_IMAGE="$W/build-image.sh" --image ubuntu-24 -d a.yml -o out12
check "another image than debian-12 that is not cached: not built, said, nothing boots" \
        eval '[ $rc -eq 1 ] && has_err "only the image debian-12 can be built; ubuntu-24 is not in the cache" && [ ! -e "$STANDIN_DIR/argv.json" ]'
mkdir -p "$XDG_CACHE_HOME/opentoe/vm"
fake_image "$XDG_CACHE_HOME/opentoe/vm/ubuntu-24"
capture vm --image ubuntu-24 -d a.yml -o out13
check "another image placed in the cache: used" eval '[ $rc -eq 0 ] && argv_has -kernel "$XDG_CACHE_HOME/opentoe/vm/ubuntu-24/vmlinuz"'
check "no stand-in is left after the whole suite" no_strays
done_testing
