#!/usr/bin/python3
"""daemon-writer.py DEV MB RATE SIZEFILE MARK_BYTES

Helper of bench/daemon: writes MB MiB of new data to DEV (O_DIRECT, 1 MiB
at a time, paced to RATE MiB/s) while a thread watches SIZEFILE (the COW
device's /sys/block/*/size) every 5 ms. Prints, on the monotonic clock of
this process:
  crossing S   when the data written reached MARK_BYTES of COW (each MiB
               of new data takes a MiB of COW plus 16 bytes of metadata;
               the header chunk and first metadata area are counted too)
  grown S      when SIZEFILE first changed (the COW was extended)
  rate R       MiB/s reached
"""
import mmap
import os
import sys
import threading
import time

dev, mb, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
sizefile, mark = sys.argv[4], int(sys.argv[5])
grown = []
stop = False


def watch():
    first = open(sizefile).read()
    while not stop:
        if open(sizefile).read() != first:
            grown.append(time.monotonic())
            return
        time.sleep(0.005)


t = threading.Thread(target=watch, daemon=True)
t.start()
bs = 1 << 20
buf = mmap.mmap(-1, bs)
buf.write(os.urandom(bs))
fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
start = time.monotonic()
crossing = None
for i in range(mb):
    due = start + i / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    try:
        os.pwrite(fd, buf, i * bs)
    except OSError:
        pass
    used = 8192 + (i + 1) * (bs + bs // 256)
    if crossing is None and used >= mark:
        crossing = time.monotonic()
secs = time.monotonic() - start
time.sleep(0.5)
stop = True
print(f"rate {mb / secs:.1f}")
print(f"crossing {crossing:.3f}" if crossing else "crossing none")
print(f"grown {grown[0]:.3f}" if grown else "grown none")
