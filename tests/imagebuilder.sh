#!/bin/bash
# imagebuilder.sh: documents named by Image Builder component build
# version ARNs (aws/imagebuilder), against tests/servers/imagebuilder.py (a
# GetComponent service that recomputes every SigV4 signature with botocore
# and checks the scope's service and region), on a free port of 127.0.0.1
# only, with dummy credentials and IMDS disabled.  Checks `run
# --documents ARN`, `validate` (opentoe and awstoe formats), a --config
# whose document path is an ARN, ExecuteDocument with an ARN, that
# reports show the ARN and no temporary file is left, failures (unknown
# ARN, malformed ARNs refused before any request, a wrong secret or key
# refused by the server, an obfuscated component, a throttled request
# retried), and --endpoint-url with the order of the endpoint settings.
# TAP output.
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
AWSTOE=$(dirname "$OPENTOE")/awstoe
need_botocore

plan 38
scratch_dir W imagebuilder

rc=0 lastdir= last=
# A failed check shows the last run's output.
on_failure() { diag "$(cat "$last/console.log" "$lastdir/stdout" "$lastdir/stderr" 2> /dev/null | tail -n 30)"; }

# Only the test server: no proxy, no AWS settings from the caller.
aws_test_env AKIDIBTEST imagebuilder-test-secret AWSTOE_
export OPENTOE_AWS_BACKOFF_MS=10 OPENTOE_AWS_MAX_ATTEMPTS=3 OPENTOE_AWS_CONNECT_TIMEOUT_MS=2000
# Temporary documents go here, so the test can see that none is left.
export TMPDIR=$W/tmp
mkdir -p "$W/comp" "$TMPDIR"

# ---- the components -------------------------------------------------------------

ACCT=arn:aws:imagebuilder:us-west-2:123456789012:component
HELLO=$ACCT/my-example-component/2021.12.02/1
AMZN=arn:aws:imagebuilder:eu-central-1:aws:component/amazon-test-linux/1.0.2/1
FAILING=$ACCT/failing/1.0.0/1
INVALID=$ACCT/invalid/1.0.0/1
SELF=$ACCT/self/1.0.0/1
NESTER=$ACCT/nester/1.0.0/1
MISSING=$ACCT/missing/1.0.0/1
HIDDEN=arn:aws:imagebuilder:us-east-1:aws-marketplace:component/hidden/1.0.0/1

who_doc "$W/comp/hello.yml" my-example-component << 'EOF'
            - echo "hello from the component {{ who }}"
            - 'echo "endpoint in the environment: ${AWS_ENDPOINT_URL:-unset}"'
EOF
build_doc "$W/comp/amzn.yml" amazon-test-linux <<'EOF'
      - name: Say
        action: ExecuteBash
        inputs:
          commands: ["echo from the Amazon-managed component"]
EOF
build_doc "$W/comp/failing.yml" failing <<'EOF'
      - name: Fail
        action: ExecuteBash
        inputs:
          commands: ["echo about to fail", "exit 3"]
EOF
printf 'name: invalid\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: X\n        action: ExecuteBsh\n        inputs:\n          commands: [true]\n' \
        > "$W/comp/invalid.yml"
build_doc "$W/comp/self.yml" self <<EOF
      - name: Again
        action: ExecuteDocument
        inputs:
          document: $SELF
EOF
build_doc "$W/comp/nester.yml" nester <<EOF
      - name: Inner
        action: ExecuteDocument
        inputs:
          document: $AMZN
EOF

start_server imagebuilder "$PY" "$SERVERS/imagebuilder.py" --log "$W/srv/log" \
        --key "$AWS_ACCESS_KEY_ID=$AWS_SECRET_ACCESS_KEY" --key AKIDOTHER=other-secret \
        --component "$HELLO=$W/comp/hello.yml" --component "$AMZN=$W/comp/amzn.yml" \
        --component "$FAILING=$W/comp/failing.yml" --component "$INVALID=$W/comp/invalid.yml" \
        --component "$SELF=$W/comp/self.yml" --component "$NESTER=$W/comp/nester.yml" \
        --obfuscated "$HIDDEN"
: >> "$W/srv/log"
URL=http://127.0.0.1:$port_imagebuilder
DEAD=http://127.0.0.1:1
export AWSTOE_IMAGEBUILDER_ENDPOINT=$URL

