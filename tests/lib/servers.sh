# tests/lib/servers.sh: what a shell suite (or a benchmark) needs around
# the program under test: its scratch folder, test servers on 127.0.0.1,
# an environment that reaches nothing but them, and running a command as
# an unprivileged user.  It sources tap.sh (it calls bail_out), so a suite
# sources this file alone, or tests/lib/run.sh, which sources it.
#
#   scratch_dir VAR [NAME]  a new mktemp -d folder (opentoe-NAME.XXXXXX in
#                           $TMPDIR) in VAR, removed at exit (KEEP_SCRATCH=1
#                           keeps it and says where); its srv/ holds the
#                           servers' port files and error output
#   enter_scratch VAR NAME  the start of a suite that works inside its
#                           scratch folder: OPENTOE (default: the opentoe
#                           of the tree the suite is in) and top_srcdir
#                           made absolute (resolve_paths), scratch_dir VAR
#                           NAME, and that folder the current one
#   preload_lib NAME WHAT < C-SOURCE  NAME.so in the current folder, a
#                           library for LD_PRELOAD built from the C on
#                           standard input (kept in NAME.c) with ${CC:-cc};
#                           without a compiler the whole suite is skipped
#                           ("no C compiler to build WHAT")
#   at_exit CMD             CMD (a shell string) runs at exit, before the
#                           servers are stopped and the scratch is removed
#   start_server NAME CMD...  starts CMD --port-file srv/NAME.port in the
#                           background, waits until it has written its
#                           port, and sets port_NAME; bails out with the
#                           server's stderr if it does not start
#   start_s3rver NAME ARGS...  the same for s3rver (node "$S3RVER" ARGS),
#                           whose port is read from its log srv/NAME.log
#   find_s3_tools           S3RVER (s3rver's bin/s3rver.js, default under
#                           S3RVER_PREFIX, /usr/local/lib/opentoe-test, where
#                           scripts/setup.sh installs it) and AWS (awscli:
#                           /usr/bin/aws, else the one on PATH, else empty)
#   start_receiver [ARGS...]  the orchestrator stand-in
#                           (tests/servers/signal_receiver.py ARGS) as the
#                           server recv: its webhook key in KEY (hook.key in
#                           the scratch folder, mode 600, made once), its URL
#                           in recv_url, its pid in recv_pid; started again
#                           (ARGS with --port "$port_recv") after
#                           stop_receiver, it is back on its port, same key
#   stop_receiver           stops it (SIGTERM, waited for)
#   server_post URL JSON    POSTs JSON to a server's control endpoint
#   server_json URL EXPR [ARG...]  GETs URL's JSON as d and prints the
#                           Python expression EXPR (ARGs in a)
#   need_botocore           PY (Debian's python3 with botocore, which the
#                           SigV4-checking endpoints need) and SERVERS, or
#                           the whole suite is skipped
#   only_loopback           no proxy: nothing but 127.0.0.1 is reached
#   clear_env PREFIX...     unsets every variable whose name starts so
#   aws_test_env KEY-ID SECRET [PREFIX...]  an AWS caller that reaches
#                           nothing but the test servers: only_loopback, no
#                           AWS_, OPENTOE_AWS_, OPENTOE_IMDS_ (nor PREFIX)
#                           variables from the caller, an empty HOME in the
#                           scratch folder, these static credentials, no IMDS
#   as_user USER [--reset-env] CMD...  CMD as USER, USER's group only
#   resolve_paths           OPENTOE and top_srcdir made absolute
#
# The servers started here are stopped at exit (SIGTERM, then waited for).
# All of it works under set -e too (the benchmarks use it).

[ -n "${tap_n+set}" ] || . "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# No suite reaches the machine itself: the reboot, the init system, the
# crontab and the package managers are taken from a root that holds no
# programs (common/system.h) unless a suite builds its own fakes, and a
# reboot hands exit 194 back unless a suite asks for another mode.
export OPENTOE_TEST_SYSTEM_ROOT=${OPENTOE_TEST_SYSTEM_ROOT:-/nonexistent/opentoe-test-system}
export OPENTOE_REBOOT_MODE=${OPENTOE_REBOOT_MODE:-exit}

tap_scratch=
tap_server_pids=()
tap_exit_hooks=()
PY=${PY:-/usr/bin/python3}

tap_cleanup() {
        local hook p
        for hook in "${tap_exit_hooks[@]}"; do
                eval "$hook" || true
        done
        for p in "${tap_server_pids[@]}"; do
                kill "$p" 2> /dev/null || true
                wait "$p" 2> /dev/null || true
        done
        [ -n "$tap_scratch" ] || return 0
        if [ -n "${KEEP_SCRATCH:-}" ]; then
                echo "# scratch kept: $tap_scratch"
        else
                rm -rf "$tap_scratch"
        fi
}
trap tap_cleanup EXIT

at_exit() {
        tap_exit_hooks+=("$1")
}

scratch_dir() {
        tap_scratch=$(mktemp -d "${TMPDIR:-/tmp}/opentoe-${2:-test}.XXXXXX") || bail_out "mktemp -d failed"
        mkdir -p "$tap_scratch/srv"
        printf -v "$1" '%s' "$tap_scratch"
}

