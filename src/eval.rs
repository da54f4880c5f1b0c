//! `c360 eval identity`: the published `identity_graph` against a ground truth of
//! (source, record_id, person_id) rows, as pairwise and cluster precision, recall and F1.
//!
//! Only records the truth knows are scored. Pairwise: a pair of records is predicted when both
//! have one customer_id and true when both have one person. Cluster: a predicted customer is
//! right when its records are exactly one person's records.

use std::fmt;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;

use crate::Engine;
use crate::error::{C360Error, Result};
use crate::pipeline::publish::register_parquet_folder;

/// Precision, recall and F1 from counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Share of predicted links (or clusters) that are right.
    pub precision: f64,
    /// Share of true links (or clusters) that were found.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

impl Scores {
    fn from_counts(right: i64, predicted: i64, actual: i64) -> Self {
        let ratio = |a: i64, b: i64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(right, predicted), ratio(right, actual));
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            precision,
            recall,
            f1,
        }
    }
}

/// The evaluation of an identity graph.
#[derive(Debug, Clone)]
pub struct IdentityEvaluation {
    /// Records scored (known to the truth).
    pub records: i64,
    /// Pairwise scores.
    pub pairwise: Scores,
    /// Exact-cluster scores.
    pub clusters: Scores,
    /// Predicted customers and true people among the scored records.
    pub customers: i64,
    /// True people among the scored records.
    pub people: i64,
}

impl fmt::Display for IdentityEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "identity_graph against the ground truth: {} records, {} customers predicted, {} people",
            self.records, self.customers, self.people
        )?;
        writeln!(f, "            precision  recall     F1")?;
        for (name, s) in [("pairwise", self.pairwise), ("clusters", self.clusters)] {
            writeln!(
                f,
                "  {name:9} {:>9.4}  {:>9.4}  {:>6.4}",
                s.precision, s.recall, s.f1
            )?;
        }
        Ok(())
    }
}

const EVAL_SQL: &str = "
WITH j AS (
  SELECT g.customer_id, t.person_id
  FROM identity_graph g
  JOIN c360_eval_truth t ON t.source = g.source AND t.record_id = g.source_record_id
),
cells AS (SELECT customer_id, person_id, count(*) AS n FROM j GROUP BY customer_id, person_id),
by_customer AS (SELECT customer_id, count(*) AS n, count(DISTINCT person_id) AS people FROM j GROUP BY customer_id),
by_person AS (SELECT person_id, count(*) AS n FROM j GROUP BY person_id),
exact AS (
  SELECT count(*) AS n FROM cells c
  JOIN by_customer bc ON bc.customer_id = c.customer_id
  JOIN by_person bp ON bp.person_id = c.person_id
  WHERE c.n = bc.n AND c.n = bp.n
)
SELECT
  CAST((SELECT count(*) FROM j) AS BIGINT) AS records,
  CAST((SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM cells) AS BIGINT) AS right_pairs,
  CAST((SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM by_customer) AS BIGINT) AS predicted_pairs,
  CAST((SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM by_person) AS BIGINT) AS true_pairs,
  CAST((SELECT n FROM exact) AS BIGINT) AS exact_clusters,
  CAST((SELECT count(*) FROM by_customer) AS BIGINT) AS customers,
  CAST((SELECT count(*) FROM by_person) AS BIGINT) AS people
";

/// Score the engine's published `identity_graph` against the truth in `truth_dir`
/// (a folder of Parquet files with columns source, record_id, person_id).
pub async fn identity(engine: &Engine, truth_dir: &Path) -> Result<IdentityEvaluation> {
    if !engine.published.iter().any(|m| m == "identity_graph") {
        return Err(C360Error::Pipeline(
            "eval identity: there is no published identity_graph; run `c360 run` first".to_string(),
        ));
    }
    let folder = truth_dir.canonicalize().map_err(|e| {
        C360Error::io(
            format!("eval identity: truth folder {}", truth_dir.display()),
            e,
        )
    })?;
    register_parquet_folder(
        &engine.ctx,
        "c360_eval_truth",
        &format!("{}/", folder.display()),
    )
    .await?;
    let batches = engine.ctx.sql(EVAL_SQL).await?.collect().await?;
    engine.ctx.deregister_table("c360_eval_truth")?;
    let batch = batches
        .first()
        .filter(|b| b.num_rows() == 1)
        .ok_or_else(|| C360Error::Pipeline("eval identity: no result".to_string()))?;
    let value = |i: usize| {
        let column = batch.column(i).as_primitive::<Int64Type>();
        if column.is_null(0) {
            0
        } else {
            column.value(0)
        }
    };
    let (records, right_pairs, predicted_pairs, true_pairs) =
        (value(0), value(1), value(2), value(3));
    let (exact, customers, people) = (value(4), value(5), value(6));
    Ok(IdentityEvaluation {
        records,
        pairwise: Scores::from_counts(right_pairs, predicted_pairs, true_pairs),
        clusters: Scores::from_counts(exact, customers, people),
        customers,
        people,
    })
}
