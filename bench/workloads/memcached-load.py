"""A load generator for memcached (text protocol): `npm run record:memcached` records memcached under it.

Fills about SIZE_MIB of 100-byte values, then for DURATION seconds sets and gets random keys (one
set to four gets, 250 operations every 10 ms), as a cache in front of a database sees.
"""
import random
import socket
import sys
import time

port = int(sys.argv[1])
size_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 32
duration = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
rng = random.Random(5)
keys = size_mib * 1024 * 1024 // 200
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")


def set_(i, batch):
    value = b"%0100d" % rng.getrandbits(64)
    batch.append(b"set k%d 0 0 %d noreply\r\n%s\r\n" % (i, len(value), value))


batch = []
for i in range(keys):
    set_(i, batch)
    if len(batch) == 500:
        s.sendall(b"".join(batch))
        batch = []
s.sendall(b"".join(batch) + b"version\r\n")
f.readline()
print("ready", flush=True)
end = time.time() + duration
while time.time() < end:
    batch = []
    for _ in range(50):
        set_(rng.randrange(keys), batch)
    gets = [rng.randrange(keys) for _ in range(200)]
    s.sendall(b"".join(batch) + b"get " + b" ".join(b"k%d" % k for k in gets) + b"\r\n")
    while f.readline() != b"END\r\n":
        pass
    time.sleep(0.01)
