# tests/lib/run.sh: running opentoe from a suite (sourced instead of
# servers.sh, which it sources, with tap.sh): `opentoe run` of a document
# in a folder of its own under the scratch folder, for the suites that
# check runs from their files, and a command whose output the suite
# reads from variables.
#
#   capture CMD-ARRAY [VAR=VALUE...] ARGS...   runs the command in the
#                       array named CMD-ARRAY, then ARGS, with the VARs in
#                       its environment; sets rc, out and err (its standard
#                       output and error) and elapsed_ms
#   has_out TEXT / has_err TEXT   the last capture's output holds TEXT
#   both_names          the command arrays opentoe (OPENTOE) and awstoe
#                       (a link named awstoe to it in the scratch folder:
#                       the binary in AWSTOE's mode) for capture
#
#   run_opentoe NAME ARGS...   `opentoe run -l logs -s state ARGS` in
#                       $scratch/NAME (made if missing), its standard
#                       output and error in stdout and stderr there; sets
#                       rc, lastdir (that folder) and last (its log
#                       folder, empty when the run made none)
#   run_doc NAME STEPS [ARGS...]   writes doc.yml there, a document named
#                       NAME whose one phase, build, has STEPS (YAML,
#                       indented by 6), and runs it (--documents doc.yml)
#   build_doc FILE [NAME [PARAMETERS]] < STEPS   writes FILE, a document
#                       (named NAME when given, with PARAMETERS, YAML list
#                       items indented by 2, when given) whose one phase,
#                       build, has the steps on standard input (YAML,
#                       indented by 6)
#   who_doc FILE NAME < COMMANDS   writes FILE, a document named NAME with
#                       one string parameter, who (default nobody), whose
#                       one step, build/Hello, runs the ExecuteBash commands
#                       on standard input (YAML list items, indented by 12)
#   reboot_once_doc FILE DIR   writes FILE, a document that asks for one
#                       reboot (exit 194) and marks DIR/marks before and after
#   console_has TEXT    the last run's console.log holds TEXT
#   stderr_has TEXT     the last run's standard error holds TEXT
#
# OPENTOE is the binary (absolute: the run changes folder).

[ -n "${tap_scratch+set}" ] || . "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

run_opentoe() {
        local name=$1
        shift
        lastdir=$tap_scratch/$name
        mkdir -p "$lastdir"
        (cd "$lastdir" && "$OPENTOE" run -l logs -s state "$@" > stdout 2> stderr)
        rc=$?
        last=$(ls -d "$lastdir"/logs/*/ 2> /dev/null | head -1)
        last=${last%/}
}

build_doc() {
        {
                [ -z "${2:-}" ] || printf 'name: %s\n' "$2"
                printf 'schemaVersion: 1.0\n'
                [ -z "${3:-}" ] || printf 'parameters:\n%s\n' "$3"
                printf 'phases:\n  - name: build\n    steps:\n'
                cat
        } > "$1"
}

who_doc() {
        {
                printf '      - name: Hello\n        action: ExecuteBash\n        inputs:\n          commands:\n'
                cat
        } | build_doc "$1" "$2" $'  - who:\n      type: string\n      default: nobody'
}

run_doc() {
        local name=$1 steps=$2
        shift 2
        mkdir -p "$tap_scratch/$name"
        build_doc "$tap_scratch/$name/doc.yml" "$name" <<< "$steps"
        run_opentoe "$name" --documents doc.yml "$@"
}

capture() {
        local -n tap_cmd=$1
        local envs=() t0
        shift
        while [ $# -gt 0 ] && [[ $1 == [A-Z_]*=* ]]; do
                envs+=("$1")
                shift
        done
        t0=$(date +%s%N)
        env "${envs[@]}" "${tap_cmd[@]}" "$@" > "$tap_scratch/out" 2> "$tap_scratch/err"
        rc=$?
        elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
        out=$(cat "$tap_scratch/out")
        err=$(cat "$tap_scratch/err")
}
both_names() {
        ln -s "$OPENTOE" "$tap_scratch/awstoe"
        opentoe=("$OPENTOE")
        awstoe=("$tap_scratch/awstoe")
}
has_out() { grep -qF -- "$1" <<< "$out"; }
has_err() { grep -qF -- "$1" <<< "$err"; }

console_has() { grep -qF -- "$1" "$last/console.log"; }
stderr_has() { grep -qF -- "$1" "$lastdir/stderr"; }

# reboot_once_doc FILE DIR: a document whose second step asks for a reboot
# (exit 194) the first time it runs and goes on after it; each step
# appends a line to DIR/marks (before, after), DIR/rebooted records the
# request.  For the suites that play the caller who reboots.
reboot_once_doc() {
        build_doc "$1" reboot-once <<EOF
      - name: Before
        action: ExecuteBash
        inputs:
          commands:
            - echo before >> "$2/marks"
      - name: AskForReboot
        action: ExecuteBash
        inputs:
          commands:
            - if [ ! -f "$2/rebooted" ]; then touch "$2/rebooted"; exit 194; fi
            - echo after >> "$2/marks"
EOF
}
