#!/bin/bash
# aws-http.sh: the AWS client layer (aws/credentials, aws/http) through
# `opentoe debug credentials` and `opentoe debug aws-request`, against
# tests/servers/imds.py (an IMDSv2) and tests/servers/awsjson.py (an AWS
# JSON 1.1 service that recomputes every SigV4 signature with botocore),
# on free ports of 127.0.0.1 only: every run points IMDS at the local
# server or disables it, so nothing else is contacted.  Checks: the
# credential chain's order and profiles, IMDS token reuse, refresh and
# re-fetch, IMDSv1 only on request, rotating credentials, signatures
# accepted and rejected, retries of throttling, 500s and stalls, giving
# up, and clock-skew correction.  Timeouts and backoff are shortened
# through OPENTOE_AWS_* and OPENTOE_IMDS_* variables; time bounds in the
# checks are generous on purpose.  TAP output, plan at the end.
#
# Needs /usr/bin/python3; the awsjson checks need python3-botocore and are
# skipped without it.
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
PY=/usr/bin/python3
SERVERS=$top_srcdir/tests/servers

if [ ! -x "$PY" ]; then
        skip_all "no /usr/bin/python3"
fi

scratch_dir W aws-http

# A failed check shows the last run's output.
on_failure() {
        printf '# stdout: %s\n' "$out" | head -20
        printf '%s\n' "$err" | head -20 | sed 's/^/# stderr: /'
}

# Only the test servers: no proxy, no AWS settings from the caller.
only_loopback
clear_env AWS_ OPENTOE_AWS_ OPENTOE_IMDS_
export HOME=$W/home
export OPENTOE_AWS_BACKOFF_MS=10
export OPENTOE_AWS_CONNECT_TIMEOUT_MS=5000
export OPENTOE_AWS_LOW_SPEED_TIME=2
# curl averages the speed over a few seconds: with a limit above what a
# small request sends, a stall is noticed after LOW_SPEED_TIME.
export OPENTOE_AWS_LOW_SPEED_LIMIT=1000
export OPENTOE_IMDS_TIMEOUT_MS=1500

mkdir -p "$W/home/.aws" "$W/empty" "$W/srv"

# serve NAME SCRIPT [args]: a server of tests/servers logging to
# srv/NAME.log; sets port_NAME and log_NAME.
serve() {
        local name=$1 script=$2
        shift 2
        start_server "$name" "$PY" "$SERVERS/$script" --log "$W/srv/$name.log" "$@"
        : >> "$W/srv/$name.log"
        printf -v "log_$name" '%s' "$W/srv/$name.log"
}

# ctl URL JSON: POST to a server's control endpoint.
ctl() { server_post "$1" "$2"; }
# stat PORT KEY: a counter of an imds.py server.
stat() { server_json "http://127.0.0.1:$1/_stats" 'd["stats"][a[0]]' "$2"; }

# run [VAR=VALUE...] ARGS...: runs opentoe with extra environment; sets
# rc, out, err and elapsed_ms (capture, tests/lib/run.sh).
opentoe_cmd=("$OPENTOE")
run() { capture opentoe_cmd "$@"; }
lines() { wc -l < "$1"; }
# new_lines FILE BEFORE: the lines a server logged since BEFORE lines.
new_lines() { tail -n +$(($2 + 1)) "$1"; }

serve imds imds.py --role test-role --region us-test-1
IM=http://127.0.0.1:$port_imds
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$IM
# An IMDS that refuses tokens but answers tokenless GETs (IMDSv1 only).
serve imds1 imds.py --token-status 403 --allow-v1

cat > "$W/home/.aws/credentials" << 'EOF'
# a comment
[default]
aws_access_key_id = AKIDFILEDEFAULT
aws_secret_access_key = secret-file-default

[dev]
aws_access_key_id=AKIDFILEDEV
aws_secret_access_key=secret-file-dev
aws_session_token=token-file-dev

[both]
aws_access_key_id = AKIDBOTHCREDS
aws_secret_access_key = secret-both-creds

[half]
aws_access_key_id = AKIDHALF
EOF
cat > "$W/home/.aws/config" << 'EOF'
[default]
region = eu-cfg-1

