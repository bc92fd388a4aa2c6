#!/usr/bin/python3
"""powercut-check.py DEV TAG ACKS: every block that the file ACKS lists for TAG
("TAG BLOCK" lines, as powercut-writer.py printed them before the cut) must
hold its "TAG-<block>-" pattern on DEV. Prints how many were checked; exits
1 naming the first block that lost its acknowledged data."""
import sys

dev, tag, acks = sys.argv[1], sys.argv[2], sys.argv[3]
blocks = [int(w[1]) for w in (l.split() for l in open(acks)) if len(w) == 2 and w[0] == tag and w[1].isdigit()]
with open(dev, "rb", buffering=0) as f:
    for blk in blocks:
        f.seek(blk * 4096)
        data = f.read(4096)
        pattern = f"{tag}-{blk}-".encode()
        if data != (pattern * (4096 // len(pattern) + 1))[:4096]:
            print(f"block {blk} lost its acknowledged write")
            sys.exit(1)
print(f"{len(blocks)} acknowledged blocks intact")
