#!/bin/bash
# webdownload.sh: the WebDownload action against tests/servers/webserver.py,
# an HTTP and an HTTPS instance on free ports of 127.0.0.1 (no other
# network traffic).  Each behaviour is a small document run with
# `opentoe run` in its own folder of a scratch directory; results are
# checked from the exit status, the files written, the server's request
# log, console.log and detailedoutput.json.  TAP output.
#
# Environment: OPENTOE (the binary, default ./opentoe), top_srcdir (the
# source tree, default .).  Timeouts and backoff are shortened through
# OPENTOE_HTTP_* variables so that the suite is quick; time bounds in the
# checks are generous on purpose.
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths
SERVER=$top_srcdir/tests/servers/webserver.py

if ! command -v python3 > /dev/null; then
        skip_all "python3 (for the test server) is not available"
fi

plan 67
scratch_dir W webdownload
# A failed check shows the console.log of the last run.
on_failure() { diag "$(cat "$last/console.log" 2>/dev/null)"; }

# Only the test servers, never a proxy.
only_loopback
export OPENTOE_HTTP_RETRY_DELAY_MS=100
export OPENTOE_HTTP_CONNECT_TIMEOUT=5
export OPENTOE_HTTP_LOW_SPEED_TIME=2
umask 022

mkdir -p "$W/root" "$W/srv"
printf 'hello from the test server\n' > "$W/root/hello.txt"
head -c 300000 /dev/urandom > "$W/root/data.bin"
cp "$W/root/hello.txt" "$W/root/plain.txt"
cp "$W/root/data.bin" "$W/root/skip.bin"
REQLOG=$W/srv/requests.log
: > "$REQLOG"

start_server http python3 "$SERVER" --root "$W/root" --log "$REQLOG"
H=http://127.0.0.1:$port_http

have_tls=false
if command -v openssl > /dev/null &&
   openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
           -addext subjectAltName=IP:127.0.0.1 -keyout "$W/srv/key.pem" -out "$W/srv/cert.pem" \
           > /dev/null 2>&1; then
        start_server https python3 "$SERVER" --root "$W/root" --log "$REQLOG" \
                --tls-cert "$W/srv/cert.pem" --tls-key "$W/srv/key.pem"
        S=https://127.0.0.1:$port_https
        have_tls=true
fi

# A port where nothing listens.
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# run_download NAME INPUTS [STEP_EXTRA]: runs a one-step WebDownload
# document in $W/NAME (run_doc, tests/lib/run.sh); sets rc, last (its log
# folder) and elapsed (seconds).
run_download() {
        local name=$1 inputs=$2 extra=${3:-} t0=$SECONDS
        run_doc "$name" "$(printf '      - name: Download\n        action: WebDownload\n'
                [ -n "$extra" ] && printf '%s\n' "$extra"
                printf '        inputs:\n%s' "$inputs")"
        elapsed=$((SECONDS - t0))
}

