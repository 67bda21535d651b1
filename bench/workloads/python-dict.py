"""A Python program building and mutating a dict: the workload `npm run record:python-dict` records.

Fills a dict with about SIZE_MIB of short strings and integers, then for DURATION seconds updates
a few thousand random entries every few milliseconds (rewrites in place, new objects, frees), as
an in-memory cache or an interpreter's object heap does.
"""
import random
import sys
import time

size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 48
duration = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
rng = random.Random(7)
entries = size_mib * 1024 * 1024 // 160
data = {}
for i in range(entries):
    data[f"key:{i:08d}"] = (i, f"value-{rng.random():.12f}-{i}")
print("ready", flush=True)
end = time.time() + duration
n = 0
while time.time() < end:
    for _ in range(300):
        k = f"key:{rng.randrange(entries):08d}"
        count, text = data[k]
        data[k] = (count + 1, text if rng.random() < 0.7 else f"value-{rng.random():.12f}-{n}")
        n += 1
    time.sleep(0.01)