ctl() { server_post "$URL/_control" "$1"; }
# Requests the server has seen so far.
requests() { wc -l < "$W/srv/log"; }
# served ARN STATUS [CODE]: the server logged a request for ARN answered so.
served() { grep -qxF "GetComponent $1 ${4:-$AWS_ACCESS_KEY_ID} -> $2 ${3:--}" "$W/srv/log"; }

# run_opentoe NAME ARGS... and run_doc NAME STEPS [options...]
# (tests/lib/run.sh) run in $W/NAME.
nested() { printf '      - name: N\n        action: ExecuteDocument\n        inputs:\n          document: %s' "$1"; }
# summary KEY: a field of the run's JSON summary.
summary() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$lastdir/stdout" "$1" 2> /dev/null; }
no_temporaries() { [ -z "$(ls -A "$TMPDIR")" ]; }

# ---- run ----------------------------------------------------------------------------

run_opentoe run --documents "$HELLO"
check "run --documents ARN: exit 0, the summary is success" \
        eval 'test "$rc" = 0 && test "$(summary status)" = success && test "$(summary executedStepCount)" = 1'
check "run --documents ARN: console.log shows 'Document ARN' and the component's output" \
        eval 'console_has "Info Document $HELLO" && console_has "Stdout: hello from the component nobody"'
check "run --documents ARN: detailedoutput.json names the ARN; document.yaml is the component's data" \
        eval 'grep -qF "\"filePath\": \"$HELLO\"" "$last/detailedoutput.json" && cmp -s "$W/comp/hello.yml" "$last/document.yaml"'
check "the temporary document is removed, and no message names it" \
        eval 'no_temporaries && ! grep -rqF "$TMPDIR" "$last" "$lastdir/stdout" "$lastdir/stderr"'
check "GetComponent was signed for imagebuilder in the ARN's region (checked by botocore)" served "$HELLO" 200

run_opentoe amzn --documents "$AMZN"
check "an Amazon-managed component in another region (account 'aws', eu-central-1)" \
        eval 'test "$rc" = 0 && console_has "Stdout: from the Amazon-managed component" && served "$AMZN" 200'

run_opentoe failing --documents "$HELLO,$FAILING"
check "a failing component: exit 1, failureMessage 'Document ARN failed!'" \
        eval 'test "$rc" = 1 && test "$(summary failureMessage)" = "Document $FAILING failed!"'
check "a failing component: the failure block names the ComponentArn" \
        console_has "  ComponentArn: $FAILING"

run_opentoe invalid --documents "$INVALID"
check "an invalid component: nothing runs; diagnostics name the ARN" \
        eval 'test "$rc" = 1 && grep -q "^$INVALID:7:17: error: unknown action" "$lastdir/stderr" && test -z "$last"'

printf '{"documents": [{"path": "%s", "parameters": [{"name": "who", "value": "config"}]}], "phases": "build"}\n' \
        "$HELLO" > "$W/config.json"
run_opentoe config --config "$W/config.json"
check "--config with an ARN as a document path, with its parameters" \
        eval 'test "$rc" = 0 && console_has "Stdout: hello from the component config" && console_has "Document $HELLO"'

# ---- ExecuteDocument ---------------------------------------------------------------------

run_doc nested "$(nested "$HELLO")"
check "ExecuteDocument with an ARN runs the component" \
        eval 'test "$rc" = 0 && console_has "Document $HELLO" && console_has "Stdout: hello from the component nobody"'
check "ExecuteDocument: the nested run is recorded under the ARN" \
        grep -qF "\"filePath\": \"$HELLO\"" "$last/detailedoutput.json"
run_opentoe nester --documents "$NESTER"
check "a component that runs another component by ARN" \
        eval 'test "$rc" = 0 && console_has "Stdout: from the Amazon-managed component"'
run_opentoe self --documents "$SELF"
check "a component that runs itself: the cycle is found by ARN" \
        eval 'test "$rc" != 0 && console_has "cyclic ExecuteDocument: $SELF -> $SELF"'
run_doc nestedmissing "$(nested "$MISSING")"
check "ExecuteDocument of an unknown ARN fails naming it and the service's answer" \
        eval 'test "$rc" = 1 && console_has "document $MISSING: Image Builder has no such component build version (HTTP 404 ResourceNotFoundException"'