# The step's outputs, as the JSON string detailedoutput.json holds.
outputs() {
        python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(d["documents"][0]["phases"][0]["steps"][0]["outputs"])' "$last/detailedoutput.json"
}
requests() { grep -c "^GET $1 " "$REQLOG"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# No file but the ones named is left in a folder (no temporary files).
only_files() {
        local dir=$1
        shift
        [ "$(ls -A "$dir" 2> /dev/null | sort | tr '\n' ' ')" = "$*${*:+ }" ]
}
entry() { # entry SOURCE DESTINATION [more YAML keys, one "key: value" each]
        printf '          - source: %s\n            destination: %s\n' "$1" "$2"
        shift 2
        for kv in "$@"; do
                printf '            %s\n' "$kv"
        done
}

hello_sha=$(sha "$W/root/hello.txt")
data_md5=$(md5sum "$W/root/data.bin" | cut -d' ' -f1)
data_sha1=$(sha1sum "$W/root/data.bin" | cut -d' ' -f1)
data_sha256=$(sha "$W/root/data.bin")
data_sha512=$(sha512sum "$W/root/data.bin" | cut -d' ' -f1)

# ---- happy paths ----------------------------------------------------------

run_download file "$(entry "$H/hello.txt" "$W/file/out/sub/hello-copy.txt")"
check "file destination: exit status 0" test "$rc" = 0
check "file destination: content is the server's, missing folders created" \
        cmp -s "$W/root/hello.txt" "$W/file/out/sub/hello-copy.txt"
check "file destination: outputs.destination is the path written" \
        test "$(outputs)" = "[{\"destination\":\"$W/file/out/sub/hello-copy.txt\"}]"
check "User-Agent is opentoe/<version>" grep -q "^GET /hello.txt opentoe/[0-9]" "$REQLOG"

run_download folder "$(entry "$H/redirect/0/plain.txt?x=1#frag" "$W/folder/dl/")"
check "folder destination ending in '/': named from the URL's path" \
        cmp -s "$W/root/plain.txt" "$W/folder/dl/plain.txt"
check "folder destination: outputs.destination names the file" \
        test "$rc" = 0 -a "$(outputs)" = "[{\"destination\":\"$W/folder/dl/plain.txt\"}]"

mkdir -p "$W/relative"
run_download relative "$(entry "$H/hello.txt" "rel/dir/")"
check "relative folder destination is relative to the working folder" \
        cmp -s "$W/root/hello.txt" "$W/relative/rel/dir/hello.txt"

run_download noname "$(entry "$H/" "$W/noname/dl/")"
check "folder destination with a URL without a file name fails clearly" \
        eval 'test "$rc" != 0 && console_has "has no file name" && ! test -e "$W/noname/dl"'

# ---- overwrite ------------------------------------------------------------

mkdir -p "$W/ovf"
echo "old content" > "$W/ovf/keep.txt"
before=$(requests /hello.txt)
run_download ovf "$(entry "$H/hello.txt" "$W/ovf/keep.txt" "overwrite: false")"
check "overwrite false with an existing file: fails" \
        eval 'test "$rc" != 0 && console_has "already exists and overwrite is false"'
check "overwrite false: the file is untouched and no request was made" \
        eval 'test "$(cat "$W/ovf/keep.txt")" = "old content" && test "$(requests /hello.txt)" = "$before"'

run_download ovf-new "$(entry "$H/hello.txt" "$W/ovf-new/new.txt" "overwrite: false")"
check "overwrite false with no existing file: downloads" cmp -s "$W/root/hello.txt" "$W/ovf-new/new.txt"

mkdir -p "$W/skip"
cp "$W/root/data.bin" "$W/skip/data.bin"
touch -d '2001-01-01' "$W/skip/data.bin"
run_download skip "$(entry "$H/skip.bin" "$W/skip/data.bin" "checksum: \"$data_sha256\"" "algorithm: SHA256")"
check "overwrite true, existing file's checksum matches: success" test "$rc" = 0
check "... and no request was made, the file was kept" \
        eval 'test "$(requests /skip.bin)" = 0 && test "$(stat -c %Y "$W/skip/data.bin")" = "$(date -d 2001-01-01 +%s)"'
check "... and outputs.destination is still given" \
        test "$(outputs)" = "[{\"destination\":\"$W/skip/data.bin\"}]"

mkdir -p "$W/replace/dl"
echo "stale" > "$W/replace/dl/data.bin"
run_download replace "$(entry "$H/data.bin" "$W/replace/dl/data.bin" "checksum: \"$data_sha256\"" "algorithm: SHA256")"
check "overwrite true, existing file's checksum differs: downloaded and replaced" \
        eval 'test "$rc" = 0 && test "$(sha "$W/replace/dl/data.bin")" = "$data_sha256" && only_files "$W/replace/dl" data.bin'

mkdir -p "$W/modes/dl"
printf 'old\n' > "$W/modes/dl/tool.sh"
chmod 0750 "$W/modes/dl/tool.sh"
run_download modes "$(entry "$H/hello.txt" "$W/modes/dl/tool.sh"
                 entry "$H/hello.txt" "$W/modes/dl/new.txt")"
