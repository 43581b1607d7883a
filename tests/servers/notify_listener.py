#!/usr/bin/env python3
"""notify_listener.py SOCKET LOG [TIMES]: a stand-in for systemd's notify
socket.  Binds a datagram socket at SOCKET and appends every message it
receives to LOG, one line per assignment ("READY=1"), flushed at once,
until it is killed; with TIMES, each line goes there too after the
CLOCK_MONOTONIC second it arrived ("12.345678 WATCHDOG=1").  The agent
tests read LOG and TIMES back."""
import os
import socket
import sys
import time

path, log = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
times = open(sys.argv[3], "a", buffering=1) if len(sys.argv) > 3 else None
with open(log, "a", buffering=1) as out:
    while True:
        data = s.recv(4096)
        now = time.monotonic()
        for line in data.decode("utf-8", "replace").split("\n"):
            if line:
                out.write(line + "\n")
                if times:
                    times.write("%.6f %s\n" % (now, line))
