#!/bin/bash
# cli.sh: the command line's own answers: --version wherever AWSTOE
# accepts it (the binary, `run`, and `validate`, in both flag styles and
# under both names), and `debug --help` listing every debug subcommand
# that the dispatch knows.  TAP output.
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
scratch_dir W cli
both_names

capture opentoe --version
want=$out
check "opentoe --version prints 'opentoe VERSION'" eval '[ $rc -eq 0 ] && [[ $want == "opentoe "[0-9]* ]]'
for args in "run --version" "run -v" "run -version" "validate --version" "validate -v" "run --version=true"; do
        # shellcheck disable=SC2086
        capture opentoe $args
        check "opentoe $args: exit 0 and the version, nothing on stderr" \
                eval '[ $rc -eq 0 ] && [ "$out" = "$want" ] && [ -z "$err" ]'
done
capture awstoe run --version
check "awstoe run --version: the version under AWSTOE's name" \
        eval '[ $rc -eq 0 ] && [ "$out" = "awstoe ${want#opentoe }" ]'
capture awstoe validate -version
check "awstoe validate -version: the same" eval '[ $rc -eq 0 ] && [ "$out" = "awstoe ${want#opentoe }" ]'
capture opentoe run --version=false
check "run --version=false is no version request (documents are still needed)" \
        eval '[ $rc -eq 2 ] && has_err "give the documents with --documents or --config"'
capture opentoe run --version=maybe
check "run --version=maybe is a usage error" eval '[ $rc -eq 2 ] && has_err "--version takes true or false"'

capture opentoe debug --help
help=$out
check "debug --help: exit 0" eval '[ $rc -eq 0 ]'
for sub in sigv4 credentials aws-request state cwlogs-ship; do
        capture opentoe debug "$sub" --help
        check "debug --help lists $sub, and debug $sub --help answers" \
                eval 'grep -qE "^  $sub " <<< "$help" && [ $rc -eq 0 ] && has_out "Usage:"'
done
capture opentoe debug no-such
check "debug with an unknown subcommand: exit 2 and the list" \
        eval '[ $rc -eq 2 ] && has_err "unknown subcommand '"'no-such'"'" && has_err "cwlogs-ship"'

done_testing
