#!/usr/bin/env python3
"""ha_readers — many sac/1 readers' worth of traffic with exact bookkeeping,
for the failover tests and `make ha-demo`.

    ha_readers.py --server HOST:PORT[,HOST:PORT...] --cert F --key F --ca F --reader ID
                  --conns N --rate EV_PER_S --duration S --creds FILE --out DIR
                  [--drain S]

N TLS 1.3 connections (HELLO ID each) send EVENTs at a fixed total rate for
S seconds, credentials taken in turn from FILE (one 64-hex per line).  Like
sac-reader, every event stays pending until its ACK arrives; a connection
that breaks is opened again to the first server of the list that answers
(after a full round without success: 250 ms doubling to 2 s) and, after
WELCOME, sends all of its pending events again with the same ids.
--first K makes connection k start its list at server (k + K) mod count, to
spread the connections over the controllers.  After the
duration no new events are made; the program waits up to --drain seconds
(default 120) for the pending ones.

Bookkeeping in DIR (one line per event, written as it happens):
    made    ID SENT_UNIX_MS              every event made
    acked   ID VERDICT SENT_UNIX_MS ACK_UNIX_MS   the first ACK of each event
and at the end one line on stdout:
    made N acked N pending N resent N reconnects N
(resent: events sent again after a reconnect; reconnects: connections
opened again after one broke).
Exit 0 when nothing is pending at the end, 1 otherwise, 2 on bad usage.
"""
import argparse
import asyncio
import os
import ssl
import sys
import time


def now_ms():
    return int(time.time() * 1000)


class Readers:
    def __init__(self, args):
        self.args = args
        self.servers = []
        for server in args.server.split(","):
            host, _, port = server.rpartition(":")
            self.servers.append((host, int(port)))
        self.ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.ca)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.ctx.load_cert_chain(args.cert, args.key)
        self.ctx.check_hostname = False
        with open(args.creds) as fh:
            self.creds = [line.strip() for line in fh if len(line.strip()) == 64]
        if not self.creds:
            raise SystemExit("ha_readers: no credentials in %s" % args.creds)
        os.makedirs(args.out, exist_ok=True)
        self.made_f = open(os.path.join(args.out, "made"), "a", buffering=1)
        self.acked_f = open(os.path.join(args.out, "acked"), "a", buffering=1)
        self.pending = [dict() for _ in range(args.conns)]  # per connection: id -> (line, sent_ms)
        self.writers = [None] * args.conns
        self.made = self.acked = self.resent = self.reconnects = 0
        self.stop_making = False

    async def open(self, host, port):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=self.ctx, server_hostname="localhost"), 10)
        writer.write(("HELLO sac/1 %s\n" % self.args.reader).encode())
        line = await asyncio.wait_for(reader.readline(), 10)
        if not line.startswith(b"WELCOME "):
            writer.close()
            raise ConnectionError("no WELCOME: %r" % line)
        return reader, writer

    async def connection(self, k):
        backoff = 0.25
        first = True
        order = [self.servers[(k + self.args.first + i) % len(self.servers)]
                 for i in range(len(self.servers))]
        while True:
            if self.stop_making and not self.pending[k]:
                return
            for host, port in order:
                try:
                    reader, writer = await self.open(host, port)
                    break
                except (OSError, asyncio.TimeoutError, ConnectionError, ssl.SSLError):
                    continue
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.25
            again = [line for line, _ in self.pending[k].values()]
            if not first:
                self.reconnects += 1
                self.resent += len(again)
            first = False
            if again:
                writer.write("".join(again).encode())
            self.writers[k] = writer
            try:
                while True:
                    if self.stop_making and not self.pending[k]:
                        writer.close()
                        return
                    try:
                        line = await asyncio.wait_for(reader.readline(), 1.0)
                    except asyncio.TimeoutError:
                        continue
                    if not line:
                        raise ConnectionError("closed")
                    self.answer(k, line.decode("ascii", "replace").split())
            except (OSError, ConnectionError, ssl.SSLError):
                pass
            finally:
                self.writers[k] = None
                writer.close()

    def answer(self, k, words):
        if len(words) == 3 and words[0] == "ACK":
            entry = self.pending[k].pop(words[1], None)
            if entry is not None:
                self.acked += 1
                self.acked_f.write("%s %s %d %d\n" % (words[1], words[2], entry[1], now_ms()))

    async def make_events(self):
        args = self.args
        start = time.monotonic()
        n = 0
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= args.duration:
                break
            due = int(elapsed * args.rate)
            while n < due:
                k = n % args.conns
                event_id = os.urandom(16).hex()
                sent = now_ms()
                line = "EVENT %s %d %s\n" % (event_id, sent, self.creds[n % len(self.creds)])
                self.pending[k][event_id] = (line, sent)
                self.made_f.write("%s %d\n" % (event_id, sent))
                self.made += 1
                if self.writers[k] is not None:
                    self.writers[k].write(line.encode())
                n += 1
            await asyncio.sleep(0.005)
        self.stop_making = True

    async def run(self):
        conns = [asyncio.ensure_future(self.connection(k)) for k in range(self.args.conns)]
        await self.make_events()
        try:
            await asyncio.wait_for(asyncio.gather(*conns), self.args.drain)
        except asyncio.TimeoutError:
            pass
        pending = sum(len(p) for p in self.pending)
        print("made %d acked %d pending %d resent %d reconnects %d"
              % (self.made, self.acked, pending, self.resent, self.reconnects), flush=True)
        return 0 if pending == 0 else 1


def main():
    p = argparse.ArgumentParser(description="sac/1 reader traffic with exact bookkeeping")
    p.add_argument("--server", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--reader", required=True)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--conns", type=int, default=50)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--drain", type=float, default=120)
    p.add_argument("--creds", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    if args.conns < 1 or args.rate <= 0 or args.duration <= 0:
        p.error("--conns, --rate and --duration must be positive")
    sys.exit(asyncio.run(Readers(args).run()))


if __name__ == "__main__":
    main()