[profile cfgonly]
region = eu-cfg-2
aws_access_key_id = AKIDCONFIGONLY
aws_secret_access_key = secret-config-only
s3 =
    max_concurrent_requests = 20

[profile both]
aws_access_key_id = AKIDBOTHCONFIG
aws_secret_access_key = secret-both-config

[profile assumer]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = default
EOF
SECRETS='secret-file-default|secret-file-dev|token-file-dev|secret-config-only|imds-secret-|imds-token-'
no_secret() { ! grep -qE "$SECRETS" <<< "$out$err"; }

# ---- the credential chain ---------------------------------------------------

run AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=secret-env debug credentials
check "environment beats the shared files and IMDS" has_out "source=environment access_key_id=AKIDENV "
check "no session token unless AWS_SESSION_TOKEN" has_out "session_token=no"

run AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=secret-env AWS_SESSION_TOKEN=tok debug credentials
check "AWS_SESSION_TOKEN is taken" has_out "session_token=yes"

before=$(lines "$log_imds")
run debug credentials
check "the shared credentials file beats IMDS (profile default)" \
        has_out "source=profile access_key_id=AKIDFILEDEFAULT session_token=no expiration=never (profile 'default' in $W/home/.aws/credentials)"
check "no IMDS request when a file has credentials" test "$(lines "$log_imds")" -eq "$before"
check "the secret is never printed" no_secret

run AWS_PROFILE=dev debug credentials
check "AWS_PROFILE picks a section of the credentials file" has_out "access_key_id=AKIDFILEDEV session_token=yes"
check "... and the session token is not printed" no_secret

run AWS_PROFILE=cfgonly debug credentials --region
check "a [profile x] section of the config file" \
        has_out "source=profile access_key_id=AKIDCONFIGONLY session_token=no expiration=never (profile 'cfgonly' in $W/home/.aws/config)"
check "the profile's region comes from the config file" has_out "region: eu-cfg-2 (from profile 'cfgonly' in"

run AWS_PROFILE=both debug credentials
check "the credentials file beats the config file" has_out "access_key_id=AKIDBOTHCREDS"

run AWS_DEFAULT_PROFILE=dev debug credentials
check "AWS_DEFAULT_PROFILE when AWS_PROFILE is unset" has_out "access_key_id=AKIDFILEDEV"

cp "$W/home/.aws/credentials" "$W/alt-credentials"
sed -i 's/AKIDFILEDEFAULT/AKIDALTFILE/' "$W/alt-credentials"
run AWS_SHARED_CREDENTIALS_FILE="$W/alt-credentials" debug credentials
check "AWS_SHARED_CREDENTIALS_FILE moves the credentials file" has_out "access_key_id=AKIDALTFILE"

run HOME="$W/empty" AWS_CONFIG_FILE="$W/home/.aws/config" AWS_PROFILE=cfgonly debug credentials
check "AWS_CONFIG_FILE moves the config file" has_out "access_key_id=AKIDCONFIGONLY"

before=$(lines "$log_imds")
run AWS_PROFILE=nosuch debug credentials
check "a profile named in AWS_PROFILE that exists nowhere fails" \
        test $rc -eq 1 -a -z "$out"
check "... saying so, without falling back to IMDS" \
        eval 'has_err "the profile '"'nosuch'"' (from AWS_PROFILE) is in neither file" && [ "$(lines "$log_imds")" -eq "$before" ]'

run AWS_PROFILE=assumer debug credentials
check "a role_arn profile is refused, not silently replaced" eval '[ $rc -eq 1 ] && has_err "uses role_arn, which opentoe does not support"'

run AWS_PROFILE=half debug credentials
check "a profile with half a key pair fails" eval '[ $rc -eq 1 ] && has_err "has aws_access_key_id but no aws_secret_access_key"'

run AWS_ACCESS_KEY_ID=AKIDENV debug credentials
check "half-set environment variables fail" eval '[ $rc -eq 1 ] && has_err "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"'

before=$(lines "$log_imds")
run HOME="$W/empty" debug credentials
check "IMDS when neither the environment nor the files have credentials" \
        has_out "source=imds access_key_id=ASIAIMDSTEST"
