#!/usr/bin/python3
"""multisnap-writers.py DEV IMAGE MODEL THREADS WRITES SEED [START_FILE]

Helper of the kernel-multisnap VM test: THREADS threads write to DEV at
once with O_DIRECT, WRITES writes each, of random sizes from 512 bytes to
1 MiB (multiples of 512) at random 512-byte aligned places inside the
thread's own slice of DEV (slices are disjoint, so the result does not
depend on how the threads interleave). Every write is also applied to an
image of DEV read at the start, which is written to MODEL at the end: what
DEV must read back. With START_FILE, each thread waits until that file
exists before its first write (so a test can start a fault first).

The threads run in one process (process creation is slow under emulation);
os.pwrite releases the GIL, so their writes are in flight together.
"""
import mmap
import os
import random
import sys
import threading
import time

MAX_WRITE = 1 << 20


def writer(fd, image, lo, hi, writes, rng, start_file, errors):
    buf = mmap.mmap(-1, MAX_WRITE)  # page aligned, as O_DIRECT wants
    if start_file:
        while not os.path.exists(start_file):
            time.sleep(0.01)
    for _ in range(writes):
        size = rng.randint(1, MAX_WRITE // 512) * 512
        # Small writes more often than large ones, as real workloads do.
        if rng.random() < 0.5:
            size = min(size, rng.choice((512, 4096, 8192, 65536)))
        size = min(size, hi - lo)
        off = lo + rng.randrange((hi - lo - size) // 512 + 1) * 512
        data = rng.randbytes(size)
        buf.seek(0)
        buf.write(data)
        try:
            n = os.pwrite(fd, memoryview(buf)[:size], off)
        except OSError as e:
            errors.append(f"write of {size} at {off}: {e}")
            return
        if n != size:
            errors.append(f"short write of {size} at {off}: {n}")
            return
        image[off:off + size] = data


def main():
    dev, initial, model = sys.argv[1:4]
    threads, writes, seed = (int(x) for x in sys.argv[4:7])
    start_file = sys.argv[7] if len(sys.argv) > 7 else None
    with open(initial, "rb") as f:
        image = bytearray(f.read())
    size = len(image)
    slice_size = size // threads // 512 * 512
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    errors = []
    workers = [
        threading.Thread(target=writer, args=(
            fd, image, i * slice_size, (i + 1) * slice_size, writes,
            random.Random(seed * 1000 + i), start_file, errors))
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    os.fsync(fd)
    os.close(fd)
    with open(model, "wb") as m:
        m.write(image)
    if errors:
        sys.exit("multisnap-writers: " + "; ".join(errors))


if __name__ == "__main__":
    main()