check "a replaced file keeps its permissions, a new one gets 0666 less the umask (022)" \
        eval 'test "$rc" = 0 && test "$(stat -c %a "$W/modes/dl/tool.sh")" = 750 &&
              test "$(stat -c %a "$W/modes/dl/new.txt")" = 644 && cmp -s "$W/root/hello.txt" "$W/modes/dl/tool.sh"'

mkdir -p "$W/isdir/target"
run_download isdir "$(entry "$H/hello.txt" "$W/isdir/target")"
check "a destination that is a folder but lacks '/' fails clearly" \
        eval 'test "$rc" != 0 && console_has "is a folder" && only_files "$W/isdir/target"'

# ---- checksums ------------------------------------------------------------

run_download sums "$(entry "$H/data.bin" "$W/sums/dl/md5.bin" "checksum: \"$data_md5\"" "algorithm: md5"
                entry "$H/data.bin" "$W/sums/dl/sha1.bin" "checksum: \"${data_sha1^^}\"" "algorithm: Sha1"
                entry "$H/data.bin" "$W/sums/dl/sha256.bin" "checksum: \"$data_sha256\"" "algorithm: SHA256"
                entry "$H/data.bin" "$W/sums/dl/sha512.bin" "checksum: \"$data_sha512\"" "algorithm: SHA512")"
same_as_data() {
        for f in "$@"; do
                cmp -s "$W/root/data.bin" "$f" || return 1
        done
}
check "right checksums for MD5, SHA1, SHA256, SHA512 (algorithm and hex case-insensitive)" \
        eval 'test "$rc" = 0 && only_files "$W/sums/dl" md5.bin sha1.bin sha256.bin sha512.bin &&
              same_as_data "$W"/sums/dl/{md5,sha1,sha256,sha512}.bin'

for algo in MD5 SHA1 SHA256 SHA512; do
        case $algo in
        MD5) len=32 ;;
        SHA1) len=40 ;;
        SHA256) len=64 ;;
        SHA512) len=128 ;;
        esac
        wrong=$(printf 'ab%.0s' $(seq $((len / 2))))
        mkdir -p "$W/bad-$algo/dl"
        before=$(requests /data.bin)
        run_download "bad-$algo" "$(entry "$H/data.bin" "$W/bad-$algo/dl/data.bin" "checksum: \"$wrong\"" "algorithm: $algo")"
        check "wrong $algo checksum: fails, names expected and got, not retried, no file left" \
                eval 'test "$rc" != 0 && console_has "$algo checksum mismatch: expected $wrong, got " &&
                      console_has "not retried" && only_files "$W/bad-$algo/dl" &&
                      test "$(requests /data.bin)" = $((before + 1))'
done

run_download sum-only "$(entry "$H/hello.txt" "$W/sum-only/x" "checksum: \"$hello_sha\"")"
check "checksum without algorithm fails before downloading" \
        eval 'test "$rc" != 0 && console_has "checksum is given without algorithm" && ! test -e "$W/sum-only/x"'
run_download algo-only "$(entry "$H/hello.txt" "$W/algo-only/x" "algorithm: SHA256")"
check "algorithm without checksum fails before downloading" \
        eval 'test "$rc" != 0 && console_has "checksum is empty" && ! test -e "$W/algo-only/x"'
run_download sum-len "$(entry "$H/hello.txt" "$W/sum-len/x" "checksum: abc" "algorithm: SHA256")"
check "a checksum of the wrong length fails clearly" \
        eval 'test "$rc" != 0 && console_has "SHA256 needs 64" && ! test -e "$W/sum-len/x"'

# ---- redirects ------------------------------------------------------------

run_download redir "$(entry "$H/redirect/5/hello.txt" "$W/redir/hello.txt")"
check "a chain of 5 redirects is followed" \
        eval 'test "$rc" = 0 && cmp -s "$W/root/hello.txt" "$W/redir/hello.txt"'

run_download redir-long "$(entry "$H/redirect/15/hello.txt" "$W/redir-long/dl/hello.txt")"
check "a chain of 15 redirects fails (bound: 10), not retried" \
        eval 'test "$rc" != 0 && console_has "redirects followed" && console_has "not retried" &&
              only_files "$W/redir-long/dl" && test "$(requests /redirect/15/hello.txt)" = 1'

