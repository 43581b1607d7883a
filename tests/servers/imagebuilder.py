#!/usr/bin/python3
"""imagebuilder.py: a small EC2 Image Builder service for tests, on awsjson.py.

Needs Python 3 and botocore (Debian: python3-botocore); run it with
/usr/bin/python3.  Listens on 127.0.0.1 only.

Serves GetComponent, the REST-JSON call AWSTOE makes for documents named
by component build version ARNs (botocore's imagebuilder 2019-12-02
model):

  GET /GetComponent?componentBuildVersionArn=<ARN, percent-encoded>
  200 {"requestId": ..., "component": {"arn", "name", "version", "type",
       "platform", "owner", "data" (the YAML document), "encrypted",
       "dateCreated", ...}}

for the components given with --component ARN=FILE (repeatable; FILE is
read at each request).  --obfuscated ARN serves a component whose answer
has "obfuscate": true and no data, as for Marketplace components.

Every request's SigV4 signature is recomputed with botocore by
awsjson.py (the query handed to botocore as decoded parameters, which it
encodes as AWS canonicalizes them), and more is checked: the credential
scope names the service "imagebuilder" and the ARN's region.  Errors
have the REST-JSON shape: the code in the x-amzn-ErrorType header, the
body {"message": ...}:

  404 ResourceNotFoundException      no component has that ARN
  400 InvalidParameterValueException the ARN does not match the API's
                                     pattern for build version ARNs
  400 InvalidRequestException        componentBuildVersionArn is missing
  403 InvalidSignatureException, UnrecognizedClientException,
      IncompleteSignatureException   as awsjson.py finds them
  429 CallRateLimitExceededException awsjson.py's "throttle" fault
  500 ServiceException               awsjson.py's "fail500" fault

Faults and keys at run time: POST /_control as in awsjson.py.  Every
request is appended to --log as one line:
  GetComponent ARN AKID -> STATUS CODE
--port 0 (the default) lets the system choose; the port is printed and,
with --port-file, written to that file atomically.
"""

import datetime
import json
import os
import re
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awsjson  # noqa: E402
import common  # noqa: E402
from awsjson import AwsError  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402

# The API's pattern for componentBuildVersionArn when it names a build.
BUILD_ARN_RE = re.compile(r"^arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?|third-party):"
                          r"component/[a-z0-9-_]+/[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$")

COMPONENTS = {}      # ARN -> file
OBFUSCATED = set()   # ARNs


def parse_query(query):
    """[(name, value)] decoded; '+' stays a plus, as AWS reads queries."""
    out = []
    for pair in query.split("&") if query else []:
        k, _, v = pair.partition("=")
        out.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return out


def component_json(arn):
    m = re.match(r"^arn:[^:]+:imagebuilder:([^:]+):([^:]+):component/([^/]+)/([^/]+)/([0-9]+)$", arn)
    region, owner, name, version, _ = m.groups()
    c = {
        "arn": arn, "name": name, "version": version, "type": "BUILD", "platform": "Linux",
        "owner": "Amazon" if owner == "aws" else owner, "encrypted": True,
        "dateCreated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "state": {"status": "ACTIVE"}, "tags": {},
    }
    if arn in OBFUSCATED:
        c["obfuscate"] = True
    else:
        with open(COMPONENTS[arn], encoding="utf-8") as f:
            c["data"] = f.read()
    return c


class Handler(awsjson.Handler):
    server_version = "opentoe-test-imagebuilder"

    def signing_request(self, body, headers):
        url = urllib.parse.urlsplit(self.path)
        req = AWSRequest(method=self.command, url="http://%s%s" % (self.headers.get("Host"), url.path),
                         data=body, headers=headers, params=parse_query(url.query))
        return req

    def send_error_shape(self, e, target, akid):
        body = json.dumps({"message": e.message}).encode()
        self.send(e.status, body, "application/json", {"x-amzn-ErrorType": e.code})
        self.log_line(target, akid, e.status, e.code)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_control":
            return self.control(b"{}")
        params = dict(parse_query(url.query))
        arn = params.get("componentBuildVersionArn")
        target = "GetComponent %s" % (arn or "-") if url.path == "/GetComponent" else url.path
        akid = None
        try:
            try:
                akid, _, region, service, _, _ = awsjson.parse_authorization(self.headers.get("Authorization"))
            except AwsError:
                region = service = None
            self.verify(b"")
            if service != "imagebuilder":
                raise AwsError(403, "InvalidSignatureException",
                               "Credential should be scoped to correct service: 'imagebuilder'.")
            fault = awsjson.take_fault(
                AwsError(429, "CallRateLimitExceededException", "You have exceeded the permitted request rate."),
                AwsError(500, "ServiceException", "The service encountered an unrecoverable error."))
            if fault:
                raise fault
            if url.path != "/GetComponent":
                raise AwsError(404, "UnknownOperationException", "no operation at %s" % url.path)
            if not arn:
                raise AwsError(400, "InvalidRequestException", "componentBuildVersionArn is required.")
            if not BUILD_ARN_RE.match(arn):
                raise AwsError(400, "InvalidParameterValueException",
                               "The value supplied for parameter 'componentBuildVersionArn' is not valid. "
                               "'componentBuildVersionArn' must match pattern %s" % BUILD_ARN_RE.pattern)
            arn_region = arn.split(":")[3]
            if region != arn_region:
                raise AwsError(403, "InvalidSignatureException",
                               "Credential should be scoped to a valid region, not '%s'." % region)
            if arn not in COMPONENTS and arn not in OBFUSCATED:
                raise AwsError(404, "ResourceNotFoundException",
                               "The resource ARN '%s' does not exist." % arn)
            out = {"requestId": str(uuid.uuid4()), "component": component_json(arn)}
            self.send(200, json.dumps(out).encode(), "application/json")
            self.log_line(target, akid, 200, None)
        except AwsError as e:
            self.send_error_shape(e, target, akid)


def main():
    ap = common.arg_parser("test EC2 Image Builder service (GetComponent) for opentoe")
    # No --region: the scope's region is checked against each ARN instead.
    awsjson.add_aws_args(ap, region=False, stall_and_skew=False)
    ap.add_argument("--component", action="append", default=[], help="ARN=FILE")
    ap.add_argument("--obfuscated", action="append", default=[], help="ARN")
    opts = ap.parse_args()
    awsjson.configure(opts, ap)
    # The ARN holds no '=', the file name may.
    COMPONENTS.update(common.pairs(ap, opts.component, "--component", "BUILD-VERSION-ARN=FILE",
                                   lambda arn, path: BUILD_ARN_RE.match(arn)))
    OBFUSCATED.update(opts.obfuscated)
    return common.serve(common.listen(Handler, opts.port), opts.port_file)


if __name__ == "__main__":
    sys.exit(main())
