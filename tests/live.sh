#!/bin/bash
# live.sh: the terminal's view of a run, in a real terminal (tmux): while
# a loop step runs, the line in place shows the iteration, its value and
# the elapsed time ticking; the final screen is the ended steps' lines
# and the summary; NO_COLOR and TERM=dumb; --quiet and --verbose; and
# nothing changes when stderr is not a terminal.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
command -v tmux > /dev/null || skip_all "tmux is not installed (scripts/setup.sh --test installs it)"
scratch_dir W live
sock=opentoe-live-$$
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2> /dev/null' EXIT

build_doc "$W/doc.yml" livetest << 'EOF_DOC'
      - name: Prepare
        action: ExecuteBash
        inputs:
          commands: ["echo prep"]
      - name: Slow
        action: ExecuteBash
        loop:
          name: l
          forEach: [alpha, beta, gamma]
        inputs:
          commands: ["echo working on {{ loop.value }}; sleep 1.2"]
EOF_DOC

# start NAME [ENV=V...] -- ARGS: opentoe run in a new tmux window of 120
# columns; its exit status goes to $W/NAME.rc.
start() {
        local name=$1 envs=()
        shift
        while [ "$1" != -- ]; do envs+=("$1"); shift; done
        shift
        mkdir -p "$W/$name"
        tm kill-session -t "$name" 2> /dev/null
        tm new-session -d -s "$name" -x 120 -y 40 \
                "cd $W/$name && env ${envs[*]} $OPENTOE run -l logs -s state --documents $W/doc.yml $* ; echo \$? > $W/$name.rc; sleep 60"
}
pane() { tm capture-pane -p ${2:-} -t "$1"; }
# wait_for NAME REGEX [TENTHS]: the pane shows REGEX (within TENTHS/10 s).
wait_for() {
        local i
        for ((i = 0; i < ${3:-150}; i++)); do
                pane "$1" | grep -Eq "$2" && return 0
                sleep 0.1
        done
        return 1
}
finished() {
        local i
        for ((i = 0; i < 300; i++)); do
                [ -s "$W/$1.rc" ] && { sleep 0.2; return 0; }
                sleep 0.1
        done
        return 1
}
# during_run NAME [ENV=V...] -- ARGS: start NAME (cur, for on_failure),
# its pane 2 s into the run in $during; returns once the run has ended.
during_run() {
        cur=$1
        start "$@"
        sleep 2
        during=$(pane "$cur")
        finished "$cur"
}
on_failure() { diag "pane:"; diag "$(pane "${cur:-live}" 2> /dev/null)"; }

cur=live
start live TERM=xterm-256color --
check "the live line shows the loop's iteration and its value" wait_for live '\[ \.\. \] build/Slow  iteration 2/3 \(beta\)'
first=$(pane live | grep -Eo 'iteration [0-9]/3 \([a-z]+\)  [0-9]+\.[0-9]s' | head -1)
sleep 0.8
second=$(pane live | grep -Eo 'iteration [0-9]/3 \([a-z]+\)  [0-9]+\.[0-9]s' | head -1)
check_eval "... and the elapsed time, ticking ('$first' then '$second')" \
        '[ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ]'
check "... and the last line of the step's output" wait_for live 'build/Slow  iteration 3/3 \(gamma\)  [0-9.]+s  working on gamma'
check "the run ends" finished live
final=$(pane live | sed '/^$/d' | grep -v '^0$')
want_re='^\[ok  \] build/Prepare  success  attempt 1/1  [0-9.]+s
\[ok  \] build/Slow  success  attempt 1/1  [0-9.]+s
\{$'
check_eval "the final screen is the ended steps' lines, then the summary" \
        '[[ $(printf "%s\n" "$final" | head -3) =~ $want_re ]] && printf "%s\n" "$final" | grep -q "\"status\": \"success\"" && ! printf "%s\n" "$final" | grep -q "\[ \.\. \]"'
colored=$(pane live -e)
check_eval "on a colour terminal the marks are coloured" '[[ $colored == *$'"'"'\e[32m'"'"'* ]]'

cur=nocolor
start nocolor TERM=xterm-256color NO_COLOR=1 --
wait_for nocolor 'iteration 1/3' > /dev/null
during=$(pane nocolor -e)
finished nocolor
after=$(pane nocolor -e)
check_eval "NO_COLOR: the live line is drawn, without colours" \
        '[[ $during == *"iteration 1/3"* ]] && [[ $after != *$'"'"'\e[3'"'"'* ]] && [[ $after != *$'"'"'\e[1m'"'"'* ]]'

during_run dumb TERM=dumb --
check_eval "TERM=dumb: no line in place, the ended steps' lines only" \
        '[[ $during != *"[ .. ]"* ]] && [[ $during == *"[ok  ] build/Prepare"* ]] && pane dumb | grep -q "\[ok  \] build/Slow"'

during_run quiet TERM=xterm-256color -- --quiet
check_eval "--quiet: no step lines and no live line; the summary stays" \
        '[[ $during != *"[ .. ]"* ]] && ! pane quiet | grep -q "^\[ok" && pane quiet | grep -q "\"executionId\""'

cur=verbose
start verbose TERM=xterm-256color -- --verbose
finished verbose
check_eval "--verbose: every console.log line as written" \
        'pane verbose | grep -q "Info CmdExecution: Stdout: working on beta" && pane verbose | grep -q "Info Step Slow" && pane verbose | grep -q "^\[ok  \] build/Slow"'

# Not a terminal: nothing but the summary, as before the live view.
mkdir -p "$W/pipe"
(cd "$W/pipe" && "$OPENTOE" run -l logs -s state --documents "$W/doc.yml" > out 2> err)
check_eval "stderr not a terminal: nothing on stderr, the summary on stdout" \
        '[ ! -s "$W/pipe/err" ] && grep -q "\"status\": \"success\"" "$W/pipe/out"'

done_testing