run_download redir-ftp "$(entry "$H/redirect-ftp" "$W/redir-ftp/dl/x")"
check "a redirect to ftp:// is refused" \
        eval 'test "$rc" != 0 && console_has "redirect to ftp://" && console_has "refused" && only_files "$W/redir-ftp/dl"'

run_download redir-file "$(entry "$H/redirect-file" "$W/redir-file/dl/passwd")"
check "a redirect to file:///etc/passwd is refused and nothing is written" \
        eval 'test "$rc" != 0 && console_has "redirect to file:///etc/passwd" && only_files "$W/redir-file/dl"'

run_download ftp "$(entry "ftp://127.0.0.1:$port_http/hello.txt" "$W/ftp/x")"
check "an ftp:// source is refused" \
        eval 'test "$rc" != 0 && console_has "only http:// and https:// URLs" && ! test -e "$W/ftp/x"'

run_download file-url "$(entry "file:///etc/passwd" "$W/file-url/x")"
check "a file:// source is refused" \
        eval 'test "$rc" != 0 && console_has "only http:// and https:// URLs" && ! test -e "$W/file-url/x"'

# ---- statuses and retries -------------------------------------------------

run_download s404 "$(entry "$H/status/404" "$W/s404/dl/x")"
check "404 fails at once, naming the entry, URL and status" \
        eval 'test "$rc" != 0 && console_has "WebDownload entry 1 ($H/status/404): HTTP status 404" &&
              test "$(requests /status/404)" = 1 && only_files "$W/s404/dl"'

run_download secret "$(entry "http://someone:s3cr3t@127.0.0.1:$port_http/status/404" "$W/secret/x")"
check "a password in the URL is not shown in messages" \
        eval 'test "$rc" != 0 && console_has "http://someone:***@127.0.0.1:$port_http/status/404" &&
              ! grep -rq s3cr3t "$last/console.log" "$last/application.log"'

run_download s403 "$(entry "$H/status/403" "$W/s403/x")"
check "403 is not retried" eval 'test "$rc" != 0 && test "$(requests /status/403)" = 1'

run_download s204 "$(entry "$H/status/204" "$W/s204/dl/x")"
check "a status other than 200 (204) is a failure" \
        eval 'test "$rc" != 0 && console_has "HTTP status 204" && only_files "$W/s204/dl"'

run_download s500 "$(entry "$H/status/500" "$W/s500/dl/x")"
check "500 is retried 5 times in all, then fails" \
        eval 'test "$rc" != 0 && test "$(requests /status/500)" = 5 && console_has "failed after 5 attempts" &&
              console_has "attempts 1-5: HTTP status 500" && only_files "$W/s500/dl"'

run_download s429 "$(entry "$H/status/429" "$W/s429/x")"
check "429 is retried" eval 'test "$rc" != 0 && test "$(requests /status/429)" = 5'

run_download flaky "$(entry "$H/flaky/3/hello.txt" "$W/flaky/hello.txt")"
check "flaky (503 three times) succeeds on the 4th attempt" \
        eval 'test "$rc" = 0 && cmp -s "$W/root/hello.txt" "$W/flaky/hello.txt" && test "$(requests /flaky/3/hello.txt)" = 4'
check "... and the retries are reported in console.log" \
        console_has "attempt 3 of 5 failed: HTTP status 503; retrying in"

run_download refused "$(entry "http://127.0.0.1:$closed_port/x" "$W/refused/dl/x")"
check "connection refused is retried, then fails with curl's error text" \
        eval 'test "$rc" != 0 && console_has "failed after 5 attempts" && console_has "onnect" &&
              only_files "$W/refused/dl" && test "$elapsed" -lt 30'

# ---- stalls, drops and deadlines ------------------------------------------

run_download stall "$(entry "$H/stall" "$W/stall/dl/x")"
check "a stalled body fails through the low-speed timeout (well under 30 s)" \
        eval 'test "$rc" != 0 && console_has "Operation too slow" && test "$elapsed" -lt 30'
check "... it was retried, and no file was left" \
        eval 'test "$(requests /stall)" = 5 && only_files "$W/stall/dl"'

