"""An SQLite database under inserts, updates and queries: the workload `npm run record:sqlite` records.

An in-memory database of about SIZE_MIB (a table of orders with an index), then for DURATION
seconds transactions that insert new rows, update random ones and read ranges, as an OLTP
workload does: B-tree pages rewritten in place, a few bytes of each.
"""
import random
import sqlite3
import sys
import time

size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 48
duration = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
rng = random.Random(11)
db = sqlite3.connect(":memory:")
db.execute("PRAGMA cache_size = -%d" % (size_mib * 1024))
db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER, amount REAL, note TEXT)")
db.execute("CREATE INDEX by_customer ON orders (customer)")
rows = size_mib * 1024 * 1024 // 120
db.executemany(
    "INSERT INTO orders VALUES (?, ?, ?, ?)",
    ((i, rng.randrange(100000), rng.random() * 1000, "n%x" % rng.getrandbits(64)) for i in range(rows)),
)
db.commit()
print("ready", flush=True)
end = time.time() + duration
next_id = rows
while time.time() < end:
    with db:
        for _ in range(20):
            db.execute("UPDATE orders SET amount = amount + 1 WHERE id = ?", (rng.randrange(next_id),))
        for _ in range(5):
            db.execute("INSERT INTO orders VALUES (?, ?, ?, ?)", (next_id, rng.randrange(100000), rng.random(), "x"))
            next_id += 1
        db.execute("SELECT SUM(amount) FROM orders WHERE customer BETWEEN ? AND ?", (c := rng.randrange(100000), c + 50)).fetchone()
    time.sleep(0.01)
