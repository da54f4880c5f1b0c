"""DuckDB side of benches/foundation.sh: the same staging SQL (sql/staging/stg_*.sql) over the same files.

Each source becomes a view over its files (with the types c360.toml declares for the CRM CSV),
then every model in sql/ is written to Parquet with COPY, in dependency order. Prints seconds.
"""

import re
import sys
import time
from pathlib import Path

import duckdb

ws = Path(sys.argv[1])
data = ws / "data"
out = ws / "duckdb_out"
out.mkdir(exist_ok=True)

views = {
    "crm_contacts": f"read_csv('{data}/crm/contacts/*.csv', header=true, types={{'birth_date': 'DATE', 'created_at': 'TIMESTAMP', 'postcode': 'VARCHAR'}})",
    "shop_accounts": f"read_parquet('{data}/shop/accounts/*.parquet')",
    "orders": f"read_parquet('{data}/shop/orders/*.parquet')",
    "subscriptions": f"read_parquet('{data}/shop/subscriptions/*.parquet')",
    "email_events": f"read_parquet('{data}/email/events/*.parquet')",
    "web_events": f"read_parquet('{data}/web/events/*.parquet')",
    "helpdesk_tickets": f"read_csv('{data}/helpdesk/tickets/*.csv', header=true)",
    "nps_responses": f"read_json('{data}/survey/nps/*.json', format='newline_delimited')",
    "offers": f"read_csv('{data}/marketing/offers.csv', header=true)",
    "offer_history": f"read_parquet('{data}/marketing/offer_history/*.parquet')",
}

con = duckdb.connect()
started = time.perf_counter()
for name, reader in views.items():
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM {reader}")
models = {p.stem: p.read_text() for p in sorted((ws / "sql" / "staging").glob("stg_*.sql"))}
done = set()
while len(done) < len(models):
    for name, sql in models.items():
        if name in done:
            continue
        deps = {m for m in models if m != name and re.search(rf"\b{m}\b", sql)}
        if deps <= done:
            body = "\n".join(l for l in sql.splitlines() if not l.strip().startswith("--"))
            con.execute(f"COPY ({body}) TO '{out}/{name}.parquet' (FORMAT parquet)")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{out}/{name}.parquet')")
            done.add(name)
print(f"{time.perf_counter() - started:.2f}")
