#!/bin/bash
# agent.sh: the idle agent's footprint (opentoe-agent(8), FOOTPRINT).
#
#   bench/agent.sh [OPENTOE]
#
# Environment: BENCH_RUNS (starts measured, default 20), BENCH_IDLE_S
# (the idle period, default 10 s), KEEP=1 (keep the scratch folder).
#
# Measures, against an empty spool, with NOTIFY_SOCKET at a datagram
# socket this script listens on and a watchdog of 1 s (30x more often
# than the unit's WatchdogSec=60 asks):
#   ready   from the agent's start (before fork) to READY=1 received:
#           median and worst of BENCH_RUNS starts      target <= 50 ms
#   rss     VmRSS once idle (after READY=1 and 1 s)   target <= 4 MiB
#   cpu     utime + stime over BENCH_IDLE_S idle s    target 0 ticks (0%)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_opentoe
bench_work
RUNS=${BENCH_RUNS:-20}
export work RUNS IDLE=${BENCH_IDLE_S:-10} OPENTOE_AGENT_ROOT=$work/root
out=$("$PY" - <<'PY'
import os, socket, statistics, subprocess, time
work, runs, idle = os.environ["work"], int(os.environ["RUNS"]), float(os.environ["IDLE"])
opentoe = f"{work}/opentoe"
open(f"{work}/agent.json", "w").write("{}")
path = f"{work}/notify"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(5)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
def drain():
    s.setblocking(False)
    try:
        while True:
            s.recv(4096)
    except BlockingIOError:
        pass
    s.settimeout(5)
def start():
    t0 = time.perf_counter()
    p = subprocess.Popen([opentoe, "agent", "--config", f"{work}/agent.json"], env=env,
                         stderr=subprocess.DEVNULL)
    while True:
        msg = s.recv(4096).decode()
        if "READY=1" in msg.split("\n"):
            return p, (time.perf_counter() - t0) * 1000
times = []
for _ in range(runs):
    p, ms = start()
    times.append(ms)
    p.terminate(); p.wait()
    drain()
p, _ = start()
time.sleep(1)
rss = int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS:")][0].split()[1])
def ticks():
    f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
t0 = ticks(); time.sleep(idle); t1 = ticks()
p.terminate(); p.wait()
hz = os.sysconf("SC_CLK_TCK")
print(f"{statistics.median(times):.1f} {max(times):.1f} {rss} {t1 - t0} {100.0 * (t1 - t0) / hz / idle:.3f}")
PY
)
read -r med worst rss ticks pct <<< "$out"
verdict "$(awk -v w="$worst" 'BEGIN { print (w <= 50) }')" v_ready
verdict "$([ "$rss" -le 4096 ] && echo 1 || echo 0)" v_rss
verdict "$([ "$ticks" -eq 0 ] && echo 1 || echo 0)" v_cpu
printf 'ready  median %s ms, worst %s ms of %s starts (target <= 50 ms)  %s\n' "$med" "$worst" "$RUNS" "$v_ready"
printf 'rss    %s KiB idle (target <= 4096 KiB)  %s\n' "$rss" "$v_rss"
printf 'cpu    %s ticks over %s s idle = %s%% (target 0)  %s\n' "$ticks" "$IDLE" "$pct" "$v_cpu"
exit "$status"
