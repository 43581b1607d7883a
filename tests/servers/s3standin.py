#!/usr/bin/env python3
"""s3standin.py: a stand-in S3 (path style) for what s3rver cannot show.
Python 3 standard library only; listens on 127.0.0.1 only, one thread per
connection.  Every request is logged to --log as "METHOD PATH OWNER" when
it arrives (OWNER: x-amz-expected-bucket-owner, or "-").  By bucket:

  obkt   GET: AccessDenied unless OWNER is 111122223333 (as S3 does for
         a bucket of another account); then doc.yml is a document,
         anything else a line of text.
  mbkt   multipart uploads: part 2 of "retry.bin" answers 503 SlowDown
         once, part 2 of "fail.bin" always 400 InvalidArgument.
  other  by the key's last element:
           slow*    GET: 200, Content-Length 8 MiB, 64 KiB, then nothing
                    for up to 120 s ("GET PATH stalling" is logged).
                    PUT: the body is never read, for up to 120 s ("PUT
                    PATH stalling").
           flaky*   GET: 503 SlowDown for the key's first request, then
                    200 "flaky ok".
           skewed*  GET: the server's clock (its Date header) is an hour
                    ahead of the host's; a request whose X-Amz-Date is
                    more than 15 minutes from it gets 403
                    RequestTimeTooSkewed, else 200 "in time".
           else     GET: 200 "plain".

Multipart uploads of any bucket: CreateMultipartUpload gives the id U1;
each UploadPart is held --part-delay seconds (default 0) before it is
read and answered, logged as "PART start N inflight K" when it begins
and "MAXINFLIGHT K" (the most parts seen at once) after it;
CompleteMultipartUpload and AbortMultipartUpload succeed.
"""

import calendar
import email.utils
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SKEW_S = 3600
# The document of obkt/doc.yml, in YAML's flow style.
DOC = (b'{name: standin, schemaVersion: 1.0, phases: [{name: build, steps: [{name: Say, action: ExecuteBash, '
       b'inputs: {commands: ["echo from the owned bucket"]}}]}]}\n')


def error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>R1</RequestId></Error>' % (code, message)).encode()


class Handler(common.QuietHandler):
    def log_line(self, line):
        with self.server.lock:
            with open(self.server.log_path, "a") as f:
                f.write(line + "\n")

    def arrived(self, read=True):
        """Logs the request; reads its body unless told not to."""
        self.log_line("%s %s %s" % (self.command, self.path, self.headers.get("x-amz-expected-bucket-owner", "-")))
        if read:
            self.read_body()

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def bucket(self):
        return self.path.split("?")[0].split("/")[1]

    def key(self):
        return self.path.split("?")[0].rsplit("/", 1)[-1]

    def date_time_string(self, timestamp=None):
        """The Date header: an hour ahead for the skewed keys."""
        t = timestamp if timestamp is not None else time.time()
        return email.utils.formatdate(t + (SKEW_S if self.key().startswith("skewed") else 0), usegmt=True)

    def first_time(self, what):
        with self.server.lock:
            first = what not in self.server.seen
            self.server.seen.add(what)
        return first

    def stall(self):
        self.log_line("%s %s stalling" % (self.command, self.path))
        time.sleep(120)

    def do_GET(self):
        self.arrived()
        k = self.key()
        if self.bucket() == "obkt":
            if self.headers.get("x-amz-expected-bucket-owner") != "111122223333":
                return self.answer(403, error("AccessDenied", "Access Denied"))
            return self.answer(200, DOC if k == "doc.yml" else b"owned by the right account\n")
        if k.startswith("slow"):
            self.send_response(200)
            self.send_header("Content-Length", str(8 << 20))
            self.end_headers()
            self.wfile.write(b"x" * 65536)
            self.wfile.flush()
            return self.stall()
        if k.startswith("flaky"):
            if self.first_time(self.path):
                return self.answer(503, error("SlowDown", "Please reduce your request rate."))
            return self.answer(200, b"flaky ok\n")
        if k.startswith("skewed"):
            try:
                signed = calendar.timegm(time.strptime(self.headers.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ"))
            except ValueError:
                signed = 0
            if abs(signed - (time.time() + SKEW_S)) > 900:
                return self.answer(403, error("RequestTimeTooSkewed", "The difference between the request time "
                                              "and the current time is too large."))
            return self.answer(200, b"in time\n")
        self.answer(200, b"plain\n")

    def do_PUT(self):
        k = self.key()
        if k.startswith("slow"):
            self.arrived(read=False)
            return self.stall()
        if "partNumber=" not in self.path:
            self.arrived()
            return self.answer(200, headers=[("ETag", '"etag"')])
        n = self.path.split("partNumber=")[1].split("&")[0]
        if self.bucket() == "mbkt" and n == "2":
            self.arrived()
            if k == "retry.bin" and self.first_time("retry"):
                return self.answer(503, error("SlowDown", "Please reduce your request rate."))
            if k == "fail.bin":
                return self.answer(400, error("InvalidArgument", "Part number 2 is refused"))
            return self.answer(200, headers=[("ETag", '"etag-%s"' % n)])
        self.arrived(read=False)
        with self.server.lock:
            self.server.inflight += 1
            self.server.most = max(self.server.most, self.server.inflight)
            now = self.server.inflight
        self.log_line("PART start %s inflight %d" % (n, now))
        time.sleep(self.server.part_delay)
        self.read_body()
        with self.server.lock:
            self.server.inflight -= 1
            most = self.server.most
        self.log_line("MAXINFLIGHT %d" % most)
        self.answer(200, headers=[("ETag", '"etag-%s"' % n)])

    def do_POST(self):
        self.arrived()
        if self.path.endswith("?uploads"):
            return self.answer(200, b"<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                                    b"</InitiateMultipartUploadResult>")
        self.answer(200, b"<CompleteMultipartUploadResult><ETag>&quot;all&quot;</ETag>"
                         b"</CompleteMultipartUploadResult>")

    def do_DELETE(self):
        self.arrived()
        self.answer(204)


def main():
    ap = common.arg_parser(__doc__.splitlines()[0])
    ap.add_argument("--part-delay", type=float, default=0)
    a = ap.parse_args()
    srv = common.listen(Handler, a.port)
    srv.log_path = a.log or os.devnull
    srv.lock = threading.Lock()
    srv.seen = set()
    srv.inflight = 0
    srv.most = 0
    srv.part_delay = a.part_delay
    common.announce(srv.server_address[1], a.port_file)
    common.on_stop(lambda: os._exit(0))
    srv.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
