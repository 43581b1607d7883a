#!/bin/bash
# cwlogs.sh: CloudWatch Logs streaming (aws/cwlogs) through `opentoe debug
# cwlogs-ship`, against tests/servers/cwlogs.py (a CloudWatch Logs service
# that recomputes every SigV4 signature with botocore and refuses any
# batch that breaks a PutLogEvents limit), on a free port of 127.0.0.1
# only, with dummy credentials and IMDS disabled.  What was shipped is read
# back with Debian's `aws logs` (awscli) where it is installed, and with
# the server's own /_events and /_stats otherwise.  Checks: lines arrive
# intact (escaping, invalid UTF-8, empty lines), the group and stream are
# created when missing, batches stay within 10,000 events, 1,048,576
# bytes and 24 hours, long lines are split, timestamps out of the window
# are clamped and expired ones reported, throttling, 500s, 503s and
# stalls are retried, a SIGKILL mid-shipping loses nothing (duplicates
# counted on both sides), an endpoint down for 30 seconds loses nothing,
# a dead endpoint leaves the events pending for the next run, and the
# spool refuses another target, a second user and corrupt records.
# TAP output, plan at the end.  Takes about a minute (the 30 s outage).
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
need_botocore
AWSCLI=
[ -x /usr/bin/aws ] && AWSCLI=/usr/bin/aws

scratch_dir W cwlogs

out= err=
# A failed check shows the last run's output.
on_failure() {
        printf '%s\n' "$out" | head -20 | sed 's/^/# stdout: /'
        printf '%s\n' "$err" | tail -20 | sed 's/^/# stderr: /'
}

# Only the test server: no proxy, no AWS settings from the caller.
aws_test_env AKIDCWLOGSTEST cwlogs-test-secret OPENTOE_CWLOGS_
export AWS_REGION=us-east-1 AWS_PAGER=
export OPENTOE_AWS_BACKOFF_MS=10 OPENTOE_AWS_CONNECT_TIMEOUT_MS=2000 OPENTOE_AWS_LOW_SPEED_TIME=2
export OPENTOE_CWLOGS_BACKOFF_MS=200 OPENTOE_CWLOGS_BACKOFF_CAP_MS=2000

start_server cwlogs "$PY" "$SERVERS/cwlogs.py" --log "$W/srv/log" --region us-east-1 \
        --key "$AWS_ACCESS_KEY_ID=$AWS_SECRET_ACCESS_KEY" --stall-seconds 4
: >> "$W/srv/log"
URL=http://127.0.0.1:$port_cwlogs
export AWS_ENDPOINT_URL_LOGS=$URL

ctl() { server_post "$URL/_control" "$1"; }
# stat GROUP STREAM KEY: a counter of /_stats (0 for a missing stream);
# stat - - KEY: a server-wide one.
stat() {
        server_json "$URL/_stats" 'd[a[2]] if a[0] == "-" else d["streams"].get(a[0] + " " + a[1], {}).get(a[2], 0)' "$@"
}
# events GROUP STREAM > FILE: the stored messages as JSON lines, in arrival order.
events() {
        "$PY" -c 'import sys, json, urllib.request, urllib.parse
q = urllib.parse.urlencode({"group": sys.argv[2], "stream": sys.argv[3]})
d = json.load(urllib.request.urlopen(sys.argv[1] + "/_events?" + q, timeout=60))
for t, m in d["events"]:
    print(json.dumps(m))' "$URL" "$@"
}
# numbered GROUP STREAM N: "ok" when the stream holds each of "line 1" ..
# "line N" at least once and nothing else, else what is wrong.
numbered() {
        "$PY" -c 'import sys, json, urllib.request, urllib.parse, collections
q = urllib.parse.urlencode({"group": sys.argv[2], "stream": sys.argv[3]})
d = json.load(urllib.request.urlopen(sys.argv[1] + "/_events?" + q, timeout=60))
c = collections.Counter(m for t, m in d["events"])
want = set("line %d" % i for i in range(1, int(sys.argv[4]) + 1))
missing, extra = want - set(c), set(c) - want
print("ok" if not missing and not extra else "missing %d (e.g. %s), unexpected %d (e.g. %s)" % (
    len(missing), sorted(missing)[:3], len(extra), sorted(extra)[:3]))' "$URL" "$@"
}

