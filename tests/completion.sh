#!/bin/bash
# completion.sh: `opentoe completion bash` against --help and a real bash.
# For every command and debug subcommand, under both names, the flags the
# completion offers are the flags --help lists; the script is loaded into
# bash (`complete -p`) and its function called with COMP_WORDS and
# COMP_CWORD set: commands, flags, files, folders and fixed values come
# back in COMPREPLY, and each fixed value offered is one the command
# accepts.  The build's completion/ files are what the binary prints.
# TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W completion
both_names

"$OPENTOE" completion bash > "$W/opentoe.bash" 2> "$W/err"; rc=$?
check_eval "opentoe completion bash: exit 0, a script, nothing on stderr" \
        '[ $rc -eq 0 ] && [ -s "$W/opentoe.bash" ] && [ ! -s "$W/err" ] && bash -n "$W/opentoe.bash"'
"$W/awstoe" completion bash > "$W/awstoe.bash" 2> "$W/err"; rc=$?
check_eval "awstoe completion bash: exit 0, a script of its own" \
        '[ $rc -eq 0 ] && bash -n "$W/awstoe.bash" && grep -q "^complete -F _awstoe awstoe$" "$W/awstoe.bash"'
capture opentoe completion zsh
check_eval "an unknown shell is a usage error" '[ $rc -eq 2 ] && has_err "the one shell known is bash"'
if [ -n "${top_builddir:-}" ] && [ -f "$top_builddir/completion/opentoe" ]; then
        check "the build's completion/opentoe and completion/awstoe are what the binary prints" \
                eval 'cmp -s "$top_builddir/completion/opentoe" "$W/opentoe.bash" &&
                      cmp -s "$top_builddir/completion/awstoe" "$W/awstoe.bash"'
else
        skip "no completion/ in the build folder (top_builddir unset or not built)"
fi

# Bash with the script loaded, in $W/files; `comp PROG WORD...` prints
# COMPREPLY, one per line, sorted, for the cursor on the last WORD.
mkdir -p "$W/files/sub dir" "$W/files/logs"
touch "$W/files/a.yml" "$W/files/b.yml" "$W/files/c.json"
cat > "$W/driver.sh" <<'EOF'
source "$1"; shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"_${COMP_WORDS[0]}"
printf '%s\n' "${COMPREPLY[@]}" | sort
EOF
comp() {
        local prog=$1
        shift
        (cd "$W/files" && bash "$W/driver.sh" "$W/$prog.bash" "$prog" "$@")
}
# The flags a --help output lists, sorted: "-x" and "--name" of each
# line "  -x, --name ..." or "      --name ...".
help_flags() {
        sed -nE 's/^  (-[A-Za-z0-9]), (--[a-z0-9-]+).*/\1\n\2/p; s/^      (--[a-z0-9-]+).*/\1/p' | sort
}
undash() { sed -E 's/^-+//' | sort; }

check_eval "complete -p: the function is registered for opentoe" \
        '[ "$(bash -c ". $W/opentoe.bash; complete -p opentoe")" = "complete -F _opentoe opentoe" ]'
check_eval "complete -p: and for awstoe" \
        '[ "$(bash -c ". $W/awstoe.bash; complete -p awstoe")" = "complete -F _awstoe awstoe" ]'

