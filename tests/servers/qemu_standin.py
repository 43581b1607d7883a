#!/usr/bin/env python3
"""qemu_standin.py: plays qemu and the guest for tests/vm-cmd.sh
(OPENTOE_VM_QEMU points here).  Parses the command line opentoe vm
passes, writes it as JSON to $STANDIN_DIR/argv.json, reads in.tar (the
read-only drive) into $STANDIN_DIR/in/, connects to the two chardev
sockets, writes console JSON lines for two boots (a reboot), the signal
line, then a tar stream over out.tar (the last drive) as the guest's
finish does, and exits.

$STANDIN_MODE picks what it does instead:
  ok (default)   the run above, status $STANDIN_STATUS (default 0)
  hang           a child that sleeps (its argv ends with $STANDIN_MARK),
                 then sleeps itself: for --timeout and SIGINT
  hangsolo       sleeps, without a child: for kill -9 of opentoe
  dotdot, absolute, symlink, hardlink, control, tfile
                 out.tar also holds a hostile entry of that kind
  empty          exits without writing out.tar
  noise          console lines that are not JSON, one over 64 KiB, one
                 with escape sequences
  fail           exits 1 at once, saying why on stderr
  nopoweroff     the run above, then sleeps instead of exiting
  guesterror     out.tar also holds the guest's 'error' file
"""
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time


def parse(argv):
    drives, chardevs, ports, opts = [], {}, {}, {}
    i = 0
    while i < len(argv):
        a = argv[i]
        v = argv[i + 1] if i + 1 < len(argv) else None
        if a == "-drive":
            d = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in v.split(","))
            drives.append(d)
            i += 2
        elif a == "-chardev":
            parts = v.split(",")
            d = dict(kv.split("=", 1) for kv in parts[1:] if "=" in kv)
            d["backend"] = parts[0]
            chardevs[d["id"]] = d
            i += 2
        elif a == "-device" and v.startswith("virtserialport"):
            d = dict(kv.split("=", 1) for kv in v.split(",")[1:])
            ports[d["name"]] = d["chardev"]
            i += 2
        elif a.startswith("-") and v is not None and not v.startswith("-"):
            opts.setdefault(a, []).append(v)
            i += 2
        else:
            opts.setdefault(a, []).append(None)
            i += 1
    return drives, chardevs, ports, opts


def connect(chardevs, ports, name):
    cd = chardevs[ports[name]]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(cd["path"])
    return s


def line(sock, boot, message, **keys):
    o = {"boot": boot, "message": message}
    o.update(keys)
    sock.sendall((json.dumps(o) + "\n").encode())


def add_bytes(t, name, data, **kw):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data))


def main():
    mode = os.environ.get("STANDIN_MODE", "ok")
    out = os.environ["STANDIN_DIR"]
    argv = sys.argv[1:]
    with open(os.path.join(out, "argv.json"), "w") as f:
        json.dump(argv, f)
    if mode == "fail":
        print("qemu-standin: could not initialize the accelerator", file=sys.stderr)
        sys.exit(1)
    drives, chardevs, ports, opts = parse(argv)
    ro = [d for d in drives if d.get("readonly") == "on"]
    with tarfile.open(ro[0]["file"].replace(",,", ",")) as t:
        t.extractall(os.path.join(out, "in"))
    con = connect(chardevs, ports, "org.opentoe.console")
    sig = connect(chardevs, ports, "org.opentoe.signal")
    if mode in ("hang", "hangsolo"):
        mark = os.environ.get("STANDIN_MARK", "standin")
        if mode == "hang":
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", mark])
        line(con, "b1", "guest: hanging")
        time.sleep(3600)
    job = json.load(open(os.path.join(out, "in", "job.json")))
    # As the guest names it: its path in the guest's job folder.
    doc = "/var/lib/opentoe-vm/job/" + job["documents"][0]
    line(con, "b1", "opentoe-vm-guest: job submitted")
    line(con, "b1", "step S1 begins", document=doc, phase="build", step="S1", status="running")
    line(con, "b1", "step S1 asks for a reboot", document=doc, phase="build", step="S1", status="pending-reboot")
    line(con, "b2", "resumed after the reboot", document=doc, phase="build", step="S2", status="running")
    if mode == "noise":
        con.sendall(b"plain text from the guest\n")
        con.sendall(b"x" * 70000 + b"\n")
        line(con, "b2", "bell\x07 and \x1b[2Jclear")
    line(con, "b2", "step S2 done", document=doc, phase="build", step="S2", status="success")
    status = int(os.environ.get("STANDIN_STATUS", "0"))
    word = "success" if status == 0 else "failed"
    summary = {"executionId": job["executionId"], "status": word, "documents": job["documents"]}
    sig.sendall((json.dumps(summary) + "\n").encode())
    if mode == "empty":
        sys.exit(0)
    vdc = [d for d in drives if d["file"].endswith("out.tar")][0]["file"]
    with open(vdc, "r+b") as dev:
        with tarfile.open(fileobj=dev, mode="w", format=tarfile.GNU_FORMAT) as t:
            toe = "TOE_2026-12-02_14-00-00_" + job["executionId"]
            d = tarfile.TarInfo(toe)
            d.type = tarfile.DIRTYPE
            d.mode = 0o755
            t.addfile(d)
            add_bytes(t, toe + "/console.log", b"the run's console\n")
            add_bytes(t, toe + "/sub/detailedoutput.json", b"{}\n")
            if mode == "dotdot":
                add_bytes(t, toe + "/../../escaped", b"out of the output\n")
            if mode == "absolute":
                add_bytes(t, os.environ["STANDIN_ABS"], b"anywhere\n")
            if mode == "symlink":
                s = tarfile.TarInfo(toe + "/link")
                s.type = tarfile.SYMTYPE
                s.linkname = "/etc"
                t.addfile(s)
                add_bytes(t, toe + "/link/passwd-x", b"through the link\n")
            if mode == "control":
                add_bytes(t, toe + "/bad\x1b]0;owned\x07name", b"x\n")
            if mode == "tfile":
                add_bytes(t, "TOE_file", b"a file, not a folder\n")
            if mode == "hardlink":
                s = tarfile.TarInfo(toe + "/hard")
                s.type = tarfile.LNKTYPE
                s.linkname = "/etc/passwd"
                t.addfile(s)
            add_bytes(t, "summary.json", (json.dumps(summary) + "\n").encode())
            add_bytes(t, "journal.txt", b"2026-12-02T14:00:00+0000 guest opentoe[1]: a line\n")
            if mode == "guesterror":
                add_bytes(t, "error", b"guest error: no job disk at /dev/vdb\x1b[2J\n")
            add_bytes(t, "status", ("%d\n" % status).encode())
    if mode == "nopoweroff":
        time.sleep(3600)
    sys.exit(0)


main()
