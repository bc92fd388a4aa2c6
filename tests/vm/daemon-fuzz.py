#!/usr/bin/python3
"""daemon-fuzz.py SOCKET [ROUNDS]

Helper of daemon-socket.test: throws malformed and hostile traffic at
snapmgrd's status socket and checks after each kind that the daemon still
answers a status request within 2 seconds. Prints one line per kind;
exits 1 on the first kind after which the daemon stopped answering, or when
a reply is missing or is not the error it should be.
"""
import json
import os
import random
import socket
import sys
import time

SOCK = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 300
rng = random.Random(7)


def conn(timeout=5):
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        try:
            s.connect(SOCK)
            return s
        except BlockingIOError:  # backlog full: the daemon is accepting
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.01)


def readline(s):
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf


def ask(line, timeout=5):
    s = conn(timeout)
    s.sendall(line + b"\n")
    r = readline(s)
    s.close()
    return json.loads(r) if r else None


def alive(kind):
    t0 = time.monotonic()
    try:
        r = ask(b'{"method":"status"}', timeout=2)
    except Exception as e:  # noqa: BLE001
        print(f"FAIL after {kind}: no answer ({e})")
        sys.exit(1)
    ms = (time.monotonic() - t0) * 1000
    if not r or r.get("ok") is not True:
        print(f"FAIL after {kind}: bad status reply {r}")
        sys.exit(1)
    print(f"ok {kind}: still answers ({ms:.0f} ms)")


def expect_error(line, what):
    r = ask(line)
    if not r or r.get("ok") is not False or "error" not in r:
        print(f"FAIL {what}: expected an error reply, got {r}")
        sys.exit(1)


# 1. malformed JSON and wrong shapes: one error reply each.
bad = [b"{", b"}", b"[]", b"null", b"\"status\"", b"{\"method\":}", b"{\"method\":1}",
       b"{\"method\":\"status\"}}", b"{\"method\":\"status\",\"snapshot\":{}}",
       b"\x00\x01\x02", b"\xff" * 100, b"{" * 5000, b"[" * 4000 + b"]" * 4000,
       b"{\"method\":\"status\"" + b",\"a\":1" * 800 + b"}"]
for b in bad:
    expect_error(b, f"malformed {b[:20]!r}")
alive("malformed JSON")

# 2. unknown methods.
for m in ["reboot", "", "STATUS", "status ", "subscribe\u0000", "x" * 3000]:
    expect_error(json.dumps({"method": m}).encode(), f"method {m[:10]!r}")
alive("unknown methods")

# 3. a 10 MiB line, then a good request on the same connection.
s = conn(30)
chunk = b"A" * (1 << 20)
for _ in range(10):
    s.sendall(chunk)
s.sendall(b"\n{\"method\":\"list\"}\n")
r1 = json.loads(readline(s))
r2 = json.loads(readline(s))
s.close()
if r1.get("error") != "request too long" or r2.get("ok") is not True:
    print(f"FAIL 10 MiB line: replies {r1} / {r2}")
    sys.exit(1)
alive("10 MiB line")

# 4. half-closed connections: a last line without newline is answered; an
# empty or cut one is not a crash.
for payload in [b'{"method":"list"}', b'{"meth', b"", b"\n\n\n"]:
    s = conn()
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    r = readline(s)
    s.close()
    if payload == b'{"method":"list"}' and not r.startswith(b'{"ok":true'):
        print(f"FAIL half-closed: {r[:80]!r}")
        sys.exit(1)
for _ in range(50):  # connect and vanish
    s = conn()
    s.close()
s = conn()
s.sendall(b'{"method":"status"}\n')
s.close()  # gone before the reply
alive("half-closed and vanished clients")

# 5. a client that never reads: the others are still served, and it is
# dropped once its backlog passes the limit.
slow = conn()
slow.setblocking(False)
sent = 0
t_end = time.monotonic() + 20
dropped = False
while time.monotonic() < t_end:
    try:
        sent += slow.send(b'{"method":"status"}\n' * 200)
    except BlockingIOError:
        time.sleep(0.01)
    except (BrokenPipeError, ConnectionResetError):
        dropped = True
        break
    if sent > 4 << 20:
        break
alive("a client that never reads")
slow.close()
print(f"ok the non-reading client sent {sent} bytes, dropped={dropped}")

# 6. many idle connections at once.
idle = [conn() for _ in range(200)]
alive("200 idle connections")
for s in idle:
    s.close()

# 7. random mutations of valid requests.
seeds = [b'{"method":"status"}', b'{"method":"list"}', b'{"method":"status","snapshot":"x"}']
for i in range(ROUNDS):
    b = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 8)):
        op = rng.randint(0, 2)
        pos = rng.randrange(len(b) + 1)
        if op == 0:
            b[pos:pos] = bytes([rng.randrange(256)])
        elif op == 1 and len(b) > 1:
            del b[min(pos, len(b) - 1)]
        elif len(b):
            b[min(pos, len(b) - 1)] = rng.randrange(256)
    b = b.replace(b"\n", b" ")
    s = conn()
    s.sendall(bytes(b) + b"\n")
    r = readline(s)
    s.close()
    if not r:
        print(f"FAIL mutation {bytes(b)!r}: no reply")
        sys.exit(1)
    json.loads(r)
alive(f"{ROUNDS} random mutations")

# 8. subscribe, then hang up.
s = conn()
s.sendall(b'{"method":"subscribe"}\n')
r = json.loads(readline(s))
if r.get("subscribed") is not True:
    print(f"FAIL subscribe: {r}")
    sys.exit(1)
s.close()
alive("subscribe")
