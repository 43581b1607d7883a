#!/bin/bash
# sigv4.sh: the SigV4 signer against AWS's test suite.  For every case
# directory of the suite (read in place, never copied), `opentoe debug
# sigv4` signs the .req file and its canonical request, string to sign and
# Authorization header must equal the .creq, .sts and .authz files byte for
# byte: three TAP checks per case.  The suite's own inputs come from its
# README: AKIDEXAMPLE, us-east-1, service "service", 20150830T123600Z; the
# post-sts-token cases take the token from post-sts-token/readme.txt
# (header-before signs it, header-after adds it after signing).
set -u
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/servers.sh"
OPENTOE=${OPENTOE:-$top_srcdir/opentoe}
suite=${OPENTOE_SIGV4_SUITE:-$OPENTOE_SHARED/sigv4-testsuite}

if [ ! -d "$suite" ]; then
        skip_all "no SigV4 test suite at $suite"
fi

access_key=AKIDEXAMPLE
secret_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
token=
if [ -f "$suite/post-sts-token/readme.txt" ]; then
        # The token is the readme's last non-empty line.
        token=$(grep -v '^[[:space:]]*$' "$suite/post-sts-token/readme.txt" | tail -n 1 | tr -d '\r\n')
fi

# A case is a directory holding <name>.req named after it.
mapfile -t cases < <(find "$suite" -name '*.req' -type f | LC_ALL=C sort)
n_cases=${#cases[@]}
if [ "$n_cases" -eq 0 ]; then
        skip_all "no .req files under $suite"
fi
plan $((3 * n_cases))
scratch_dir tmp sigv4

# same NAME EXPECTED-FILE ACTUAL-FILE: the two files are equal byte for byte.
same() {
        if cmp -s "$2" "$3"; then
                ok "$1"
        else
                not_ok "$1" "$(diff <(cat -A "$2"; echo) <(cat -A "$3"; echo))"
        fi
}

for req in "${cases[@]}"; do
        dir=${req%/*}
        name=${req##*/}
        name=${name%.req}
        rel=${dir#"$suite"/}
        args=(--service service --region us-east-1 --date 20150830T123600Z
                --access-key "$access_key" --secret-key "$secret_key")
        case $name in
        post-sts-header-before) args+=(--session-token "$token") ;;
        post-sts-header-after) args+=(--session-token "$token" --token-after-signing) ;;
        esac
        out=$tmp/out
        "$OPENTOE" debug sigv4 "$req" "${args[@]}" >"$out" 2>"$tmp/err"
        rc=$?
        if [ $rc -ne 0 ]; then
                for what in "canonical request" "string to sign" "Authorization"; do
                        not_ok "$rel: $what (exit status $rc)" "$(cat "$tmp/err")"
                done
                continue
        fi
        # Output: canonical request, "", 4 lines of string to sign, "",
        # Authorization value.  Files hold no final newline.
        lines=$(wc -l <"$out")
        head -n $((lines - 7)) "$out" | head -c -1 >"$tmp/creq"
        tail -n 6 "$out" | head -n 4 | head -c -1 >"$tmp/sts"
        tail -n 1 "$out" | head -c -1 >"$tmp/authz"
        same "$rel: canonical request" "$dir/$name.creq" "$tmp/creq"
        same "$rel: string to sign" "$dir/$name.sts" "$tmp/sts"
        same "$rel: Authorization" "$dir/$name.authz" "$tmp/authz"
done
done_testing
