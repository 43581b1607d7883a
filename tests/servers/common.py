"""common.py: what every test server here shares (standard library only).

The server class (threads, address reuse), the quiet HTTP/1.1 handler
base, the arguments all servers take (--port, --port-file, --log, and
--tls-cert/--tls-key for those that serve HTTPS), a repeated option's
KEY=VALUE arguments checked and split (pairs), and the serving loop:
listen on 127.0.0.1 only, write the port to --port-file atomically and
print it, stop on SIGTERM or SIGINT.  awsjson.py adds SigV4 and the AWS
JSON protocol on top of this; the servers import it with their own
folder first on sys.path (as Python does for a script).
"""

import argparse
import http.server
import os
import signal
import ssl
import threading


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive), no Python version in Server:, no log on stderr."""
    protocol_version = "HTTP/1.1"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""


def arg_parser(description, tls=False):
    """An ArgumentParser with --port (0: the system chooses), --port-file
    and --log, and with tls, --tls-cert and --tls-key."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    if tls:
        ap.add_argument("--tls-cert")
        ap.add_argument("--tls-key")
    return ap


def pairs(ap, values, option, form, valid=lambda key, value: True):
    """The KEY=VALUE arguments of a repeated option, as (key, value) pairs
    split at the first '=' (a key holds none, a value may); ap.error,
    naming option and its form, for one without '=' or one that
    valid(key, value) refuses."""
    out = []
    for kv in values:
        key, sep, value = kv.partition("=")
        if not sep or not valid(key, value):
            ap.error("%s wants %s, not %r" % (option, form, kv))
        out.append((key, value))
    return out


def listen(handler, port, server_class=Server):
    """A server of handler on 127.0.0.1:port."""
    return server_class(("127.0.0.1", port), handler)


def use_tls(srv, cert, key, handshake_on_connect=True):
    """Serves HTTPS with cert and key on srv's socket."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=handshake_on_connect)


def announce(port, port_file):
    """Writes port to port_file (atomically: a reader never sees half of
    it) and prints it on stdout."""
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, port_file)
    print(port, flush=True)


def on_stop(stop):
    """stop(), called for SIGTERM and SIGINT."""
    def handler(signum, frame):
        stop()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def shutdown_soon(srv):
    """Ends srv.serve_forever() from a signal handler (shutdown() would
    wait for the loop the handler interrupted)."""
    threading.Thread(target=srv.shutdown, daemon=True).start()


def serve(srv, port_file):
    """Announces srv's port and serves until SIGTERM or SIGINT."""
    announce(srv.server_address[1], port_file)
    on_stop(lambda: shutdown_soon(srv))
    srv.serve_forever()
    return 0
