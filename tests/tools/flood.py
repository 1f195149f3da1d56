#!/usr/bin/env python3
"""flood.py HOST PORT IDLE STALLED STATUS — a hostile client for the
controller's admission tests.  Holds IDLE TCP connections that never send a
byte and STALLED connections that send the first bytes of a TLS ClientHello
and then nothing, and reopens every one the controller closes, so the
pressure never lets up.  Every second it rewrites STATUS with one line:
"open N idle I stalled S opened T closed C" (T, C: totals since start).
Runs until killed."""
import errno, os, resource, selectors, socket, sys, time

host, port = sys.argv[1], int(sys.argv[2])
want_idle, want_stalled, status = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
# A TLS record header and the start of a ClientHello: the server reads it
# and waits for the rest, which never comes.
PARTIAL_HELLO = bytes.fromhex("16030100c8010000c40303") + os.urandom(16)

sel = selectors.DefaultSelector()
kind = {}  # socket -> "idle" | "stalled"
opened = closed = 0


def open_one(k):
    global opened
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return False
    kind[s] = k
    sel.register(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if k == "stalled" else 0))
    opened += 1
    return True


def drop(s):
    global closed
    sel.unregister(s)
    del kind[s]
    s.close()
    closed += 1


next_status = 0.0
while True:
    counts = {"idle": 0, "stalled": 0}
    for k in kind.values():
        counts[k] += 1
    # Top up, a bounded number per round so that events are served too.
    budget = 500
    for k, want in (("idle", want_idle), ("stalled", want_stalled)):
        while counts[k] < want and budget > 0:
            if not open_one(k):
                break
            counts[k] += 1
            budget -= 1
    for key, ev in sel.select(timeout=0.05):
        s = key.fileobj
        if ev & selectors.EVENT_WRITE:
            try:
                s.send(PARTIAL_HELLO)
                sel.modify(s, selectors.EVENT_READ)
            except OSError:
                drop(s)
                continue
        if ev & selectors.EVENT_READ:
            try:
                if s.recv(4096) == b"":
                    drop(s)
            except OSError:
                drop(s)
    now = time.monotonic()
    if now >= next_status:
        counts = {"idle": 0, "stalled": 0}
        for k in kind.values():
            counts[k] += 1
        with open(status + ".tmp", "w") as fh:
            fh.write("open %d idle %d stalled %d opened %d closed %d\n" %
                     (len(kind), counts["idle"], counts["stalled"], opened, closed))
        os.replace(status + ".tmp", status)
        next_status = now + 1.0
