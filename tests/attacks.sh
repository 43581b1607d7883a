#!/bin/bash
# attacks.sh: a local user (nobody) attacks a root run of opentoe in a
# shared, world-writable place, as /tmp is on build instances.  Each
# attack is carried out for real and must fail, with a message that
# names the path and what is wrong: links planted at a predictable log
# folder name, a log folder recreated by the attacker with a `scripts`
# link before a resume, forged state files, state and log directories
# under folders others can write or own, links on the way, and modes
# under umask 000 and 077.  Needs root (skipped otherwise).  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
OPENTOE=$(realpath "$OPENTOE")
if [ "$(id -u)" != 0 ] || ! id nobody > /dev/null 2>&1; then
        skip_all "needs root and the user nobody"
fi
scratch_dir W attacks
chmod 755 "$W"
cd "$W" || exit 1
on_failure() { sed 's/^/# /' err 2> /dev/null | head -5; }
ID=12121212-3434-4565-8787-909090909090
mkdir -m 1777 shared            # like /tmp
mkdir -m 755 victim             # root's own folder
echo original > victim-file; chmod 644 victim-file
build_doc doc.yml <<'YML'
      - name: Hello
        action: ExecuteBash
        inputs:
          commands: ["echo hello"]
YML
build_doc reboot.yml <<'YML'
      - name: Once
        action: ExecuteBash
        inputs:
          commands: ["echo safe >> ran-once"]
      - name: Reboots
        action: ExecuteBash
        inputs:
          commands: ["if [ ! -e rebooted ]; then touch rebooted; exit 194; fi", "echo after"]
YML
# The folder names of the next seconds, as an attacker predicts them: half
# a minute of them, since a loaded machine (make distcheck beside other
# builds) once took more than 9 s from here to the run's start.
names() {
        for s in $(seq 0 29); do
                echo "TOE_$(date -u -d "@$(($(date +%s) + s))" +%Y-%m-%d_%H-%M-%S)_UTC-0_$ID"
        done
}

# 1. Links at the predictable log folder name (-i given).
for f in $(names); do as_user nobody ln -s "$W/victim" "shared/$f"; done
"$OPENTOE" run -d doc.yml -l shared -s state1 -i $ID > out 2> err; rc=$?
check_eval "a TOE_ link planted at the predicted name is not followed: the run refuses, naming it" \
        '[ $rc = 1 ] && grep -q "the log folder shared/TOE_.* already exists" err && [ -z "$(ls -A victim)" ]'
rm -f shared/TOE_*

# 2. A planted folder whose console.log links to a file root owns.
for f in $(names); do
        as_user nobody mkdir -m 777 "shared/$f"
        as_user nobody ln -s "$W/victim-file" "shared/$f/console.log"
        as_user nobody ln -s "$W/victim-file" "shared/$f/application.log"
done
"$OPENTOE" run -d doc.yml -l shared -s state2 -i $ID > out 2> err; rc=$?
check_eval "a planted TOE_ folder with console.log linked to root's file is refused; the file is untouched" \
        '[ $rc = 1 ] && grep -q "already exists" err && [ "$(cat victim-file)" = original ]'
rm -rf shared/TOE_*

# 3. A resume into a log folder the attacker recreated, with a scripts link.
rm -f rebooted ran-once
"$OPENTOE" run -d reboot.yml -l shared -s state3 -i $ID > out 2> err; rc=$?
folder=$(ls -d shared/TOE_*)
check_eval "(setup) a root run in the shared folder asks for a reboot" '[ $rc = 194 ] && [ -d "$folder" ]'
as_user nobody mv "$folder" shared/stolen 2> /dev/null; as_user nobody rm -rf "$folder" 2> /dev/null
check_eval "nobody cannot move or remove root's log folder from the sticky shared folder" '[ -d "$folder" ]'
check_eval "nobody cannot read root's console.log (0640)" '! as_user nobody cat "$folder/console.log" > /dev/null 2>&1'
rm -rf "$folder"   # as if the file system had been emptied at boot
mkdir -m 777 nobodys-dir; chown nobody nobodys-dir
as_user nobody mkdir -m 777 "$folder"
as_user nobody ln -s "$W/nobodys-dir" "$folder/scripts"
as_user nobody ln -s "$W/victim-file" "$folder/console.log"
"$OPENTOE" run -d reboot.yml -l shared -s state3 -i $ID > out 2> err; rc=$?
check_eval "a resume refuses the log folder another user recreated: it names it and its owner" \
        '[ $rc = 1 ] && grep -q "refusing to resume: .*$folder is owned by uid 65534 (nobody), not by uid 0 (root)" err'
