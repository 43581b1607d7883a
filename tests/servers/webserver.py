#!/usr/bin/env python3
"""webserver.py: a small HTTP(S) server for testing WebDownload.

Python 3 standard library only.  Listens on 127.0.0.1 only.  Serves the
files of --root, and these special paths for faults:

  /redirect/N/<path>   N redirects (302), then <path> (N = 0: <path> itself)
  /redirect-ftp        302 to ftp://127.0.0.1:<port>/file
  /redirect-file       302 to file:///etc/passwd
  /redirect-to?url=U   302 to U (percent-encoded)
  /status/N            status N with a short text body
  /stall               200, Content-Length 1 MiB, 1000 bytes, then nothing
                       for up to 120 s
  /drop                200, Content-Length 1 MiB, 64 KiB, then the
                       connection is closed
  /flaky/N/<name>      503 for the first N requests of this exact path,
                       then the file <name> of --root
  /big/<bytes>         <bytes> of generated data (a fixed 1 MiB pseudo-random
                       block repeated), streamed without holding it in memory
  /length/<declared>/<sent>[?close=1]
                       Content-Length <declared>, then <sent> bytes of the
                       data of /big/<sent>, in writes of 1 MiB (so that,
                       below 1 MiB, bytes past <declared> reach the client
                       together with the body's end).  A short body is
                       followed by the connection's end; with close=1 the
                       response says "Connection: close" and the server
                       closes the connection after it, else the connection
                       is kept alive, excess and all.
  /nolength/<bytes>    <bytes> of the data with no Content-Length, ended by
                       closing the connection ("Connection: close")
  /chunked/<declared>/<sent>
                       Transfer-Encoding: chunked and Content-Length
                       <declared> ("-": no Content-Length), then the <sent>
                       bytes of /big/<sent> in chunks of 64 KiB

Every request is appended to --log as "GET /path User-Agent" (one line),
so tests can count requests.  --tls-cert/--tls-key serve HTTPS instead.
With --port 0 (the default) the system picks the port; it is printed on
stdout and, with --port-file, written to that file (atomically).

  webserver.py --big-sha256 N  prints the SHA-256 of /big/N and exits.
"""

import hashlib
import os
import posixpath
import random
import socket
import ssl
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

BLOCK = random.Random(20240601).randbytes(1 << 20)


def big_sha256(n):
    h = hashlib.sha256()
    left = n
    while left > 0:
        k = min(left, len(BLOCK))
        h.update(BLOCK[:k])
        left -= k
    return h.hexdigest()