# ship [VAR=VALUE...] ARGS...: runs `opentoe debug cwlogs-ship` (standard
# input from $input, /dev/null by default); sets rc, out, err, elapsed_ms
# (capture, tests/lib/run.sh).
input=/dev/null
ship_cmd=("$OPENTOE" debug cwlogs-ship --region us-east-1)
ship() { capture ship_cmd "$@" < "$input"; }
# val KEY: a count from the last ship's key=value line.
val() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<< "$out"; }
log_lines() { wc -l < "$W/srv/log"; }
new_log() { tail -n +$(($1 + 1)) "$W/srv/log"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- lines arrive intact --------------------------------------------------------

printf 'first line\n' > "$W/in1"
printf 'quote " backslash \\ tab\there\n' >> "$W/in1"
printf '\n' >> "$W/in1"
printf 'utf-8: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n' >> "$W/in1"
printf 'invalid: \xff\xfe and a lone \xc3 and a surrogate \xed\xa0\x80 end\n' >> "$W/in1"
printf 'control: \x01\x1f\x7f bell\x07\n' >> "$W/in1"
printf 'crlf line\r\n' >> "$W/in1"
for i in $(seq 1 42); do echo "filler $i"; done >> "$W/in1"
printf 'last line without a newline' >> "$W/in1"
"$PY" -c 'import sys, json
data = open(sys.argv[1], "rb").read().split(b"\n")
for raw in data:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    text = raw.decode("utf-8", errors="replace") or " "
    print(json.dumps(text))' "$W/in1" > "$W/expect1"

before=$(log_lines)
input=$W/in1 ship --group /ib/basic --stream build/1 --spool "$W/sp-basic"
input=/dev/null
check "50 lines shipped to a missing group and stream: exit 0" test "$rc" -eq 0
check "... delivered=50 appended=50" eval '[ "$(val delivered)" = 50 ] && [ "$(val appended)" = 50 ]'
new_log "$before" | awk '{print $1, $4, $5}' > "$W/log1"
check "the group and stream are created after ResourceNotFoundException, then the batch is sent again" \
        diff -u - "$W/log1" << 'EOF'
Logs_20140328.PutLogEvents 400 ResourceNotFoundException
Logs_20140328.CreateLogStream 400 ResourceNotFoundException
Logs_20140328.CreateLogGroup 200 -
Logs_20140328.CreateLogStream 200 -
Logs_20140328.PutLogEvents 200 -
EOF
events /ib/basic build/1 > "$W/got1"
check "every message as sent: escapes, UTF-8, U+FFFD for invalid bytes, ' ' for an empty line" \
        diff -u "$W/expect1" "$W/got1"
check "the summary names the target" has_err "CloudWatch Logs: 50 events delivered to log group /ib/basic, stream build/1"

if [ -n "$AWSCLI" ]; then
        awslogs() { "$AWSCLI" logs --endpoint-url "$URL" --region us-east-1 --output json "$@"; }
        awslogs get-log-events --log-group-name /ib/basic --log-stream-name build/1 --start-from-head \
                > "$W/cli1" 2> "$W/cli1.err"
        "$PY" -c 'import sys, json
for e in json.load(open(sys.argv[1]))["events"]:
    print(json.dumps(e["message"]))' "$W/cli1" > "$W/cli1.msgs" 2>> "$W/cli1.err"
        err=$(cat "$W/cli1.err")
        check "aws logs get-log-events (awscli, its own SigV4) reads back the same 50 messages" \
                diff -u "$W/expect1" "$W/cli1.msgs"
        awslogs describe-log-streams --log-group-name /ib/basic > "$W/cli2" 2> "$W/cli2.err"
        err=$(cat "$W/cli2.err")
        check "aws logs describe-log-streams lists the stream" grep -q '"logStreamName": "build/1"' "$W/cli2"
        awslogs create-log-group --log-group-name /ib/precreated > /dev/null 2>&1
        awslogs create-log-stream --log-group-name /ib/precreated --log-stream-name other > /dev/null 2>&1
else
        skip "awscli (/usr/bin/aws) not installed: aws logs get-log-events"
        skip "awscli (/usr/bin/aws) not installed: aws logs describe-log-streams"
        ctl '{}' # the group is made by opentoe below instead
fi

before=$(log_lines)
[ -z "$AWSCLI" ] && ship --group /ib/precreated --stream other --spool "$W/sp-pre" --lines 1
before=$(log_lines)
ship --group /ib/precreated --stream fresh --spool "$W/sp-pre" --lines 3
new_log "$before" | awk '{print $1, $4, $5}' > "$W/log2"
check "an existing group: only the stream is created" diff -u - "$W/log2" << 'EOF'
Logs_20140328.PutLogEvents 400 ResourceNotFoundException
Logs_20140328.CreateLogStream 200 -
Logs_20140328.PutLogEvents 200 -
EOF

# ---- batching limits ------------------------------------------------------------

ship --group /ib/limits --stream count --spool "$W/sp-count" --lines 25000
check "25,000 small lines: all delivered" eval '[ $rc -eq 0 ] && [ "$(stat /ib/limits count events)" = 25000 ]'
check "... in batches of at most 10,000 events (3 requests)" test "$(val requests)" = 3
check "... none refused by the server's limit checks" test "$(stat - - invalid)" = 0

ship --group /ib/limits --stream bytes --spool "$W/sp-bytes" --lines 3000 --line-bytes 1000
check "3,000 lines of 1,000 bytes: all delivered, none refused" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/limits bytes events)" = 3000 ] && [ "$(stat - - invalid)" = 0 ]'
check "... in batches of at most 1,048,576 bytes counting 26 per event (3 requests)" test "$(val requests)" = 3

