#!/usr/bin/python3
"""powercut-changes-check.py CHANGES_JSON TAG ACKS: every 4 KiB block that ACKS
lists for TAG ("TAG BLOCK" lines, as powercut-writer.py printed them before
the cut) must lie inside a range of the `snapctl changes --json` document.
Prints how many were checked; exits 1 naming the first block missing."""
import json
import sys

doc = json.load(open(sys.argv[1]))
tag, acks = sys.argv[2], sys.argv[3]
ranges = [(r["offset"], r["offset"] + r["length"]) for r in doc["ranges"]]
blocks = [int(w[1]) for w in (l.split() for l in open(acks)) if len(w) == 2 and w[0] == tag and w[1].isdigit()]
for blk in blocks:
    start, end = blk * 4096, blk * 4096 + 4096
    if not any(a <= start and end <= b for a, b in ranges):
        print(f"acknowledged block {blk} is not in the changes")
        sys.exit(1)
print(f"{len(blocks)} acknowledged blocks listed")
