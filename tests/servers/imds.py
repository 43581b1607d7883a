#!/usr/bin/python3
"""imds.py: a small EC2 instance metadata service (IMDS) for tests.

Python 3 standard library only; listens on 127.0.0.1 only.  Run it with
/usr/bin/python3.  It serves what opentoe's credential chain reads:

  PUT /latest/api/token                  a session token; the request must
                                         carry X-aws-ec2-metadata-token-ttl-seconds
                                         (1-21600); the answer echoes the
                                         TTL granted in the same header
  GET /latest/meta-data/iam/security-credentials/        the role name
  GET /latest/meta-data/iam/security-credentials/<role>  credentials JSON
  GET /latest/meta-data/placement/region                 the region
  GET /latest/meta-data/instance-id                      an instance id

Every GET needs a valid, unexpired X-aws-ec2-metadata-token (else 401,
as IMDSv2 does), unless started with --allow-v1.

Credentials are deterministic so other test servers can know them:
generation g has AccessKeyId ASIAIMDSTEST%06d, SecretAccessKey
imds-secret-<g>, Token imds-token-<g>.  A new generation starts when a
credentials request arrives after the current Expiration (--cred-ttl) or
after --rotate-after credentials requests.

Faults, from the command line or at run time with
  POST /_control  {"fail500": N, "stall": N, "token_ttl_max": S, "token_silent_ttl": S,
                   "token_status": HTTP, "allow_v1": bool, "cred_ttl": S,
                   "rotate_after": N, "rotate": true, "expire_tokens": true,
                   "role": "name" or null}
(unset keys keep their value; the answer is the state as JSON):
  fail500 N        the next N metadata requests answer 500
  stall N          the next N metadata requests get no answer for
                   --stall-seconds (default 30)
  token_ttl_max S  tokens live at most S seconds, whatever was asked (the
                   TTL header of the answer says so)
  token_silent_ttl S  tokens die after S seconds although the answer
                   announces the TTL asked for (so clients meet a 401)
  token_status H   token PUTs answer HTTP H (e.g. 403 or 405, as for
                   an IMDSv1-only service); 0 issues tokens
  expire_tokens    every token issued so far becomes invalid
  role null        no instance profile: the role listing answers 404
GET /_stats gives the counters as JSON.

Every request is appended to --log as one line:
  METHOD PATH token=none|valid|invalid -> STATUS
With --port 0 (the default) the port is chosen by the system; it is
printed on stdout and, with --port-file, written to that file atomically.
"""

import datetime
import json
import os
import secrets
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

LOCK = threading.Lock()


class State:
    def __init__(self, a):
        self.allow_v1 = a.allow_v1
        self.token_status = a.token_status
        self.token_ttl_max = a.token_ttl_max
        self.token_silent_ttl = a.token_silent_ttl
        self.fail500 = a.fail500
        self.stall = a.stall
        self.stall_seconds = a.stall_seconds
        self.cred_ttl = a.cred_ttl
        self.rotate_after = a.rotate_after
        self.role = None if a.no_role else a.role
        self.region = a.region
        self.tokens = {}  # token -> expiry (time.time())
        self.gen = 1
        self.gen_expires = time.time() + self.cred_ttl
        self.gen_requests = 0
        self.stats = {"token_puts": 0, "gets": 0, "credential_gets": 0, "unauthorized": 0,
                      "v1_gets": 0, "generation": 1}

    def public(self):
        return {
            "allow_v1": self.allow_v1, "token_status": self.token_status,
            "token_ttl_max": self.token_ttl_max, "token_silent_ttl": self.token_silent_ttl,
            "fail500": self.fail500,
            "stall": self.stall, "cred_ttl": self.cred_ttl,
            "rotate_after": self.rotate_after, "role": self.role,
            "generation": self.gen, "stats": self.stats,
        }


