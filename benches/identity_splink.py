"""Splink 5 (DuckDB backend) on the records c360 matched, with equivalent comparisons and
blocking rules; prints timings and the pairwise precision, recall and F1 of both tools' clusters
against the generator's truth. Usage: identity_splink.py OUT_DIR (made by benches/identity.sh)."""

import json
import sys
import time

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

out = sys.argv[1]
con = duckdb.connect()
con.execute(f"CREATE TABLE records AS SELECT * FROM read_parquet('{out}/records.parquet')")
con.execute(
    "CREATE TABLE truth AS SELECT source || ':' || record_id AS record_key, person_id "
    f"FROM read_parquet('{out}/data/truth/record_person/*.parquet')"
)

rules = [
    block_on("email_std"),
    block_on("phone_std"),
    block_on("first_name_std", "last_name_std"),
    block_on("last_name_sound", "postcode_std"),
]
settings = SettingsCreator(
    link_type="dedupe_only",
    unique_id_column_name="record_key",
    blocking_rules_to_generate_predictions=rules,
    comparisons=[
        cl.JaroWinklerAtThresholds("first_name_std", [0.92, 0.8]).configure(
            term_frequency_adjustments=True
        ),
        cl.JaroWinklerAtThresholds("last_name_std", [0.92, 0.8]).configure(
            term_frequency_adjustments=True
        ),
        cl.ExactMatch("email_std").configure(term_frequency_adjustments=True),
        cl.ExactMatch("phone_std").configure(term_frequency_adjustments=True),
        cl.ExactMatch("postcode_std").configure(term_frequency_adjustments=True),
        cl.AbsoluteDateDifferenceAtThresholds(
            "birth_date", input_is_string=False, metrics=["day"], thresholds=[31]
        ),
    ],
)

started = time.perf_counter()
db_api = DuckDBAPI(connection=con)
records = db_api.register("records")
linker = Linker(records, settings, log_level=None)
linker.training.estimate_probability_two_random_records_match(
    [block_on("email_std")], recall=0.7
)
linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=0)
for rule in rules:
    linker.training.estimate_parameters_using_expectation_maximisation(rule)
trained = time.perf_counter()
predictions = linker.inference.predict(threshold_match_probability=0.01)
predicted = time.perf_counter()
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.99)
clustered = time.perf_counter()
scored_pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchone()[0]
con.execute(
    f"CREATE TABLE splink_clusters AS SELECT record_key, cluster_id AS cluster FROM {clusters.physical_name}"
)
con.execute(f"CREATE TABLE c360_clusters AS SELECT * FROM read_parquet('{out}/c360_clusters.parquet')")


def scores(table):
    pairs = con.execute(
        f"""
        WITH j AS (SELECT c.cluster, t.person_id FROM {table} c JOIN truth t USING (record_key)),
        both_ AS (SELECT count(*) n FROM j GROUP BY cluster, person_id),
        predicted AS (SELECT count(*) n FROM j GROUP BY cluster),
        actual AS (SELECT count(*) n FROM j GROUP BY person_id)
        SELECT (SELECT sum(n * (n - 1) / 2) FROM both_),
               (SELECT sum(n * (n - 1) / 2) FROM predicted),
               (SELECT sum(n * (n - 1) / 2) FROM actual)
        """
    ).fetchone()
    tp, pred, act = (float(x or 0) for x in pairs)
    p = tp / pred if pred else 0.0
    r = tp / act if act else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


print(
    json.dumps(
        {
            "splink_version": "5.0.0",
            "records": con.execute("SELECT count(*) FROM records").fetchone()[0],
            "train_seconds": trained - started,
            "predict_seconds": predicted - trained,
            "cluster_seconds": clustered - predicted,
            "total_seconds": clustered - started,
            "scored_pairs_above_0_01": scored_pairs,
            "splink": scores("splink_clusters"),
            "c360_model_only": scores("c360_clusters"),
        }
    )
)
