"""Real Flight SQL clients against `c360 serve`: the ADBC driver (what pandas, polars and
DuckDB use) and flightsql-dbapi with its SQLAlchemy dialect (what Superset uses).

Run by scripts/test.sh with the venv it makes: python test_flight_clients.py PATH_TO_C360
It writes a workspace of known data, starts `c360 serve` on a free port, and checks every
answer against that data. Exits non-zero on the first failure.
"""

import os
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

TOKEN = "client-test-token-0123456789"
ROWS = 300_000
CITIES = ["Leeds", "York", "Hull"]


def write_workspace(root):
    ids = pa.array(range(ROWS), pa.int64())
    table = pa.table(
        {
            "id": ids,
            "amount": pa.array([float(i % 100) for i in range(ROWS)]),
            "city": pa.array([CITIES[i % 3] for i in range(ROWS)]),
        }
    )
    os.makedirs(os.path.join(root, "data", "sales"))
    pq.write_table(table, os.path.join(root, "data", "sales", "part-0.parquet"))
    with open(os.path.join(root, "c360.toml"), "w") as f:
        f.write(
            f"""
[server]
tokens = [{{ user = "bi", token = "{TOKEN}" }}]
users = [{{ name = "ann", password = "ann-secret-pass" }}]

[sources.sales]
format = "parquet"
location = "data/sales/"
"""
        )


