"""DuckDB side of benches/journey.sh: the funnel and retention of the c360 query, written with
self-joins and conditional aggregates (DuckDB has no windowFunnel or retention), over the same
customer_events Parquet files. Prints seconds and results as JSON."""
import json
import sys
import time

import duckdb

events = sys.argv[1].rstrip("/") + "/*.parquet"
con = duckdb.connect()
con.execute(f"CREATE VIEW customer_events AS SELECT * FROM read_parquet('{events}')")

# The deepest step reached within one day of a page view, each step at or after the previous.
FUNNEL = """
WITH e AS (SELECT customer_id, event_type, "at" FROM customer_events
           WHERE event_type IN ('page_view', 'product_view', 'add_to_cart', 'order')),
s1 AS (SELECT customer_id, "at" AS t1 FROM e WHERE event_type = 'page_view'),
s2 AS (SELECT s1.customer_id, s1.t1, min(e."at") AS t2 FROM s1 JOIN e
         ON e.customer_id = s1.customer_id AND e.event_type = 'product_view'
        AND e."at" >= s1.t1 AND e."at" <= s1.t1 + INTERVAL 1 DAY GROUP BY ALL),
s3 AS (SELECT s2.customer_id, s2.t1, min(e."at") AS t3 FROM s2 JOIN e
         ON e.customer_id = s2.customer_id AND e.event_type = 'add_to_cart'
        AND e."at" >= s2.t2 AND e."at" <= s2.t1 + INTERVAL 1 DAY GROUP BY ALL),
s4 AS (SELECT s3.customer_id, s3.t1 FROM s3 JOIN e
         ON e.customer_id = s3.customer_id AND e.event_type = 'order'
        AND e."at" >= s3.t3 AND e."at" <= s3.t1 + INTERVAL 1 DAY GROUP BY ALL),
levels AS (
  SELECT customer_id, max(level) AS level FROM (
    SELECT customer_id, 1 AS level FROM s1 UNION ALL SELECT customer_id, 2 FROM s2
    UNION ALL SELECT customer_id, 3 FROM s3 UNION ALL SELECT customer_id, 4 FROM s4)
  GROUP BY customer_id),
everyone AS (SELECT DISTINCT customer_id FROM customer_events)
SELECT sum(coalesce(level, 0)), count(*) FROM everyone LEFT JOIN levels USING (customer_id)
"""

RETENTION = """
SELECT sum(m0), sum(m0 * m1), sum(m0 * m2), sum(m0 * m3) FROM (
  SELECT customer_id,
         max(CASE WHEN date_trunc('month', "at") = TIMESTAMP '2024-01-01' THEN 1 ELSE 0 END) AS m0,
         max(CASE WHEN date_trunc('month', "at") = TIMESTAMP '2024-02-01' THEN 1 ELSE 0 END) AS m1,
         max(CASE WHEN date_trunc('month', "at") = TIMESTAMP '2024-03-01' THEN 1 ELSE 0 END) AS m2,
         max(CASE WHEN date_trunc('month', "at") = TIMESTAMP '2024-04-01' THEN 1 ELSE 0 END) AS m3
  FROM customer_events GROUP BY customer_id)
"""

out = {}
for name, sql in (("window_funnel", FUNNEL), ("retention", RETENTION)):
    start = time.perf_counter()
    row = con.execute(sql).fetchone()
    out[name] = {"seconds": time.perf_counter() - start, "result": [int(v) for v in row]}
print(json.dumps(out))
