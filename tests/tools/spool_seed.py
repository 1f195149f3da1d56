#!/usr/bin/env python3
"""spool_seed.py SPOOL TAG COUNT CRED_HEX... — appends COUNT pending records
to a sac-reader spool (layout of reader/spool.h) and prints their event ids,
one per line.  Ids are TAG (8 hex digits) followed by a 24-digit counter, so
a test can account for every event by id.  Times are the last COUNT
milliseconds before now (oldest first); credentials cycle over the
arguments (64 hex digits each)."""
import struct, sys, time, zlib

path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
creds = [bytes.fromhex(c) for c in sys.argv[4:]]
if len(tag) != 8 or not creds or any(len(c) != 32 for c in creds):
    sys.exit("usage: spool_seed.py SPOOL TAG8 COUNT CRED64...")
now = int(time.time() * 1000)
out = []
with open(path, "ab") as fh:
    for i in range(count):
        eid = "%s%024x" % (tag, i)
        body = b"SP\x01P" + struct.pack("<H", 56) + bytes.fromhex(eid) \
            + struct.pack("<q", now - count + i) + creds[i % len(creds)]
        fh.write(body + struct.pack("<I", zlib.crc32(body) & 0xffffffff))
        out.append(eid)
print("\n".join(out))
