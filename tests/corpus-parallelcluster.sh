#!/bin/bash
# corpus-parallelcluster.sh: the public corpus's aws-parallelcluster
# update-and-reboot.yml (OS facts, GRUB's nouveau blacklist, unattended
# upgrades off, apt update/upgrade, a CreateFile of the cluster's JSON,
# then its Reboot step) run end to end as root on an Ubuntu 22.04 that
# is only scratch files, once through each reboot mode that needs no
# one else (self: a fake systemctl reboot, then the resume unit's command
# at a simulated boot; ssm: exit 194 and the same command again).
#
# The document as published is the body of a CloudFormation Fn::Sub
# (${!FILE} for bash's ${FILE}, ${AWS::Region}, the template parameter
# ${CfnParamChefDnaJson}): tests/lib/cfnsub.py does first what
# CloudFormation does, and its rules are checked here too (as published,
# the document fails at its first step: bash reads ${!FILE} as an
# indirect expansion).
#
# The machine: each run is in a private mount namespace (unshare -m
# --propagation private) whose /etc and /var/lib are overlays with their
# upper layer in the scratch folder, so every file the document writes
# (/etc/default/grub, /etc/apt/apt.conf.d, /etc/parallelcluster, apt's
# lock under /var/lib/apt) lands there, and the Ubuntu files it reads
# (/etc/os-release, /var/lib/cloud/instance/boot-finished) are put
# there.  Overlays, not bind mounts: most of these paths do not exist on
# the host and a bind mount needs its mount point to.  Everything that
# would change a machine (apt-get, update-grub, systemctl, yum,
# grub2-mkconfig, the reboot) is a fake from tests/lib/fakesys.sh that
# records its arguments, first on PATH for the document's steps and the
# system root (OPENTOE_TEST_SYSTEM_ROOT) for opentoe's own.  jq is real.
# The host's /etc/os-release, /etc/default/grub, /etc/apt/apt.conf.d are
# checked byte for byte before and after.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
corpus=${OPENTOE_CORPUS:-$OPENTOE_SHARED/corpus/public}
resolve_paths
doc=aws__aws-parallelcluster__update-and-reboot.yml
cfnsub=$top_srcdir/tests/lib/cfnsub.py
[ -f "$corpus/$doc" ] || skip_all "corpus not found at $corpus"
[ "$(id -u)" = 0 ] || skip_all "needs root (a private mount namespace with overlays over /etc and /var/lib)"
command -v unshare > /dev/null || skip_all "unshare (util-linux) is not installed"
command -v python3 > /dev/null || skip_all "python3 (tests/lib/cfnsub.py) is not installed"
command -v jq > /dev/null || skip_all "jq (the document reads its JSON with it) is not installed (scripts/setup.sh --test)"
scratch_dir W corpus-pcluster
. "$top_srcdir/tests/lib/fakesys.sh"
cd "$W" || exit 1
mkdir -p probe/up probe/wk
unshare -m --propagation private mount -t overlay overlay -o "lowerdir=/etc,upperdir=$W/probe/up,workdir=$W/probe/wk" /etc 2> probe.err ||
        skip_all "no overlay mount in a private mount namespace here: $(head -n 1 probe.err)"
only_loopback
clear_env AWS_ OPENTOE_AWS_ OPENTOE_S3_ OPENTOE_REBOOT_

# ---- Fn::Sub ----
sub() { printf '%s' "$1" | python3 "$cfnsub" "${@:2}" 2> sub.err; }
check_eval "Fn::Sub: \${!Name} is a literal \${Name}, and what follows it text again" \
        '[ "$(sub "a \${!FILE} \${!V:+.\${!V}} \${!}")" = "a \${FILE} \${V:+.\${V}} \${}" ]'
check_eval "... \${Name} from the map, a resource attribute too; a \$ without { is text" \
        '[ "$(sub "\${P}-\${Res.Attr} \$x \$(y) \$" -v P=p1 -v Res.Attr=a1)" = "p1-a1 \$x \$(y) \$" ]'
check_eval "... pseudo parameters: the region, and the partition and URL suffix it implies" \
        '[ "$(sub "\${AWS::Region} \${AWS::Partition} \${AWS::URLSuffix} \${AWS::AccountId}" --region cn-north-1 --account-id 123456789012)" = "cn-north-1 aws-cn amazonaws.com.cn 123456789012" ] &&
         [ "$(sub "\${AWS::Partition}" --region eu-west-1)" = aws ]'
