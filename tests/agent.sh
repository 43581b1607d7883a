#!/bin/bash
# agent.sh: `opentoe agent`, `submit` and `status` (opentoe-agent(8)).
# The daemon runs with NOTIFY_SOCKET at a test listener
# (tests/servers/notify_listener.py): READY, STATUS with the document,
# phase and step, WATCHDOG and STOPPING are read back.  A job stopped by
# SIGTERM mid-step resumes when the agent starts again (no completed
# step runs again, the step in flight does); `status --wait` started
# before the stop returns once the restarted agent ends the job; a job
# whose state cannot be trusted is moved aside and says why; a job that
# asks for a reboot waits as pending-reboot and resumes at the next
# start; jobs run one at a time, in order; a dropped job is picked up;
# the unit passes systemd-analyze verify when it is installed.  TAP.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
enter_scratch work agent
export OPENTOE_AGENT_ROOT=$work/root OPENTOE_STATUS_POLL_MS=50 OPENTOE_KILL_GRACE_MS=200
log=$work/notify.log
"$PY" "$top_srcdir/tests/servers/notify_listener.py" "$work/notify" "$log" &
tap_server_pids+=($!)
for _ in $(seq 50); do [ -S "$work/notify" ] && break; sleep 0.1; done

agent_pid=
start_agent() {
        NOTIFY_SOCKET=$work/notify WATCHDOG_USEC=200000 "$OPENTOE" agent --config "$work/agent.json" "$@" \
                >> "$work/agent.out" 2>> "$work/agent.err" &
        agent_pid=$!
        for _ in $(seq 100); do grep -q "^MAINPID=$agent_pid" "$log" 2> /dev/null && return 0; sleep 0.05; done
        return 1
}
stop_agent() {
        kill -TERM "$agent_pid" 2> /dev/null
        wait "$agent_pid"
}
at_exit '[ -n "$agent_pid" ] && kill -9 $agent_pid 2> /dev/null'
# The field KEY of job ID's status as JSON.
field() { "$OPENTOE" status "$1" --format json 2> /dev/null | "$PY" -c "import json,sys; print(json.load(sys.stdin).get('$2',''))" 2> /dev/null; }
export -f field
export OPENTOE PY
wait_field() {  # ID KEY VALUE: up to 20 s
        for _ in $(seq 400); do [ "$(field "$1" "$2")" = "$3" ] && return 0; sleep 0.05; done
        return 1
}
on_failure() { diag "$(tail -20 "$work/agent.err" 2> /dev/null)"; }

doc() {  # NAME: a document whose steps append to trace; B sleeps
        cat > "$1" <<YML
name: agent-test
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: A
        action: ExecuteBash
        inputs:
          commands: ["echo A >> $work/trace"]
      - name: B
        action: ExecuteBash
        inputs:
          commands: ["echo start B >> $work/trace", "sleep \${SLEEP_B:-2}", "echo end B >> $work/trace"]
      - name: C
        action: ExecuteBash
        inputs:
          commands: ["echo C >> $work/trace"]
YML
}
doc doc.yml
echo '{}' > agent.json

check "the agent starts and says READY=1" start_agent
check "READY=1 is sent" grep -qx 'READY=1' "$log"
sleep 0.5
check_eval "WATCHDOG=1 flows while idle" '[ "$(grep -c "^WATCHDOG=1" "$log")" -ge 2 ]'
check "submit --config with a bad rebootMode is refused" \
        bash -c "echo '{\"documents\":[{\"path\":\"doc.yml\"}],\"rebootMode\":\"x\"}' > bad.json; ! '$OPENTOE' submit --config bad.json 2> /dev/null"
check "submit rejects a bad execution id" bash -c "! '$OPENTOE' submit --documents doc.yml --execution-id ../x 2> /dev/null"

