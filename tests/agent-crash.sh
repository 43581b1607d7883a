#!/bin/bash
# agent-crash.sh: the agent killed with SIGKILL at moments drawn from a
# fixed seed, and started again, until its job ends.  Its runner dies
# with it (PDEATHSIG), the runner's guard stops the step, and the next
# agent resumes the job from the last checkpoint.  At every point: a step
# that was checkpointed as completed (the next step had started after
# it) never starts again, every step ends, and the job succeeds; its
# end, signalled to a webhook receiver (tests/servers/signal_receiver.py)
# through the outbox across the kills, is accepted exactly once.  TAP.
#
#   AGENT_CRASH_POINTS=40 AGENT_CRASH_SEED=3 tests/agent-crash.sh
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
scratch_dir work agent-crash
export OPENTOE work OPENTOE_AGENT_ROOT=$work/root OPENTOE_KILL_GRACE_MS=200
only_loopback
export OPENTOE_SIGNAL_BACKOFF_MS=100 OPENTOE_SIGNAL_BACKOFF_CAP_MS=400
start_receiver
export KEY RECV=$recv_url
"$PY" - <<'PY'
import json, os, random, subprocess, sys, time

opentoe, work = os.environ["OPENTOE"], os.environ["work"]
points = int(os.environ.get("AGENT_CRASH_POINTS", "12"))
rng = random.Random(int(os.environ.get("AGENT_CRASH_SEED", "5")))
steps = [f"S{i:02d}" for i in range(1, 13)]
doc = "name: crash\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n"
for s in steps:
    doc += (f"      - name: {s}\n        action: ExecuteBash\n        inputs:\n          commands:\n"
            f"            - echo start {s} >> {work}/trace\n            - sleep 0.05\n"
            f"            - echo end {s} >> {work}/trace\n")
open(f"{work}/doc.yml", "w").write(doc)
open(f"{work}/agent.json", "w").write("{}")
n = 0
def tap(ok, what):
    global n
    n += 1
    print(("ok" if ok else "not ok") + f" {n} - {what}", flush=True)

job = {"documents": [{"path": f"{work}/doc.yml"}],
       "signals": [{"type": "webhook", "url": os.environ["RECV"] + "/hook/crash", "keyFile": os.environ["KEY"]}]}
open(f"{work}/job.json", "w").write(json.dumps(job))
jid = subprocess.run([opentoe, "submit", "--config", f"{work}/job.json"], capture_output=True, text=True,
                     check=True).stdout.strip()
def hooks():
    import urllib.request
    try:
        return json.load(urllib.request.urlopen(os.environ["RECV"] + "/state", timeout=10))["hook"]
    except Exception:
        return {}
def status():
    r = subprocess.run([opentoe, "status", jid, "--format", "json"], capture_output=True, text=True)
    try:
        return json.loads(r.stdout).get("status")
    except ValueError:
        return None

errlog = open(f"{work}/agent.err", "a")
kills = 0
for k in range(points + 40):
    a = subprocess.Popen([opentoe, "agent", "--config", f"{work}/agent.json"], stdout=errlog, stderr=errlog)
    if kills < points:
        time.sleep(rng.uniform(0.0, 0.5))
        a.kill()
        a.wait()
        kills += 1
        # The runner and the guard are gone once its state is unlocked:
        # the next agent waits for that itself.
        continue
    deadline = time.time() + 30
    while time.time() < deadline and status() not in ("success", "failed", "refused"):
        time.sleep(0.05)
    # Its signal may still wait in the outbox: the agent delivers it.
    while time.time() < deadline and not hooks():
        time.sleep(0.05)
    a.terminate()
    a.wait()
    break
tap(status() == "success", f"the job succeeds after {kills} kills (status {status()})")
trace = [l.split() for l in open(f"{work}/trace").read().splitlines()]
bad = []
for i, s in enumerate(steps[:-1]):
    nxt = steps[i + 1]
    done_at = None
    for j, (what, name) in enumerate(trace):
        if name == s and what == "end" and done_at is None:
            later = [x for x in trace[j:] if x == ["start", nxt]]
            if later:
                done_at = trace.index(["start", nxt], j)
        if done_at is not None and j > done_at and [what, name] == ["start", s]:
            bad.append(s)
tap(not bad, "no checkpointed step started again" + (f": {bad}" if bad else ""))
ends = {s: sum(1 for x in trace if x == ["end", s]) for s in steps}
tap(all(v >= 1 for v in ends.values()), f"every step ended ({ends})")
h = hooks()
tap(len(h) == 1 and all(e["accepted"] == 1 and e["body"].get("executionId") == jid for e in h.values()),
    f"the job's end reached the webhook, accepted once ({ {k: e['seen'] for k, e in h.items()} } deliveries seen)")
restarts = sum(1 for x in trace if x[0] == "start") - len(steps)
print(f"# {restarts} step starts were repeated (steps in flight at a kill)")
print(f"1..{n}")
PY
