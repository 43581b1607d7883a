#!/bin/bash
# ssm.sh: {{ aws:ssm: }} references resolved at run time with Parameter
# Store's GetParameter, against tests/servers/ssm.py (which recomputes
# every SigV4 signature with botocore) on a free port of 127.0.0.1 only,
# with dummy credentials and IMDS disabled; cross-checked once with
# Debian's `aws ssm get-parameter` against the same endpoint.  The
# documents follow the examples of AWS's page "Use variables in your
# custom component document" (toe-user-defined-variables, "Systems
# Manager Parameter Store parameters" and "resolve"): a String echoed by
# ExecuteBash, resolve() of a component parameter holding the name.
# Checks: String, StringList, SecureString, resolve() of a parameter and
# of an SSM reference, versions, labels and full ARNs (signed for the
# ARN's region), AWS's error code and message failing the step
# (ParameterNotFound, ParameterVersionNotFound, AccessDeniedException),
# throttling retried, the lookup bounded by the step's timeout, a value
# chained from a SecureString step private too, validate and --dry-run asking nothing, and a
# SecureString's value nowhere in clear (console.log, application.log,
# detailedoutput.json, the state across a reboot, --trace, stdout and
# stderr), resolved again after the resume.  TAP output.
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
need_botocore
scratch_dir W ssm
on_failure() { diag "$(cat "$last/console.log" "$lastdir/stdout" "$lastdir/stderr" 2> /dev/null | tail -n 30)"; }

aws_test_env AKIDSSMTEST ssm-test-secret AWSTOE_
export AWS_REGION=us-east-1 AWS_PAGER=
export OPENTOE_AWS_BACKOFF_MS=10 OPENTOE_AWS_MAX_ATTEMPTS=3 OPENTOE_AWS_CONNECT_TIMEOUT_MS=2000

SECRET=pa55-Wörd-0x5eCr3t
start_server ssm "$PY" "$SERVERS/ssm.py" --log "$W/srv/log" --stall-seconds 4 --key "$AWS_ACCESS_KEY_ID=$AWS_SECRET_ACCESS_KEY" \
        --param "/my/param=String:hello from Parameter Store" \
        --param "/my/param=String:second version" \
        --label "/my/param:1=prod" \
        --param "/app/hosts=StringList:a.example,b.example" \
        --param "/app/db/password=SecureString:$SECRET" \
        --param "/app/which=String:/my/param" \
        --param "/app/hidden/key=SecureString:$SECRET-2" \
        --param "/app/secret-name=SecureString:/app/hidden/key" \
        --param "PlainName=String:no hierarchy" \
        --deny /app/forbidden
: >> "$W/srv/log"
URL=http://127.0.0.1:$port_ssm
export AWS_ENDPOINT_URL_SSM=$URL
requests() { server_json "$URL/_stats" 'd["requests"]'; }
leaks() { grep -rlaF -- "$SECRET" "$@" 2> /dev/null; }

# ---- String, StringList, resolve() (AWS's examples) -------------------------

mkdir -p "$W/plain"
cat > "$W/plain/doc.yml" << 'EOF'
name: SSMParameterExample
schemaVersion: 1.0
parameters:
  - ParamName:
      type: string
      default: /my/param
phases:
  - name: build
    steps:
      - name: PrintParameter
        action: ExecuteBash
        inputs:
          commands:
            - echo "value={{ aws:ssm:/my/param }}"
            - echo "list={{ aws:ssm:/app/hosts }}"
            - echo "resolved={{ aws:ssm:resolve(ParamName) }}"
            - echo "via-ssm={{ aws:ssm:resolve(aws:ssm:/app/which) }}"
            - echo "v1={{ aws:ssm:/my/param:1 }} label={{ aws:ssm:/my/param:prod }} plain={{ aws:ssm:PlainName }}"
            - echo "arn={{ aws:ssm:arn:aws:ssm:eu-west-3:123456789012:parameter/my/param:2 }}"
            - echo "plain-arn={{ aws:ssm:arn:aws:ssm:eu-west-3:123456789012:parameter/PlainName }}"