commands=$("$OPENTOE" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' | sort)
subcommands=$("$OPENTOE" debug --help | sed -n '/^Subcommands:/,/^$/s/^  \([a-z0-9-]*\) .*/\1/p' | sort)
check_eval "--help lists the commands (completion among them)" \
        '[ $(wc -l <<< "$commands") -ge 10 ] && grep -qx completion <<< "$commands"'
check_eval "every command --help lists is completed after 'opentoe '" '[ "$(comp opentoe "")" = "$commands" ]'
check_eval "and after 'awstoe '" '[ "$(comp awstoe "")" = "$commands" ]'
check_eval "every debug subcommand is completed after 'opentoe debug '" \
        '[ "$(comp opentoe debug "")" = "$subcommands" ]'
check_eval "a prefix narrows the commands: 'opentoe re' -> report" '[ "$(comp opentoe re)" = report ]'

# The flags: --help's and the completion's, for the binary, each command
# and each debug subcommand.
paths=("" $commands)
for s in $subcommands; do paths+=("debug $s"); done
for path in "${paths[@]}"; do
        # shellcheck disable=SC2086
        want=$("$OPENTOE" $path --help | help_flags)
        # shellcheck disable=SC2086
        got=$(comp opentoe $path -)
        check_eval "opentoe ${path:-(the binary)}: the completion's flags are --help's" \
                '[ -n "$want" ] && [ "$got" = "$want" ]'
        [ "$got" = "$want" ] || diag "$(diff <(echo "$want") <(echo "$got"))"
        # shellcheck disable=SC2086
        got=$(comp awstoe $path -)
        check_eval "awstoe ${path:-(the binary)}: the same flags, dashed AWSTOE's way" \
                '[ "$(undash <<< "$got")" = "$(undash <<< "$want")" ]'
done

# Under AWSTOE's name its own flags are offered Go-style, opentoe's with two dashes.
awstoe_run=$(comp awstoe run -)
check_eval "awstoe run: AWSTOE's flags with one dash (-documents, -phases, -log-directory)" \
        'grep -qx -- -documents <<< "$awstoe_run" && grep -qx -- -phases <<< "$awstoe_run" &&
         grep -qx -- -log-directory <<< "$awstoe_run" && ! grep -qx -- --documents <<< "$awstoe_run"'
check_eval "awstoe run: opentoe's extensions with two (--dry-run, --reboot-mode)" \
        'grep -qx -- --dry-run <<< "$awstoe_run" && grep -qx -- --reboot-mode <<< "$awstoe_run"'
awstoe_flags=" config cw-ignore-failures cw-log-group cw-log-region cw-log-stream document-s3-bucket-owner"
awstoe_flags+=" documents execution-id log-directory log-s3-bucket-name log-s3-bucket-owner log-s3-key-prefix"
awstoe_flags+=" parameters phases state-directory version help trace blocked-action-modules "
bad=
for f in $(grep -E '^-[a-z][a-z0-9-]+$' <<< "$awstoe_run"); do
        [[ $awstoe_flags == *" ${f#-} "* ]] || bad+=" $f"
done
check_eval "awstoe run: every one-dash flag is one AWSTOE documents" '[ -z "$bad" ]'
[ -z "$bad" ] || diag "not AWSTOE's:$bad"
check_eval "awstoe run -doc completes to -documents and -document-s3-bucket-owner" \
        '[ "$(comp awstoe run -doc)" = "$(printf "%s\n" -document-s3-bucket-owner -documents)" ]'

# Files and folders.
files=$(cd "$W/files" && compgen -f | sort)
check_eval "run --documents: the files here" '[ "$(comp opentoe run --documents "")" = "$files" ]'
check_eval "run -d a: a.yml" '[ "$(comp opentoe run -d a)" = a.yml ]'
check_eval "run --documents a.yml,b: the next file of the list" \
        '[ "$(comp opentoe run --documents a.yml,b)" = a.yml,b.yml ]'
check_eval "awstoe run -config c: c.json" '[ "$(comp awstoe run -config c)" = c.json ]'
check_eval "validate FILE: files" '[ "$(comp opentoe validate "")" = "$files" ]'
check_eval "compile -o: files" '[ "$(comp opentoe compile -o "")" = "$files" ]'
dirs=$(printf '%s\n' logs "sub dir" | sort)
check_eval "run --log-directory: folders only" '[ "$(comp opentoe run --log-directory "")" = "$dirs" ]'
check_eval "run -s: folders only" '[ "$(comp opentoe run -s "")" = "$dirs" ]'
check_eval "report TOE_FOLDER: folders" '[ "$(comp opentoe report "")" = "$dirs" ]'
check_eval "debug state DIR: folders" '[ "$(comp opentoe debug state "")" = "$dirs" ]'
check_eval "a folder name with a space comes back whole" '[ "$(comp opentoe run -l su)" = "sub dir" ]'

# Fixed values, in each way of typing a flag's value.
check_eval "run --reboot-mode: ssm, self, exit" \
        '[ "$(comp opentoe run --reboot-mode "")" = "$(printf "%s\n" exit self ssm)" ]'
check_eval "run --reboot-mode=s (bash splits at '='): self, ssm" \
        '[ "$(comp opentoe run --reboot-mode = s)" = "$(printf "%s\n" self ssm)" ]'
check_eval "run --reboot-mode= (the cursor on '='): all three" \
        '[ "$(comp opentoe run --reboot-mode =)" = "$(printf "%s\n" exit self ssm)" ]'
check_eval "run --reboot-mode=e as one word: --reboot-mode=exit" \
        '[ "$(comp opentoe run --reboot-mode=e)" = --reboot-mode=exit ]'
check_eval "run --phases build,v: the list goes on" '[ "$(comp opentoe run --phases build,v)" = build,validate ]'
check_eval "awstoe run -phases: build, test, validate" \
        '[ "$(comp awstoe run -phases "")" = "$(printf "%s\n" build test validate)" ]'
check_eval "validate --format: text, json, awstoe" \
        '[ "$(comp opentoe validate --format "")" = "$(printf "%s\n" awstoe json text)" ]'
check_eval "validate --os-platforms linux,: the others" \
        '[ "$(comp opentoe validate --os-platforms linux,)" = "$(printf "%s\n" linux,darwin linux,linux linux,windows)" ]'
check_eval "report --format: html, json, text" \
        '[ "$(comp opentoe report -f "")" = "$(printf "%s\n" html json text)" ]'
check_eval "status --format: json, text" '[ "$(comp opentoe status --format "")" = "$(printf "%s\n" json text)" ]'
check_eval "completion SHELL: bash" '[ "$(comp opentoe completion "")" = bash ]'
check_eval "a free value (--execution-id) offers nothing" '[ -z "$(comp opentoe run --execution-id "")" ]'
check_eval "a flag's value is not taken for a command: 'run -i debug --dry' -> --dry-run" \
        '[ "$(comp opentoe run -i debug --dry)" = --dry-run ]'
check_eval "after a flag without a value, flags again: 'run --dry-run --no-j'" \
        '[ "$(comp opentoe run --dry-run --no-j)" = --no-journal ]'

# Every fixed value offered is one the command takes.
bad=
for v in $(comp opentoe run --reboot-mode ""); do
        "$OPENTOE" run --reboot-mode "$v" --documents "$W/none.yml" 2>&1 | grep -q -- "--reboot-mode must be" && bad+=" reboot-mode=$v"
done
for v in $(comp opentoe validate --format ""); do
        "$OPENTOE" validate --format "$v" "$W/none.yml" 2>&1 | grep -q "unknown format" && bad+=" format=$v"
done
for v in $(comp opentoe validate --os-platforms ""); do
        "$OPENTOE" validate --os-platforms "$v" "$W/none.yml" 2>&1 | grep -q "unknown platform" && bad+=" os=$v"
done
for v in $(comp opentoe report --format ""); do
        "$OPENTOE" report --format "$v" "$W/none" 2>&1 | grep -q "unknown format" && bad+=" report=$v"
done
for v in $(comp opentoe status --format ""); do
        "$OPENTOE" status --root "$W/none" --format "$v" 2>&1 | grep -q -- "--format is" && bad+=" status=$v"
done
check_eval "each fixed value offered is accepted by its command" '[ -z "$bad" ]'
[ -z "$bad" ] || diag "refused:$bad"

done_testing
