#!/bin/bash
# s3.sh: opentoe's S3 support against s3rver (npm, pinned 3.7.1) on a
# free port of 127.0.0.1, with Debian's awscli as an independent client
# (no other network traffic).  Covers S3Download and S3Upload (single
# objects, multipart, prefixes, wildcards, recurse, overwrite, errors),
# expectedBucketOwner (against a small stand-in server, as s3rver ignores
# the header), documents and --config files from S3, ExecuteDocument from
# S3, `validate` of S3 documents, and the log-folder upload.  TAP output.
#
# s3rver checks the access key (S3RVER) and the shape of SigV4 headers but
# not the signature itself; the signer is checked against AWS's vectors by
# tests/sigv4.sh.
#
# Environment: OPENTOE (the binary, default ./opentoe); S3RVER (s3rver's
# bin/s3rver.js, else looked for under $S3RVER_PREFIX, default
# /usr/local/lib/opentoe-test, where scripts/setup.sh installs it); AWS
# (the awscli to use, default /usr/bin/aws, else the one on PATH).
# Skips when node, s3rver or awscli is missing.
set -u

. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib/run.sh"
resolve_paths

find_s3_tools
if ! command -v node > /dev/null; then
        skip_all "node (for s3rver) is not installed"
fi
if [ ! -f "$S3RVER" ]; then
        skip_all "s3rver is not installed (scripts/setup.sh --test installs it in $S3RVER_PREFIX)"
fi
if [ -z "$AWS" ]; then
        skip_all "awscli is not installed (apt-get install awscli)"
fi
if ! command -v python3 > /dev/null; then
        skip_all "python3 (for the stand-in server) is not installed"
fi

plan 75
scratch_dir W s3
# A failed check shows the last run's output.
on_failure() { diag "$(cat "$last/console.log" "$lastdir/stdout" "$lastdir/stderr" 2> /dev/null | tail -n 30)"; }

# Only loopback, never a proxy; no credentials or settings but these.
only_loopback
clear_env AWS_ OPENTOE_AWS_ OPENTOE_S3_
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$W/aws-config AWS_SHARED_CREDENTIALS_FILE=$W/aws-credentials
export OPENTOE_AWS_BACKOFF_MS=50 OPENTOE_AWS_MAX_ATTEMPTS=3
: > "$AWS_CONFIG_FILE"
: > "$AWS_SHARED_CREDENTIALS_FILE"
umask 022

# ---- the servers -------------------------------------------------------------

start_s3rver s3rver -d "$W/srv/data" --configure-bucket bkt --configure-bucket logbkt
EP=http://127.0.0.1:$port_s3rver
export AWS_ENDPOINT_URL_S3=$EP
echo "# s3rver $(node -e "console.log(require('$(dirname "$S3RVER")/../package.json').version)") on $EP; $("$AWS" --version 2>&1)"

awsc() { "$AWS" --endpoint-url "$EP" "$@"; }

# A stand-in S3 for what s3rver cannot show (tests/servers/s3standin.py):
# the owner header's checks (bucket obkt), the faults of multipart
# uploads (mbkt), stalls, overlapping parts, retries and a skewed clock.
: > "$W/srv/owner.log"
start_server owner python3 "$top_srcdir/tests/servers/s3standin.py" --log "$W/srv/owner.log"
OWNER_EP=http://127.0.0.1:$port_owner

# ---- helpers -------------------------------------------------------------------

# run_doc and run_opentoe (tests/lib/run.sh) run in $W/NAME.
log_url() { sed -n 's/^  "logUrl": "\(.*\)",\{0,1\}$/\1/p' "$lastdir/stdout"; }
# step ACTION NAME ENTRY...: one step with a list of inputs.
step() {
        local action=$1 name=$2
        shift 2
        printf '      - name: %s\n        action: %s\n        inputs:\n' "$name" "$action"
        printf '%s\n' "$@"
}
entry() { # entry SOURCE DESTINATION [more "key: value" lines]
        printf '          - source: "%s"\n            destination: "%s"' "$1" "$2"
        shift 2
        for kv in "$@"; do
                printf '\n            %s' "$kv"
        done
}
# No temporary files (".*.opentoe-*") anywhere below a folder.
no_temporaries() { [ -z "$(find "$1" -name '.*.opentoe-*' 2> /dev/null)" ]; }

# ---- S3Download of what awscli put ---------------------------------------------

