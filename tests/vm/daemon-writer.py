#!/usr/bin/python3
"""daemon-writer.py DEV MB RATE_MIB_S [SEEK_MB]

Helper of the daemon-*.test VM tests: writes MB MiB of new data to DEV with
O_DIRECT, 1 MiB at a time starting SEEK_MB MiB in, paced to RATE_MIB_S MiB/s
(as fast as it can when the device is slower). Prints the rate reached.
Exits 0 even when writes fail (an invalidated snapshot's origin still takes
writes; the test judges the snapshot, not the writer).
"""
import mmap
import os
import sys
import time


def main():
    dev, mb, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    seek = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    bs = 1 << 20
    buf = mmap.mmap(-1, bs)  # page aligned, as O_DIRECT wants
    buf.write(os.urandom(bs))
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    start = time.monotonic()
    errors = 0
    for i in range(mb):
        due = start + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        buf[0:8] = i.to_bytes(8, "little")
        try:
            os.pwrite(fd, buf, (seek + i) * bs)
        except OSError:
            errors += 1
    os.close(fd)
    secs = time.monotonic() - start
    print(f"wrote {mb} MiB in {secs:.2f} s: {mb / secs:.1f} MiB/s, {errors} errors")


main()