check_eval "... no script reached the attacker's folder, root's file is untouched, nothing ran again" \
        '[ -z "$(ls -A nobodys-dir)" ] && [ "$(cat victim-file)" = original ] && [ "$(wc -l < ran-once)" = 1 ]'
rm -rf "$folder"

# 4. Forged state files.  A forger can compute the digest (it is not a
# key): what protects the state is who owns it.
rm -f rebooted ran-once
"$OPENTOE" run -d reboot.yml -l logs4 -s real-state > /dev/null 2>&1
forge() { # forge SRC DST: the saved command of step Reboots becomes `touch pwned`, digests redone
        python3 - "$1" "$2" "$W/pwned" <<'PY'
import hashlib, sys
src, dst, pwned = sys.argv[1:]
lines = open(src, "rb").read().split(b"\n")
header, records = lines[0], [l for l in lines[1:] if l]
prev = hashlib.sha256(b"opentoe-state 3\n" + header).hexdigest()
out = [header]
for rec in records:
    pre, patch = rec.split(b',"patch":', 1)
    n = pre.split(b",")[0]
    patch = patch[:-1].replace(b"if [ ! -e rebooted ]; then touch rebooted; exit 194; fi", ("touch " + pwned).encode())
    prev = hashlib.sha256(prev.encode() + b"\n" + patch).hexdigest()
    out.append(n + b',"digest":"' + prev.encode() + b'","patch":' + patch + b"}")
open(dst, "wb").write(b"\n".join(out) + b"\n")
PY
}
resume_forged() { # resume_forged LOGS STATE: resumes reboot.yml from STATE; sets rc, out and err
        "$OPENTOE" run -d reboot.yml -l "$1" -s "$2" > out 2> err
        rc=$?
}
refused() { # refused WHAT TEXT: the last resume failed, saying TEXT (a grep pattern), and ran no forged command
        local text=$2
        check_eval "$1" '[ $rc = 1 ] && grep -q "$text" err && [ ! -e pwned ]'
}
as_user nobody mkdir -m 777 shared/state
forge real-state/state.jsonl shared/forged.tmp && chown nobody shared/forged.tmp && as_user nobody mv shared/forged.tmp shared/state/state.jsonl
check_eval "(setup) the forged state carries a valid digest and a root-run command" \
        'grep -q pwned shared/state/state.jsonl'
resume_forged logs4b shared/state
refused "a state directory made by another user is refused, naming its owner; the forged command does not run" \
        "the state directory shared/state is unsafe: .*shared/state is owned by uid 65534 (nobody)"
mkdir -m 777 ww-state && chmod 777 ww-state
forge real-state/state.jsonl ww-state/state.jsonl && chown nobody ww-state/state.jsonl && chmod 600 ww-state/state.jsonl
resume_forged logs4c ww-state
refused "a state directory that others can write is refused, with the fix; the forged command does not run" \
        "ww-state can be written by others (mode 0777) and has no sticky bit"
mkdir -m 700 s-owned && forge real-state/state.jsonl s-owned/state.jsonl && chmod 600 s-owned/state.jsonl && chown nobody s-owned/state.jsonl
resume_forged logs4d s-owned
refused "a state file another user owns is refused, naming it and its owner" \
        "refusing to resume: s-owned/state.jsonl is owned by uid 65534 (nobody)"
mkdir -m 700 s-mode && forge real-state/state.jsonl s-mode/state.jsonl && chmod 644 s-mode/state.jsonl
resume_forged logs4e s-mode
refused "a state file others can read is refused, with the fix" \
        "s-mode/state.jsonl can be read or written by group or others (mode 0644)"
mkdir -m 700 s-link && forge real-state/state.jsonl forged-target && chmod 600 forged-target && ln -s "$W/forged-target" s-link/state.jsonl
resume_forged logs4f s-link
refused "a state file that is a link is not followed" \
        "s-link/state.jsonl is a symbolic link"