check_eval "... an unknown \${Name} is an error naming it and its line, with nothing written" \
        '[ -z "$(sub "$(printf "x\n\${Nope}")" -v P=1)" ] && grep -q "line 2: \${Nope}: unknown variable" sub.err'
check_eval "... so are an unknown or non-string pseudo parameter, one without a value, and a \${ without }" \
        '! sub "\${AWS::Nope}" --region eu-west-1 > /dev/null && grep -q "no such pseudo parameter" sub.err &&
         ! sub "\${AWS::NoValue}" > /dev/null && grep -q "is not a string" sub.err &&
         ! sub "\${AWS::Region}" > /dev/null && grep -q "no value given" sub.err &&
         ! sub "a \${open" > /dev/null && grep -q "without its" sub.err'
check_eval "... and \${ Name } (spaces) is not taken for a name" '! sub "\${ P }" -v P=1 > /dev/null'

# The template's parameter: the cluster's JSON, one line (it lands in a
# YAML block scalar, as in the template).
dna='{"cluster":{"base_os":"ubuntu2204","disable_kernel_update":"false","region":"eu-west-1"}}'
python3 "$cfnsub" --region eu-west-1 --account-id 123456789012 --stack-name pcluster-image \
        -v "CfnParamChefDnaJson=$dna" "$corpus/$doc" > update-and-reboot.yml 2> sub.err
check_eval "$doc: substituted as CloudFormation would, it validates" \
        '[ -s update-and-reboot.yml ] && ! grep -q "\${!\|\${AWS::\|\${Cfn" update-and-reboot.yml &&
         grep -q "echo eu-west-1$" update-and-reboot.yml && "$OPENTOE" validate -d update-and-reboot.yml > validate.out 2>&1'

# ---- the machine ----
# machine NAME: a fresh Ubuntu 22.04 in NAME/ (overlay upper layers, a
# fake system root with its programs).
machine() {
        local m=$W/$1
        mkdir -p "$m/etc-up/default" "$m/etc-up/apt/apt.conf.d" "$m/etc-wk" "$m/lib-up/cloud/instance" "$m/lib-wk" "$m/ibs"
        cat > "$m/etc-up/os-release" <<'EOF'
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
EOF
        cat > "$m/etc-up/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT_STYLE=hidden
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"
GRUB_CMDLINE_LINUX="console=tty1 console=ttyS0"
EOF
        printf '%s\n' 'APT::Periodic::Update-Package-Lists "1";' 'APT::Periodic::Unattended-Upgrade "1";' \
                > "$m/etc-up/apt/apt.conf.d/20auto-upgrades"
        touch "$m/lib-up/cloud/instance/boot-finished"
        make_root "$m/sys" yes
        make_distro "$m/sys"
}
# on NAME CMD...: CMD on machine NAME, in a mount namespace of its own
# (each call a boot of that machine).  /tmp/imagebuilder_service, which
# the document removes a file from, only exists here when the host has
# one; then it is a scratch folder too.  DEBIAN_FRONTEND is the
# document's to set.
cat > on.sh <<'SH'
m=$1; shift
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$m/etc-up,workdir=$m/etc-wk" /etc || exit 90
mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$m/lib-up,workdir=$m/lib-wk" /var/lib || exit 90
if [ -d /tmp/imagebuilder_service ]; then mount --bind "$m/ibs" /tmp/imagebuilder_service || exit 90; fi
unset DEBIAN_FRONTEND
PATH=$m/sys/bin:$PATH OPENTOE_TEST_SYSTEM_ROOT=$m/sys exec "$@"
SH
on() { local m=$W/$1; shift; unshare -m --propagation private bash "$W/on.sh" "$m" "$@"; }

