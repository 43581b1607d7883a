# tests/lib/tap.sh: the TAP output of the shell suites, sourced by each
# (`. "$top_srcdir/tests/lib/tap.sh"`): the plan, one line per check
# (numbered here), skips, bailing out and the final tally.
#
#   plan N                  the plan up front (done_testing then checks it)
#   check WHAT CMD...       ok when CMD succeeds, else not ok and on_failure
#   check_eval WHAT EXPR    the same for a shell expression (eval'd here)
#   ok WHAT / not_ok WHAT [DIAGNOSTIC...]   a result decided by the suite
#   skip WHY                a check that cannot run here
#   skip_all WHY            the whole suite cannot run here: 1..0, exit 0
#   bail_out WHY            the suite cannot go on: Bail out!, exit 1
#   tap_verdicts FILE [WHAT]  a checker's verdicts, one a line: "ok: X"
#                           is ok X, "bad: X" not ok X; any other line is
#                           not ok WHAT (the line its diagnostic) when WHAT
#                           is given, else passed over
#   diag TEXT               TEXT as TAP comments ("# " before each line)
#   done_testing            the plan at the end (or, after `plan`, the
#                           check that as many checks ran as planned)
#
# A suite that has more to say about a failed check defines on_failure
# (after sourcing this file), which prints TAP comments.
# Checks are counted in tap_n; nothing else here is a global the suites
# need to know.

tap_n=0
tap_plan=

# The corpus and the SigV4 suite are not in the repository or the tarball:
# they live in ../shared beside the checkout, or wherever OPENTOE_SHARED
# says (make check sets it from configure --with-shared-dir).
OPENTOE_SHARED=${OPENTOE_SHARED:-$top_srcdir/../shared}

plan() {
        tap_plan=$1
        echo "1..$1"
}

diag() {
        [ -n "${1:-}" ] && printf '%s\n' "$1" | sed 's/^/# /'
        return 0
}

ok() {
        tap_n=$((tap_n + 1))
        echo "ok $tap_n - $1"
}

not_ok() {
        local d
        tap_n=$((tap_n + 1))
        echo "not ok $tap_n - $1"
        shift
        for d in "$@"; do
                diag "$d"
        done
}

tap_verdicts() {
        local line
        while IFS= read -r line; do
                case $line in
                ok:*) ok "${line#ok: }" ;;
                bad:*) not_ok "${line#bad: }" ;;
                *) [ -z "${2:-}" ] || not_ok "$2" "$line" ;;
                esac
        done < "$1"
}

skip() {
        tap_n=$((tap_n + 1))
        echo "ok $tap_n # SKIP $1"
}

skip_all() {
        echo "1..0 # SKIP $1"
        exit 0
}

bail_out() {
        echo "Bail out! $1"
        exit 1
}

on_failure() { :; }

check() {
        local tap_what=$1
        shift
        if "$@"; then
                ok "$tap_what"
        else
                not_ok "$tap_what"
                on_failure
        fi
}

check_eval() {
        if eval "$2"; then
                ok "$1"
        else
                not_ok "$1"
                on_failure
        fi
}

done_testing() {
        if [ -z "$tap_plan" ]; then
                echo "1..$tap_n"
        elif [ "$tap_n" -ne "$tap_plan" ]; then
                echo "# planned $tap_plan checks but ran $tap_n"
                exit 1
        fi
}