OPENTOE_HTTP_LOW_SPEED_TIME=600 run_download deadline "$(entry "$H/stall" "$W/deadline/dl/x")" "        timeoutSeconds: 2"
check "the step deadline ends a stalled download (timeoutSeconds: 2)" \
        eval 'test "$rc" != 0 && console_has "timed out" && test "$elapsed" -lt 30 && only_files "$W/deadline/dl"'

OPENTOE_HTTP_RETRY_DELAY_MS=5000 run_download deadline-backoff "$(entry "$H/status/503" "$W/deadline-backoff/x")" \
        "        timeoutSeconds: 3"
check "the step deadline bounds the backoff between attempts" \
        eval 'test "$rc" != 0 && console_has "timed out" && test "$elapsed" -lt 30'

run_download drop "$(entry "$H/drop" "$W/drop/dl/x")"
check "a connection dropped mid-body fails after retries, no file left" \
        eval 'test "$rc" != 0 && test "$(requests /drop)" = 5 && only_files "$W/drop/dl" &&
              console_has "attempts 1-5: transfer closed"'

# ---- https ----------------------------------------------------------------

if $have_tls; then
        run_download tls-ok "$(entry "$S/hello.txt" "$W/tls-ok/hello.txt" "ignoreCertificateErrors: true")"
        check "https, self-signed certificate, ignoreCertificateErrors true: works" \
                eval 'test "$rc" = 0 && cmp -s "$W/root/hello.txt" "$W/tls-ok/hello.txt"'
        run_download tls-bad "$(entry "$S/hello.txt" "$W/tls-bad/dl/hello.txt")"
        check "https, self-signed certificate, ignoreCertificateErrors false: fails, not retried" \
                eval 'test "$rc" != 0 && console_has "certificate" && console_has "not retried" &&
                      only_files "$W/tls-bad/dl"'
        run_download tls-redir "$(entry "$H/redirect-to?url=$S/hello.txt" "$W/tls-redir/hello.txt" "ignoreCertificateErrors: true")"
        check "a redirect from http to https is followed" \
                eval 'test "$rc" = 0 && cmp -s "$W/root/hello.txt" "$W/tls-redir/hello.txt"'
else
        skip "https (openssl is not available)"
        skip "https (openssl is not available)"
        skip "https (openssl is not available)"
fi

# ---- several entries ------------------------------------------------------

run_download multi "$(entry "$H/hello.txt" "$W/multi/dl/one.txt"
                 entry "$H/status/404" "$W/multi/dl/two.txt"
                 entry "$H/data.bin" "$W/multi/dl/three.bin")"
check "several entries, the second fails: the step fails naming entry 2" \
        eval 'test "$rc" != 0 && console_has "WebDownload entry 2 ($H/status/404)"'
check "... the first file is kept, the third is not downloaded" \
        eval 'cmp -s "$W/root/hello.txt" "$W/multi/dl/one.txt" && only_files "$W/multi/dl" one.txt'

run_download multi-ok "$(entry "$H/hello.txt" "$W/multi-ok/a/"
                    entry "$H/data.bin" "$W/multi-ok/b.bin")"
# AWSTOE's one output: every entry's file in one string, one a line.
check "several entries: outputs.destination names every file, one a line" \
        test "$(outputs)" = "[{\"destination\":\"$W/multi-ok/a/hello.txt\\n$W/multi-ok/b.bin\"}]"

run_download multi-early "$(entry "$H/hello.txt" "$W/multi-early/one.txt"
                       entry "gopher://127.0.0.1/x" "$W/multi-early/two.txt")"
check "a bad entry is reported before anything is downloaded" \
        eval 'test "$rc" != 0 && console_has "WebDownload entry 2" && ! test -e "$W/multi-early/one.txt"'

# ---- chaining -------------------------------------------------------------

mkdir -p "$W/chain"
cat > "$W/chain/doc.yml" <<EOF
name: chain
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Download
        action: WebDownload
        inputs:
          - source: $H/hello.txt
            destination: $W/chain/dl/
      - name: Show
        action: ExecuteBash
        inputs:
          commands:
            - "cat '{{ build.Download.outputs[0].destination }}'"
