#!/usr/bin/python3
"""kernel-wr.py SRC DEV MODEL BS SEEK:SKIP...

Helper of the kernel-*.test VM tests: for each SEEK:SKIP pair (in BS-byte
units) copies BS bytes at SKIP of SRC to SEEK of DEV with O_DIRECT, one
write each, and to the same place in the MODEL file. Process creation is
slow under emulation, so many small writes are done by one process.
"""
import mmap
import os
import sys


def main():
    src, dev, model, bs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pairs = [tuple(int(x) for x in a.split(":")) for a in sys.argv[5:]]
    buf = mmap.mmap(-1, bs)  # page aligned, as O_DIRECT wants
    with open(src, "rb") as s, open(model, "r+b") as m:
        fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
        try:
            for seek, skip in pairs:
                s.seek(skip * bs)
                data = s.read(bs)
                if len(data) != bs:
                    sys.exit(f"kernel-wr: short read at {skip} in {src}")
                buf.seek(0)
                buf.write(data)
                if os.pwrite(fd, buf, seek * bs) != bs:
                    sys.exit(f"kernel-wr: short write at {seek} to {dev}")
                m.seek(seek * bs)
                m.write(data)
        finally:
            os.close(fd)


if __name__ == "__main__":
    main()