before=$(requests)
run_doc nestedbad "$(nested "${ACCT}/x/1.0.0")"
check "ExecuteDocument of a version ARN without a build: refused before any request" \
        eval 'test "$rc" = 1 && console_has "it names a component version, not a build version" && test "$(requests)" = "$before"'

# ---- validate --------------------------------------------------------------------------------

"$OPENTOE" validate --documents "$HELLO" > "$W/validate.out" 2>&1
vrc=$?
check "validate --documents ARN" eval 'test "$vrc" = 0 && grep -qxF "$HELLO: valid" "$W/validate.out"'
"$AWSTOE" validate --documents "$HELLO" > "$W/validate-awstoe.out" 2> /dev/null
vrc=$?
check "awstoe validate --documents ARN: AWSTOE's message with the ARN" \
        eval 'test "$vrc" = 0 && grep -qF "\"message\": \"Document(s) [$HELLO] is/are valid.\"" "$W/validate-awstoe.out"'
"$OPENTOE" validate "$INVALID" "$MISSING" > "$W/validate-bad.out" 2>&1
vrc=$?
check "validate: an invalid component's diagnostics and an unknown ARN's error name the ARNs" \
        eval 'test "$vrc" = 1 && grep -q "^$INVALID:7:17: error: unknown action" "$W/validate-bad.out" &&
              grep -qF "$MISSING: error: cannot fetch the document: Image Builder has no such component build version (HTTP 404 ResourceNotFoundException" "$W/validate-bad.out"'

# ---- failures -----------------------------------------------------------------------------------

run_opentoe missing --documents "$MISSING"
check "an unknown ARN: exit 1, nothing run, a clear message" \
        eval 'test "$rc" = 1 && test -z "$last" && served "$MISSING" 404 ResourceNotFoundException &&
              stderr_has "cannot fetch the document $MISSING: Image Builder has no such component build version (HTTP 404 ResourceNotFoundException: The resource ARN"'

before=$(requests)
run_opentoe malformed --documents "$HELLO,arn:aws:ec2:us-west-2:123456789012:instance/i-0abc"
check "a malformed ARN fails the run before any request (even for the valid ARN before it)" \
        eval 'test "$rc" = 1 && test "$(requests)" = "$before" && test -z "$last" &&
              stderr_has "arn:aws:ec2:us-west-2:123456789012:instance/i-0abc: not an Image Builder component build version ARN (arn:PARTITION:imagebuilder:REGION:ACCOUNT:component/NAME/X.Y.Z/BUILD): the service is '"'"'ec2'"'"', not '"'"'imagebuilder'"'"'"'
"$OPENTOE" validate "$ACCT/Upper/1.0.0/1" "$ACCT/x/1.0.x" "arn:aws:imagebuilder:us-west-2:12345:component/x/1.0.0/1" \
        > "$W/validate-malformed.out" 2>&1
vrc=$?
check "validate: malformed ARNs (name, wildcard version, account) each say what is wrong, no request" \
        eval 'test "$vrc" = 1 && test "$(requests)" = "$before" &&
              grep -qF "the component name '"'"'Upper'"'"' must be" "$W/validate-malformed.out" &&
              grep -qF "the version '"'"'1.0.x'"'"' holds a wildcard" "$W/validate-malformed.out" &&
              grep -qF "the account '"'"'12345'"'"' is neither a 12-digit account ID" "$W/validate-malformed.out"'