EOF
before=$(requests)
OPENTOE_ARGV=("$OPENTOE")
capture OPENTOE_ARGV validate "$W/plain/doc.yml"
check "(setup) the document validates" [ "$rc" = 0 ]
check_eval "validate asks Parameter Store nothing" '[ "$(requests)" = "$before" ]'
run_opentoe plain --documents doc.yml --dry-run
check_eval "--dry-run asks Parameter Store nothing" '[ "$(requests)" = "$before" ]'

run_opentoe plain --documents doc.yml
check "the run succeeds" [ "$rc" = 0 ]
check "{{ aws:ssm:/my/param }} is the latest version's value" console_has "value=second version"
check "a StringList is its comma-separated value" console_has "list=a.example,b.example"
check "resolve(ParamName) gets the parameter the component parameter names" console_has "resolved=second version"
check "resolve(aws:ssm:/app/which) gets the parameter that parameter's value names" console_has "via-ssm=second version"
check "name:1 is version 1, name:prod its label, a name outside a hierarchy works" \
        console_has "v1=hello from Parameter Store label=hello from Parameter Store plain=no hierarchy"
check "a full ARN with a version is asked in the ARN's region (eu-west-3; the server checks the signature's scope)" \
        console_has "arn=second version"
check "an ARN of a name outside a hierarchy" console_has "plain-arn=no hierarchy"
check_eval "every request asked WithDecryption true" '! grep -q "decrypt=False" "$W/srv/log"'
check_eval "each name is asked once a run (values are kept in memory for the run)" \
        '[ "$(grep -c "GetParameter /my/param decrypt" "$W/srv/log")" = 1 ]'

run_opentoe plain2 --documents ../plain/doc.yml --parameters ParamName=/app/hosts
check "--parameters changes what resolve() looks up" console_has "resolved=a.example,b.example"

# Debian's awscli against the same endpoint: the same value.
if [ -x /usr/bin/aws ]; then
        v=$(/usr/bin/aws ssm get-parameter --name /my/param:prod --with-decryption --endpoint-url "$URL" \
                --region us-east-1 --query Parameter.Value --output text 2> "$W/aws.err")
        check_eval "aws ssm get-parameter reads the same value from the same endpoint" \
                '[ "$v" = "hello from Parameter Store" ]'
else
        skip "no /usr/bin/aws (Debian: awscli)"
fi

# ---- failures: AWS's code and message fail the step --------------------------

run_doc missing '      - name: Missing
        action: ExecuteBash
        inputs:
          commands: ["echo got {{ aws:ssm:/no/such/param }}"]
      - name: After
        action: ExecuteBash
        inputs:
          commands: ["echo after"]'
check "a missing parameter fails the run" [ "$rc" = 1 ]
check "the step fails with ParameterNotFound" console_has "{{ aws:ssm:/no/such/param }}: ParameterNotFound"
check_eval "the step's command never ran" '! grep -q "got" "$last/console.log"'
check_eval "the document stops there (onFailure Abort)" '! grep -q "^.*after$" "$last/console.log"'
check_eval "detailedoutput.json has the step failed with AWS's code" \
        '$PY -c "
