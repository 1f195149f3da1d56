#!/usr/bin/env python3
"""faultproxy.py LISTEN_PORT TARGET_PORT CONTROL_FILE — a TCP proxy on
127.0.0.1 that misbehaves on command, for the fault tests.

CONTROL_FILE is read every 50 ms; its first word is the mode:
  pass         forward both ways
  stall        accept and keep connections, forward nothing (bytes wait)
  drop         close every current connection, and close new ones at once
  cut          close every current connection once, then behave as pass
  chop N SEED  forward, but close each connection after a pseudo-random
               1..N bytes from the reader side (mid-line, mid-TLS-record)
It writes "ready" to CONTROL_FILE.state once listening, and counts of
connections accepted and cut there after every change."""
import os, random, selectors, socket, sys, time

lport, tport, ctl = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sel = selectors.DefaultSelector()
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport)); ls.listen(512); ls.setblocking(False)
sel.register(ls, selectors.EVENT_READ, None)
pairs = {}        # socket -> [peer, pending bytes to peer, budget or None, is_client]
stats = {"accepted": 0, "cut": 0}
mode, rng, last_read = ["pass"], random.Random(0), 0.0

def state():
    with open(ctl + ".state.tmp", "w") as fh:
        fh.write("ready accepted=%d cut=%d live=%d mode=%s\n" % (stats["accepted"], stats["cut"],
                 sum(1 for p in pairs.values() if p[3]), mode[0]))
    os.replace(ctl + ".state.tmp", ctl + ".state")

def close_pair(s, counted=True):
    if s not in pairs: return
    peer = pairs[s][0]
    for x in (s, peer):
        if x in pairs:
            sel.unregister(x); x.close(); del pairs[x]
    if counted: stats["cut"] += 1

def read_mode():
    global last_read
    if time.monotonic() - last_read < 0.05: return
    last_read = time.monotonic()
    try: words = open(ctl).read().split()
    except OSError: words = ["pass"]
    if not words: words = ["pass"]
    if words != mode:
        mode[:] = words
        if words[0] in ("cut", "drop"):
            for s in [s for s, p in pairs.items() if p[3]]: close_pair(s)
        if words[0] == "chop": rng.seed(int(words[2]) if len(words) > 2 else 0)
        state()

state()
while True:
    read_mode()
    if mode[0] == "stall":
        # Accept (and connect upstream) but forward nothing.
        events = [(k, m) for k, m in sel.select(0.05) if k.fileobj is ls]
        if not events: time.sleep(0.05)
    else:
        events = sel.select(0.05)
    for key, _ in events:
        s = key.fileobj
        if s is ls:
            c, _ = ls.accept(); stats["accepted"] += 1
            if mode[0] == "drop":
                c.close(); stats["cut"] += 1; state(); continue
            try: u = socket.create_connection(("127.0.0.1", tport))
            except OSError:
                c.close(); stats["cut"] += 1; state(); continue
            c.setblocking(False); u.setblocking(False)
            budget = rng.randint(1, int(mode[1])) if mode[0] == "chop" else None
            pairs[c] = [u, b"", budget, True]; pairs[u] = [c, b"", None, False]
            sel.register(c, selectors.EVENT_READ, None); sel.register(u, selectors.EVENT_READ, None)
            state(); continue
        if s not in pairs: continue
        try: data = s.recv(65536)
        except OSError: data = b""
        if not data:
            close_pair(s, counted=False); continue
        p = pairs[s]
        if p[2] is not None:
            data = data[:p[2]]; p[2] -= len(data)
        try: p[0].setblocking(True); p[0].sendall(data); p[0].setblocking(False)
        except OSError: close_pair(s, counted=False); continue
        if p[2] == 0:
            close_pair(s); state()