"$PY" -c 'import sys
sys.stdout.write("A" * 600000 + "\n")
sys.stdout.write("\u20ac" * 100000 + "\n")
sys.stdout.write("short\n")' > "$W/long"
input=$W/long ship --group /ib/limits --stream long --spool "$W/sp-long"
input=/dev/null
check "a 600,000-byte line and a 300,000-byte line of 3-byte characters: delivered, split=2" \
        eval '[ $rc -eq 0 ] && [ "$(val split)" = 2 ] && [ "$(stat - - invalid)" = 0 ]'
"$PY" -c 'import sys, json
msgs = [json.loads(l) for l in open(sys.argv[1])]
ok = len(msgs) == 6 and all(len(m.encode()) <= 262118 for m in msgs)
ok = ok and "".join(msgs[:3]) == "A" * 600000 and "".join(msgs[3:5]) == "\u20ac" * 100000 and msgs[5] == "short"
sys.exit(0 if ok else 1)' <(events /ib/limits long) > /dev/null 2>&1
check "... into events of at most 262,118 bytes, cut between characters, that join back to the lines" test $? -eq 0

t=$(now_ms)
h=3600000
{
        for k in 0 1 2 3 4 5 6 7 8 9; do printf '%d\tspan %d\n' $((t - (100 - k * 10) * h)) $k; done
        printf '%d\tout of order 1\n' $((t - 2 * h))
        printf '%d\tout of order 2\n' $((t - 30 * h))
        printf '%d\ttoo old\n' $((t - 20 * 24 * h))
        printf '%d\ttoo new\n' $((t + 5 * h))
        printf '%d\tnow\n' "$t"
} > "$W/times"
input=$W/times ship --group /ib/limits --stream span --spool "$W/sp-span" --timestamps
input=/dev/null
check "timestamps spanning 100 hours, out of order: all 15 delivered, none refused" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/limits span events)" = 15 ] && [ "$(stat - - invalid)" = 0 ]'
check "... in batches spanning less than 24 hours (at least 5 requests)" test "$(val requests)" -ge 5
check "... one 20 days old and one 5 hours ahead clamped into the accepted window" test "$(val clamped)" = 2

ctl '{"retention_days": 1}'
printf -- '-172800000\texpired 1\n-172700000\texpired 2\n+0\tfresh\n' > "$W/expired"
input=$W/expired ship --group /ib/limits --stream expired --spool "$W/sp-exp" --timestamps
input=/dev/null
ctl '{"retention_days": 0}'
check "events past the group's retention: rejected=2 (rejectedLogEventsInfo), delivered=1, exit 1" \
        eval '[ $rc -eq 1 ] && [ "$(val rejected)" = 2 ] && [ "$(val delivered)" = 1 ] && [ "$(val pending)" = 0 ]'
check "... the summary says so" has_err "2 NOT delivered (2 rejected by the service)"
check "... not retried (one request per batch)" test "$(stat /ib/limits expired puts)" = 2

ctl '{"max_event_bytes": 1026}'
"$PY" -c 'print("x" * 1000); print("y" * 1001)' > "$W/invalid"
input=$W/invalid ship --group /ib/limits --stream invalid --spool "$W/sp-inv"
input=/dev/null
ctl '{"max_event_bytes": 262144}'
check "a batch the service refuses (InvalidParameterException): dropped and reported, exit 1" \
        eval '[ $rc -eq 1 ] && [ "$(val rejected)" = 2 ] && [ "$(val pending)" = 0 ] && has_err "Log event too large"'
