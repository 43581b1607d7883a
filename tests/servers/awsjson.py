#!/usr/bin/python3
"""awsjson.py: a small AWS JSON 1.1 service for tests, which checks SigV4.

Needs Python 3 and botocore (Debian: python3-botocore); run it with
/usr/bin/python3.  Listens on 127.0.0.1 only.

Every POST / is an operation named by its X-Amz-Target header.  Before the
operation runs, the request's SigV4 signature is recomputed with botocore
(botocore.auth.SigV4Auth over the headers the request says it signed, at
the time of its X-Amz-Date) for the secret of its access key (--key
AKID=SECRET, repeatable) and compared; AWS's error shapes answer failures:

  403 UnrecognizedClientException   unknown access key id
  403 IncompleteSignatureException  no or malformed Authorization header
  403 InvalidSignatureException     the signature does not match
  400 InvalidSignatureException     "Signature expired: ..." when
      X-Amz-Date is more than 5 minutes from the server's clock (or, with
      skew_code RequestTimeTooSkewed, 403 RequestTimeTooSkewed)

Operations are functions named op_<Service>_<Operation> taking
(handler, request JSON or raw bytes) and returning (status, body): add
one to serve a new target (CloudWatch Logs: op_Logs_20140328_PutLogEvents).
Implemented: Test.Echo (returns the request body as it came).

Faults, from the command line or at run time with
  POST /_control {"throttle": N, "fail500": N, "stall": N, "skew": SECONDS,
                  "skew_code": "InvalidSignatureException"|"RequestTimeTooSkewed",
                  "keys": {"AKID": "SECRET", ...}}
(unset keys keep their value; the answer is the state as JSON):
  throttle N   the next N signed requests answer 400 ThrottlingException
  fail500 N    the next N signed requests answer 500 InternalFailure
  stall N      the next N requests get no answer for --stall-seconds (30)
  skew S       the server's clock runs S seconds off (Date headers too)

Every request is appended to --log as one line:
  TARGET AKID -> STATUS CODE
--port 0 (the default) lets the system choose; the port is printed and,
with --port-file, written to that file atomically.  --tls-cert and
--tls-key serve HTTPS instead of HTTP.

For the services built on this one (cwlogs.py, imagebuilder.py):
add_aws_args() and configure() are the command line of keys and faults,
take_fault() the throttle and fail500 faults, Handler.verify() the
signature check, Handler.send() and send_error_shape() the answers.
"""

import datetime
import email.utils
import hmac
import json
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCK = threading.Lock()
STATE = {
    "throttle": 0, "fail500": 0, "stall": 0, "skew": 0,
    "skew_code": "InvalidSignatureException", "keys": {},
}
OPTS = None
AMZ_FMT = "%Y%m%dT%H%M%SZ"


def server_now():
    return time.time() + STATE["skew"]


# ---- operations ------------------------------------------------------------

def op_Test_Echo(handler, body):
    """Returns the request body unchanged."""
    return 200, body


def find_op(target):
    name = "op_" + target.replace(".", "_")
    fn = globals().get(name)
    return fn if callable(fn) else None


# ---- the server ------------------------------------------------------------

class AwsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def parse_authorization(value):
    if not value or not value.startswith("AWS4-HMAC-SHA256 "):
        raise AwsError(403, "IncompleteSignatureException",
                       "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.")
    parts = {}
    for item in value[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        parts[k] = v
    try:
        akid, date, region, service, term = parts["Credential"].split("/")
        signed = parts["SignedHeaders"].split(";")
        sig = parts["Signature"]
    except (KeyError, ValueError):
        raise AwsError(403, "IncompleteSignatureException",
                       "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.")
    if term != "aws4_request":
        raise AwsError(403, "IncompleteSignatureException", "bad credential scope")
    return akid, date, region, service, signed, sig


def take_fault(throttle, fail500):
    """The fault the next signed request meets, consumed: throttle (an
    AwsError) while the "throttle" count lasts, then fail500 while the
    "fail500" count does; else None."""
    with LOCK:
        if STATE["throttle"] > 0:
            STATE["throttle"] -= 1
            return throttle
        if STATE["fail500"] > 0:
            STATE["fail500"] -= 1
            return fail500
    return None


class Handler(common.QuietHandler):
    server_version = "opentoe-test-awsjson"

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(server_now(), usegmt=True)

    def log_line(self, target, akid, status, code):
        if OPTS.log:
            with LOCK, open(OPTS.log, "a") as f:
                f.write("%s %s -> %d %s\n" % (target or "-", akid or "-", status, code or "-"))

    def send(self, status, data, content_type="application/x-amz-json-1.1", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_shape(self, e, target, akid):
        body = json.dumps({"__type": e.code, "message": e.message}).encode()
        self.send(e.status, body)
        self.log_line(target, akid, e.status, e.code)

    def signing_request(self, body, headers):
        """The request botocore signs again: the URL as it came (AWS JSON
        services put nothing in the query).  A REST service may override it
        to hand botocore the query as decoded parameters, which it encodes
        the way AWS canonicalizes them."""
        scheme = "https" if OPTS.tls_cert else "http"
        return AWSRequest(method=self.command, url="%s://%s%s" % (scheme, self.headers.get("Host"), self.path),
                          data=body, headers=headers)

    def verify(self, body):
        akid, date, region, service, signed, sig = parse_authorization(self.headers.get("Authorization"))
        with LOCK:
            secret = STATE["keys"].get(akid)
        if secret is None:
            raise AwsError(403, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            t = datetime.datetime.strptime(amz_date, AMZ_FMT).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise AwsError(403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed")
        if amz_date[:8] != date:
            raise AwsError(403, "InvalidSignatureException", "the credential scope date is not X-Amz-Date's")
        now = server_now()
        if abs(t.timestamp() - now) > 300:
            fmt = lambda s: time.strftime(AMZ_FMT, time.gmtime(s))
            if STATE["skew_code"] == "RequestTimeTooSkewed":
                raise AwsError(403, "RequestTimeTooSkewed",
                               "The difference between the request time and the current time is too large.")
            if t.timestamp() < now:
                msg = "Signature expired: %s is now earlier than %s (%s - 5 min.)" % (
                    amz_date, fmt(now - 300), fmt(now))
            else:
                msg = "Signature not yet current: %s is still later than %s (%s + 5 min.)" % (
                    amz_date, fmt(now + 300), fmt(now))
            raise AwsError(400, "InvalidSignatureException", msg)
        headers = {}
        for name in signed:
            v = self.headers.get_all(name)
            if v is None:
                raise AwsError(403, "InvalidSignatureException", "signed header %s is missing" % name)
            headers[name] = ",".join(v)
        token = self.headers.get("X-Amz-Security-Token")
        req = self.signing_request(body, headers)
        req.context["timestamp"] = amz_date
        auth = SigV4Auth(Credentials(akid, secret, token), service, region)
        canonical = auth.canonical_request(req)
        sts = auth.string_to_sign(req, canonical)
        want = auth.signature(sts, req)
        if not hmac.compare_digest(want, sig):
            raise AwsError(403, "InvalidSignatureException",
                           "The request signature we calculated does not match the signature you provided. "
                           "Check your AWS Secret Access Key and signing method. Consult the service "
                           "documentation for details.")
        if OPTS.region and region != OPTS.region:
            raise AwsError(403, "InvalidSignatureException",
                           "Credential should be scoped to a valid region, not '%s'." % region)
        return akid

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_control":
            return self.control(body)
        target = self.headers.get("X-Amz-Target")
        with LOCK:
            stall = STATE["stall"] > 0
            if stall:
                STATE["stall"] -= 1
        if stall:
            self.log_line(target, None, 0, "stall")
            time.sleep(OPTS.stall_seconds)
            self.close_connection = True
            return
        akid = None
        try:
            try:
                akid = parse_authorization(self.headers.get("Authorization"))[0]
            except AwsError:
                pass
            self.verify(body)
            fault = take_fault(AwsError(400, "ThrottlingException", "Rate exceeded"),
                               AwsError(500, "InternalFailure", "The request processing has failed."))
            if fault:
                raise fault
            op = find_op(target or "")
            if not op:
                raise AwsError(400, "UnknownOperationException", "unknown target %s" % target)
            status, out = op(self, body)
            data = out if isinstance(out, bytes) else json.dumps(out).encode()
            self.send(status, data)
            self.log_line(target, akid, status, None)
        except AwsError as e:
            self.send_error_shape(e, target, akid)

    def do_GET(self):
        if self.path == "/_control":
            return self.control(b"{}")
        self.send_error_shape(AwsError(404, "UnknownOperationException", "POST only"), None, None)

    def control(self, body):
        """POST /_control: apply_control() takes the JSON object, the
        answer is the state, then controlled() runs."""
        try:
            c = json.loads(body or b"{}")
        except ValueError:
            return self.send(400, b"bad JSON")
        self.apply_control(c)
        with LOCK:
            out = json.dumps({k: v for k, v in STATE.items() if k != "keys"}).encode()
        self.send(200, out, "application/json")
        self.controlled(c)

    def apply_control(self, c):
        """Takes the control keys of this file's top; a service adds its own."""
        with LOCK:
            for k in ("throttle", "fail500", "stall", "skew"):
                if k in c:
                    STATE[k] = int(c[k])
            if "skew_code" in c:
                STATE["skew_code"] = c["skew_code"]
            if "keys" in c:
                STATE["keys"].update(c["keys"])

    def controlled(self, c):
        """What a service does once a control request is answered."""


Server = common.Server


def add_aws_args(ap, region=True, stall_and_skew=True):
    """The command line of keys and faults (see the top of this file):
    --key, --throttle and --fail500; with region, --region; with
    stall_and_skew, --stall, --stall-seconds, --skew and --skew-code."""
    ap.add_argument("--key", action="append", default=[], help="AKID=SECRET")
    if region:
        ap.add_argument("--region", help="the only region accepted in the credential scope")
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--fail500", type=int, default=0)
    if stall_and_skew:
        ap.add_argument("--stall", type=int, default=0)
        ap.add_argument("--stall-seconds", type=float, default=30)
        ap.add_argument("--skew", type=int, default=0, help="server clock offset, seconds")
        ap.add_argument("--skew-code", default="InvalidSignatureException")


def configure(opts, ap):
    """Takes opts (from add_aws_args) as the options of the service: its
    keys and initial faults.  What a service has no option for keeps its
    default (no TLS, any region, stalls of 30 s)."""
    global OPTS
    for k, v in (("region", None), ("tls_cert", None), ("tls_key", None), ("stall_seconds", 30)):
        vars(opts).setdefault(k, v)
    OPTS = opts
    for kv in opts.key:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error("--key wants AKID=SECRET")
        STATE["keys"][k] = v
    for k in ("throttle", "fail500", "stall", "skew", "skew_code"):
        if k in vars(opts):
            STATE[k] = getattr(opts, k)


def main():
    ap = common.arg_parser("test AWS JSON 1.1 service for opentoe", tls=True)
    add_aws_args(ap)
    configure(ap.parse_args(), ap)
    srv = common.listen(Handler, OPTS.port)
    if OPTS.tls_cert:
        common.use_tls(srv, OPTS.tls_cert, OPTS.tls_key)
    return common.serve(srv, OPTS.port_file)


if __name__ == "__main__":
    sys.exit(main())