check "... with a session token and an expiration" eval 'has_out "session_token=yes" && ! has_out "expiration=never"'
check "... naming the role" has_out "IMDS role 'test-role' at $IM)"
check "... never printing the secret or the token" no_secret
new_lines "$log_imds" "$before" > "$W/imds.new"
check "IMDSv2: a token PUT first, then the role, then its credentials, all with the token" \
        diff -u <(printf '%s\n' "PUT /latest/api/token token=none -> 200" \
                "GET /latest/meta-data/iam/security-credentials/ token=valid -> 200" \
                "GET /latest/meta-data/iam/security-credentials/test-role token=valid -> 200") "$W/imds.new"

before=$(lines "$log_imds")
run HOME="$W/empty" AWS_EC2_METADATA_DISABLED=true debug credentials
check "AWS_EC2_METADATA_DISABLED=true: no credentials" test $rc -eq 1
check "... and not one request to IMDS" test "$(lines "$log_imds")" -eq "$before"
check "the failure names every source tried and why" \
        eval 'has_err "no AWS credentials found; tried: environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set); shared files ($W/empty/.aws/credentials: no such file; $W/empty/.aws/config: no such file); IMDS disabled by AWS_EC2_METADATA_DISABLED"'

before=$(lines "$log_imds1")
run HOME="$W/empty" AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port_imds1" debug credentials
check "an IMDS refusing tokens: no IMDSv1 by default" \
        eval '[ $rc -eq 1 ] && has_err "IMDSv1 (requests without a token) is not used unless OPENTOE_IMDS_V1=1"'
check "... not one tokenless GET was sent" eval '! new_lines "$log_imds1" "$before" | grep -q "^GET"'

before=$(lines "$log_imds1")
run HOME="$W/empty" AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port_imds1" OPENTOE_IMDS_V1=1 debug credentials
check "OPENTOE_IMDS_V1=1 falls back to IMDSv1" has_out "source=imds access_key_id=ASIAIMDSTEST000001"
check "... saying so" has_out "(IMDSv1)"
check "... with tokenless GETs" eval 'new_lines "$log_imds1" "$before" | grep -q "^GET .* token=none -> 200"'

before=$(lines "$log_imds")
run HOME="$W/empty" OPENTOE_IMDS_V1=1 debug credentials
check "OPENTOE_IMDS_V1=1 still uses a token when IMDS gives one" \
        eval '[ $rc -eq 0 ] && ! new_lines "$log_imds" "$before" | grep -q "^GET .* token=none"'

# ---- the region --------------------------------------------------------------

run AWS_REGION=ap-env-1 AWS_DEFAULT_REGION=ap-env-2 debug credentials --region
check "AWS_REGION first" has_out "region: ap-env-1 (from AWS_REGION)"
run AWS_DEFAULT_REGION=ap-env-2 debug credentials --region
check "then AWS_DEFAULT_REGION" has_out "region: ap-env-2 (from AWS_DEFAULT_REGION)"
run debug credentials --region
check "then the config file's profile" has_out "region: eu-cfg-1 (from profile 'default' in $W/home/.aws/config)"
run HOME="$W/empty" debug credentials --region
check "then IMDS" has_out "region: us-test-1 (from IMDS)"

# ---- IMDS tokens and refresh -------------------------------------------------

# A refresh window longer than the credentials live makes every lookup
# go to IMDS, which shows how the token is used.
puts=$(stat "$port_imds" token_puts)
gets=$(stat "$port_imds" credential_gets)
run HOME="$W/empty" OPENTOE_AWS_CRED_REFRESH_S=86400 debug credentials --repeat 3 --interval-ms 50
check "three lookups from IMDS" test "$(grep -c 'source=imds' <<< "$out")" -eq 3
check "... with one token (reused)" test "$(($(stat "$port_imds" token_puts) - puts))" -eq 1
check "... and three credential requests" test "$(($(stat "$port_imds" credential_gets) - gets))" -eq 3

puts=$(stat "$port_imds" token_puts)
unauth=$(stat "$port_imds" unauthorized)
run HOME="$W/empty" OPENTOE_AWS_CRED_REFRESH_S=86400 OPENTOE_IMDS_TOKEN_TTL=1 debug credentials --repeat 3 --interval-ms 1200
check "a token about to expire is replaced before it does" \
        eval '[ $rc -eq 0 ] && [ $(($(stat "$port_imds" token_puts) - puts)) -ge 2 ] && [ $(stat "$port_imds" unauthorized) -eq $unauth ]'