EOF
run_opentoe chain --documents doc.yml
check "outputs[0].destination chains into a later step" \
        eval 'test "$rc" = 0 && console_has "Stdout: hello from the test server"'

# ---- Content-Length --------------------------------------------------------

# libcurl reads a body only up to its Content-Length; what a server sends
# past it stays on the connection, which must then serve no other request.
first1000_sha=$(python3 "$SERVER" --big-sha256 1000)
run_download excess "$(entry "$H/length/1000/5000" "$W/excess/dl/keepalive.bin"
                  entry "$H/hello.txt" "$W/excess/dl/next.txt"
                  entry "$H/length/1000/5000?close=1" "$W/excess/dl/close.bin")"
check "bytes past Content-Length (keep-alive, and Connection: close): only the declared bytes are written" \
        eval 'test "$rc" = 0 && test "$(sha "$W/excess/dl/keepalive.bin")" = "$first1000_sha" &&
              test "$(sha "$W/excess/dl/close.bin")" = "$first1000_sha" &&
              only_files "$W/excess/dl" close.bin keepalive.bin next.txt'
check "... and the next entry is not handed them as its response (a connection serves one transfer)" \
        eval 'cmp -s "$W/root/hello.txt" "$W/excess/dl/next.txt" && test "$(requests /length/1000/5000)" = 1'

mkdir -p "$W/short/dl"
echo "old content" > "$W/short/dl/x.bin"
run_download short "$(entry "$H/length/300000/1000" "$W/short/dl/x.bin")"
check "a body shorter than its Content-Length fails after retries; the destination is untouched" \
        eval 'test "$rc" != 0 && console_has "transfer closed with 299000 bytes remaining to read" &&
              test "$(requests /length/300000/1000)" = 5 && test "$(cat "$W/short/dl/x.bin")" = "old content" &&
              only_files "$W/short/dl" x.bin'

# With Transfer-Encoding libcurl ignores Content-Length; opentoe does not.
mkdir -p "$W/te-long/dl"
echo "old content" > "$W/te-long/dl/x.bin"
run_download te-long "$(entry "$H/chunked/1000/300000" "$W/te-long/dl/x.bin")"
check "chunked with a Content-Length, more bytes than declared: fails, not retried, destination untouched" \
        eval 'test "$rc" != 0 && console_has "the server sent more than the 1000 bytes its Content-Length declared" &&
              console_has "not retried" && test "$(requests /chunked/1000/300000)" = 1 &&
              test "$(cat "$W/te-long/dl/x.bin")" = "old content" && only_files "$W/te-long/dl" x.bin'

run_download te-short "$(entry "$H/chunked/300000/1000" "$W/te-short/dl/x.bin")"
check "chunked with a Content-Length, fewer bytes than declared: fails, not retried" \
        eval 'test "$rc" != 0 && console_has "the body ended after 1000 bytes, but its Content-Length declared 300000" &&
              test "$(requests /chunked/300000/1000)" = 1 && only_files "$W/te-short/dl"'

run_download te-plain "$(entry "$H/chunked/-/300000" "$W/te-plain/x.bin")"
check "chunked without a Content-Length: downloaded" \
        eval 'test "$rc" = 0 && test "$(sha "$W/te-plain/x.bin")" = "$(python3 "$SERVER" --big-sha256 300000)"'

# ---- free space -----------------------------------------------------------

# Bytes available to unprivileged users on the file system of a folder.
avail() { python3 -c 'import os, sys; s = os.statvfs(sys.argv[1]); print(s.f_bavail * s.f_frsize)' "$1"; }
MiB=$((1024 * 1024))

# 1 MiB above the reserve, 64 MiB declared.
mkdir -p "$W/nofit/dl"
echo "old content" > "$W/nofit/dl/x.bin"
reserve=$(($(avail "$W/nofit/dl") - MiB))
OPENTOE_HTTP_DISK_RESERVE_BYTES=$reserve run_download nofit "$(entry "$H/big/$((64 * MiB))" "$W/nofit/dl/x.bin")"
check "a declared length that does not fit above the reserve is refused before writing, naming sizes and folder" \
        eval 'test "$rc" != 0 &&
              console_has "the server declares 67108864 bytes (64.0 MiB), more than the file system of $W/nofit/dl can take: it has " &&
              console_has "available to unprivileged users (statvfs f_bavail), and WebDownload keeps a reserve free there: $reserve bytes" &&
              console_has "set by OPENTOE_HTTP_DISK_RESERVE_BYTES; not retried"'
