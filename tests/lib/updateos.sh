# tests/lib/updateos.sh: what the UpdateOS suites against real package
# managers share (sourced after servers.sh; $W is the suite's scratch
# folder with its fake system root in $W/sys).
#
#   doc FILE [INPUT...]   writes FILE, a document whose one step is
#                         UpdateOS with these input lines ("include: [a]")
#   run FILE              runs it against the system root in $W/sys; sets
#                         rc and con (console.log's text)

doc() {
        local name=$1
        shift
        { printf '%s\n' "schemaVersion: 1.0" "phases:" "  - name: build" "    steps:" "      - name: Update" \
                "        action: UpdateOS"
          if [ $# -gt 0 ]; then echo "        inputs:"; printf '          %s\n' "$@"; fi; } > "$name"
}
run() {
        rm -rf logs state
        OPENTOE_TEST_SYSTEM_ROOT="$W/sys" "$OPENTOE" run -d "$1" -l logs -s state > out 2> err; rc=$?
        con=$(cat logs/TOE_*/console.log 2> /dev/null)
}
on_failure() { diag "$(echo "$con" | tail -n 25)"; }
