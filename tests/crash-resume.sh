#!/bin/bash
# crash-resume.sh: fault injection.  A document of 23 steps (a loop of 5
# iterations, a step that asks for a reboot with exit 194, a step whose
# condition its own command turns false, chaining across phases) is run,
# `opentoe run` is killed with SIGKILL at a moment drawn from a fixed
# seed, and the same command is run again until it ends.  At every kill
# point: no step or iteration that the saved state calls completed runs
# again, none is lost, and the log folder reads as one run (one folder,
# each step's output once, the final line once).  TAP output, one line
# per point.
#
#   CRASH_POINTS=500 CRASH_SEED=7 tests/crash-resume.sh   # a longer run
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
scratch_dir work crash-resume
export OPENTOE work
export OPENTOE_KILL_GRACE_MS=200
python3 - <<'PY'
import json, os, random, re, subprocess, sys, time

opentoe = os.environ["OPENTOE"]
work = os.environ["work"]
points = int(os.environ.get("CRASH_POINTS", "20"))
seed = int(os.environ.get("CRASH_SEED", "8"))
rng = random.Random(seed)

def bash_step(name, extra="", cond=""):
    return (f"      - name: {name}\n        action: ExecuteBash\n{cond}        inputs:\n          commands:\n"
            f"            - echo start {name} >> trace\n{extra}            - sleep 0.02\n"
            f"            - echo end {name} >> trace\n            - echo out-{name}\n")

doc = "schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n"
units = []
for i in range(1, 9):
    doc += bash_step(f"S{i:02d}")
    units.append(f"S{i:02d}")
doc += ("      - name: Loop\n        action: ExecuteBash\n        loop:\n          forEach: [a, b, c, d, e]\n"
        "        inputs:\n          commands:\n            - echo start Loop.{{ loop.index }} >> trace\n"
        "            - sleep 0.02\n            - echo end Loop.{{ loop.index }} >> trace\n"
        "            - echo out-Loop.{{ loop.index }}\n")
units += [f"Loop.{k}" for k in range(5)]
doc += ("      - name: Reboot\n        action: ExecuteBash\n        inputs:\n          commands:\n"
        "            - echo start Reboot >> trace\n"
        "            - if [ ! -e rebooted ]; then touch rebooted; exit 194; fi\n"
        "            - echo end Reboot >> trace\n            - echo out-Reboot\n")
units.append("Reboot")
# Its condition is true until its own command runs: a resumed run that
# evaluated it again would skip the step and lose it.
doc += bash_step("Flip", extra="            - touch flipped\n",
                 cond="        if:\n          not:\n            - fileExists: flipped\n")
units.append("Flip")
for i in range(9, 15):
    doc += bash_step(f"S{i:02d}")
    units.append(f"S{i:02d}")
doc += "  - name: test\n    steps:\n"
for i in range(15, 20):
    doc += bash_step(f"S{i:02d}")
    units.append(f"S{i:02d}")
doc += ("      - name: S20\n        action: ExecuteBash\n        inputs:\n          commands:\n"
        "            - echo start S20 >> trace\n            - echo end S20 >> trace\n"
        "            - echo 'out-S20 chain-{{ build.S01.outputs.stdout }}'\n")
units.append("S20")
STEPS = 23
assert len(units) == 27

def command():
    return [opentoe, "run", "-d", "doc.yml", "-l", "logs", "-s", "state", "-i",
            "0e0e0e0e-1111-4222-8333-444444444444"]

