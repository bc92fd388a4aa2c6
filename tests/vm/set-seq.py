#!/usr/bin/python3
# tests/vm/set-seq.py write A B        (until killed)
# tests/vm/set-seq.py last DEV...
# write: sequence numbers 1, 2, 3... each written to A, then the same number
# to B (O_DIRECT, each write complete before the next), in a ring of 4 KiB
# blocks, so at any instant B holds the number A holds, or one less.
# last: the highest sequence number on each DEV (O_DIRECT read), 0 if
# none, on one line (one python start per check: it is slow when emulated).
import mmap
import os
import struct
import sys

BLOCK = 4096
RING = 256  # 1 MiB: old numbers are overwritten, the newest is always there


def block(seq):
    buf = mmap.mmap(-1, BLOCK)  # page-aligned, as O_DIRECT needs
    buf.write(struct.pack("<Q", seq) * (BLOCK // 8))
    return buf


if sys.argv[1] == "write":
    a = os.open(sys.argv[2], os.O_WRONLY | os.O_DIRECT)
    b = os.open(sys.argv[3], os.O_WRONLY | os.O_DIRECT)
    seq = 0
    while True:
        seq += 1
        buf = block(seq)
        off = (seq % RING) * BLOCK
        os.pwritev(a, [buf], off)
        os.pwritev(b, [buf], off)
        buf.close()
else:
    out = []
    for dev in sys.argv[2:]:
        fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, BLOCK * RING)
        os.preadv(fd, [buf], 0)
        os.close(fd)
        out.append(max(struct.unpack_from("<Q", buf, i * BLOCK)[0] for i in range(RING)))
    print(" ".join(str(n) for n in out))