enter_scratch() {
        OPENTOE=${OPENTOE:-$(dirname "$0")/../opentoe}
        resolve_paths
        scratch_dir "$1" "$2"
        cd "$tap_scratch" || bail_out "cannot enter $tap_scratch"
}

preload_lib() {
        cat > "$1.c"
        if ! ${CC:-cc} -shared -fPIC -o "$1.so" "$1.c" -ldl 2> "$1.cc.err"; then
                skip_all "no C compiler to build $2"
        fi
}

resolve_paths() {
        OPENTOE=${OPENTOE:-./opentoe}
        top_srcdir=${top_srcdir:-.}
        case $OPENTOE in /*) ;; *) OPENTOE=$PWD/$OPENTOE ;; esac
        case $top_srcdir in /*) ;; *) top_srcdir=$PWD/$top_srcdir ;; esac
}

# tap_wait_port NAME TRIES CMD: up to TRIES tenths of a second for the
# shell command CMD to print the port; sets port_NAME.
tap_wait_port() {
        local name=$1 tries=$2 found=
        for _ in $(seq "$tries"); do
                found=$(eval "$3") || true
                [ -n "$found" ] && break
                sleep 0.1
        done
        if [ -z "$found" ]; then
                bail_out "the $name test server did not start: $(cat "$tap_scratch/srv/$name.err" 2> /dev/null)"
        fi
        printf -v "port_$name" '%s' "$found"
}

start_server() {
        local name=$1
        shift
        "$@" --port-file "$tap_scratch/srv/$name.port" > /dev/null 2> "$tap_scratch/srv/$name.err" &
        tap_server_pids+=($!)
        tap_wait_port "$name" 100 "[ -s '$tap_scratch/srv/$name.port' ] && cat '$tap_scratch/srv/$name.port'"
}

start_s3rver() {
        local name=$1 log=$tap_scratch/srv/$1.log
        shift
        : > "$log"
        node "$S3RVER" "$@" -a 127.0.0.1 -p 0 > "$log" 2>&1 &
        tap_server_pids+=($!)
        ln -sf "$log" "$tap_scratch/srv/$name.err"
        tap_wait_port "$name" 150 "sed -n 's/.*listening on 127\\.0\\.0\\.1:\\([0-9][0-9]*\\).*/\\1/p' '$log' | head -1"
}

find_s3_tools() {
        S3RVER_PREFIX=${S3RVER_PREFIX:-/usr/local/lib/opentoe-test}
        S3RVER=${S3RVER:-$S3RVER_PREFIX/node_modules/s3rver/bin/s3rver.js}
        if [ -z "${AWS:-}" ]; then
                if [ -x /usr/bin/aws ]; then AWS=/usr/bin/aws; else AWS=$(command -v aws || true); fi
        fi
}

start_receiver() {
        KEY=$tap_scratch/hook.key
        if [ ! -s "$KEY" ]; then
                printf 'hook-key-%s\n' "$RANDOM$RANDOM" > "$KEY"
                chmod 600 "$KEY"
        fi
        rm -f "$tap_scratch/srv/recv.port"
        start_server recv "$PY" "$top_srcdir/tests/servers/signal_receiver.py" --key-file "$KEY" "$@"
        recv_url=http://127.0.0.1:$port_recv
        recv_pid=${tap_server_pids[-1]}
}

stop_receiver() {
        kill "$recv_pid"
        wait "$recv_pid" 2> /dev/null
}

server_post() {
        "$PY" -c 'import sys, urllib.request
r = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST")
urllib.request.urlopen(r, timeout=10).read()' "$1" "$2"
}

server_json() {
        "$PY" -c 'import sys, json, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1], timeout=60))
a = sys.argv[3:]
print(eval(sys.argv[2]))' "$@"
}

# The Debian python3 with botocore the SigV4-checking endpoints need
# (PY and SERVERS are set for them), or the whole suite is skipped.
need_botocore() {
        PY=/usr/bin/python3
        SERVERS=$top_srcdir/tests/servers
        if [ ! -x "$PY" ] || ! "$PY" -c 'import botocore' 2> /dev/null; then
                skip_all "no /usr/bin/python3 with botocore (Debian: python3-botocore)"
        fi
}
only_loopback() {
        unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
        export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
}

clear_env() {
        local v p
        for v in $(compgen -e); do
                for p in "$@"; do
                        case $v in "$p"*) unset "$v" ;; esac
                done
        done
}

aws_test_env() {
        local key_id=$1 secret=$2
        shift 2
        only_loopback
        clear_env AWS_ OPENTOE_AWS_ OPENTOE_IMDS_ "$@"
        export HOME=$tap_scratch/home AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret
        export AWS_EC2_METADATA_DISABLED=true
        mkdir -p "$HOME"
}

as_user() {
        local user=$1 opts=()
        shift
        if [ "${1:-}" = --reset-env ]; then
                opts+=(--reset-env)
                shift
        fi
        setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups "${opts[@]}" -- "$@"
}