mkdir -m 700 s-control && forge real-state/state.jsonl s-control/state.jsonl && chmod 600 s-control/state.jsonl
resume_forged logs4g s-control
check_eval "the control: the same forgery, owned by root and private, is accepted (only ownership protects a state)" \
        '[ -e pwned ]'
rm -f pwned

# 5. Folders on the way that others can write (no sticky bit) or own.
mkdir -m 777 ww && chmod 777 ww
"$OPENTOE" run -d doc.yml -l ww/logs -s state5 > out 2> err; rc=$?
check_eval "a log directory under a folder others can write (no sticky bit) is refused, with the fix" \
        "[ \$rc = 1 ] && grep -q \"ww can be written by others (mode 0777) and has no sticky bit.*chmod go-w $W/ww\" err && [ ! -e ww/logs ]"
"$OPENTOE" run -d doc.yml -l logs5 -s ww/state > out 2> err; rc=$?
check_eval "... and so is a state directory there" '[ $rc = 1 ] && grep -q "has no sticky bit" err && [ ! -e ww/state ]'
mkdir -m 755 nobodys && chown nobody nobodys
"$OPENTOE" run -d doc.yml -l nobodys/logs -s state5b > out 2> err; rc=$?
check_eval "a log directory inside a folder another user owns is refused, naming the owner" \
        '[ $rc = 1 ] && grep -q "nobodys is owned by uid 65534 (nobody)" err'
mkdir -m 755 safe
as_user nobody ln -s "$W/safe" shared/link
"$OPENTOE" run -d doc.yml -l shared/link/logs -s state5c > out 2> err; rc=$?
check_eval "a link another user planted on the way is not followed" \
        '[ $rc = 1 ] && grep -q "shared/link is a symbolic link owned by uid 65534 (nobody)" err && [ ! -e safe/logs ]'
"$OPENTOE" run -d doc.yml -l shared -s state5d > out 2> err; rc=$?
check_eval "a sticky world-writable folder (like /tmp) is fine for the log folder" '[ $rc = 0 ]'
rm -rf shared/TOE_*

# 6. Modes whatever the umask.
modes() { # modes FOLDER STATE: the octal modes of everything a run made
        local t
        t=$(ls -d "$1"/TOE_*)
        stat -c '%n %a' "$t" "$t"/console.log "$t"/application.log "$t"/detailedoutput.json "$t"/document.yaml \
                "$t"/scripts "$t"/scripts/* "$2" "$2"/state.jsonl | sed "s|$t|TOE|; s|$2|STATE|; s|TOE/scripts/[^ ]*|TOE/scripts/script|"
}
rm -f rebooted
(umask 000; OPENTOE_KEEP_SCRIPTS=1 "$OPENTOE" run -d reboot.yml -l m000 -s m000-state > /dev/null 2>&1)
m=$(modes m000 m000-state | tr '\n' ' ')
check_eval "under umask 000: folder 750, logs and reports 640, scripts/ 700, scripts 600, state 700/600 ($m)" \
        '[ "$m" = "TOE 750 TOE/console.log 640 TOE/application.log 640 TOE/detailedoutput.json 640 TOE/document.yaml 640 TOE/scripts 700 TOE/scripts/script 600 TOE/scripts/script 600 STATE 700 STATE/state.jsonl 600 " ]'
check_eval "... and nobody can read the logs or write into the folder" \
        '! as_user nobody cat m000/TOE_*/console.log > /dev/null 2>&1 && ! as_user nobody touch m000/TOE_*/x 2> /dev/null'
rm -f rebooted
(umask 077; OPENTOE_KEEP_SCRIPTS=1 "$OPENTOE" run -d reboot.yml -l m077 -s m077-state > /dev/null 2>&1)
m=$(modes m077 m077-state | tr '\n' ' ')
check_eval "under umask 077 the stricter modes are kept: folder 700, everything else 600 ($m)" \
        '[ "$m" = "TOE 700 TOE/console.log 600 TOE/application.log 600 TOE/detailedoutput.json 600 TOE/document.yaml 600 TOE/scripts 700 TOE/scripts/script 600 TOE/scripts/script 600 STATE 700 STATE/state.jsonl 600 " ]'
done_testing