ctl "$IM/_control" '{"token_ttl_max": 1}'
puts=$(stat "$port_imds" token_puts)
run HOME="$W/empty" OPENTOE_AWS_CRED_REFRESH_S=86400 debug credentials --repeat 2 --interval-ms 1200
check "a shorter TTL granted by IMDS is honoured" \
        eval '[ $rc -eq 0 ] && [ $(($(stat "$port_imds" token_puts) - puts)) -eq 2 ] && [ $(stat "$port_imds" unauthorized) -eq $unauth ]'
ctl "$IM/_control" '{"token_ttl_max": 0, "token_silent_ttl": 1}'
puts=$(stat "$port_imds" token_puts)
run HOME="$W/empty" OPENTOE_AWS_CRED_REFRESH_S=86400 debug credentials --repeat 2 --interval-ms 1500
check "a token IMDS dropped early (401) is fetched again and the request repeated" \
        eval '[ $rc -eq 0 ] && [ $(grep -c source=imds <<< "$out") -eq 2 ] && [ $(($(stat "$port_imds" token_puts) - puts)) -eq 2 ] && [ $(stat "$port_imds" unauthorized) -eq $((unauth + 1)) ]'
ctl "$IM/_control" '{"token_silent_ttl": 0}'

ctl "$IM/_control" '{"cred_ttl": 3, "rotate": true}'
run HOME="$W/empty" OPENTOE_AWS_CRED_REFRESH_S=1 debug credentials --repeat 3 --interval-ms 1500
keys=$(grep -o 'access_key_id=[A-Z0-9]*' <<< "$out" | uniq | wc -l)
check "rotating credentials are picked up after they expire" eval '[ $rc -eq 0 ] && [ $keys -ge 2 ]'
ctl "$IM/_control" '{"cred_ttl": 21600, "rotate": true}'

run HOME="$W/empty" debug credentials
gets=$(stat "$port_imds" credential_gets)
run HOME="$W/empty" debug credentials --repeat 3 --interval-ms 10
check "credentials far from expiry are cached (one IMDS lookup for three)" \
        test "$(($(stat "$port_imds" credential_gets) - gets))" -eq 1

ctl "$IM/_control" '{"fail500": 1}'
run HOME="$W/empty" debug credentials
check "an IMDS 500 is retried" has_out "source=imds"

ctl "$IM/_control" '{"stall": 4}'
run HOME="$W/empty" OPENTOE_IMDS_TIMEOUT_MS=1000 debug credentials
check "a stalled IMDS fails fast (2 attempts of 1 s)" eval '[ $rc -eq 1 ] && [ $elapsed_ms -lt 15000 ] && has_err "gave up after 2 attempts"'
ctl "$IM/_control" '{"stall": 0}'

run HOME="$W/empty" AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1 debug credentials
check "no IMDS listening: fails at once with the reason" \
        eval '[ $rc -eq 1 ] && [ $elapsed_ms -lt 15000 ] && has_err "IMDS at http://127.0.0.1:1: PUT http://127.0.0.1:1/latest/api/token: gave up after 2 attempts"'

# ---- signed requests -----------------------------------------------------------

if ! "$PY" -c 'import botocore.auth' 2> /dev/null; then
        for _ in $(seq 26); do skip "python3-botocore is not installed"; done
        done_testing
        exit 0
fi

keys=(--key AKIDAWSJSON=secret-awsjson)
for g in $(seq 1 30); do keys+=(--key "$(printf 'ASIAIMDSTEST%06d' "$g")=imds-secret-$g"); done
serve aj awsjson.py "${keys[@]}" --stall-seconds 30
AJ=http://127.0.0.1:$port_aj
KEY=(AWS_ACCESS_KEY_ID=AKIDAWSJSON AWS_SECRET_ACCESS_KEY=secret-awsjson)
BODY='{"hello": "w\u00f6rld", "n": [1, 2, 3]}'
req=(debug aws-request --service logs --region us-east-1 --target Test.Echo --body "$BODY")