# 1. SIGTERM mid-step, then a restart: the job resumes.
cat > job1.json <<JSON
{"documents": [{"path": "doc.yml"}], "executionId": "job-one", "signals": [{"type": "webhook", "url": "http://127.0.0.1:1/never", "keyFile": "/nonexistent/key"}]}
JSON
check "submit prints the execution id" bash -c "[ \"\$('$OPENTOE' submit --config job1.json)\" = job-one ]"
check "a second job with the same id is refused" bash -c "! '$OPENTOE' submit --config job1.json 2> /dev/null"
id2=$("$OPENTOE" submit --documents doc.yml)
check "the job runs and reaches step B" wait_field job-one step B
check "STATUS names the document, phase and step" grep -q "^STATUS=Running job-one: document $work/doc.yml, phase build, step B" "$log"
"$OPENTOE" status "$id2" > /dev/null
check_eval "the second job waits queued (exit 3)" '[ $? = 3 ] && [ "$(field "$id2" status)" = queued ]'
"$OPENTOE" status job-one --wait > wait.out &
waiter=$!
check "SIGTERM stops the agent cleanly" stop_agent
check "STOPPING=1 is sent" grep -qx 'STOPPING=1' "$log"
check "the job stays resumable (running, interrupted)" bash -c "[ \"\$(field job-one status)\" = running ] && [ \"\$(field job-one interrupted)\" = True ]"
check "no process of step B is left" bash -c "! pgrep -f 'sleep \\\$\\{SLEEP_B' > /dev/null"
check "status --wait is still waiting" kill -0 "$waiter"
check "the restarted agent starts" start_agent
check "job-one ends in success" wait_field job-one status success
wait "$waiter"
check_eval "status --wait returned 0 across the restart" '[ $? = 0 ] && grep -q "status: success" wait.out'
check "then the second job succeeds" wait_field "$id2" status success
check_eval "A ran once per job, B's end once per job, C once per job" \
        '[ "$(grep -cx A trace)" = 2 ] && [ "$(grep -cx "end B" trace)" = 2 ] && [ "$(grep -cx C trace)" = 2 ]'
check_eval "only the interrupted B started again" '[ "$(grep -cx "start B" trace)" = 3 ]'
check "jobs ran in order (job-one's C before the second's A)" \
        bash -c "[ \"\$(grep -n -x C trace | head -1 | cut -d: -f1)\" -lt \"\$(grep -n -x A trace | sed -n 2p | cut -d: -f1)\" ]"
"$OPENTOE" status job-one > /dev/null
check_eval "status exits 0 for a success" '[ $? = 0 ]'
check "status --all lists both" bash -c "'$OPENTOE' status --all | grep -q '^job-one  *success' && '$OPENTOE' status --all | grep -q \"^$id2  *success\""
"$OPENTOE" status no-such-job 2> /dev/null
check_eval "status exits 5 for an unknown job" '[ $? = 5 ]'
check "job.json kept the signals key untouched" "$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["signals"] == [{"type": "webhook", "url": "http://127.0.0.1:1/never", "keyFile": "/nonexistent/key"}]' root/jobs/job-one/job.json
check "the spool folders are 0700" bash -c "[ \"\$(stat -c %a root/jobs)\" = 700 ] && [ \"\$(stat -c %a root/jobs/job-one)\" = 700 ]"
check "each job has its own TOE_ folder" bash -c "ls -d root/jobs/job-one/TOE_* root/jobs/$id2/TOE_* > /dev/null"

# 2. A failing job: status failed, exit 1.
cat > fail.yml <<'YML'
name: fail
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Fails
        action: ExecuteBash
        inputs:
          commands: ["exit 3"]
YML
fid=$("$OPENTOE" submit --documents fail.yml)
"$OPENTOE" status --wait "$fid" > /dev/null
check_eval "a failed job: status --wait exits 1" '[ $? = 1 ] && [ "$(field "$fid" status)" = failed ]'

# 3. A reboot: pending-reboot until the agent starts again.
cat > reboot.yml <<YML
name: reboot
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: First
        action: ExecuteBash
        inputs:
          commands: ["echo first >> $work/rtrace", "if [ ! -e $work/rebooted ]; then touch $work/rebooted; exit 194; fi"]
      - name: After
        action: ExecuteBash
        inputs:
          commands: ["echo after >> $work/rtrace"]
YML
rid=$("$OPENTOE" submit --documents reboot.yml)
check "a job asking for a reboot becomes pending-reboot" wait_field "$rid" status pending-reboot
qid=$("$OPENTOE" submit --documents fail.yml)
sleep 0.5
check "nothing else runs while a reboot is pending" bash -c "[ \"\$(field $qid status)\" = queued ]"
stop_agent
start_agent
check "the next start resumes it to success" wait_field "$rid" status success
check_eval "its first step ran twice (the reboot's), the next once" \
        '[ "$(grep -cx first rtrace)" = 2 ] && [ "$(grep -cx after rtrace)" = 1 ]'
wait_field "$qid" status failed