def until_done(cwd, outs, limit=4):
    """Runs to the end (a reboot request means: run again)."""
    for _ in range(limit):
        p = subprocess.run(command(), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        outs.append(p.stdout.decode(errors="replace"))
        if p.returncode != 194:
            return p.returncode, p.stderr.decode(errors="replace")
    return -1, "no end after %d runs" % limit

def read_state(d):
    """The saved state and the step in flight, as `opentoe debug state` shows them."""
    p = subprocess.run([opentoe, "debug", "state", os.path.join(d, "state")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        return (None, None) if b"holds no saved state" in p.stderr or not os.path.exists(
            os.path.join(d, "state", "state.jsonl")) else ({"unreadable": True}, None)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        return {"unreadable": True}, None
    return out["state"], out["running"]

def completed_units(body, names):
    done = set()
    if "vm" not in body:  # saved before anything ran
        return done
    for i, s in enumerate(body["vm"]["steps"]):
        name = names[i]
        if s["state"] in (2, 3, 4, 5):
            done.update(u for u in units if u == name or u.startswith(name + "."))
        elif s["state"] == 1:
            n = len(s["iterations"] or [])
            if name == "Loop":
                done.update(f"Loop.{k}" for k in range(n))
            elif n:
                done.add(name)
    return done

names = ([f"S{i:02d}" for i in range(1, 9)] + ["Loop", "Reboot", "Flip"] +
         [f"S{i:02d}" for i in range(9, 21)])

def fresh(d):
    os.makedirs(d)
    with open(os.path.join(d, "doc.yml"), "w") as f:
        f.write(doc)

# How long the whole thing takes without a kill (both runs).
ref = os.path.join(work, "reference")
fresh(ref)
t0 = time.monotonic()
rc, err = until_done(ref, [])
total = time.monotonic() - t0
n = 0
def tap(ok, what):
    global n
    n += 1
    print(("ok" if ok else "not ok") + f" {n} - {what}", flush=True)
tap(rc == 0, f"reference run succeeds ({total:.2f} s){'' if rc == 0 else ': ' + err}")

killed_total = reruns_forbidden = 0
# A few points at the very start (before and around the first
# checkpoint), then the random ones.
moments = [0.0, 0.001, 0.003, 0.006] + [rng.uniform(0, total) for _ in range(points)]
for k, at in enumerate(moments):
    d = os.path.join(work, f"p{k:03d}")
    fresh(d)
    start = time.monotonic()
    killed = False
    outs = []
    p = subprocess.Popen(command(), cwd=d, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    while True:
        left = at - (time.monotonic() - start)
        try:
            p.wait(timeout=max(left, 0.0001))
        except subprocess.TimeoutExpired:
            os.kill(p.pid, 9)
            p.wait()
            last = p.stdout.read().decode(errors="replace")
            # Killed after it had printed its summary and removed its state:
            # the run was over, and the next one rightly starts afresh.
            if '"status": "success"' in last and not os.path.exists(os.path.join(d, "state", "state.jsonl")):
                outs.append(last)
                break
            killed = True
            break
        outs.append(p.stdout.read().decode(errors="replace"))
        if p.returncode != 194:
            break
        p = subprocess.Popen(command(), cwd=d, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    problems = []
    done, inflight, had_state = set(), None, False
    trace_at_kill = 0
    if killed:
        killed_total += 1
        time.sleep(0.6)  # the guard stops the step (TERM, 200 ms, KILL)
        with open(os.path.join(d, "trace"), "a+") as f:
            f.seek(0)
            trace_at_kill = len(f.read().splitlines())
        body, run = read_state(d)
        had_state = body is not None
        if body and body.get("unreadable"):
            problems.append("the saved state is not in opentoe's format")
        elif body:
            done = completed_units(body, names)
            if run and run.get("seq") == body["seq"] and "stepName" in run:
                it = run["iteration"]
                inflight = run["stepName"] + (f".{it}" if it >= 0 else "")
        elif trace_at_kill:
            problems.append("steps ran before the first checkpoint")
        rc, err = until_done(d, outs)
        if rc != 0:
            problems.append(f"the resumed run failed ({rc}): {err.strip()[:200]}")
    with open(os.path.join(d, "trace")) as f:
        trace = f.read().splitlines()
    after = trace[trace_at_kill:]
    for u in sorted(done):
        if f"start {u}" in after:
            problems.append(f"{u} was completed and ran again")
            reruns_forbidden += 1
    for u in units:
        if f"end {u}" not in trace:
            problems.append(f"{u} never finished (lost)")
    logs = os.path.join(d, "logs")
    folders = [f for f in os.listdir(logs) if f.startswith("TOE_")] if os.path.isdir(logs) else []
    if len(folders) != 1:
        problems.append(f"{len(folders)} log folders")
    else:
        with open(os.path.join(d, "logs", folders[0], "console.log"), errors="replace") as f:
            console = f.read().splitlines()
        for u in units:
            c = sum(1 for line in console if re.search(rf"Info CmdExecution: Stdout: out-{re.escape(u)}( |$)", line))
            if c != 1 and not (u == inflight and c == 2):
                problems.append(f"console.log has out-{u} {c} times")
        # Lines a resumed run goes over again are written once: step and
        # phase headers too (Reboot's is repeated by AWSTOE's reboot lines).
        for name in names:
            if name == "Reboot":
                continue
            c = sum(1 for line in console if line.endswith(f" Info Step {name}"))
            if c != 1:
                problems.append(f"console.log has the header of step {name} {c} times")
        if sum(1 for line in console if line.endswith(" Info Phase test")) != 1:
            problems.append("console.log has the header of phase test more than once")
        finals = [i for i, line in enumerate(console) if line.endswith("TOE has completed execution successfully")]
        if finals != [len(console) - 1]:
            problems.append(f"the final line is there {len(finals)} times, or not last")
        resumes = sum("Resuming execution" in line for line in console)
        if resumes > (1 if killed and had_state else 0):
            problems.append(f"{resumes} resume notices")
        if not any("chain-out-S01" in line for line in console):
            problems.append("the chained output is missing")
        with open(os.path.join(d, "logs", folders[0], "detailedoutput.json")) as f:
            det = json.load(f)
        steps = [s for ph in det["documents"][0]["phases"] for s in ph["steps"]]
        if len(steps) != STEPS or any(s["status"] != "success" for s in steps):
            problems.append("detailedoutput.json does not list every step as a success")
    summary = outs[-1] if outs else ""
    if '"status": "success"' not in summary or f'"executedStepCount": {STEPS}' not in summary:
        problems.append("the last summary is not a success of every step")
    if os.path.exists(os.path.join(d, "state", "state.jsonl")):
        problems.append("the state is left behind")
    what = (f"point {k}: kill at {at:.3f} s" + (f", {len(done)} units saved as done, in flight: {inflight}"
            if killed else ", after the end") + ("" if not problems else ": " + "; ".join(problems[:6])))
    tap(not problems, what)
tap(killed_total > len(moments) // 2, f"{killed_total} of {len(moments)} points killed a run mid-way")
print(f"1..{n}")
PY