STATE = None
LOG = None


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(common.QuietHandler):
    server_version = "opentoe-test-imds"

    def log_line(self, tok, status):
        if LOG:
            with LOCK, open(LOG, "a") as f:
                f.write("%s %s token=%s -> %d\n" % (self.command, self.path, tok, status))

    def reply(self, status, body, tok="none", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.log_line(tok, status)

    def faults(self):
        """True when a fault was served instead of the request."""
        with LOCK:
            stall = STATE.stall > 0
            if stall:
                STATE.stall -= 1
            fail = not stall and STATE.fail500 > 0
            if fail:
                STATE.fail500 -= 1
        if stall:
            self.log_line("stall", 0)
            time.sleep(STATE.stall_seconds)
            self.close_connection = True
            return True
        if fail:
            self.reply(500, "Internal Server Error")
            return True
        return False

    def do_PUT(self):
        self.read_body()
        if self.path != "/latest/api/token":
            return self.reply(404, "Not Found")
        if self.headers.get("X-Forwarded-For"):
            return self.reply(403, "Forbidden")
        if self.faults():
            return
        with LOCK:
            STATE.stats["token_puts"] += 1
            status = STATE.token_status
        if status:
            return self.reply(status, "token requests are refused")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            return self.reply(400, "Bad Request")
        if not 1 <= ttl <= 21600:
            return self.reply(400, "Bad Request")
        with LOCK:
            if STATE.token_ttl_max:
                ttl = min(ttl, STATE.token_ttl_max)
            tok = "tok-" + secrets.token_hex(16)
            life = min(ttl, STATE.token_silent_ttl) if STATE.token_silent_ttl else ttl
            STATE.tokens[tok] = time.time() + life
        self.reply(200, tok, headers={"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)})

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                body = json.dumps(STATE.public())
            return self.reply(200, body)
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with LOCK:
            if tok is None:
                tok_state = "none"
            elif STATE.tokens.get(tok, 0) > time.time():
                tok_state = "valid"
            else:
                tok_state = "invalid"
            allow_v1 = STATE.allow_v1
        if tok_state == "invalid" or (tok_state == "none" and not allow_v1):
            with LOCK:
                STATE.stats["unauthorized"] += 1
            return self.reply(401, "Unauthorized", tok_state)
        if self.faults():
            return
        with LOCK:
            STATE.stats["gets"] += 1
            if tok_state == "none":
                STATE.stats["v1_gets"] += 1
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == "/latest/meta-data/placement/region":
            return self.reply(200, STATE.region, tok_state)
        if self.path == "/latest/meta-data/instance-id":
            return self.reply(200, "i-0123456789abcdef0", tok_state)
        if self.path == base:
            if not STATE.role:
                return self.reply(404, "Not Found", tok_state)
            return self.reply(200, STATE.role + "\n", tok_state)
        if self.path.startswith(base):
            role = self.path[len(base):]
            if not STATE.role or role != STATE.role:
                return self.reply(404, "Not Found", tok_state)
            with LOCK:
                now = time.time()
                STATE.gen_requests += 1
                if now >= STATE.gen_expires or (
                        STATE.rotate_after and STATE.gen_requests > STATE.rotate_after):
                    STATE.gen += 1
                    STATE.gen_requests = 1
                    STATE.gen_expires = now + STATE.cred_ttl
                STATE.stats["credential_gets"] += 1
                STATE.stats["generation"] = STATE.gen
                g, exp = STATE.gen, STATE.gen_expires
            body = json.dumps({
                "Code": "Success",
                "LastUpdated": iso(time.time()),
                "Type": "AWS-HMAC",
                "AccessKeyId": "ASIAIMDSTEST%06d" % g,
                "SecretAccessKey": "imds-secret-%d" % g,
                "Token": "imds-token-%d" % g,
                "Expiration": iso(exp),
            }, indent=2)
            return self.reply(200, body, tok_state)
        return self.reply(404, "Not Found", tok_state)

    def do_POST(self):
        body = self.read_body()
        if self.path != "/_control":
            return self.reply(404, "Not Found")
        try:
            c = json.loads(body or b"{}")
        except ValueError:
            return self.reply(400, "bad JSON")
        with LOCK:
            for k in ("fail500", "stall", "token_ttl_max", "token_silent_ttl", "token_status", "cred_ttl",
                      "rotate_after"):
                if k in c:
                    setattr(STATE, k, int(c[k]))
            if "allow_v1" in c:
                STATE.allow_v1 = bool(c["allow_v1"])
            if "role" in c:
                STATE.role = c["role"]
            if c.get("expire_tokens"):
                STATE.tokens.clear()
            if c.get("rotate"):
                STATE.gen_expires = 0
            body = json.dumps(STATE.public())
        self.reply(200, body)


def main():
    global STATE, LOG
    ap = common.arg_parser("test IMDS for opentoe")
    ap.add_argument("--allow-v1", action="store_true", help="accept GETs without a token")
    ap.add_argument("--token-status", type=int, default=0,
                    help="answer token PUTs with this HTTP status (IMDSv1-only service)")
    ap.add_argument("--token-ttl-max", type=int, default=0)
    ap.add_argument("--token-silent-ttl", type=int, default=0)
    ap.add_argument("--role", default="opentoe-test-role")
    ap.add_argument("--no-role", action="store_true")
    ap.add_argument("--region", default="us-test-1")
    ap.add_argument("--cred-ttl", type=int, default=21600, help="seconds until credentials expire")
    ap.add_argument("--rotate-after", type=int, default=0, help="new keys after N credential requests")
    ap.add_argument("--fail500", type=int, default=0)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--stall-seconds", type=float, default=30)
    a = ap.parse_args()
    STATE = State(a)
    LOG = a.log
    return common.serve(common.listen(Handler, a.port), a.port_file)


if __name__ == "__main__":
    sys.exit(main())
