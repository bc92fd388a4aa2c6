#!/usr/bin/python3
"""powercut-writer.py DEV FIRST COUNT TAG: writes 4 KiB blocks FIRST..FIRST+COUNT-1
of DEV with O_DIRECT|O_SYNC, each filled with "TAG-<block>-", and prints "TAG BLOCK" for each
block once the write returned (acknowledged), flushing stdout, so a
power cut test knows what must have survived. One process: starting a
program per write is slow under emulation."""
import mmap
import os
import sys

dev, first, count, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fd = os.open(dev, os.O_WRONLY | os.O_DIRECT | os.O_SYNC)
buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
for blk in range(first, first + count):
    pattern = f"{tag}-{blk}-".encode()
    buf.seek(0)
    buf.write((pattern * (4096 // len(pattern) + 1))[:4096])
    os.pwritev(fd, [buf], blk * 4096)
    print(tag, blk, flush=True)
