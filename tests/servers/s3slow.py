#!/usr/bin/env python3
"""s3slow.py: a stand-in S3 (path style, any bucket) for what s3rver cannot
show: transfers that stall, parts that overlap, answers that must be
retried.  Python 3 standard library only; listens on 127.0.0.1 only, one
thread per connection.  Keys, by their last path element:

  slow*        GET: 200, Content-Length 8 MiB, 64 KiB, then nothing for
               up to 120 s.  PUT: the body is never read (the upload
               stalls) for up to 120 s.
  flaky*       GET: 503 SlowDown for the first request of the key, then
               200 "flaky ok".
  skewed*      GET: the server's clock is an hour ahead of the host's; a
               request whose X-Amz-Date is more than 15 minutes from it
               gets 403 RequestTimeTooSkewed (with the server's Date),
               else 200 "in time".
  anything     multipart uploads: CreateMultipartUpload gives U1; each
               UploadPart is held for --part-delay seconds (0.3) before
               it is read and answered; CompleteMultipartUpload and
               AbortMultipartUpload succeed.  GET: 200 "plain".

Every request is logged to --log as "METHOD PATH STATUS"; each part also
as "PART start N inflight K" when it begins, and the most parts seen at
once as "MAXINFLIGHT K" after each part.
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


def error(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>R1</RequestId></Error>' % (code, message)).encode()


class Handler(common.QuietHandler):
    def log_line(self, line):
        with self.server.lock:
            with open(self.server.log_path, "a") as f:
                f.write(line + "\n")

    def answer(self, status, body=b"", headers=()):
        self.log_line("%s %s %d" % (self.command, self.path, status))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp=None):
        """The Date header: an hour ahead for the skewed keys."""
        t = timestamp if timestamp is not None else time.time()
        return email.utils.formatdate(t + (SKEW_S if self.key().startswith("skewed") else 0), usegmt=True)

    def key(self):
        return self.path.split("?")[0].rsplit("/", 1)[-1]

    def do_GET(self):
        k = self.key()
        if k.startswith("slow"):
            self.log_line("GET %s stalling" % self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(8 << 20))
            self.end_headers()
            self.wfile.write(b"x" * 65536)
            self.wfile.flush()
            time.sleep(120)
            return
        if k.startswith("flaky"):
            with self.server.lock:
                first = k not in self.server.seen
                self.server.seen.add(k)
            if first:
                return self.answer(503, error("SlowDown", "Please reduce your request rate."))
            return self.answer(200, b"flaky ok\n")
        if k.startswith("skewed"):
            now = time.time() + SKEW_S
            amz = self.headers.get("X-Amz-Date", "")
            try:
                signed = calendar.timegm(time.strptime(amz, "%Y%m%dT%H%M%SZ"))
            except ValueError:
                signed = 0
            if abs(signed - now) > 900:
                return self.answer(403, error("RequestTimeTooSkewed", "The difference between the request time "
                                              "and the current time is too large."))
            return self.answer(200, b"in time\n")
        self.answer(200, b"plain\n")

    def do_PUT(self):
        k = self.key()
        if k.startswith("slow"):
            self.log_line("PUT %s stalling" % self.path)
            time.sleep(120)
            return
        if "partNumber=" in self.path:
            n = self.path.split("partNumber=")[1].split("&")[0]
            with self.server.lock:
                self.server.inflight += 1
                self.server.most = max(self.server.most, self.server.inflight)
                k_now = self.server.inflight
            self.log_line("PART start %s inflight %d" % (n, k_now))
            time.sleep(self.server.part_delay)
            self.read_body()
            with self.server.lock:
                self.server.inflight -= 1
                most = self.server.most
            self.log_line("MAXINFLIGHT %d" % most)
            return self.answer(200, headers=[("ETag", '"etag-%s"' % n)])
        self.read_body()
        self.answer(200, headers=[("ETag", '"etag"')])

    def do_POST(self):
        self.read_body()
        if self.path.endswith("?uploads"):
            return self.answer(200, b"<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                                    b"</InitiateMultipartUploadResult>")
        self.answer(200, b"<CompleteMultipartUploadResult><ETag>&quot;all&quot;</ETag>"
                         b"</CompleteMultipartUploadResult>")

    def do_DELETE(self):
        self.answer(204)


def main():
    ap = common.arg_parser(__doc__.splitlines()[0])
    ap.add_argument("--part-delay", type=float, default=0.3)
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
