#!/usr/bin/python3
"""ssm.py: a small Systems Manager Parameter Store for tests, on awsjson.py.

Needs Python 3 and botocore (Debian: python3-botocore); run it with
/usr/bin/python3.  Listens on 127.0.0.1 only.

Serves AmazonSSM.GetParameter (AWS JSON 1.1, botocore's ssm 2014-11-06
model):

  POST /  X-Amz-Target: AmazonSSM.GetParameter
  {"Name": "/my/param[:VERSION|:LABEL]" or a full ARN, "WithDecryption": bool}
  200 {"Parameter": {"Name", "Type", "Value", "Version", "Selector",
       "LastModifiedDate", "ARN", "DataType"}}

for the parameters given with --param NAME=TYPE:VALUE (repeatable; a
name given again gets a new version, as PutParameter --overwrite does)
and --label NAME:VERSION=LABEL.  A SecureString's value is answered in
clear only when WithDecryption is true (otherwise as AWS does, as an
opaque ciphertext-like string).  Every request's SigV4 signature is
recomputed with botocore by awsjson.py, and the credential scope must
name the service "ssm" and, for an ARN, the ARN's region (else
--region).  Errors have the AWS JSON shape {"__type", "message"}:

  400 ParameterNotFound           no such parameter (AWS gives no message)
  400 ParameterVersionNotFound    no such version or label
  400 ValidationException         a name with spaces or wrong characters
  400 AccessDeniedException       --deny NAME
  403 InvalidSignatureException, UnrecognizedClientException,
      IncompleteSignatureException as awsjson.py finds them
  400 ThrottlingException, 500 InternalFailure  awsjson.py's faults

Every request is appended to --log as one line (names, never values):
  AmazonSSM.GetParameter NAME decrypt=BOOL AKID -> STATUS CODE
GET /_stats answers {"requests": N}.  --port 0 (the default) lets the
system choose; the port is printed and, with --port-file, written to
that file atomically.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsjson  # noqa: E402
import common  # noqa: E402
from awsjson import AwsError  # noqa: E402

ACCOUNT = "123456789012"
PARAMS = {}   # name -> [{"type", "value", "labels": set()}] (index + 1 = version)
DENY = set()
STATS = {"requests": 0}
NAME_RE = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
ARN_RE = re.compile(r"^arn:aws[a-z-]*:ssm:([a-z0-9-]+):([0-9]{12}):parameter(/.+)$")


def resolve_name(handler, name):
    """(name, selector, region or None) of a GetParameter Name."""
    region = None
    m = ARN_RE.match(name)
    if m:
        region, path = m.group(1), m.group(3)
        # parameter/MyParam names MyParam; parameter/my/param names /my/param.
        name = path if path.count("/") > 1 else path[1:]
    base, sep, sel = name.partition(":")
    return base, (sel if sep else None), region


def op_AmazonSSM_GetParameter(handler, body):
    req = json.loads(body)
    raw = req.get("Name")
    decrypt = bool(req.get("WithDecryption"))
    STATS["requests"] += 1
    handler.ssm_note = "%s decrypt=%s" % (raw, decrypt)
    if not isinstance(raw, str) or not raw:
        raise AwsError(400, "ValidationException", "1 validation error detected: Value null at 'name' "
                       "failed to satisfy constraint: Member must not be null")
    name, sel, region = resolve_name(handler, raw.strip())
    if region is not None and region != handler.scope_region:
        raise AwsError(400, "ValidationException", "The ARN's region is not the region of the request.")
    if len(name) > 2048 or not NAME_RE.match(name):
        raise AwsError(400, "ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" "
                       "(case-insensitive). If formed as a path, it can consist of sub-paths divided by slash "
                       "symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 "
                       "symbols .-_")
    if name in DENY:
        raise AwsError(400, "AccessDeniedException",
                       "User: arn:aws:sts::%s:assumed-role/test is not authorized to perform: ssm:GetParameter "
                       "on resource: arn:aws:ssm:%s:%s:parameter%s%s" % (
                           ACCOUNT, handler.scope_region, ACCOUNT, "" if name.startswith("/") else "/", name))
    versions = PARAMS.get(name)
    if not versions:
        raise AwsError(400, "ParameterNotFound", "")
    if sel is None:
        version = len(versions)
    elif sel.isdigit():
        version = int(sel)
        if not 1 <= version <= len(versions):
            raise AwsError(400, "ParameterVersionNotFound", "Systems Manager could not find version %s of %s. "
                           "Verify the version and try again." % (sel, name))
    else:
        found = [i + 1 for i, v in enumerate(versions) if sel in v["labels"]]
        if not found:
            raise AwsError(400, "ParameterVersionNotFound", "Systems Manager could not find version %s of %s. "
                           "Verify the version and try again." % (sel, name))
        version = found[0]
    v = versions[version - 1]
    value = v["value"]
    if v["type"] == "SecureString" and not decrypt:
        value = "AQICAHh" + "x" * 40   # what an undecrypted SecureString looks like
    arn = "arn:aws:ssm:%s:%s:parameter%s%s" % (handler.scope_region, ACCOUNT, "" if name.startswith("/") else "/",
                                              name)
    p = {"Name": name, "Type": v["type"], "Value": value, "Version": version, "LastModifiedDate": time.time(),
         "ARN": arn, "DataType": "text"}
    if sel is not None:
        p["Selector"] = ":" + sel
    return 200, {"Parameter": p}


setattr(awsjson, "op_AmazonSSM_GetParameter", op_AmazonSSM_GetParameter)


class Handler(awsjson.Handler):
    server_version = "opentoe-test-ssm"

    def verify(self, body):
        akid, _, region, service, _, _ = awsjson.parse_authorization(self.headers.get("Authorization"))
        akid = super().verify(body)
        if service != "ssm":
            raise AwsError(403, "InvalidSignatureException",
                           "Credential should be scoped to correct service: 'ssm'.")
        self.scope_region = region
        return akid

    def log_line(self, target, akid, status, code):
        note = getattr(self, "ssm_note", None)
        self.ssm_note = None
        super().log_line("%s %s" % (target, note) if note else target, akid, status, code)

    def do_GET(self):
        if self.path == "/_stats":
            return self.send(200, json.dumps(STATS).encode(), "application/json")
        return super().do_GET()


def main():
    ap = common.arg_parser("test Systems Manager Parameter Store (GetParameter) for opentoe")
    awsjson.add_aws_args(ap, region=False, stall_and_skew=True)
    ap.add_argument("--param", action="append", default=[], help="NAME=TYPE:VALUE (again: a new version)")
    ap.add_argument("--label", action="append", default=[], help="NAME:VERSION=LABEL")
    ap.add_argument("--deny", action="append", default=[], help="NAME")
    opts = ap.parse_args()
    awsjson.configure(opts, ap)

    def a_typed_value(name, tv):
        typ, sep, _ = tv.partition(":")
        return sep and typ in ("String", "StringList", "SecureString")

    for name, tv in common.pairs(ap, opts.param, "--param", "NAME=TYPE:VALUE", a_typed_value):
        typ, _, value = tv.partition(":")
        PARAMS.setdefault(name, []).append({"type": typ, "value": value, "labels": set()})

    def a_version(nv, label):
        name, _, version = nv.rpartition(":")
        return name in PARAMS and version.isdigit() and int(version) <= len(PARAMS[name])

    for nv, label in common.pairs(ap, opts.label, "--label", "NAME:VERSION=LABEL of a --param", a_version):
        name, _, version = nv.rpartition(":")
        PARAMS[name][int(version) - 1]["labels"].add(label)
    DENY.update(opts.deny)
    return common.serve(common.listen(Handler, opts.port), opts.port_file)


if __name__ == "__main__":
    sys.exit(main())
