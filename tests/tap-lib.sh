#!/bin/bash
# tap-lib.sh: the suites' own library (tests/lib) does what the suites
# count on: checks are numbered in order and a failed one is reported as
# not ok, with what on_failure says; a plan that is not met fails the
# suite; skip_all and bail_out say so and stop; the scratch folder is
# removed at exit (kept with KEEP_SCRATCH) after the at_exit hooks; a
# server is waited for and stopped at exit, and one that does not start
# bails out with its error output; tap_verdicts turns a checker's lines
# into checks; enter_scratch makes and enters the scratch folder; run_doc
# writes and runs a document;
# capture runs a command with extra environment.  Each case is a small
# script run by a child bash, whose output is compared.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W tap-lib
cases=$W/cases
mkdir -p "$cases"
export OPENTOE WEBSERVER=$top_srcdir/tests/servers/webserver.py
lib=$top_srcdir/tests/lib

# child NAME: runs $cases/NAME.sh in a child bash that has sourced run.sh
# (and so servers.sh and tap.sh), in $W with TMPDIR=$W; sets got (its
# standard output and error) and got_rc (its exit status).
child() {
        got=$(cd "$W" && TMPDIR=$W bash -c "set -u; . '$lib/run.sh'; . '$cases/$1.sh'" 2>&1)
        got_rc=$?
}
# same EXPECTED: the child printed EXPECTED.
same() { [ "$got" = "$1" ]; }
on_failure() { diag "exit status $got_rc; output:"$'\n'"$got"; }
nl=$'\n'

cat > "$cases/results.sh" << 'EOF'
on_failure() { diag "why: $tap_n"; }
check "passes" true
check "fails" false
check_eval "eval passes" "[ 1 = 1 ]"
check_eval "eval fails" "[ 1 = 2 ]"
skip "not here"
not_ok "by hand" "first
second" "third"
done_testing
EOF
child results
check "check, check_eval, skip and not_ok number their lines; a failure calls on_failure" same "ok 1 - passes
not ok 2 - fails
# why: 2
ok 3 - eval passes
not ok 4 - eval fails
# why: 4
ok 5 # SKIP not here
not ok 6 - by hand
# first
# second
# third
1..6"

printf 'plan 2\nok one\nok two\ndone_testing\n' > "$cases/planned.sh"
child planned
check_eval "a plan given first is printed first; once met, it is not repeated" \
        '[ $got_rc = 0 ] && same "1..2${nl}ok 1 - one${nl}ok 2 - two"'
printf 'plan 3\nok one\ndone_testing\n' > "$cases/unmet.sh"
child unmet
check_eval "a plan that is not met fails the suite, saying so" \
        '[ $got_rc = 1 ] && same "1..3${nl}ok 1 - one${nl}# planned 3 checks but ran 1"'
printf 'skip_all "nothing to test here"\nok never\n' > "$cases/skipped.sh"
child skipped
check_eval "skip_all: the plan 1..0 with the reason, exit 0, nothing after it" \
        '[ $got_rc = 0 ] && same "1..0 # SKIP nothing to test here"'
printf 'bail_out "no way on"\nok never\n' > "$cases/bail.sh"
child bail
check_eval "bail_out: Bail out! with the reason, exit 1" '[ $got_rc = 1 ] && same "Bail out! no way on"'

printf 'ok: first\nbad: second\nnoise\n' > "$W/verdicts"
cat > "$cases/verdicts.sh" << EOF
tap_verdicts '$W/verdicts'
tap_verdicts '$W/verdicts' "the checker ran"
done_testing
EOF
child verdicts
check "tap_verdicts: ok: and bad: lines are checks; any other line is not ok when a check is named for it" same "ok 1 - first
not ok 2 - second
ok 3 - first
not ok 4 - second
not ok 5 - the checker ran
# noise
1..5"

cat > "$cases/scratch.sh" << 'EOF'
scratch_dir S demo
echo "$S"
touch "$S/file"
at_exit 'echo "hook ran: $(ls "$S" | tr "\n" " ")"'
EOF
child scratch
folder=${got%%"$nl"*}
check_eval "scratch_dir makes a folder in TMPDIR, removed at exit after the at_exit hooks" \
        '[[ $folder == "$W"/opentoe-demo.* ]] && [ ! -e "$folder" ] && [ "${got#*"$nl"}" = "hook ran: file srv " ]'
kept=$(cd "$W" && KEEP_SCRATCH=1 TMPDIR=$W bash -c "set -u; . '$lib/run.sh'; . '$cases/scratch.sh'" 2>&1)
check_eval "KEEP_SCRATCH=1 keeps it, and says where" \
        '[ -f "${kept%%"$nl"*}/file" ] && [ "${kept##*"$nl"}" = "# scratch kept: ${kept%%"$nl"*}" ]'

cat > "$cases/enter.sh" << 'EOF'
OPENTOE=relative/opentoe
enter_scratch S enter
[ "$PWD" = "$S" ] && [[ $S == "$TMPDIR"/opentoe-enter.* ]] && echo inside
echo "$OPENTOE"
EOF
child enter
check "enter_scratch: the scratch folder made and entered, OPENTOE made absolute" same "inside${nl}$W/relative/opentoe"

cat > "$cases/server.sh" << 'EOF'
scratch_dir S server
start_server web python3 "$WEBSERVER" --root "$S"
echo "pid ${tap_server_pids[0]}"
python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/status/204" % sys.argv[1]).status)' "$port_web"
EOF
child server
pid=${got%%"$nl"*}
pid=${pid#pid }
check_eval "start_server waits for the port file and sets port_NAME: the server answers there" \
        '[ $got_rc = 0 ] && [ "${got#*"$nl"}" = 204 ]'
check_eval "... and the server is stopped at exit" '[ -n "$pid" ] && ! kill -0 "$pid" 2> /dev/null'
cat > "$cases/noserver.sh" << 'EOF'
scratch_dir S noserver
start_server broken bash -c 'echo it went wrong >&2; exit 3'
echo "not reached"
EOF
child noserver
check_eval "a server that does not start: Bail out! with its standard error" \
        '[ $got_rc = 1 ] && same "Bail out! the broken test server did not start: it went wrong"'

cat > "$cases/doc.sh" << 'EOF'
scratch_dir W doc
run_doc hello "$(printf '      - name: Say\n        action: ExecuteBash\n        inputs:\n          commands: ["echo hello-run-doc"]')"
echo "rc $rc"
console_has "Stdout: hello-run-doc" && echo found
[ "$lastdir" = "$W/hello" ] && [ -f "$lastdir/doc.yml" ] && [ -f "$last/console.log" ] && echo folders
EOF
child doc
check "run_doc writes the document in a folder of its own and runs it there (rc, lastdir, last, console_has)" \
        same "rc 0${nl}found${nl}folders"

cat > "$cases/captured.sh" << 'EOF'
scratch_dir W capture
cmd=(sh -c 'echo "out-$V"; echo "err-$V" >&2; exit 4')
capture cmd V=value
echo "$rc|$out|$err"
has_out out-value && has_err err-value && echo has
EOF
child captured
check "capture: the environment given first, then rc, out and err; has_out and has_err" \
        same "4|out-value|err-value${nl}has"

done_testing
