#!/bin/bash
# agent-crash-end.sh: the agent killed after its job's run has ended but
# before the agent has recorded that end (status.json still "running").
# The next agent must resume the job from its last checkpoint, so only
# the run's ending is repeated: no step starts again, no second TOE_*
# folder is made, the job succeeds, and its state goes once the end is
# recorded.  A run not started by an agent still removes its own state
# when it ends.  The kill is made deterministic by a small LD_PRELOAD
# library built here: the runner, when it removes running.json after
# its last step (the run's end), kills the agent and then itself, as the
# agent's SIGKILL and the runner's parent-death signal would.  TAP.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
enter_scratch work agent-crash-end
export OPENTOE_AGENT_ROOT=$work/root OPENTOE_KILL_GRACE_MS=200
preload_lib kill "the kill library" <<'C'
/* Once the file OT_KILL_AFTER exists (the last step made it), the
 * removal of running.json (the run's end) kills the parent (the agent)
 * and then this process. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int unlinkat(int dirfd, const char *name, int flags)
{
        static int (*real)(int, const char *, int);
        if (!real)
                real = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
        int r = real(dirfd, name, flags);
        const char *after = getenv("OT_KILL_AFTER");
        if (after && !strcmp(name, "running.json") && access(after, F_OK) == 0) {
                kill(getppid(), SIGKILL);
                raise(SIGKILL);
        }
        return r;
}
C
for s in S1 S2 S3; do
        printf '      - name: %s\n        action: ExecuteBash\n        inputs:\n          commands: ["echo start %s >> %s/trace"' \
                $s $s "$work"
        [ $s = S3 ] && printf ', "touch %s/last-done"' "$work"
        printf ']\n'
done | build_doc doc.yml crash-end
echo '{}' > agent.json
printf '{"documents": [{"path": "%s/doc.yml"}]}\n' "$work" > job.json
id=$("$OPENTOE" submit --config job.json 2> submit.err)
[ -n "$id" ] || bail_out "submit failed: $(cat submit.err)"
status() { "$OPENTOE" status "$id" --format json 2> /dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("status",""))' 2> /dev/null; }
on_failure() { diag "$(tail -20 "$work/agent.err" 2> /dev/null)"; }

# The first agent: killed (by the library) at its run's end.
# (In a subshell that says nothing of the kill but its status, in rc1.)
(
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=$work/kill.so \
                OT_KILL_AFTER=$work/last-done timeout 60 "$OPENTOE" agent --config agent.json \
                >> agent.out 2>> agent.err
        echo $? > rc1
) 2> /dev/null
rc=$(cat rc1)
check_eval "(setup) the first agent was killed after the run's last step, before it recorded the job's end" \
        '[ $rc = 137 ] && [ -e last-done ] && [ "$(status)" = running ]'

# The second agent: resumes the job, which ends without running a step.
"$OPENTOE" agent --config agent.json >> agent.out 2>> agent.err &
agent_pid=$!
at_exit 'kill -9 $agent_pid 2> /dev/null'
for _ in $(seq 600); do
        case $(status) in success | failed | refused) break ;; esac
        sleep 0.05
done
kill -TERM $agent_pid
wait $agent_pid
check_eval "the resumed job succeeds" '[ "$(status)" = success ]'
check_eval "no step started again (the job was resumed, not run from its first step)" \
        '[ "$(sort trace | uniq -d)" = "" ] && [ "$(wc -l < trace)" = 3 ]'
check_eval "one TOE_* folder: the run was not begun again" '[ "$(ls -d root/jobs/"$id"/TOE_* 2> /dev/null | wc -l)" = 1 ]'
check_eval "once the end is recorded, the agent removes the job's state" \
        '[ -d root/jobs/"$id"/state ] && ! [ -e root/jobs/"$id"/state/state.jsonl ] &&
         ! [ -e root/jobs/"$id"/state/running.json ]'

# Without an agent, a run's end removes its state itself (its steps add
# to trace, checked above already).
"$OPENTOE" run -d doc.yml -l logs -s own-state > run.out 2> run.err
rc=$?
check_eval "a run not started by an agent removes its own state at its end" \
        '[ $rc = 0 ] && [ -d own-state ] && ! [ -e own-state/state.jsonl ]'
done_testing