check "... not sent again" test "$(grep -c 'PutLogEvents .* InvalidParameterException' "$W/srv/log")" = 1

# ---- retries ---------------------------------------------------------------------

before=$(log_lines)
ctl '{"throttle": 3}'
ship --group /ib/retry --stream throttle --spool "$W/sp-thr" --lines 100
check "3 ThrottlingExceptions: retried, all delivered" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/retry throttle events)" = 100 ]'
check "... the server saw them" test "$(new_log "$before" | grep -c ThrottlingException)" -eq 3

ctl '{"fail500": 7}'
ship --group /ib/retry --stream e500 --spool "$W/sp-500" --lines 100
check "7 HTTP 500s, more than one request's attempts: retried after a backoff, all delivered" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/retry e500 events)" = 100 ] && [ "$(val failures)" -ge 1 ]'

ship --group /ib/retry --stream e503 --spool "$W/sp-503" --lines 1
ctl '{"unavailable": 3}'
ship --group /ib/retry --stream e503 --spool "$W/sp-503" --lines 100
check "HTTP 503 ServiceUnavailableException for 3 s: all delivered" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/retry e503 events)" = 101 ]'

ship --group /ib/retry --stream stall --spool "$W/sp-stall" --lines 1
ctl '{"stall": 1}'
ship OPENTOE_AWS_LOW_SPEED_TIME=1 --group /ib/retry --stream stall --spool "$W/sp-stall" --lines 100
check "a stalled request: abandoned, sent again, all delivered" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/retry stall events)" = 101 ]'

ship --group /ib/retry --stream accstall --spool "$W/sp-acc" --lines 1
ctl '{"accept_stall": 1}'
ship OPENTOE_AWS_LOW_SPEED_TIME=1 OPENTOE_AWS_MAX_ATTEMPTS=1 --group /ib/retry --stream accstall \
        --spool "$W/sp-acc" --lines 100 --prefix "acc "
dups=$(stat /ib/retry accstall duplicates)
check "a request stored but never answered: sent again, all delivered" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/retry accstall distinct)" = 101 ]'
check "... the server holds $dups duplicates; opentoe reported resent=$(val resent) (>= them)" \
        eval '[ "$dups" -ge 1 ] && [ "$(val resent)" -ge "$dups" ]'
check "... and says so in the summary" has_err "sent again after an interrupted send (possible duplicates)"

# ---- SIGKILL while shipping --------------------------------------------------------

N=200000
# kill_at_puts N: once the server has had N PutLogEvents for /ib/kill s
# (or after 15 s), SIGKILL to $kpid.
kill_at_puts() {
        for _ in $(seq 300); do
                [ "$(stat /ib/kill s puts)" -ge "$1" ] && break
                sleep 0.05
        done
        { kill -9 $kpid && wait $kpid; } 2> /dev/null
}
ctl '{"put_delay_ms": 250}'
export OPENTOE_CWLOGS_SEGMENT_BYTES=262144
"$OPENTOE" debug cwlogs-ship --region us-east-1 --group /ib/kill --stream s --spool "$W/sp-kill" \
        --lines $N --pump-every 0 --deadline-ms 120000 > "$W/kill1.out" 2> "$W/kill1.err" &
kpid=$!
kill_at_puts 4
got1=$(stat /ib/kill s events)
check "SIGKILL after 4 of $((N / 10000)) batches (the server held $got1 events)" \
        eval '[ "$got1" -gt 0 ] && [ "$got1" -lt $N ]'
"$OPENTOE" debug cwlogs-ship --region us-east-1 --group /ib/kill --stream s --spool "$W/sp-kill" \
        --lines 0 --deadline-ms 120000 > "$W/kill2.out" 2> "$W/kill2.err" &
kpid=$!
kill_at_puts 10
ctl '{"put_delay_ms": 0}'
ship --group /ib/kill --stream s --spool "$W/sp-kill" --lines 0 --deadline-ms 120000
unset OPENTOE_CWLOGS_SEGMENT_BYTES
check "a second SIGKILL, then a third run on the same spool: exit 0" test "$rc" -eq 0
res=$(numbered /ib/kill s $N)
out="$out
$res"
check "every one of the $N lines reached the endpoint" test "$res" = ok
dups=$(stat /ib/kill s duplicates)
echo "# SIGKILL test: the server holds $dups duplicate events; the spool's total_resent=$(val total_resent)"
echo "# (the last run: $(val resumed) resumed, resent=$(val resent); ${err##*debug cwlogs-ship: })"
check "duplicates are counted: total_resent=$(val total_resent) >= the $dups the server holds" \
        test "$(val total_resent)" -ge "$dups"
