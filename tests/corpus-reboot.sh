#!/bin/bash
# corpus-reboot.sh: the public corpus's Linux document that uses UpdateOS
# and Reboot (aws-ia terraform-aws-ec2-image-builder linux-build.yml) run
# end to end against fakes: its S3 scripts from s3rver, UpdateOS against
# a fake apt (tests/lib/fakesys.sh), and its Reboot step handed to a fake
# SSM Agent (exit 194, then the same command again), with /temp mapped
# into the scratch folder.  Of the corpus's other three such documents,
# aws-parallelcluster's update-and-reboot.yml runs in
# tests/corpus-parallelcluster.sh (it needs CloudFormation's Fn::Sub
# first, and root); the two Windows ones (ExecutePowerShell) cannot run
# on Linux, AWSTOE's or opentoe's, and what opentoe says of them there,
# on validate and on run, is checked here.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
corpus=${OPENTOE_CORPUS:-$OPENTOE_SHARED/corpus/public}
resolve_paths
doc=aws-ia__terraform-aws-ec2-image-builder__linux-build.yml
[ -f "$corpus/$doc" ] || skip_all "corpus not found at $corpus"
find_s3_tools
command -v node > /dev/null || skip_all "node (for s3rver) is not installed"
[ -f "$S3RVER" ] || skip_all "s3rver is not installed (scripts/setup.sh --test installs it in $S3RVER_PREFIX)"
[ -n "$AWS" ] || skip_all "awscli is not installed"
scratch_dir W corpus-reboot
. "$top_srcdir/tests/lib/fakesys.sh"
cd "$W" || exit 1
only_loopback
clear_env AWS_ OPENTOE_AWS_ OPENTOE_S3_
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=$W/aws-config AWS_SHARED_CREDENTIALS_FILE=$W/aws-credentials
: > "$AWS_CONFIG_FILE"
: > "$AWS_SHARED_CREDENTIALS_FILE"
start_s3rver s3rver -d "$W/srv/data" --configure-bucket scripts-bkt
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port_s3rver
printf '%s\n' '#!/bin/bash' 'echo "Hello World from HelloWorld.sh"' > HelloWorld.sh
"$AWS" --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp HelloWorld.sh s3://scripts-bkt/scripts/HelloWorld.sh > /dev/null 2>&1 ||
        bail_out "cannot put the script into s3rver"

# The document as published, its /temp in the scratch folder.
sed "s#/temp#$W/temp#g" "$corpus/$doc" > linux-build.yml
make_apt sys
make_root sys yes
run() {
        env -u OPENTOE_REBOOT_MODE AWS_SSM_INSTANCE_ID=i-0123456789abcdef0 OPENTOE_TEST_SYSTEM_ROOT="$W/sys" \
                "$OPENTOE" run -d linux-build.yml --parameters S3BucketName=scripts-bkt -l logs -s state > "$1" 2> "$1.err"
}
run out1; rc1=$?
con=$(cat logs/TOE_*/console.log 2> /dev/null)
check_eval "$doc: runs to its Reboot step, which SSM Agent is asked to do (exit 194, pending-reboot)" \
        '[ $rc1 = 194 ] && grep -q pending-reboot out1 && echo "$con" | grep -q "SSM Agent reboots the instance"'
check_eval "... the script came from S3 and ran" 'echo "$con" | grep -q "Stdout: Hello World from HelloWorld.sh"'
check_eval "... UpdateOS installed every update through apt, non-interactively" \
        'echo "$con" | grep -q "UpdateOS: 3 package(s) changed" && grep -q "DEBIAN_FRONTEND=noninteractive" sys/calls'
check_eval "... nothing rebooted this machine (SSM Agent would)" '! grep -q "reboot" sys/calls'
run out2; rc2=$?
check_eval "... SSM Agent's second run resumes after the Reboot step and succeeds" \
        '[ $rc2 = 0 ] && grep -q "\"status\": \"success\"" out2 && [ "$(grep -c "Stdout: Hello World from HelloWorld.sh" logs/TOE_*/console.log)" = 1 ] &&
         [ "$(grep -c " upgrade " sys/calls)" = 1 ]'
for other in aws-ia__terraform-aws-ec2-image-builder__win2022-build.yml \
             aws-samples__amazon-ec2-image-builder-samples__cfn-nssm-installation.yml; do
        if [ ! -f "$corpus/$other" ]; then skip "$other: not in the corpus"; continue; fi
        "$OPENTOE" validate -d "$corpus/$other" > win.out 2>&1; rc=$?
        check_eval "$other (Windows): validate on Linux refuses it, naming the action and how to check it for Windows" \
                '[ $rc = 1 ] && grep -q ": error: action ExecutePowerShell is not available on linux \[action-platform\]$" win.out &&
                 grep -q "help: ExecutePowerShell runs on windows; validate with .--os-platforms windows. for such a document" win.out'
        check_eval "... which finds it valid" '"$OPENTOE" validate --os-platforms windows -d "$corpus/$other" > /dev/null 2>&1'
        rm -rf win-logs win-state
        "$OPENTOE" run -d "$corpus/$other" --parameters S3BucketName=scripts-bkt -l win-logs -s win-state > win.out 2> win.err; rc=$?
        check_eval "... run refuses it before anything runs, saying the same" \
                '[ $rc = 1 ] && [ ! -s win.out ] && grep -q "error: action ExecutePowerShell is not available on linux" win.err &&
                 [ ! -e win-logs ] && [ ! -e win-state ]'
        skip "$other is not run here: a Windows document (ExecutePowerShell)"
done
done_testing