mkdir -p "$W/in"
head -c 3000000 /dev/urandom > "$W/in/data.bin"
printf 'plain text\n' > "$W/in/plain.txt"
awsc s3 cp "$W/in/data.bin" s3://bkt/in/data.bin > /dev/null &&
        awsc s3 cp "$W/in/plain.txt" "s3://bkt/in/odd name+é.txt" > /dev/null
put_rc=$?

run_doc get "$(step S3Download Get \
        "$(entry s3://bkt/in/data.bin "$W/get/out/sub/data.bin")" \
        "$(entry "s3://bkt/in/odd name+é.txt" "$W/get/out/")")"
check "awscli put, S3Download: exit 0" test "$put_rc" = 0 -a "$rc" = 0
check "S3Download: the object byte for byte, missing folders created" cmp -s "$W/in/data.bin" "$W/get/out/sub/data.bin"
check "S3Download: a key with a space, '+' and UTF-8 into a folder destination" \
        cmp -s "$W/in/plain.txt" "$W/get/out/odd name+é.txt"
check "S3Download: console.log names the entry and the object" \
        console_has "S3Download entry 1: downloaded s3://bkt/in/data.bin to $W/get/out/sub/data.bin (3000000 bytes)"
check "S3Download: no temporary files are left" no_temporaries "$W/get/out"

# ---- S3Upload read back by awscli -----------------------------------------------

run_doc put "$(step S3Upload Put \
        "$(entry "$W/in/data.bin" s3://bkt/up/data-copy.bin)" \
        "$(entry "$W/in/plain.txt" s3://bkt/up/dir/)")"
awsc s3 cp s3://bkt/up/data-copy.bin "$W/put/back.bin" > /dev/null 2>&1
awsc s3 cp s3://bkt/up/dir/plain.txt "$W/put/plain.txt" > /dev/null 2>&1
check "S3Upload: exit 0" test "$rc" = 0
check "S3Upload, then aws s3 cp back: byte for byte" cmp -s "$W/in/data.bin" "$W/put/back.bin"
check "S3Upload to a destination ending in '/': the file keeps its name" cmp -s "$W/in/plain.txt" "$W/put/plain.txt"

# ---- multipart -------------------------------------------------------------------

head -c 13000000 /dev/urandom > "$W/in/big.bin"
OPENTOE_S3_MULTIPART_THRESHOLD=6000000 OPENTOE_S3_PART_SIZE=5242880 \
        run_doc multipart "$(step S3Upload Put "$(entry "$W/in/big.bin" s3://bkt/mp/big.bin)")"
awsc s3 cp s3://bkt/mp/big.bin "$W/multipart/back.bin" > /dev/null 2>&1
check "multipart upload (threshold lowered): exit 0" test "$rc" = 0
check "multipart upload: three parts, then CompleteMultipartUpload" \
        eval 'grep -q "big.bin?partNumber=3&uploadId=" "$W/srv/s3rver.log" &&
              ! grep -q "big.bin?partNumber=4&" "$W/srv/s3rver.log" &&
              grep -Eq "big.bin\?uploadId=[0-9a-f]+ 200" "$W/srv/s3rver.log"'
check "multipart upload read back by awscli: byte for byte" cmp -s "$W/in/big.bin" "$W/multipart/back.bin"
run_doc multiget "$(step S3Download Get "$(entry s3://bkt/mp/big.bin "$W/multiget/big.bin")")"
check "the multipart object downloaded by S3Download: byte for byte" cmp -s "$W/in/big.bin" "$W/multiget/big.bin"

# ---- prefix downloads ------------------------------------------------------------

mkdir -p "$W/tree/a/b" "$W/tree/c d"
printf 'one\n' > "$W/tree/one.txt"
printf 'two\n' > "$W/tree/a/two.txt"
printf 'three\n' > "$W/tree/a/b/three.txt"
printf 'four\n' > "$W/tree/c d/four five.txt"
head -c 70000 /dev/urandom > "$W/tree/a/b/bin.dat"
awsc s3 cp --recursive "$W/tree" s3://bkt/tree > /dev/null
printf 'not below the prefix\n' > "$W/in/sibling.txt"
awsc s3 cp "$W/in/sibling.txt" s3://bkt/treeless.txt > /dev/null

run_doc prefix "$(step S3Download Get "$(entry 's3://bkt/tree/*' "$W/prefix/dest")")"
check "prefix download (s3://bkt/tree/*): exit 0" test "$rc" = 0
check "prefix download recreates the folder tree, byte for byte" diff -r "$W/tree" "$W/prefix/dest"
check "prefix download: console.log counts the objects" \
        console_has "S3Download entry 1: 5 objects below s3://bkt/tree/* downloaded to $W/prefix/dest"

OPENTOE_S3_MAX_OBJECTS=4 run_doc prefixmax "$(step S3Download Get "$(entry 's3://bkt/tree/*' "$W/prefixmax/dest")")"
check "more objects than OPENTOE_S3_MAX_OBJECTS: fails before downloading anything" \
        eval 'test "$rc" != 0 && console_has "more than 4 objects match" && ! test -e "$W/prefixmax/dest"'

run_doc badprefix "$(step S3Download Get "$(entry 's3://bkt/tree*' "$W/badprefix/dest")")"
check "a prefix not ending in '/*' is refused with the rule" \
        eval 'test "$rc" != 0 && console_has "a key prefix must end with a forward slash and an asterisk"'
run_doc folderuri "$(step S3Download Get "$(entry 's3://bkt/tree/' "$W/folderuri/dest")")"
check "a folder URI without '*' is refused with a hint" \
        eval 'test "$rc" != 0 && console_has "the source names a folder, not an object"'

# ---- overwrite -----------------------------------------------------------------------

AWSTOE_MSG='Error: S3Download: File already exists and "overwrite" property for "destination" file is set to false. Cannot download.'
mkdir -p "$W/ovf"
printf 'old\n' > "$W/ovf/keep.txt"
run_doc ovf "$(step S3Download Get "$(entry s3://bkt/up/dir/plain.txt "$W/ovf/keep.txt" "overwrite: false")")"
check "overwrite false and an existing file: AWSTOE's message" eval 'test "$rc" != 0 && console_has "$AWSTOE_MSG"'
check "overwrite false: the file is untouched" test "$(cat "$W/ovf/keep.txt")" = old
mkdir -p "$W/ovfp/dest/a"
printf 'old\n' > "$W/ovfp/dest/a/two.txt"
run_doc ovfp "$(step S3Download Get "$(entry 's3://bkt/tree/*' "$W/ovfp/dest" "overwrite: false")")"
check "overwrite false in a prefix download: AWSTOE's message, nothing downloaded" \
        eval 'test "$rc" != 0 && console_has "$AWSTOE_MSG" && ! test -e "$W/ovfp/dest/one.txt"'
printf 'old\n' > "$W/ovf/replace.txt"
run_doc ovt "$(step S3Download Get "$(entry s3://bkt/up/dir/plain.txt "$W/ovf/replace.txt")")"
check "overwrite defaults to true: the file is replaced" cmp -s "$W/in/plain.txt" "$W/ovf/replace.txt"

# ---- S3Upload: wildcards and recurse ------------------------------------------------

keys() { awsc s3 ls --recursive "s3://bkt/$1" | awk '{ $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' | sort; }
run_doc wild "$(step S3Upload Put "$(entry "$W/tree/*" s3://bkt/wild)")"
check "S3Upload with a wildcard: only the files, not the folders" \
        eval 'test "$rc" = 0 && test "$(keys wild/)" = "wild/one.txt" && console_has "skipped $W/tree/a: a folder"'
run_doc wildrec "$(step S3Upload Put "$(entry "$W/tree/*" s3://bkt/wildrec/ "recurse: true")")"
check "S3Upload with a wildcard and recurse: the folders too" \
        test "$(keys wildrec/ | tr '\n' '|')" = "wildrec/a/b/bin.dat|wildrec/a/b/three.txt|wildrec/a/two.txt|wildrec/c d/four five.txt|wildrec/one.txt|"
run_doc rec "$(step S3Upload Put "$(entry "$W/tree" s3://bkt/rec/ "recurse: true")")"
awsc s3 cp --recursive s3://bkt/rec "$W/rec/back" > /dev/null 2>&1
check "S3Upload of a folder with recurse, read back by aws s3 cp --recursive" \
        eval 'test "$rc" = 0 && diff -r "$W/tree" "$W/rec/back"'
run_doc norec "$(step S3Upload Put "$(entry "$W/tree" s3://bkt/norec/)")"
check "S3Upload of a folder without recurse fails with the rule" \
        eval 'test "$rc" != 0 && console_has "the source is a folder; set recurse to true"'
run_doc nomatch "$(step S3Upload Put "$(entry "$W/tree/*.none" s3://bkt/x/)")"
check "S3Upload with a wildcard matching nothing fails" \
        eval 'test "$rc" != 0 && console_has "no files match the source"'

# ---- errors ---------------------------------------------------------------------------

run_doc nokey "$(step S3Download Get "$(entry s3://bkt/in/missing.txt "$W/nokey/out/missing.txt")")"
check "NoSuchKey: fails, naming the entry, bucket and key" \
        eval 'test "$rc" != 0 && console_has "S3Download entry 1 (s3://bkt/in/missing.txt): GetObject s3://bkt/in/missing.txt: the key '"'"'in/missing.txt'"'"' does not exist in bucket bkt (HTTP 404 NoSuchKey"'
check "NoSuchKey: nothing is left at the destination" eval '! test -e "$W/nokey/out/missing.txt" && no_temporaries "$W/nokey"'
run_doc nobucket "$(step S3Download Get "$(entry s3://nosuchbucket/k "$W/nobucket/k")")"
check "NoSuchBucket: says the bucket does not exist" \
        eval 'test "$rc" != 0 && console_has "the bucket nosuchbucket does not exist (HTTP 404 NoSuchBucket"'
run_doc upnobucket "$(step S3Upload Put "$(entry "$W/in/plain.txt" s3://nosuchbucket/k)")"
check "S3Upload to a missing bucket: says so" \
        eval 'test "$rc" != 0 && console_has "S3Upload entry 1 ($W/in/plain.txt): PutObject s3://nosuchbucket/k: the bucket nosuchbucket does not exist"'
AWS_ACCESS_KEY_ID=NOTAKEY run_doc badkey "$(step S3Download Get "$(entry s3://bkt/up/dir/plain.txt "$W/badkey/p")")"
check "an unknown access key: InvalidAccessKeyId, worded" \
        eval 'test "$rc" != 0 && console_has "S3 does not know the access key in use (HTTP 403 InvalidAccessKeyId"'
run_doc badowner "$(step S3Download Get "$(entry s3://bkt/up/dir/plain.txt "$W/badowner/p" "expectedBucketOwner: abc")")"
check "an expectedBucketOwner that is not an account ID is refused" \
        eval 'test "$rc" != 0 && console_has "expectedBucketOwner: '"'"'abc'"'"' is not an AWS account ID"'

# ---- expectedBucketOwner (stand-in server) -----------------------------------------------

AWS_ENDPOINT_URL_S3=$OWNER_EP run_doc owner "$(step S3Download Get \
        "$(entry s3://obkt/k.txt "$W/owner/k.txt" "expectedBucketOwner: 111122223333")")"
check "expectedBucketOwner is sent as x-amz-expected-bucket-owner" \
        eval 'test "$rc" = 0 && grep -qx "GET /obkt/k.txt 111122223333" "$W/srv/owner.log" && test -s "$W/owner/k.txt"'
AWS_ENDPOINT_URL_S3=$OWNER_EP run_doc owner2 "$(step S3Download Get \
        "$(entry s3://obkt/k.txt "$W/owner2/k.txt" "expectedBucketOwner: 22223333")")"
check "a YAML-integer owner is left-padded to 12 digits; a wrong owner's AccessDenied names it" \
        eval 'test "$rc" != 0 && grep -qx "GET /obkt/k.txt 000022223333" "$W/srv/owner.log" &&
              console_has "access denied; the bucket obkt may not belong to the expected owner 000022223333"'
AWS_ENDPOINT_URL_S3=$OWNER_EP run_doc owner3 "$(step S3Download Get "$(entry s3://obkt/k.txt "$W/owner3/k.txt")")"
check "without expectedBucketOwner the header is not sent" grep -qx "GET /obkt/k.txt -" "$W/srv/owner.log"
AWS_ENDPOINT_URL_S3=$OWNER_EP run_opentoe ownerdoc --documents s3://obkt/doc.yml --document-s3-bucket-owner 111122223333
check "run --documents s3://... --document-s3-bucket-owner: the owner is sent, the document runs" \
        eval 'test "$rc" = 0 && grep -qx "GET /obkt/doc.yml 111122223333" "$W/srv/owner.log" &&
              console_has "Stdout: from the owned bucket"'
AWS_ENDPOINT_URL_S3=$OWNER_EP run_opentoe ownerdoc2 --documents s3://obkt/doc.yml
check "run --documents s3://... of another account's bucket without the owner: AccessDenied, worded" \
        eval 'test "$rc" != 0 &&
              grep -qF "cannot fetch the document s3://obkt/doc.yml: GetObject s3://obkt/doc.yml: access denied" "$lastdir/stderr"'
AWS_ENDPOINT_URL_S3=$OWNER_EP "$OPENTOE" validate --document-s3-bucket-owner 111122223333 s3://obkt/doc.yml \
        > "$W/validate-owner.out" 2>&1
vrc=$?
check "validate --document-s3-bucket-owner: the owner is sent" \
        eval 'test "$vrc" = 0 && grep -qx "s3://obkt/doc.yml: valid" "$W/validate-owner.out"'
AWS_ENDPOINT_URL_S3=$OWNER_EP run_doc ownernested "$(printf '      - name: N\n        action: ExecuteDocument\n        inputs:\n          document: s3://obkt/doc.yml\n          document-s3-bucket-owner: "111122223333"')"
check "ExecuteDocument's document-s3-bucket-owner is sent for its document (stand-in server)" \
        eval 'test "$rc" = 0 && console_has "Stdout: from the owned bucket"'
: > "$W/srv/owner.log"
OPENTOE_S3_MULTIPART_THRESHOLD=6000000 OPENTOE_S3_PART_SIZE=5242880 AWS_ENDPOINT_URL_S3=$OWNER_EP \
        run_doc mpretry "$(step S3Upload Put "$(entry "$W/in/big.bin" s3://mbkt/retry.bin)")"
check "multipart: a part answered 503 is retried on its own, then the upload completes" \
        eval 'test "$rc" = 0 && test "$(grep -c "^PUT /mbkt/retry.bin?partNumber=2&uploadId=U1 " "$W/srv/owner.log")" = 2 &&
              test "$(grep -c "^PUT /mbkt/retry.bin?partNumber=1&" "$W/srv/owner.log")" = 1 &&
              grep -q "^POST /mbkt/retry.bin?uploadId=U1 " "$W/srv/owner.log"'
OPENTOE_S3_MULTIPART_THRESHOLD=6000000 OPENTOE_S3_PART_SIZE=5242880 AWS_ENDPOINT_URL_S3=$OWNER_EP OPENTOE_S3_CONCURRENCY=1 \
        run_doc mpfail "$(step S3Upload Put "$(entry "$W/in/big.bin" s3://mbkt/fail.bin)")"
check "multipart, one part at a time: a refused part stops the upload and aborts it (AbortMultipartUpload)" \
        eval 'test "$rc" != 0 && grep -q "^DELETE /mbkt/fail.bin?uploadId=U1 " "$W/srv/owner.log" &&
              ! grep -q "^POST /mbkt/fail.bin?uploadId=U1 " "$W/srv/owner.log" &&
              ! grep -q "^PUT /mbkt/fail.bin?partNumber=3" "$W/srv/owner.log" &&
              console_has "UploadPart s3://mbkt/fail.bin: HTTP 400 InvalidArgument: Part number 2 is refused"'
: > "$W/srv/owner.log"
OPENTOE_S3_MULTIPART_THRESHOLD=6000000 OPENTOE_S3_PART_SIZE=5242880 AWS_ENDPOINT_URL_S3=$OWNER_EP \
        run_doc mpfail4 "$(step S3Upload Put "$(entry "$W/in/big.bin" s3://mbkt/fail.bin)")"
check "multipart, parts sent at once: a refused part still aborts the upload, nothing completed" \
        eval 'test "$rc" != 0 && grep -q "^DELETE /mbkt/fail.bin?uploadId=U1 " "$W/srv/owner.log" &&
              ! grep -q "^POST /mbkt/fail.bin?uploadId=U1 " "$W/srv/owner.log"'

# ---- documents from S3 -------------------------------------------------------------------

mkdir -p "$W/docs"
who_doc "$W/docs/inner.yml" inner << 'EOF'
            - echo hello from inner {{ who }}
EOF
build_doc "$W/docs/outer.yml" outer <<'EOF'
      - name: Nested
        action: ExecuteDocument
        inputs:
          document: s3://bkt/docs/inner.yml
          parameters:
            - name: who
              value: outer
EOF
printf 'name: bad\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: X\n        action: ExecuteBsh\n        inputs:\n          commands: [true]\n' \
        > "$W/docs/bad.yml"
awsc s3 cp --recursive "$W/docs" s3://bkt/docs > /dev/null

run_opentoe s3doc --documents s3://bkt/docs/inner.yml
check "run --documents s3://...: exit 0" eval 'test "$rc" = 0 && console_has "Stdout: hello from inner nobody"'
check "run --documents s3://...: reports keep the URI" \
        eval 'console_has "Document s3://bkt/docs/inner.yml" &&
              grep -q "\"filePath\": \"s3://bkt/docs/inner.yml\"" "$last/detailedoutput.json" &&
              cmp -s "$W/docs/inner.yml" "$last/document.yaml"'
run_opentoe s3nested --documents s3://bkt/docs/outer.yml
check "ExecuteDocument with document: s3://...: runs the nested document" \
        eval 'test "$rc" = 0 && console_has "Document s3://bkt/docs/inner.yml" && console_has "Stdout: hello from inner outer"'
run_doc nestedlocal "$(printf '      - name: N\n        action: ExecuteDocument\n        inputs:\n          document: s3://bkt/docs/inner.yml\n          document-s3-bucket-owner: "123456789012"')"
check "ExecuteDocument from a local document with document-s3-bucket-owner" \
        eval 'test "$rc" = 0 && console_has "Stdout: hello from inner nobody"'
run_doc nestedmissing "$(printf '      - name: N\n        action: ExecuteDocument\n        inputs:\n          document: s3://bkt/docs/absent.yml')"
check "ExecuteDocument of a missing S3 document fails naming it" \
        eval 'test "$rc" != 0 && console_has "document s3://bkt/docs/absent.yml: GetObject s3://bkt/docs/absent.yml: the key"'
printf 'name: self\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Again\n        action: ExecuteDocument\n        inputs:\n          document: s3://bkt/docs/self.yml\n' \
        > "$W/in/self.yml"
awsc s3 cp "$W/in/self.yml" s3://bkt/docs/self.yml > /dev/null
run_opentoe s3cycle --documents s3://bkt/docs/self.yml
check "an S3 document that runs itself: the cycle is found by URI" \
        eval 'test "$rc" != 0 && console_has "cyclic ExecuteDocument: s3://bkt/docs/self.yml -> s3://bkt/docs/self.yml"'
run_opentoe s3missing --documents s3://bkt/docs/absent.yml
check "run --documents with a missing S3 document: a clear error, nothing run" \
        eval 'test "$rc" != 0 && grep -qF "cannot fetch the document s3://bkt/docs/absent.yml: GetObject" "$lastdir/stderr"'
run_opentoe s3bad --documents s3://bkt/docs/bad.yml
check "an invalid S3 document: diagnostics name the URI" \
        eval 'test "$rc" != 0 && grep -q "^s3://bkt/docs/bad.yml:7:17: error: unknown action" "$lastdir/stderr"'

printf '{"documents": [{"path": "s3://bkt/docs/inner.yml", "parameters": [{"name": "who", "value": "config"}]}],
  "logS3BucketName": "logbkt", "logS3KeyPrefix": "from-config"}\n' > "$W/in/config.json"
awsc s3 cp "$W/in/config.json" s3://bkt/cfg/config.json > /dev/null
run_opentoe s3config --config s3://bkt/cfg/config.json
check "--config s3://...: the config and its S3 document" \
        eval 'test "$rc" = 0 && console_has "Stdout: hello from inner config"'
check "--config: logS3BucketName and logS3KeyPrefix upload the logs" \
        eval 'u=$(log_url); test "$u" = "s3://logbkt/from-config/$(basename "$last")" &&
              "$AWS" --endpoint-url "$EP" s3 ls "$u/console.log" > /dev/null'

"$OPENTOE" validate s3://bkt/docs/outer.yml > "$W/validate.out" 2>&1
vrc=$?
"$OPENTOE" validate s3://bkt/docs/bad.yml s3://bkt/docs/absent.yml > "$W/validate-bad.out" 2>&1
vbad=$?
check "validate s3://...: valid" eval 'test "$vrc" = 0 && grep -qx "s3://bkt/docs/outer.yml: valid" "$W/validate.out"'
check "validate s3://...: errors name the URIs" \
        eval 'test "$vbad" = 1 && grep -q "^s3://bkt/docs/bad.yml:7:17: error" "$W/validate-bad.out" &&
              grep -q "^s3://bkt/docs/absent.yml: error: cannot fetch the document: GetObject" "$W/validate-bad.out"'
"$OPENTOE" validate --document-s3-bucket-owner 12x s3://bkt/docs/outer.yml > /dev/null 2>&1
check "validate: a bad --document-s3-bucket-owner is a usage error" test $? = 2

# ---- log upload ---------------------------------------------------------------------------

run_doc logs "$(printf '      - name: Say\n        action: ExecuteBash\n        inputs:\n          commands: ["echo logged"]')" \
        -b logbkt -k "team/builds/"
u=$(log_url)
check "--log-s3-bucket-name: logUrl is the S3 folder" \
        eval 'test "$rc" = 0 && test "$u" = "s3://logbkt/team/builds/$(basename "$last")"'
awsc s3 ls --recursive "$u/" > "$W/logs/listing" 2>&1
awsc s3 cp "$u/console.log" "$W/logs/console.s3" > /dev/null 2>&1
check "the log folder's files are in S3 (listed by awscli)" \
        eval 'for f in console.log application.log detailedoutput.json document.yaml; do
                      grep -q "team/builds/$(basename "$last")/$f\$" "$W/logs/listing" || exit 1
              done'
check "the uploaded console.log ends with the run's last line" \
        grep -q "TOE has completed execution successfully" "$W/logs/console.s3"
run_doc lognobucket "$(printf '      - name: Say\n        action: ExecuteBash\n        inputs:\n          commands: ["echo logged"]')" \
        --log-s3-bucket-name nosuchlogbucket
check "a failed log upload: said on stderr and in console.log; status unchanged; logUrl stays local" \
        eval 'test "$rc" = 0 && grep -q "cannot upload the log folder to s3://nosuchlogbucket/" "$lastdir/stderr" &&
              console_has "Cannot upload the log folder to s3://nosuchlogbucket/" && test "$(log_url)" = "logs/$(basename "$last")"'
# A run resumed from another directory uploads the folder it checked and
# wrote, never what the same relative path names there, and no link in it.
mkdir -p "$W/moved/a" "$W/moved/b"
printf 'schemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: Boot\n        action: ExecuteBash\n        inputs:\n          commands: ["if [ ! -e %s/moved/rebooted ]; then touch %s/moved/rebooted; exit 194; fi", "ln -s /etc/passwd \\"$(ls -d %s/moved/a/logs/TOE_*)/passwd\\""]\n' \
        "$W" "$W" "$W" > "$W/moved/doc.yml"
(cd "$W/moved/a" && "$OPENTOE" run -d ../doc.yml -l logs -s ../state -b logbkt -k moved > ../out1 2> ../err1); mrc1=$?
toe=$(basename "$(ls -d "$W"/moved/a/logs/TOE_*)")
mkdir -p "$W/moved/b/logs/$toe" && echo planted > "$W/moved/b/logs/$toe/planted.txt"
(cd "$W/moved/b" && "$OPENTOE" run -d ../doc.yml -l logs -s ../state -b logbkt -k moved > ../out2 2> ../err2); mrc2=$?
awsc s3 ls --recursive "s3://logbkt/moved/$toe/" > "$W/moved/listing" 2>&1
check "a resumed run from another directory uploads its own folder, not a planted one, and skips links" \
        eval 'test "$mrc1" = 194 && test "$mrc2" = 0 && grep -q "moved/$toe/console.log$" "$W/moved/listing" &&
              ! grep -q planted "$W/moved/listing" && ! grep -q "/passwd$" "$W/moved/listing"'
# ---- on the runner's loop (tests/servers/s3standin.py) ----------------------------

: > "$W/srv/slow.log"
start_server slow python3 "$top_srcdir/tests/servers/s3standin.py" --log "$W/srv/slow.log" --part-delay 0.3
SLOW_EP=http://127.0.0.1:$port_slow

t0=$(date +%s%N)
AWS_ENDPOINT_URL_S3=$SLOW_EP run_doc slowget "$(step S3Download Get "$(entry s3://bkt/d/slow.bin "$W/slowget/out/slow.bin")"
        printf '        timeoutSeconds: 2\n')"
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
check "S3Download of a stalled body: timeoutSeconds stops it (the run fails)" \
        eval 'test "$rc" != 0 && grep -q "GET /bkt/d/slow.bin stalling" "$W/srv/slow.log"'
check "... promptly: after about 2 s, not when the server gives up (120 s)" \
        test "$elapsed_ms" -ge 1900 -a "$elapsed_ms" -lt 8000
check "... as a timed-out entry that wrote nothing" \
        console_has "S3Download entry 1 (s3://bkt/d/slow.bin): "
check "... and no partial file: neither the destination nor a temporary" \
        eval '! test -e "$W/slowget/out/slow.bin" && no_temporaries "$W/slowget"'

head -c 100000 /dev/urandom > "$W/in/slow.bin"
t0=$(date +%s%N)
AWS_ENDPOINT_URL_S3=$SLOW_EP run_doc slowput "$(step S3Upload Put "$(entry "$W/in/slow.bin" s3://bkt/u/slow.bin)"
        printf '        timeoutSeconds: 2\n')"
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
check "S3Upload to a server that never reads: timeoutSeconds stops it promptly" \
        eval 'test "$rc" != 0 && test "$elapsed_ms" -ge 1900 -a "$elapsed_ms" -lt 8000 &&
              grep -q "PUT /bkt/u/slow.bin stalling" "$W/srv/slow.log"'

# SIGTERM while S3Download waits for a stalled body.
mkdir -p "$W/slowterm"
build_doc "$W/slowterm/doc.yml" slowterm <<< "$(step S3Download Get "$(entry s3://bkt/t/slow.bin "$W/slowterm/out/slow.bin")"
        printf '        timeoutSeconds: 60\n')"
(cd "$W/slowterm" && AWS_ENDPOINT_URL_S3=$SLOW_EP exec "$OPENTOE" run -l logs -s state --documents doc.yml > stdout 2> stderr) &
pid=$!
for _ in $(seq 100); do
        grep -q "GET /bkt/t/slow.bin stalling" "$W/srv/slow.log" && break
        sleep 0.1
done
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"; trc=$?
stop_ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGTERM during an S3Download: opentoe ends promptly (under 5 s), with the signal's status" \
        test "$stop_ms" -lt 5000 -a "$trc" = 143
check "... the entry failed as a run interrupted, and nothing is left behind" \
        eval 'grep -q "S3Download entry 1 (s3://bkt/t/slow.bin): .*the run was interrupted; nothing was written" \
                "$W"/slowterm/logs/TOE_*/console.log && ! test -e "$W/slowterm/out/slow.bin" &&
              no_temporaries "$W/slowterm"'

# Parts of one multipart upload at once, on one loop: the server holds
# each part 0.3 s, so parts sent one after another never overlap.
head -c 21000000 /dev/urandom > "$W/in/parts.bin"
OPENTOE_S3_MULTIPART_THRESHOLD=6000000 OPENTOE_S3_PART_SIZE=5242880 OPENTOE_S3_CONCURRENCY=4 \
        AWS_ENDPOINT_URL_S3=$SLOW_EP run_doc parts "$(step S3Upload Put "$(entry "$W/in/parts.bin" s3://bkt/p/parts.bin)")"
most=$(sed -n 's/^MAXINFLIGHT //p' "$W/srv/slow.log" | sort -n | tail -1)
check "multipart upload, OPENTOE_S3_CONCURRENCY=4: exit 0, five parts and the completion" \
        eval 'test "$rc" = 0 && grep -q "^PART start 5 " "$W/srv/slow.log" &&
              grep -q "^POST /bkt/p/parts.bin?uploadId=U1 " "$W/srv/slow.log"'
check "... the server saw parts overlap (at most 4 at once): ${most:-none}" \
        test "${most:-0}" -ge 2 -a "${most:-0}" -le 4
OPENTOE_S3_MULTIPART_THRESHOLD=6000000 OPENTOE_S3_PART_SIZE=5242880 OPENTOE_S3_CONCURRENCY=1 \
        AWS_ENDPOINT_URL_S3=$SLOW_EP run_doc parts1 "$(step S3Upload Put "$(entry "$W/in/parts.bin" s3://bkt/p1/parts.bin)")"
check "... and with OPENTOE_S3_CONCURRENCY=1, one part at a time" \
        eval 'test "$rc" = 0 && ! grep -q "^PART start [0-9]* inflight [2-9]" <(sed -n "/p1\/parts.bin?uploads/,\$p" "$W/srv/slow.log")'

# Retries and clock-skew correction of the request loop, on the runner's loop.
# second_get NAME KEY TEXT: S3Download of s3://bkt/KEY from the stand-in
# into $W/NAME/out; true when it succeeded with TEXT, on the second GET.
second_get() {
        AWS_ENDPOINT_URL_S3=$SLOW_EP run_doc "$1" "$(step S3Download Get "$(entry "s3://bkt/$2" "$W/$1/out/${2##*/}")")"
        test "$rc" = 0 && grep -qx "$3" "$W/$1/out/${2##*/}" && test "$(grep -c "^GET /bkt/$2 " "$W/srv/slow.log")" = 2
}
check "S3Download answered 503 SlowDown once: retried on the loop, the file arrives" second_get flaky f/flaky.txt "flaky ok"
check "... the retry is told on the console, naming the entry" \
        console_has "S3Download entry 1 (s3://bkt/f/flaky.txt): GET $SLOW_EP/bkt/f/flaky.txt: attempt 1 of 3 failed: HTTP 503 SlowDown"
check "S3Download from a server an hour ahead: RequestTimeTooSkewed, re-signed, the file arrives" \
        second_get skew s/skewed.txt "in time"
check "... the correction is told on the console" console_has "RequestTimeTooSkewed: the server's clock is +3"

done_testing