# What must not change on the host.
host_sums() {
        local f
        for f in /etc/os-release /etc/default/grub /etc/parallelcluster /var/lib/cloud /var/lib/apt/daily_lock /tmp/imagebuilder_service; do
                if [ -e "$f" ]; then echo "$f exists"; else echo "$f absent"; fi
        done
        sha256sum /etc/os-release /etc/default/grub 2> /dev/null
        (cd /etc/apt/apt.conf.d && ls -la --time-style=+%s . && sha256sum ./*)
}
host_sums > host.before

# The steps from detailedoutput.json: "phase.Step=status=stdout" lines
# (the stdout's newlines as \n).
outputs() {
        python3 - "$1"/TOE_*/detailedoutput.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for ph in d["documents"][0]["phases"]:
    for s in ph["steps"]:
        outs = json.loads(s["outputs"]) if s.get("outputs") else []
        out = outs[0].get("stdout", "") if outs else ""
        print(f"{ph['name']}.{s['name']}={s['status']}=" + out.replace("\n", "\\n"))
PY
}
step_out() { grep -q "^build\.$2=success=$3$" "$1.steps"; }

# The checks both modes share, on machine $1 whose run logged in logs-$1.
check_machine() {
        local m=$1 sys=$W/$1/sys
        outputs "logs-$m" > "$m.steps" 2> "$m.steps.err"
        check_eval "$m: every step a success, in order, once each (detailedoutput.json)" \
                '[ "$(cut -d= -f1 $m.steps | tr "\n" " ")" = "$(sed -n "s/^      - name: \([A-Za-z]*\)$/\1/p" update-and-reboot.yml | sed "s/^/build./; \$s/^build/validate/" | tr "\n" " ")" ] &&
                 [ "$(grep -vc "=success=" $m.steps)" = 0 ] && [ "$(wc -l < $m.steps)" = 18 ]'
        check_eval "... console.log: each step began once, none again after the reboot" \
                '[ "$(grep -o " Info Step [A-Za-z]*$" logs-$m/TOE_*/console.log | sort | uniq -d)" = "" ] &&
                 [ "$(grep -c " Info Step [A-Za-z]*$" logs-$m/TOE_*/console.log)" = 18 ]'
        check_eval "... the OS facts: ubuntu.22.04, ubuntu2204, DEBIAN; the region eu-west-1" \
                'step_out $m OperatingSystemRelease ubuntu.22.04 && step_out $m OperatingSystemName ubuntu2204 &&
                 step_out $m PlatformName DEBIAN && step_out $m AWSRegion eu-west-1'
        check_eval "... GRUB: the nouveau blacklist on the kernel's command line, then update-grub (once; no grub2-mkconfig)" \
                'grep -qx "GRUB_CMDLINE_LINUX=\"console=tty1 console=ttyS0 rd.driver.blacklist=nouveau nouveau.modeset=0\"" $m/etc-up/default/grub &&
                 grep -qx "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"" $m/etc-up/default/grub &&
                 [ "$(grep -c "^update-grub" $sys/calls)" = 1 ] && ! grep -q "^grub2-mkconfig\|^yum" $sys/calls'
        check_eval "... unattended upgrades: apt's timers disabled (systemctl, under apt's lock), 51pcluster-unattended-upgrades says 0" \
                'grep -qx "systemctl disable --now apt-daily.timer apt-daily.service apt-daily-upgrade.timer apt-daily-upgrade.service" $sys/calls &&
                 [ "$(cat $m/etc-up/apt/apt.conf.d/51pcluster-unattended-upgrades)" = "$(printf "%s\n" "APT::Periodic::Update-Package-Lists \"0\";" "APT::Periodic::Unattended-Upgrade \"0\";")" ] &&
                 [ -e $m/lib-up/apt/daily_lock ]'
        check_eval "... apt-get: update twice, one upgrade keeping old conffiles, non-interactively; autoremove; the kernel packages" \
                '[ "$(grep -c "^apt-get -y update DEBIAN_FRONTEND=noninteractive$" $sys/calls)" = 2 ] &&
                 [ "$(grep -c " upgrade " $sys/calls)" = 1 ] &&
                 grep -qx "apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --with-new-pkgs upgrade DEBIAN_FRONTEND=noninteractive" $sys/calls &&
                 grep -qx "apt-get --purge autoremove -y DEBIAN_FRONTEND=" $sys/calls && grep -qx "apt-get -y install jq DEBIAN_FRONTEND=" $sys/calls &&
                 grep -qx "apt-get -y install linux-aws linux-headers-aws linux-image-aws DEBIAN_FRONTEND=" $sys/calls &&
                 [ "$(grep -c "^apt-get" $sys/calls)" = 6 ]'
        check_eval "... image_dna.json holds the substituted JSON, which jq read (disable_kernel_update false)" \
                '[ "$(cat $m/etc-up/parallelcluster/image_dna.json)" = "$dna" ] && jq -e .cluster $m/etc-up/parallelcluster/image_dna.json > /dev/null &&
                 step_out $m DisableKernelUpdate false'
        check_eval "... the validate phase ran once, after the reboot" \
                'con=logs-$m/TOE_*/console.log; [ "$(grep -c "Stdout: Check the OS has been updated" $con)" = 1 ] &&
                 [ "$(grep -n "Stdout: Check the OS has been updated" $con | cut -d: -f1)" -gt "$(grep -n "System has rebooted successfully" $con | cut -d: -f1)" ]'
        check_eval "... the host's /etc/os-release, /etc/default/grub and /etc/apt/apt.conf.d are as they were" \
                'host_sums > host.after-$m && cmp -s host.before host.after-$m'
}
on_failure() { diag "$(tail -n 20 logs-*/TOE_*/console.log 2> /dev/null)"; }

# ---- as published, without Fn::Sub: bash takes ${!FILE} for an indirect expansion ----
machine raw
on raw "$OPENTOE" run -d "$corpus/$doc" -l logs-raw -s state-raw > raw.out 2> raw.err; rc=$?
check_eval "$doc as published (no Fn::Sub) fails in its first step, changing nothing" \
        '[ $rc = 1 ] && grep -q "Step OperatingSystemRelease" logs-raw/TOE_*/console.log &&
         grep -q "line 3: /etc/os-release: invalid variable name" logs-raw/TOE_*/console.log &&
         ! grep -q "Step OperatingSystemName" logs-raw/TOE_*/console.log && [ ! -s raw/sys/calls ]'

# ---- self mode: opentoe arranges the reboot ----
machine self
on self "$OPENTOE" run -d update-and-reboot.yml -l logs-self -s state-self > self.out1 2> self.err1; rc=$?
t_exit=$(date +%s.%N)
cp logs-self/TOE_*/console.log self.con1 2> /dev/null
check_eval "self mode: the run reaches its Reboot step, exits 194, pending-reboot, the resume unit enabled" \
        '[ $rc = 194 ] && grep -q "\"status\": \"pending-reboot\"" self.out1 && grep -q "Rebooting the system now (after the delay)" self.con1 &&
         grep -qx "systemctl enable opentoe-resume.service" self/sys/calls && ! grep -q "Check the OS has been updated" self.con1'
# The reboot: asked for once opentoe has exited and delaySeconds (10) have passed.
t_seen=
for _ in $(seq 125); do
        if grep -qx "systemctl reboot" self/sys/calls; then t_seen=$(date +%s.%N); break; fi
        sleep 0.2
done
check_eval "... systemctl reboot is asked for, delaySeconds (10 s) after opentoe exited" \
        '[ -n "$t_seen" ] && python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); sys.exit(0 if 9.5 <= d <= 20 else 1)" "$t_exit" "$t_seen"'
# The boot: what opentoe-resume.service runs, from /.
resume=$(sed -n 's#^ExecStart=@bindir@/opentoe ##p' "$top_srcdir/packaging/systemd/opentoe-resume.service.in")
(cd / && on self "$OPENTOE" $resume > "$W/self.out2" 2> "$W/self.err2"); rc=$?
check_eval "boot: '$resume' (the unit's command) resumes the run after its Reboot step, to success" \
        '[ $rc = 0 ] && grep -q "\"status\": \"success\"" self.out2 && [ "$(ls -d logs-self/TOE_* | wc -l)" = 1 ] &&
         grep -qx "systemctl disable opentoe-resume.service" self/sys/calls'
check_eval "... the reboot was asked for exactly once, the Reboot step recorded once" \
        'sleep 1; [ "$(grep -c "reboot" self/sys/calls)" = 1 ] && [ "$(grep -c "Getting reboot signal" logs-self/TOE_*/console.log)" = 1 ]'
check_machine self

# ---- ssm mode: SSM Agent reboots and runs the same command again ----
machine ssm
ssm_run() {
        on ssm env AWS_SSM_INSTANCE_ID=i-0123456789abcdef0 AWS_SSM_REGION_NAME=eu-west-1 \
                "$OPENTOE" run -d update-and-reboot.yml -l logs-ssm -s state-ssm > "$1" 2> "$1.err"
}
ssm_run ssm.out1; rc=$?
check_eval "ssm mode: the run reaches its Reboot step, exits 194 for SSM Agent, nothing rebooted here" \
        '[ $rc = 194 ] && grep -q "\"status\": \"pending-reboot\"" ssm.out1 &&
         grep -q "SSM Agent reboots the instance" logs-ssm/TOE_*/console.log && ! grep -q "reboot\|opentoe-resume" ssm/sys/calls &&
         ! grep -q "Check the OS has been updated" logs-ssm/TOE_*/console.log'
ssm_run ssm.out2; rc=$?
check_eval "... SSM Agent's second run resumes after the Reboot step, to success" \
        '[ $rc = 0 ] && grep -q "\"status\": \"success\"" ssm.out2 && [ "$(grep -c "Getting reboot signal" logs-ssm/TOE_*/console.log)" = 1 ] &&
         ! grep -q "reboot" ssm/sys/calls'
check_machine ssm

done_testing