# 4. A state that cannot be trusted: moved aside, with why.
stop_agent
bid=$("$OPENTOE" submit --documents doc.yml)
mkdir -m 700 "root/jobs/$bid/state"
printf 'not a checkpoint\n' > "root/jobs/$bid/state/state.jsonl"
chmod 600 "root/jobs/$bid/state/state.jsonl"
"$PY" - "root/jobs/$bid/status.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p)); s["status"] = "running"; json.dump(s, open(p, "w"))
PY
chmod 600 "root/jobs/$bid/status.json"
start_agent
check "a job whose state is refused is moved aside" wait_field "$bid" status refused
check "it is in refused/, not jobs/" bash -c "[ -d root/refused/$bid ] && [ ! -e root/jobs/$bid ]"
check "its status says why" bash -c "field $bid reason | grep -q ."
"$OPENTOE" status "$bid" > /dev/null
check_eval "status exits 4 for a refused job" '[ $? = 4 ]'
check "the agent goes on (READY for the next job)" bash -c "sleep 0.3; kill -0 $agent_pid"

# 5. SIGHUP reloads the configuration: a drop folder is picked up.
mkdir -m 700 drop
printf '{"documents": [{"path": "%s/doc.yml"}], "executionId": "dropped"}\n' "$work" > drop/one.json
chmod 600 drop/one.json
printf '{"dropFolder": "%s/drop"}\n' "$work" > agent.json
kill -HUP "$agent_pid"
check "after SIGHUP the dropped job runs" wait_field dropped status success
check "the dropped file is marked submitted" test -e drop/one.json.submitted
check "RELOADING=1 was sent" grep -qx 'RELOADING=1' "$log"
check "STATUS says idle at the end" bash -c "tail -5 '$log' | grep -q '^STATUS=Idle'"
stop_agent

# 6. A job in the instance's user data (IMDSv2), once.
cat > imds.py <<'PY'
import http.server, json, sys
job = {"opentoe": {"documents": [{"path": sys.argv[2] + "/doc.yml"}]}}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body):
        self.send_response(code); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_PUT(self):
        self.reply(200, b"tok") if self.path == "/latest/api/token" else self.reply(404, b"")
    def do_GET(self):
        ok = self.headers.get("X-aws-ec2-metadata-token") == "tok" and self.path == "/latest/user-data"
        self.reply(200, json.dumps(job).encode()) if ok else self.reply(401 if self.path == "/latest/user-data" else 404, b"")
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
"$PY" imds.py "$work/imds.port" "$work" &
tap_server_pids+=($!)
for _ in $(seq 50); do [ -s "$work/imds.port" ] && break; sleep 0.1; done
export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(cat "$work/imds.port")
printf '{"userData": true}\n' > agent.json
start_agent
check "the user data's job is submitted and runs" wait_field user-data status success
stop_agent
start_agent
sleep 0.5
check "it is not submitted again at the next start" bash -c "[ \"\$(grep -c 'submitted the user data' '$work/agent.err')\" = 1 ]"
stop_agent
agent_pid=

# 7. The self mode: the agent asks the init system to reboot, and exits.
. "$top_srcdir/tests/lib/fakesys.sh"
make_root "$work/sys" yes
printf '{}\n' > agent.json
rm -f rebooted
cat > selfjob.json <<JSON
{"documents": [{"path": "reboot.yml"}], "executionId": "self-job", "rebootMode": "self"}
JSON
"$OPENTOE" submit --config selfjob.json > /dev/null
OPENTOE_TEST_SYSTEM_ROOT=$work/sys start_agent
wait "$agent_pid"
check_eval "in the self mode the agent exits 0 once the reboot is arranged" '[ $? = 0 ] && [ "$(field self-job status)" = pending-reboot ]'
for _ in $(seq 100); do grep -q "systemctl reboot" "$work/sys/calls" 2> /dev/null && break; sleep 0.05; done
check "systemctl reboot was asked for once the agent had exited" grep -q "systemctl reboot" "$work/sys/calls"
OPENTOE_TEST_SYSTEM_ROOT=$work/sys start_agent
check "after the \"reboot\" the agent resumes it" wait_field self-job status success
stop_agent
agent_pid=

# 8. The unit.
sed "s|@bindir@|$(dirname "$OPENTOE")|" "$top_srcdir/packaging/systemd/opentoe-agent.service.in" > opentoe-agent.service
check "the unit is Type=notify with a watchdog and restarts on failure" \
        bash -c "grep -qx Type=notify opentoe-agent.service && grep -q ^WatchdogSec= opentoe-agent.service && grep -qx Restart=on-failure opentoe-agent.service && grep -q '^After=network-online.target' opentoe-agent.service"
if command -v systemd-analyze > /dev/null; then
        sed "s|@bindir@|$(dirname "$OPENTOE")|" "$top_srcdir/packaging/systemd/opentoe-resume.service.in" > opentoe-resume.service
        check "systemd-analyze verify accepts the units" systemd-analyze verify --man=no "$work/opentoe-agent.service" "$work/opentoe-resume.service"
else
        skip "systemd-analyze is not installed"
fi
done_testing
