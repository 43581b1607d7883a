#!/usr/bin/env python3
"""notify_listener.py SOCKET LOG: a stand-in for systemd's notify socket.
Binds a datagram socket at SOCKET and appends every message it receives
to LOG, one line per assignment ("READY=1"), flushed at once, until it is
killed.  The agent tests read LOG back."""
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as out:
    while True:
        data = s.recv(4096)
        for line in data.decode("utf-8", "replace").split("\n"):
            if line:
                out.write(line + "\n")