def start_server(binary, root):
    proc = subprocess.Popen(
        [binary, "-w", root, "serve", "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=open(os.path.join(root, "serve.log"), "w"),
        text=True,
    )
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        log = open(os.path.join(root, "serve.log")).read()
        raise SystemExit(f"c360 serve did not start: {line!r}\n{log}")
    uri = line.strip().split("listening on ")[1]
    return proc, uri


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {what}")


def expect_error(fn, *fragments):
    try:
        fn()
    except Exception as e:  # the driver's own error classes
        text = str(e)
        for fragment in fragments:
            if fragment not in text:
                raise AssertionError(f"error {text!r} lacks {fragment!r}")
        return text
    raise AssertionError(f"expected an error containing {fragments}")


def adbc_tests(uri):
    import adbc_driver_flightsql.dbapi as flight_sql

    print("ADBC Flight SQL driver")
    auth = {"adbc.flight.sql.authorization_header": f"Bearer {TOKEN}"}
    with flight_sql.connect(uri, db_kwargs=auth) as conn:
        cur = conn.cursor()
        cur.execute("SELECT count(*) AS n, sum(amount) AS total FROM sales WHERE city = ? AND id < ?",
                    parameters=("York", 3000))
        n, total = cur.fetchone()
        expected = [i for i in range(3000) if i % 3 == 1]
        check(n == len(expected) and total == sum(float(i % 100) for i in expected),
              "execute with ? parameters")
        cur.execute("SELECT count(*) FROM sales WHERE amount >= $1", parameters=(50.0,))
        check(cur.fetchone()[0] == ROWS // 2, "execute with $1 parameters")

        cur.execute("SELECT id, amount, city FROM sales ORDER BY id")
        table = cur.fetch_arrow_table()
        check(table.num_rows == ROWS and table.column("id").to_pylist()[-1] == ROWS - 1,
              f"fetch_arrow_table of {ROWS:,} rows")
        check(table.schema.field("city").type == pa.string(), "strings arrive as utf8")

        objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
        catalogs = {c["catalog_name"]: c for c in objects}
        check("datafusion" in catalogs, "adbc_get_objects lists the catalog")
        schemas = {s["db_schema_name"]: s for s in catalogs["datafusion"]["catalog_db_schemas"]}
        check({"public", "c360"} <= set(schemas), "adbc_get_objects lists schemas public and c360")
        tables = {t["table_name"]: t for t in schemas["public"]["db_schema_tables"]}
        columns = [c["column_name"] for c in tables["sales"]["table_columns"]]
        check(columns == ["id", "amount", "city"], "adbc_get_objects lists the columns")

        schema = conn.adbc_get_table_schema("sales")
        check(schema.names == ["id", "amount", "city"] and schema.field("amount").type == pa.float64(),
              "adbc_get_table_schema")

        text = expect_error(lambda: cur.execute("SELECT nope FROM sales"), "nope")
        check("INVALID_ARGUMENT" in text or "InvalidArgument" in text, "a bad query's error text")
        text = expect_error(lambda: cur.execute("CREATE TABLE t AS SELECT 1"), "read-only")
        check("UNAUTHORIZED" in text or "PermissionDenied" in text, "DDL refused on a read-only server")
        check(conn.adbc_current_catalog == "datafusion", "current catalog from session options")

    with flight_sql.connect(uri, db_kwargs={"username": "ann", "password": "ann-secret-pass"}) as conn:
        cur = conn.cursor()
        cur.execute("SELECT 1 AS one")
        check(cur.fetchone() == (1,), "basic auth exchanged for a token")

    def wrong_token():
        bad = {"adbc.flight.sql.authorization_header": "Bearer not-the-token"}
        with flight_sql.connect(uri, db_kwargs=bad) as conn:
            conn.cursor().execute("SELECT 1")

    text = expect_error(wrong_token, "UNAUTHENTICATED")
    check("not valid" in text, "a wrong token is rejected")


def load_test(uri, clients=64, per_client=20):
    """64 ADBC connections with one token, 20 mixed queries each, at once: zero errors, every
    answer right, and the latency percentiles printed."""
    import threading

    import adbc_driver_flightsql.dbapi as flight_sql

    print(f"load: {clients} ADBC clients x {per_client} queries")
    auth = {"adbc.flight.sql.authorization_header": f"Bearer {TOKEN}"}
    york = sum(1 for i in range(ROWS) if i % 3 == 1)
    funnel = ("SELECT count(*) FROM (SELECT city, window_funnel(3600, to_timestamp(id), "
              "amount >= 10, amount >= 50, amount >= 90) AS level FROM sales WHERE id < 3000 "
              "GROUP BY city) WHERE level = 3")
    queries = [
        ("SELECT amount FROM sales WHERE id = ?", lambda k: (k,), lambda k, r: r == [(float(k % 100),)]),
        ("SELECT count(*) FROM sales WHERE city = ?", lambda k: ("York",), lambda k, r: r == [(york,)]),
        (funnel, lambda k: None, lambda k, r: r == [(3,)]),
    ]
    latencies, errors, lock = [], [], threading.Lock()

    def client(number):
        try:
            with flight_sql.connect(uri, db_kwargs=auth) as conn:
                cur = conn.cursor()
                for j in range(per_client):
                    sql, params, right = queries[(number + j) % len(queries)]
                    key = number * 1000 + j
                    started = time.perf_counter()
                    cur.execute(sql, parameters=params(key))
                    rows = cur.fetchall()
                    took = time.perf_counter() - started
                    if not right(key, rows):
                        raise AssertionError(f"{sql}: wrong answer {rows}")
                    with lock:
                        latencies.append(took)
        except Exception as e:  # every failure is collected and reported
            with lock:
                errors.append(f"client {number}: {e}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    check(not errors, f"{clients * per_client} queries from {clients} clients without an error"
          + (f": {len(errors)} failed, first {errors[0]}" if errors else ""))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"  load: {len(latencies)} queries in {wall:.1f}s ({len(latencies) / wall:.0f}/s), "
          f"p50 {pick(0.5):.0f} ms, p99 {pick(0.99):.0f} ms (debug build)")


def sqlalchemy_tests(address):
    import flightsql.sqlalchemy  # noqa: F401  (registers the dialect)
    from sqlalchemy import create_engine, inspect, text

    print("flightsql-dbapi + SQLAlchemy (the Superset path)")
    host, port = address.rsplit(":", 1)
    engine = create_engine(f"datafusion+flightsql://ann:ann-secret-pass@{host}:{port}?insecure=true")
    inspector = inspect(engine)
    check({"public", "c360"} <= set(inspector.get_schema_names()), "list schemas")
    check("sales" in inspector.get_table_names(schema="public"), "list tables")
    check("sales" in inspector.get_table_names(), "list tables with no schema given")
    columns = {c["name"]: c for c in inspector.get_columns("sales", schema="public")}
    check(list(columns) == ["id", "amount", "city"], "list columns")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT city, count(*) AS n FROM sales GROUP BY city ORDER BY city")).fetchall()
    check([tuple(r) for r in rows] == [("Hull", ROWS // 3), ("Leeds", ROWS // 3), ("York", ROWS // 3)],
          "run a query")
    token_engine = create_engine(f"datafusion+flightsql://{host}:{port}?insecure=true&token={TOKEN}")
    with token_engine.connect() as conn:
        check(conn.execute(text("SELECT 2")).scalar() == 2, "connect with a token")


def running_queries(uri):
    """The number of running queries, from the server's health action."""
    import json

    import pyarrow.flight as flight

    client = flight.FlightClient(uri)
    options = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {TOKEN}".encode())])
    try:
        body = next(iter(client.do_action(flight.Action("health", b""), options))).body
        return json.loads(body.to_pybytes())["running_queries"]
    finally:
        client.close()


def stop_while_busy(proc, uri):
    """SIGTERM while a long query streams: the server cancels it and exits within 5 s."""
    import threading

    import adbc_driver_flightsql.dbapi as flight_sql

    auth = {"adbc.flight.sql.authorization_header": f"Bearer {TOKEN}"}
    outcome = {}

    def long_query():
        conn = flight_sql.connect(uri, db_kwargs=auth, autocommit=True)
        cur = conn.cursor()
        try:
            cur.execute("SELECT count(*) FROM generate_series(1, 100000000000)")
            cur.fetchall()
            outcome["error"] = None
        except Exception as e:  # the cancelled query's error
            outcome["error"] = str(e)
        finally:
            # The server is gone: the cursor's broken result reader raises again on every
            # close, so it is dropped before the statement and the connection close.
            try:
                cur.close()
            except Exception:
                cur._results = None
                try:
                    cur.close()
                except Exception:
                    pass
            try:
                conn.close()
            except Exception:
                pass

    thread = threading.Thread(target=long_query)
    thread.start()
    deadline = time.time() + 30
    while running_queries(uri) < 1:
        check(time.time() < deadline, "the long query starts within 30 s")
        time.sleep(0.05)
    started = time.time()
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        raise AssertionError("c360 serve did not stop within 5 s of SIGTERM")
    thread.join(timeout=10)
    check(proc.returncode == 0, f"SIGTERM stops the server in {time.time() - started:.1f}s, exit 0")
    check(outcome.get("error") is not None, "the running query ends with an error, not a result")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as root:
        write_workspace(root)
        proc, uri = start_server(binary, root)
        try:
            adbc_tests(uri)
            load_test(uri)
            sqlalchemy_tests(uri.split("://", 1)[1])
            stop_while_busy(proc, uri)
        finally:
            if proc.poll() is None:
                proc.kill()
        log = open(os.path.join(root, "serve.log")).read()
        check("c360::query" in log and "user=bi" in log, "the server logs one line per query")
    print("client tests passed")


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"({time.time() - started:.1f}s)")