before=$(lines "$log_aj")
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ"
check "a signed request is accepted by botocore's verification" eval '[ $rc -eq 0 ] && [ "$out" = "$BODY" ]'
check "... at the first attempt" eval 'has_err "HTTP 200 after 1 attempt," && [ "$(new_lines "$log_aj" "$before")" = "Test.Echo AKIDAWSJSON -> 200 -" ]'

# --deadline-ms is each request's: the --interval-ms pause before one is not
# taken from it (a pause longer than the deadline left nothing before).
before=$(lines "$log_aj")
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ" --repeat 2 --interval-ms 1200 --deadline-ms 1000
check "--repeat with a pause longer than --deadline-ms: both requests answered" \
        eval '[ $rc -eq 0 ] && [ "$(new_lines "$log_aj" "$before" | grep -c -- "-> 200 -")" -eq 2 ]'

run HOME="$W/empty" "${req[@]}" --endpoint "$AJ"
check "IMDS session credentials (with X-Amz-Security-Token) are accepted" eval '[ $rc -eq 0 ] && [ "$out" = "$BODY" ]'

before=$(lines "$log_aj")
run AWS_ACCESS_KEY_ID=AKIDAWSJSON AWS_SECRET_ACCESS_KEY=wrong-secret "${req[@]}" --endpoint "$AJ"
check "a wrong secret is rejected" \
        eval '[ $rc -eq 1 ] && has_err "HTTP 403 InvalidSignatureException: The request signature we calculated does not match"'
check "... and not retried" test "$(new_lines "$log_aj" "$before" | wc -l)" -eq 1

run AWS_ACCESS_KEY_ID=AKIDUNKNOWN AWS_SECRET_ACCESS_KEY=x "${req[@]}" --endpoint "$AJ"
check "an unknown key: the service's error code and message" \
        eval '[ $rc -eq 1 ] && has_err "HTTP 403 UnrecognizedClientException: The security token included in the request is invalid."'

ctl "$AJ/_control" '{"throttle": 2}'
before=$(lines "$log_aj")
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ"
check "throttling is retried and then succeeds" eval '[ $rc -eq 0 ] && [ "$out" = "$BODY" ] && has_err "HTTP 200 after 3 attempts"'
check "... each retry announced with its reason" \
        has_err "attempt 1 of 5 failed: HTTP 400 ThrottlingException: Rate exceeded; retrying in"
check "... every attempt signed anew and accepted" \
        test "$(new_lines "$log_aj" "$before" | tr '\n' '|')" = "Test.Echo AKIDAWSJSON -> 400 ThrottlingException|Test.Echo AKIDAWSJSON -> 400 ThrottlingException|Test.Echo AKIDAWSJSON -> 200 -|"

ctl "$AJ/_control" '{"fail500": 2}'
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ"
check "500s are retried and then succeed" eval '[ $rc -eq 0 ] && has_err "HTTP 200 after 3 attempts"'

ctl "$AJ/_control" '{"fail500": 100}'
before=$(lines "$log_aj")
run "${KEY[@]}" OPENTOE_AWS_MAX_ATTEMPTS=3 "${req[@]}" --endpoint "$AJ"
check "retries give up after the bound, saying so" \
        eval '[ $rc -eq 1 ] && has_err "HTTP 500 InternalFailure: The request processing has failed." && has_err "gave up after 3 attempts"'
check "... after exactly that many requests" test "$(new_lines "$log_aj" "$before" | wc -l)" -eq 3
ctl "$AJ/_control" '{"fail500": 0}'

ctl "$AJ/_control" '{"skew": 1200}'
before=$(lines "$log_aj")
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ" --repeat 2 --interval-ms 10
check "clock skew (server 20 minutes ahead): corrected, the retry succeeds" \
        eval '[ $rc -eq 0 ] && [ "$(head -1 <<< "$out")" = "$BODY" ] && has_err "the server'"'"'s clock is +"'
check "... the first request failed with the skew error, the retry and the next request passed" \
        test "$(new_lines "$log_aj" "$before" | tr '\n' '|')" = "Test.Echo AKIDAWSJSON -> 400 InvalidSignatureException|Test.Echo AKIDAWSJSON -> 200 -|Test.Echo AKIDAWSJSON -> 200 -|"