class Handler(common.QuietHandler):
    server_version = "opentoe-test"

    def record(self):
        srv = self.server
        if srv.log_path:
            with srv.lock:
                with open(srv.log_path, "a") as f:
                    f.write("%s %s %s\n" % (self.command, self.path,
                                             self.headers.get("User-Agent", "-")))

    def send_simple(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def octets(self, *headers):
        """200 with a body of bytes: Content-Type application/octet-stream,
        then headers ((name, value) pairs, None for none), in that order."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        for h in headers:
            if h:
                self.send_header(*h)
        self.end_headers()

    def redirect(self, location):
        self.send_simple(302, b"redirect\n", [("Location", location)])

    def serve_file(self, rel):
        root = self.server.root
        rel = posixpath.normpath("/" + urllib.parse.unquote(rel)).lstrip("/")
        path = os.path.join(root, rel)
        if not rel or not os.path.isfile(path):
            self.send_simple(404, b"not found\n")
            return
        self.octets(("Content-Length", str(os.path.getsize(path))))
        if self.command == "HEAD":
            return
        with open(path, "rb") as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                self.wfile.write(chunk)

    def serve_big(self, n):
        self.octets(("Content-Length", str(n)))
        if self.command == "HEAD":
            return
        self.write_data(n)

    def write_data(self, n):
        """Writes n bytes of the data of /big/n, in writes of 1 MiB."""
        view = memoryview(BLOCK)
        left = n
        while left > 0:
            k = min(left, len(BLOCK))
            self.wfile.write(view[:k])
            left -= k

    def serve_length(self, declared, sent, close):
        self.octets(("Content-Length", str(declared)), ("Connection", "close") if close else None)
        if self.command == "HEAD":
            return
        self.write_data(sent)
        self.wfile.flush()
        if close or sent < declared:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

    def serve_nolength(self, n):
        self.octets(("Connection", "close"))
        self.close_connection = True
        if self.command != "HEAD":
            self.write_data(n)

    def serve_chunked(self, declared, sent):
        self.octets(("Transfer-Encoding", "chunked"), ("Content-Length", declared) if declared != "-" else None)
        if self.command == "HEAD":
            return
        view = memoryview(BLOCK)
        left, off = sent, 0
        while left > 0:
            k = min(left, 65536, len(BLOCK) - off)
            self.wfile.write(b"%x\r\n" % k + view[off:off + k] + b"\r\n")
            left -= k
            off = (off + k) % len(BLOCK)
        self.wfile.write(b"0\r\n\r\n")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.record()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        parts = path.split("/")
        try:
            if path.startswith("/redirect/"):
                n = int(parts[2])
                rest = "/" + "/".join(parts[3:])
                if n <= 0:
                    self.route(rest)
                elif n == 1:
                    self.redirect(rest)
                else:
                    self.redirect("/redirect/%d%s" % (n - 1, rest))
                return
            self.route(path, url.query)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def route(self, path, query=""):
        parts = path.split("/")
        if path == "/redirect-ftp":
            self.redirect("ftp://127.0.0.1:%d/file" % self.server.server_address[1])
        elif path == "/redirect-file":
            self.redirect("file:///etc/passwd")
        elif path == "/redirect-to":
            q = urllib.parse.parse_qs(query)
            self.redirect(q.get("url", ["/"])[0])
        elif path.startswith("/status/"):
            code = int(parts[2])
            self.send_simple(code, ("status %d\n" % code).encode())
        elif path == "/stall":
            self.octets(("Content-Length", str(1 << 20)))
            self.wfile.write(b"s" * 1000)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not self.server.stopping:
                time.sleep(0.2)
            self.close_connection = True
        elif path == "/drop":
            self.octets(("Content-Length", str(1 << 20)))
            self.wfile.write(b"d" * 65536)
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
        elif path.startswith("/flaky/"):
            n = int(parts[2])
            with self.server.lock:
                seen = self.server.counts.get(path, 0)
                self.server.counts[path] = seen + 1
            if seen < n:
                self.send_simple(503, b"try again\n")
            else:
                self.serve_file("/".join(parts[3:]))
        elif path.startswith("/big/"):
            self.serve_big(int(parts[2]))
        elif path.startswith("/length/"):
            q = urllib.parse.parse_qs(query)
            self.serve_length(int(parts[2]), int(parts[3]), q.get("close", ["0"])[0] == "1")
        elif path.startswith("/nolength/"):
            self.serve_nolength(int(parts[2]))
        elif path.startswith("/chunked/"):
            self.serve_chunked(parts[2], int(parts[3]))
        else:
            self.serve_file(path)


class Server(common.Server):
    block_on_close = False

    def handle_error(self, request, client_address):
        pass


def main():
    ap = common.arg_parser("test web server for WebDownload", tls=True)
    ap.add_argument("--root", default=".")
    ap.add_argument("--big-sha256", type=int, metavar="N")
    a = ap.parse_args()

    if a.big_sha256 is not None:
        print(big_sha256(a.big_sha256))
        return

    srv = common.listen(Handler, a.port, Server)
    srv.root = os.path.abspath(a.root)
    srv.log_path = a.log
    srv.lock = threading.Lock()
    srv.counts = {}
    srv.stopping = False
    if a.tls_cert:
        # The handshake happens in the request's thread, on first read.
        common.use_tls(srv, a.tls_cert, a.tls_key, handshake_on_connect=False)

    common.announce(srv.server_address[1], a.port_file)

    def stop():
        srv.stopping = True
        os._exit(0)

    common.on_stop(stop)
    srv.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
