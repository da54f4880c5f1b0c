"""Flight SQL streaming benchmark, run by benches/flight.sh.

Streams a ROWS-row result from `c360 serve` (release) to a pyarrow client through the ADBC
Flight SQL driver and compares it, in the same run, with reading the same Parquet file
locally with pyarrow (the limit a network service approaches). Then measures the round trip
of a small query (prepare, execute, fetch) as p50/p99 over many calls.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TOKEN = "bench-token-0123456789abcdef"


def write_data(root, rows):
    path = os.path.join(root, "data", "events")
    os.makedirs(path)
    rng = np.random.default_rng(7)
    chunk = 1_000_000
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        table = pa.table(
            {
                "event_id": pa.array(np.arange(start, start + n, dtype=np.int64)),
                "customer_id": pa.array(rng.integers(0, 500_000, n, dtype=np.int64)),
                "amount": pa.array(rng.random(n) * 100.0),
                "kind": pa.array(np.array(["view", "cart", "order", "refund"])[rng.integers(0, 4, n)]),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(os.path.join(path, "part-0.parquet"), table.schema)
        writer.write_table(table, row_group_size=chunk)
    writer.close()
    with open(os.path.join(root, "c360.toml"), "w") as f:
        f.write(
            f"""
[server]
tokens = [{{ user = "bench", token = "{TOKEN}" }}]
query_timeout_secs = 3600

[sources.events]
format = "parquet"
location = "data/events/"
"""
        )
    return os.path.join(path, "part-0.parquet")


def percentiles(latencies):
    """(p50, p99, max) of latencies."""
    ordered = sorted(latencies)
    return (statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)],
            ordered[-1])


def start_server(binary, root):
    """`c360 serve` on a free port of 127.0.0.1 for the workspace `root`: (process, uri)."""
    proc = subprocess.Popen(
        [binary, "-w", root, "serve", "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return proc, proc.stdout.readline().strip().split("listening on ")[1]


def best_of(n, fn):
    times = []
    result = None
    for _ in range(n):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main():
    binary, rows = sys.argv[1], int(sys.argv[2])
    import adbc_driver_flightsql.dbapi as flight_sql

    with tempfile.TemporaryDirectory() as root:
        parquet = write_data(root, rows)
        proc, uri = start_server(binary, root)
        try:
            local_s, local = best_of(3, lambda: pq.read_table(parquet))
            auth = {"adbc.flight.sql.authorization_header": f"Bearer {TOKEN}"}
            conn = flight_sql.connect(uri, db_kwargs=auth)
            cur = conn.cursor()

            def stream():
                cur.execute("SELECT * FROM events")
                return cur.fetch_arrow_table()

            flight_s, remote = best_of(3, stream)
            assert remote.num_rows == rows == local.num_rows, (remote.num_rows, rows)
            megabytes = local.nbytes / 1e6
            print(f"result: {rows:,} rows, {megabytes:,.0f} MB in Arrow memory, 4 columns")
            print(f"  pyarrow read_table (local Parquet): {local_s:6.2f} s  "
                  f"{rows / local_s / 1e6:6.1f} M rows/s  {megabytes / local_s:7.0f} MB/s")
            print(f"  c360 serve -> ADBC fetch_arrow_table: {flight_s:6.2f} s  "
                  f"{rows / flight_s / 1e6:6.1f} M rows/s  {megabytes / flight_s:7.0f} MB/s")
            print(f"  ratio (Flight / local read): {flight_s / local_s:.2f}")

            latencies = []
            for i in range(300):
                started = time.perf_counter()
                cur.execute("SELECT count(*) FROM events WHERE event_id = ?", parameters=(i,))
                cur.fetchall()
                latencies.append((time.perf_counter() - started) * 1000)
            p50, p99, _ = percentiles(latencies[20:])
            print(f"small query round trip (prepare + bind + execute + fetch, point filter on "
                  f"{rows:,} rows): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            simple = []
            for _ in range(300):
                started = time.perf_counter()
                cur.execute("SELECT 1")
                cur.fetchall()
                simple.append((time.perf_counter() - started) * 1000)
            p50, p99, _ = percentiles(simple[20:])
            print(f"SELECT 1 round trip: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            conn.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
