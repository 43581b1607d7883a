#!/usr/bin/env python3
"""signal_receiver.py: the orchestrator's side of opentoe's signals, for
tests/signals.sh (standard library only).

  PUT  /cfn/...   a CloudFormation wait condition's presigned URL: the body
                  must be cfn-signal's JSON (exactly Status SUCCESS|FAILURE,
                  Reason, UniqueId, Data, all strings), sent without a
                  Content-Type (the URL is signed for none); recorded by
                  UniqueId
  POST /hook/...  a webhook: X-Opentoe-Signature must be "sha256=" + the
                  HMAC-SHA256 under --key-file of "<X-Opentoe-Timestamp>.<body>",
                  the timestamp within 300 s, the body JSON; recorded by
                  Idempotency-Key
  GET  /state     {"cfn"|"hook": {key: {"accepted": 1, "seen": n, "body": ...}},
                  "refused": [why, ...]}
  POST /control   {"delay": seconds} answers signals that much later (the
                  request is recorded when it arrives)

A key seen again is answered 200 and counted in "seen" only, so
"accepted" stays 1: the idempotency check of a real receiver.  --state
keeps the records in a file, so a receiver stopped (an outage) and started
again on the same --port remembers what it took.
"""

import hashlib
import hmac
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

lock = threading.Lock()
state = {"cfn": {}, "hook": {}, "refused": []}
control = {"delay": 0}
args = None


def save():
    if args.state:
        tmp = args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.rename(tmp, args.state)


def record(kind, key, body):
    with lock:
        e = state[kind].get(key)
        if e:
            e["seen"] += 1
        else:
            state[kind][key] = {"accepted": 1, "seen": 1, "body": body}
        save()


def refuse(why):
    with lock:
        state["refused"].append(why)
        save()


class Handler(common.QuietHandler):
    def answer(self, code, text=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def do_GET(self):
        if self.path == "/state":
            with lock:
                body = json.dumps(state).encode()
            return self.answer(200, body)
        self.answer(404)

    def do_PUT(self):
        body = self.read_body()
        if not self.path.startswith("/cfn/"):
            return self.answer(404)
        if self.headers.get("Content-Type"):
            refuse("cfn: a Content-Type was sent: %s" % self.headers.get("Content-Type"))
            return self.answer(403, b"SignatureDoesNotMatch")
        try:
            d = json.loads(body)
        except ValueError:
            refuse("cfn: the body is not JSON")
            return self.answer(400)
        if (not isinstance(d, dict) or sorted(d) != ["Data", "Reason", "Status", "UniqueId"]
                or d["Status"] not in ("SUCCESS", "FAILURE")
                or not all(isinstance(v, str) for v in d.values())):
            refuse("cfn: not cfn-signal's shape: %r" % d)
            return self.answer(400)
        record("cfn", d["UniqueId"], d)
        time.sleep(control["delay"])
        self.answer(200)

    def do_POST(self):
        body = self.read_body()
        if self.path == "/control":
            control.update(json.loads(body))
            return self.answer(200)
        if not self.path.startswith("/hook/"):
            return self.answer(404)
        with open(args.key_file, "rb") as f:
            key = f.read().rstrip(b"\r\n")
        ts = self.headers.get("X-Opentoe-Timestamp") or ""
        sig = self.headers.get("X-Opentoe-Signature") or ""
        want = "sha256=" + hmac.new(key, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, want):
            refuse("hook: bad signature")
            return self.answer(401)
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            refuse("hook: stale timestamp %r" % ts)
            return self.answer(401)
        ikey = self.headers.get("Idempotency-Key")
        if not ikey:
            refuse("hook: no Idempotency-Key")
            return self.answer(400)
        try:
            d = json.loads(body)
        except ValueError:
            refuse("hook: the body is not JSON")
            return self.answer(400)
        record("hook", ikey, d)
        time.sleep(control["delay"])
        self.answer(200)


def main():
    global args, state
    ap = common.arg_parser("opentoe's signal receiver")
    ap.add_argument("--key-file", required=True)
    ap.add_argument("--state")
    args = ap.parse_args()
    if args.state and os.path.exists(args.state):
        with open(args.state) as f:
            state = json.load(f)
    srv = common.listen(Handler, args.port)
    return common.serve(srv, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