check "... not retried, the destination is untouched and no temporary file is left" \
        eval 'test "$(requests /big/$((64 * MiB)))" = 1 && test "$(cat "$W/nofit/dl/x.bin")" = "old content" &&
              only_files "$W/nofit/dl" x.bin'

# 1 PiB fits nowhere: the default reserve, and a refusal at the headers
# (the server sends no body; a download that waited for one would fail
# as a short body, and be retried).
run_download pib "$(entry "$H/length/1125899906842624/0" "$W/pib/dl/x.bin")"
check "the default reserve (the larger of 64 MiB and 1%), told with how to change it" \
        eval 'test "$rc" != 0 && console_has "the server declares 1125899906842624 bytes (1.0 PiB)" &&
              console_has "the larger of 64 MiB and 1% of the file system; set OPENTOE_HTTP_DISK_RESERVE_BYTES (a number of bytes) to change it" &&
              test "$(requests /length/1125899906842624/0)" = 1 && only_files "$W/pib/dl"'

# No length: the free space is measured while writing.  4 MiB above the
# reserve, 256 MiB sent.  (The margins are wide so that other writers on
# the file system while the suite runs cannot make a test pass or fail.)
mkdir -p "$W/nolength/dl"
reserve=$(($(avail "$W/nolength/dl") - 4 * MiB))
OPENTOE_HTTP_DISK_RESERVE_BYTES=$reserve run_download nolength "$(entry "$H/nolength/$((256 * MiB))" "$W/nolength/dl/x.bin")"
written=$(sed -n 's/.*stopped after writing \([0-9]*\) bytes.*/\1/p' "$last/console.log" | head -1)
check "a body of no declared length is stopped before it cuts into the reserve" \
        eval 'test "$rc" != 0 && test -n "$written" && test "$written" -lt $((256 * MiB)) &&
              console_has "of a body of no declared length: the file system of $W/nolength/dl has " &&
              console_has "writing on would cut into the reserve that WebDownload keeps free there: $reserve bytes"'
check "... not retried, and nothing is left" \
        eval 'test "$(requests /nolength/$((256 * MiB)))" = 1 && only_files "$W/nolength/dl"'

OPENTOE_HTTP_DISK_RESERVE_BYTES=64MiB run_download badreserve "$(entry "$H/hello.txt" "$W/badreserve/hello.txt")"
check "an invalid OPENTOE_HTTP_DISK_RESERVE_BYTES is ignored with a warning" \
        eval 'test "$rc" = 0 && console_has "warning: ignoring OPENTOE_HTTP_DISK_RESERVE_BYTES=64MiB (expected a whole number of bytes)" &&
              cmp -s "$W/root/hello.txt" "$W/badreserve/hello.txt"'

# ---- a large file ---------------------------------------------------------

big=$((200 * 1024 * 1024))
big_sha=$(python3 "$SERVER" --big-sha256 "$big")
BIGDIR=$W/big
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        BIGDIR=$(mktemp -d /dev/shm/opentoe-webdownload.XXXXXX)
fi
run_download big "$(entry "$H/big/$big" "$BIGDIR/dl/big.bin" "checksum: \"$big_sha\"" "algorithm: SHA256")"
check "a 200 MiB download is verified and put in place" \
        eval 'test "$rc" = 0 && test "$(stat -c %s "$BIGDIR/dl/big.bin")" = "$big" &&
              test "$(sha "$BIGDIR/dl/big.bin")" = "$big_sha" && only_files "$BIGDIR/dl" big.bin'
rm -rf "$BIGDIR"

# ---- the temporary files --------------------------------------------------

leftovers=$(find "$W" -name '.*.opentoe-*' | head -5)
check "no temporary file is left anywhere" test -z "$leftovers"
done_testing
