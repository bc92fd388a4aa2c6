#!/usr/bin/python3
# tests/vm/changes-write.py DEV CHUNK OUT < WRITES
# Applies writes ("offset length" lines, bytes) to DEV with random data,
# through the page cache, then fsync; writes to OUT the sorted list of the
# CHUNK-sized chunks they touch, one per line. Page-cache writeback writes
# whole 4 KiB pages, so for chunks of 4 KiB or more this set is exactly the
# chunks the kernel sees written.
import os
import sys

dev, chunk, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fd = os.open(dev, os.O_WRONLY)
touched = set()
for line in sys.stdin:
    if not line.strip() or line.startswith("#"):
        continue
    off, length = (int(x) for x in line.split())
    os.pwrite(fd, os.urandom(length), off)
    touched.update(range(off // chunk, (off + length - 1) // chunk + 1))
os.fsync(fd)
os.close(fd)
with open(out, "w") as f:
    for c in sorted(touched):
        f.write("%d\n" % c)
