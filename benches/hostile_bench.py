"""Health under hostile load, run by benches/hostile.sh.

Starts `c360 serve` (release) with its default limits (1 GiB per query, 300 s, 16 concurrent
queries) on a workspace of PEOPLE rows, keeps 16 hostile queries running at once from 16 ADBC
connections (cross joins, pairwise string comparisons over a cross join, k-means with a huge
k, deep expressions, a pathological regex over long strings, a large sort) and meanwhile calls
the health action every 50 ms. Prints health latency p50/p99/max idle and under that load,
and the running-query count health reported. Issue 15 asks for health within 100 ms.
"""

import json
import os
import sys
import tempfile
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pyarrow.parquet as pq

from flight_bench import percentiles, start_server

TOKEN = "bench-token-0123456789abcdef"
PEOPLE = 30_000
CONCURRENT = 16

HOSTILE = [
    "SELECT count(*) FROM people a, people b, people c",
    "SELECT sum(damerau_levenshtein(a.name, b.name)) FROM people a, people b",
    "SELECT sum(jaro_winkler(a.name, b.name)) FROM people a, people b",
    "SELECT count(*) FROM kmeans_segments('people', 'id', 1000, 1, 'x', 'y')",
    "SELECT " + "+".join(["x"] * 1500) + " AS s FROM people a, people b LIMIT 1",
    "SELECT count(*) FROM people a, people b WHERE regexp_like(a.name || repeat(b.name, 50), '(a*)*b$')",
    "SELECT value FROM generate_series(1, 200000000) ORDER BY value DESC LIMIT 1",
    "SELECT sum(levenshtein_similarity(a.name, b.name)) FROM people a, people b",
]


def write_workspace(root):
    rng = np.random.default_rng(11)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz "))
    names = ["".join(rng.choice(letters, 24)) for _ in range(PEOPLE)]
    table = pa.table(
        {
            "id": pa.array(np.arange(PEOPLE, dtype=np.int64)),
            "name": pa.array(names),
            "x": pa.array(rng.random(PEOPLE)),
            "y": pa.array(rng.random(PEOPLE)),
        }
    )
    os.makedirs(os.path.join(root, "data", "people"))
    pq.write_table(table, os.path.join(root, "data", "people", "part-0.parquet"))
    with open(os.path.join(root, "c360.toml"), "w") as f:
        f.write(
            f"""
[server]
tokens = [{{ user = "bench", token = "{TOKEN}" }}]

[sources.people]
format = "parquet"
location = "data/people/"
"""
        )


def health_latencies(uri, seconds):
    """(latencies in ms, largest running_queries seen) of health calls every 50 ms."""
    client = flight.FlightClient(uri)
    options = flight.FlightCallOptions(
        headers=[(b"authorization", f"Bearer {TOKEN}".encode())], timeout=30
    )
    latencies, running = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        body = next(iter(client.do_action(flight.Action("health", b""), options))).body
        latencies.append((time.perf_counter() - started) * 1000)
        running = max(running, json.loads(body.to_pybytes())["running_queries"])
        time.sleep(0.05)
    client.close()
    return latencies, running


def summary(latencies):
    p50, p99, top = percentiles(latencies)
    return f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {top:6.1f} ms  ({len(latencies)} calls)"


def main():
    binary, seconds = sys.argv[1], float(sys.argv[2])
    import adbc_driver_flightsql.dbapi as flight_sql

    with tempfile.TemporaryDirectory() as root:
        write_workspace(root)
        proc, uri = start_server(binary, root)
        stop = threading.Event()
        outcomes = {"started": 0, "ended": 0}
        lock = threading.Lock()

        def hostile(i):
            auth = {"adbc.flight.sql.authorization_header": f"Bearer {TOKEN}"}
            conn = flight_sql.connect(uri, db_kwargs=auth, autocommit=True)
            while not stop.is_set():
                sql = HOSTILE[i % len(HOSTILE)]
                with lock:
                    outcomes["started"] += 1
                try:
                    with conn.cursor() as cur:
                        cur.execute(sql)
                        cur.fetchall()
                except Exception:  # an error is an answer; the server must stay up
                    pass
                with lock:
                    outcomes["ended"] += 1
            try:
                conn.close()
            except Exception:
                pass

        try:
            idle, _ = health_latencies(uri, 5)
            print(f"health, idle:                           {summary(idle)}")
            threads = [threading.Thread(target=hostile, args=(i,), daemon=True)
                       for i in range(CONCURRENT)]
            for t in threads:
                t.start()
            time.sleep(2)  # let the 16 queries get going
            busy, running = health_latencies(uri, seconds)
            print(f"health, {CONCURRENT} hostile queries running:     {summary(busy)}")
            print(f"  most running queries health reported: {running}; hostile queries "
                  f"started {outcomes['started']}, ended {outcomes['ended']}")
            under = sum(1 for ms in busy if ms <= 100) / len(busy)
            print(f"  health calls within 100 ms: {100 * under:.1f}%")
            stop.set()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
