#!/usr/bin/python3
# tests/vm/changes-check.py CHANGES.json EXPECTED_CHUNKS WRITES
# Checks snapctl changes --json against the writes: every written byte range
# inside a listed range, ranges sorted, merged and whole chunks, and the
# listed chunks exactly the touched ones. Prints one line per finding;
# exits 1 on any.
import json
import sys

doc = json.load(open(sys.argv[1]))
want = [int(x) for x in open(sys.argv[2])]
writes = [tuple(int(x) for x in l.split()) for l in open(sys.argv[3])
          if l.strip() and not l.startswith("#")]
g = doc["granularity_bytes"]
size = doc["origin_size_bytes"]
rs = [(r["offset"], r["length"]) for r in doc["ranges"]]
bad = 0


def say(msg):
    global bad
    bad += 1
    print(msg)


for (a, b), (c, d) in zip(rs, rs[1:]):
    if a + b >= c:
        say("ranges %d+%d and %d+%d are not sorted and merged" % (a, b, c, d))
for o, l in rs:
    if o % g or (l % g and o + l != size) or o + l > size:
        say("range %d+%d is not whole chunks of %d" % (o, l, g))
for o, l in writes:
    if not any(ro <= o and o + l <= ro + rl for ro, rl in rs):
        say("write %d+%d is not inside one listed range" % (o, l))
got = sorted(c for o, l in rs for c in range(o // g, (o + l + g - 1) // g))
extra = sorted(set(got) - set(want))
missing = sorted(set(want) - set(got))
if extra:
    say("%d chunks listed that were not written, first %s" % (len(extra), extra[:5]))
if missing:
    say("%d written chunks not listed, first %s" % (len(missing), missing[:5]))
print("%d writes, %d chunks written, %d listed in %d ranges" %
      (len(writes), len(want), len(got), len(rs)))
sys.exit(1 if bad else 0)