AWS_SECRET_ACCESS_KEY=not-the-secret run_opentoe badsecret --documents "$HELLO"
check "a wrong secret: the server refuses the signature (InvalidSignatureException); opentoe says so" \
        eval 'test "$rc" = 1 && served "$HELLO" 403 InvalidSignatureException &&
              stderr_has "Image Builder refused the request'"'"'s signature; check the secret access key (HTTP 403 InvalidSignatureException"'
AWS_ACCESS_KEY_ID=AKIDUNKNOWN run_opentoe badkey --documents "$HELLO"
check "an unknown access key: UnrecognizedClientException, worded" \
        eval 'test "$rc" = 1 && stderr_has "Image Builder does not know the access key in use (HTTP 403 UnrecognizedClientException"'
AWS_ACCESS_KEY_ID=AKIDOTHER AWS_SECRET_ACCESS_KEY=other-secret run_opentoe otherkey --documents "$HELLO"
check "other valid credentials from the environment are used" \
        eval 'test "$rc" = 0 && served "$HELLO" 200 - AKIDOTHER'

run_opentoe hidden --documents "$HIDDEN"
check "an obfuscated (Marketplace) component: a clear message" \
        eval 'test "$rc" = 1 && stderr_has "cannot fetch the document $HIDDEN: the component'"'"'s document is obfuscated"'

ctl '{"throttle": 1}'
: > "$W/srv/log"
run_opentoe throttled --documents "$HELLO"
check "a throttled GetComponent (429 CallRateLimitExceededException) is retried" \
        eval 'test "$rc" = 0 && served "$HELLO" 429 CallRateLimitExceededException && served "$HELLO" 200'

check "no temporary document is left after all of the above" no_temporaries

# ---- endpoints ----------------------------------------------------------------------------------

AWSTOE_IMAGEBUILDER_ENDPOINT= run_opentoe flag --endpoint-url "$URL" --documents "$HELLO"
check "run --endpoint-url URL reaches the service (no AWSTOE_IMAGEBUILDER_ENDPOINT)" \
        eval 'test "$rc" = 0 && console_has "Stdout: hello from the component nobody"'
check "--endpoint-url does not reach the environment of the steps" \
        console_has "Stdout: endpoint in the environment: unset"
AWSTOE_IMAGEBUILDER_ENDPOINT= "$OPENTOE" validate --endpoint-url "$URL/" "$HELLO" > "$W/validate-flag.out" 2>&1
vrc=$?
check "validate --endpoint-url URL/" eval 'test "$vrc" = 0 && grep -qxF "$HELLO: valid" "$W/validate-flag.out"'
run_opentoe order1 --endpoint-url "$DEAD" --documents "$HELLO"
check "AWSTOE_IMAGEBUILDER_ENDPOINT wins over --endpoint-url" test "$rc" = 0
AWSTOE_IMAGEBUILDER_ENDPOINT= AWS_ENDPOINT_URL_IMAGEBUILDER=$URL run_opentoe order2 --endpoint-url "$DEAD" --documents "$HELLO"
check "AWS_ENDPOINT_URL_IMAGEBUILDER wins over --endpoint-url" test "$rc" = 0
AWSTOE_IMAGEBUILDER_ENDPOINT= AWS_ENDPOINT_URL=$DEAD run_opentoe order3 --endpoint-url "$URL" --documents "$HELLO"
AWSTOE_IMAGEBUILDER_ENDPOINT= AWS_ENDPOINT_URL=$DEAD AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true \
        run_opentoe order4 --endpoint-url "$URL" --documents "$HELLO"
rc4=$rc
check "--endpoint-url wins over AWS_ENDPOINT_URL, and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS leaves it alone" \
        eval 'test "$rc4" = 0 && grep -q "TOE has completed execution successfully" "$W/order3/logs"/*/console.log'
AWSTOE_IMAGEBUILDER_ENDPOINT= AWS_ENDPOINT_URL=$URL run_opentoe generic --documents "$HELLO"
check "AWS_ENDPOINT_URL alone is used for Image Builder" test "$rc" = 0
run_opentoe badflag --endpoint-url ftp://example.invalid --documents "$HELLO"
"$OPENTOE" validate --endpoint-url "not a url" "$HELLO" > /dev/null 2> "$W/validate-badflag.err"
vrc=$?
check "a malformed --endpoint-url is a usage error for run and validate" \
        eval 'test "$rc" = 2 && stderr_has "--endpoint-url: the endpoint '"'"'ftp://example.invalid'"'"' must use http or https" &&
              test "$vrc" = 2 && grep -qF -- "--endpoint-url:" "$W/validate-badflag.err"'
AWSTOE_IMAGEBUILDER_ENDPOINT=imagebuilder.example run_opentoe badenv --documents "$HELLO"
check "a malformed AWSTOE_IMAGEBUILDER_ENDPOINT is named in the error" \
        eval 'test "$rc" = 1 && stderr_has "AWSTOE_IMAGEBUILDER_ENDPOINT is not a usable endpoint"'
"$OPENTOE" run --help > "$W/help-run" 2>&1
"$OPENTOE" validate --help > "$W/help-validate" 2>&1
check "--help of run and validate shows --endpoint-url" \
        eval 'grep -qF -- "--endpoint-url URL" "$W/help-run" && grep -qF -- "--endpoint-url URL" "$W/help-validate"'
done_testing