import json, sys
d = json.load(open(\"$last/detailedoutput.json\"))
s = d[\"documents\"][0][\"phases\"][0][\"steps\"][0]
assert s[\"status\"] == \"failed\" and \"ParameterNotFound\" in s[\"failureMessage\"], s
"'

run_doc version '      - name: NoVersion
        action: ExecuteBash
        inputs:
          commands: ["echo {{ aws:ssm:/my/param:7 }}"]'
check "a missing version fails with ParameterVersionNotFound and AWS's message" \
        console_has "ParameterVersionNotFound: Systems Manager could not find version 7 of /my/param."
run_doc denied '      - name: Denied
        action: ExecuteBash
        inputs:
          commands: ["echo {{ aws:ssm:/app/forbidden }}"]'
check "access denied fails with AccessDeniedException" console_has "AccessDeniedException: User:"

server_post "$URL/_control" '{"throttle": 1}'
run_doc throttled '      - name: Throttled
        action: ExecuteBash
        inputs:
          commands: ["echo throttled={{ aws:ssm:PlainName }}"]'
check "a throttled GetParameter is retried" console_has "throttled=no hierarchy"

AWS_SECRET_ACCESS_KEY=wrong run_doc badkey '      - name: BadKey
        action: ExecuteBash
        inputs:
          commands: ["echo {{ aws:ssm:PlainName }}"]'
check "a signature the server (botocore) refuses fails the step with its code" \
        console_has "InvalidSignatureException"

# ---- a SecureString: private everywhere, resolved again after a resume ------

mkdir -p "$W/secret"
cat > "$W/secret/doc.yml" << 'EOF'
name: SecureStringExample
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: UsePassword
        action: ExecuteBash
        inputs:
          commands:
            - p='{{ aws:ssm:/app/db/password }}'
            - echo "the password has ${#p} characters"
            - echo "it is $p"
            - echo "$p" >&2
            - if [ ! -e rebooted ]; then touch rebooted; exit 194; fi
      - name: UseNamedSecret
        action: ExecuteBash
        onFailure: Continue
        inputs:
          commands:
            - echo "{{ aws:ssm:resolve(aws:ssm:/app/secret-name) }}"
            - exit 3
      - name: Chained
        action: ExecuteBash
        inputs:
          commands: ["echo 'chained: {{ build.UsePassword.outputs.stdout }}'"]
      - name: Plain
        action: ExecuteBash
        inputs:
          commands: ["echo plain={{ aws:ssm:PlainName }}"]
EOF
before=$(requests)
run_opentoe secret --documents doc.yml -t
rc1=$rc
check "(setup) the SecureString step asks for a reboot" [ "$rc1" = 194 ]
check_eval "while the run waits for its reboot, the value is nowhere: logs, state, --trace, stdout, stderr" \
        '[ -z "$(leaks "$lastdir/logs" "$lastdir/state" "$lastdir/stdout" "$lastdir/stderr")" ]'
mid=$(requests)
run_opentoe secret --documents doc.yml -t
check "the resumed run ends, failed only by the step that exits 3 on purpose" [ "$rc" = 1 ]
check_eval "the resumed run asked Parameter Store again (the value was not saved)" \
        '[ "$(requests)" -gt "$mid" ]'
check_eval "after the resume the value is still nowhere (console.log, application.log, detailedoutput.json, --trace, summary)" \
        '[ -z "$(leaks "$lastdir")" ]'
check_eval "nor the name a SecureString's value gives resolve() (it is a SecureString's value too)" \
        '[ -z "$(grep -rlaF -- /app/hidden/key "$lastdir")" ]'
check "a step without SecureStrings is logged as usual" console_has "plain=no hierarchy"
det=$(ls "$last"/detailedoutput.json)
check_eval "detailedoutput.json masks the SecureString steps' inputs and outputs" \
        '$PY -c "
import json, sys
d = json.load(open(\"$det\"))
s = {x[\"name\"]: x for p in d[\"documents\"][0][\"phases\"] for x in p[\"steps\"]}
u = s[\"UsePassword\"]
assert json.loads(u[\"inputs\"]) == [{\"commands\": \"***\"}], u[\"inputs\"]
assert u[\"status\"] == \"success\", u
n = s[\"UseNamedSecret\"]
assert n[\"status\"] == \"failed\" and n[\"failureMessage\"] == \"exit status 3\", n
assert \"***\" in n[\"inputs\"]
assert json.loads(s[\"Plain\"][\"outputs\"])[0][\"stdout\"] == \"plain=no hierarchy\"
c = s[\"Chained\"]
assert c[\"status\"] == \"success\" and json.loads(c[\"outputs\"]) == [{\"stdout\": \"***\"}], c
"'

# ---- the lookup is bounded by the step's time ---------------------------------

server_post "$URL/_control" '{"stall": 5}'
t0=$(date +%s)
run_doc stalled '      - name: Stalled
        action: ExecuteBash
        timeoutSeconds: 2
        inputs:
          commands: ["echo stalled={{ aws:ssm:/app/hosts }}"]'
t1=$(date +%s)
server_post "$URL/_control" '{"stall": 0}'
check "a lookup that gets no answer fails the step" [ "$rc" = 1 ]
check_eval "within the step's timeoutSeconds (2 s), not the server's stall (4 s a request)" '[ $((t1 - t0)) -le 4 ]'
check_eval "saying it timed out" 'grep -qi "time" "$last/console.log"'

done_testing