check "the spool is emptied once everything is delivered" \
        eval '[ -z "$(ls "$W/sp-kill" | grep "\.seg$")" ]'

# ---- outages ------------------------------------------------------------------------

ship --group /ib/down --stream s --spool "$W/sp-down" --lines 1
ctl '{"down": 30}'
t0=$(date +%s)
ship OPENTOE_CWLOGS_BACKOFF_CAP_MS=3000 --group /ib/down --stream s --spool "$W/sp-down" --lines 20000 \
        --pump-every 500 --deadline-ms 90000
t1=$(date +%s)
check "an endpoint refusing connections for 30 s: all 20,000 lines delivered, exit 0" \
        eval '[ $rc -eq 0 ] && [ "$(stat /ib/down s events)" = 20001 ] && [ "$(val pending)" = 0 ]'
check "... after waiting it out ($((t1 - t0)) s, $(val failures) failed tries)" \
        eval '[ $((t1 - t0)) -ge 25 ] && [ "$(val failures)" -ge 2 ]'

ship OPENTOE_AWS_MAX_ATTEMPTS=2 AWS_ENDPOINT_URL_LOGS=http://127.0.0.1:1 --group /ib/dead --stream s \
        --spool "$W/sp-dead" --lines 500 --deadline-ms 3000
check "a dead endpoint: close gives up at its deadline with exit 1" eval '[ $rc -eq 1 ] && [ $elapsed_ms -lt 8000 ]'
check "... reporting pending=500, delivered=0" eval '[ "$(val pending)" = 500 ] && [ "$(val delivered)" = 0 ]'
check "... and the summary says why" eval 'has_err "500 NOT delivered (500 pending in the spool)" && has_err "127.0.0.1:1"'
ship --group /ib/dead --stream s --spool "$W/sp-dead" --lines 0
check "the next run on that spool delivers them (resumed=500)" \
        eval '[ $rc -eq 0 ] && [ "$(val resumed)" = 500 ] && [ "$(stat /ib/dead s events)" = 500 ]'

# ---- the spool ----------------------------------------------------------------------

ship AWS_ENDPOINT_URL_LOGS=http://127.0.0.1:1 OPENTOE_AWS_MAX_ATTEMPTS=1 --group /ib/other --stream a \
        --spool "$W/sp-other" --lines 10 --deadline-ms 500
ship --group /ib/other --stream b --spool "$W/sp-other" --lines 1
check "a spool holding undelivered events of another stream is refused" \
        eval '[ $rc -eq 1 ] && has_err "holds 10 undelivered events for log group /ib/other, stream a"'
ship --group /ib/other --stream b --spool "$W/sp-other" --lines 1 --discard-other
check "... unless --discard-other (discarded=10)" eval '[ $rc -eq 0 ] && [ "$(val discarded)" = 10 ]'

ctl '{"put_delay_ms": 1000}'
"$OPENTOE" debug cwlogs-ship --region us-east-1 --group /ib/lock --stream s --spool "$W/sp-lock" \
        --lines 10 > /dev/null 2>&1 &
lpid=$!
sleep 0.5
ship --group /ib/lock --stream s --spool "$W/sp-lock" --lines 1
wait $lpid
ctl '{"put_delay_ms": 0}'
check "a spool in use by another process is refused" eval '[ $rc -eq 1 ] && has_err "is in use by another process"'

ship AWS_ENDPOINT_URL_LOGS=http://127.0.0.1:1 OPENTOE_AWS_MAX_ATTEMPTS=1 --group /ib/corrupt --stream s \
        --spool "$W/sp-corrupt" --lines 100 --deadline-ms 500