off=$(sed -n 's/.*clock offset learnt: +\([0-9]*\)s/\1/p' <<< "$err")
check "... with an offset of about 20 minutes" eval '[ -n "$off" ] && [ "$off" -ge 1190 ] && [ "$off" -le 1210 ]'

ctl "$AJ/_control" '{"skew": -1200, "skew_code": "RequestTimeTooSkewed"}'
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ"
check "RequestTimeTooSkewed (server 20 minutes behind): corrected too" \
        eval '[ $rc -eq 0 ] && has_err "HTTP 200 after 2 attempts" && has_err "clock offset learnt: -1"'
ctl "$AJ/_control" '{"skew": 0, "skew_code": "InvalidSignatureException"}'

ctl "$AJ/_control" '{"stall": 1}'
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ"
check "a stalled attempt is abandoned (low-speed limit) and retried" eval '[ $rc -eq 0 ] && has_err "HTTP 200 after 2 attempts"'

ctl "$AJ/_control" '{"stall": 10}'
run "${KEY[@]}" OPENTOE_AWS_MAX_ATTEMPTS=2 "${req[@]}" --endpoint "$AJ"
check "a stalled server fails within the low-speed timeout" \
        eval '[ $rc -eq 1 ] && [ $elapsed_ms -lt 30000 ] && has_err "gave up after 2 attempts" && has_err "too slow"'
run "${KEY[@]}" "${req[@]}" --endpoint "$AJ" --deadline-ms 1000
check "the deadline bounds a request" eval '[ $rc -eq 1 ] && [ $elapsed_ms -lt 15000 ] && has_err "deadline"'
ctl "$AJ/_control" '{"stall": 0}'

# ---- TLS ---------------------------------------------------------------------------

if command -v openssl > /dev/null &&
   openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
           -addext subjectAltName=IP:127.0.0.1 -keyout "$W/srv/key.pem" -out "$W/srv/cert.pem" \
           > /dev/null 2>&1; then
        serve ajtls awsjson.py "${keys[@]}" --tls-cert "$W/srv/cert.pem" --tls-key "$W/srv/key.pem"
        before=$(lines "$log_ajtls")
        run "${KEY[@]}" "${req[@]}" --endpoint "https://127.0.0.1:$port_ajtls"
        check "TLS: a certificate the system does not trust is refused" \
                eval '[ $rc -eq 1 ] && has_err "certificate" && ! has_err "attempt 1 of"'
        check "... before any request reached the server" test "$(lines "$log_ajtls")" -eq "$before"
        run "${KEY[@]}" AWS_CA_BUNDLE="$W/srv/cert.pem" "${req[@]}" --endpoint "https://127.0.0.1:$port_ajtls"
        check "TLS: AWS_CA_BUNDLE adds a CA; the request is signed for https and accepted" \
                eval '[ $rc -eq 0 ] && [ "$out" = "$BODY" ]'
else
        for _ in 1 2 3; do skip "openssl cannot make a test certificate"; done
fi

# ---- endpoints ---------------------------------------------------------------------

run "${KEY[@]}" AWS_ENDPOINT_URL_LOGS="$AJ/" debug aws-request --service logs --region us-east-1 --target Test.Echo --body '{}'
check "AWS_ENDPOINT_URL_<SERVICE> sets the endpoint" eval '[ $rc -eq 0 ] && [ "$out" = "{}" ]'
run "${KEY[@]}" AWS_ENDPOINT_URL="$AJ" AWS_REGION=us-west-2 debug aws-request --service logs --target Test.Echo --body '{}'
check "AWS_ENDPOINT_URL, with the region from the chain" eval '[ $rc -eq 0 ] && [ "$out" = "{}" ]'
run "${KEY[@]}" AWS_ENDPOINT_URL=http://127.0.0.1:1 "${req[@]}" --endpoint "$AJ"
check "--endpoint beats the environment" eval '[ $rc -eq 0 ] && [ "$out" = "$BODY" ]'
run "${KEY[@]}" "${req[@]}" --endpoint ftp://127.0.0.1:1
check "only http and https endpoints" eval '[ $rc -eq 1 ] && has_err "must use http or https"'

done_testing