seg=$(ls "$W/sp-corrupt"/*.seg | head -1)
printf 'X' | dd of="$seg" bs=1 seek=1000 conv=notrunc status=none
ship --group /ib/corrupt --stream s --spool "$W/sp-corrupt" --lines 0
got=$(stat /ib/corrupt s events)
check "a corrupt record in the spool: the records before it are delivered ($got), lost reported, exit 1" \
        eval '[ $rc -eq 1 ] && [ "$(val lost)" -ge 1 ] && [ "$got" -gt 0 ] && [ "$got" -lt 100 ] && has_err "cannot be read ("'

# ---- opentoe run streams console.log ---------------------------------------------

mkdir -p "$W/run"
cat > "$W/run/doc.yml" <<'YML'
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Talk
        action: ExecuteBash
        inputs:
          commands: ["echo hello-cloudwatch", "echo second-line >&2"]
YML
(cd "$W/run" && "$OPENTOE" run -d doc.yml -l logs -s state --cw-log-group /ib/run --cw-log-stream r1 \
        --cw-log-region us-east-1 > out 2> err); rc=$?
events /ib/run r1 > "$W/run/events"
check "run --cw-log-group: exit 0 and console.log's lines reach the stream" \
        eval '[ $rc -eq 0 ] && grep -q "Info CmdExecution: Stdout: hello-cloudwatch" "$W/run/events" &&
              grep -q "Info CmdExecution: Stderr: second-line" "$W/run/events" &&
              grep -q "TOE has completed execution successfully" "$W/run/events"'
check "... every console.log line, in order" \
        eval '[ "$(sed "s/^\"//; s/\"\$//" "$W/run/events")" = "$(cat "$W/run"/logs/TOE_*/console.log)" ]'
(cd "$W/run" && AWS_ENDPOINT_URL_LOGS=http://127.0.0.1:1 OPENTOE_AWS_MAX_ATTEMPTS=1 OPENTOE_CWLOGS_CLOSE_WAIT_MS=1000 \
        "$OPENTOE" run -d doc.yml -l logs2 -s state2 --cw-log-group /ib/run --cw-log-stream r2 \
        --cw-log-region us-east-1 > out2 2> err2); rc=$?
check "an unreachable endpoint without --cw-ignore-failures: the run fails and its summary says why" \
        eval '[ $rc -eq 1 ] && grep -q "\"failureMessage\": \"CloudWatch Logs delivery incomplete" "$W/run/out2"'
(cd "$W/run" && AWS_ENDPOINT_URL_LOGS=http://127.0.0.1:1 OPENTOE_AWS_MAX_ATTEMPTS=1 OPENTOE_CWLOGS_CLOSE_WAIT_MS=1000 \
        "$OPENTOE" run -d doc.yml -l logs3 -s state3 --cw-log-group /ib/run --cw-log-stream r3 \
        --cw-log-region us-east-1 --cw-ignore-failures > out3 2> err3); rc=$?
check "... with --cw-ignore-failures it succeeds, and the lines stay spooled" \
        eval '[ $rc -eq 0 ] && grep -q "\"status\": \"success\"" "$W/run/out3" && ls "$W/run"/state3/cwlogs/*.seg > /dev/null'
(cd "$W/run" && "$OPENTOE" run -d doc.yml -l logs4 -s state3 --cw-log-group /ib/run --cw-log-stream r3 \
        --cw-log-region us-east-1 > out4 2> err4); rc=$?
events /ib/run r3 > "$W/run/events3"
check "... and the next run ships them before its own" \
        eval '[ $rc -eq 0 ] && [ "$(grep -c "Info CmdExecution: Stdout: hello-cloudwatch" "$W/run/events3")" = 2 ]'

# The --cw-* flags are independent (AWSTOE documents each alone): a group
# without a stream streams to one named after the execution id; a stream
# or region without a group streams nothing and says so.
(cd "$W/run" && "$OPENTOE" run -d doc.yml -l logs5 -s state5 --cw-log-group /ib/alone -i exec-alone-1 \
        --cw-log-region us-east-1 > out5 2> err5); rc=$?
events /ib/alone exec-alone-1 > "$W/run/events5"
check "run --cw-log-group without --cw-log-stream: the stream is the execution id" \
        eval '[ $rc -eq 0 ] && grep -q "Info CmdExecution: Stdout: hello-cloudwatch" "$W/run/events5"'
before=$(log_lines)
(cd "$W/run" && "$OPENTOE" run -d doc.yml -l logs6 -s state6 --cw-log-stream lonely \
        --cw-log-region us-east-1 > out6 2> err6); rc=$?
check "run --cw-log-stream without --cw-log-group: the run succeeds, a warning, nothing sent" \
        eval '[ $rc -eq 0 ] && grep -q "do nothing without --cw-log-group" "$W/run/err6" &&
              [ "$(log_lines)" -eq "$before" ]'

done_testing
