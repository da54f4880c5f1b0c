//! Predictions on the sample workspace, checked on held-out data and against the generator's
//! ground truth (which the pipeline never reads): the churn model's out-of-time holdout, its
//! ranking of the customers who really churned after the data ends, the lifetime-value model's
//! forecast of the 90 days it did not see, and customer_360 with one row per customer.

use datafusion::prelude::SessionContext;

use super::common::{repo, scalar};

/// Floors, stated here and in the README: the churn model's AUC on its out-of-time holdout
/// (customers active 90 days before the end, did they go quiet?), and on the truth (did the
/// person churn in the 90 days after the data ends?), where the weekly churn hazard of the
/// generator leaves much to chance.
pub const HOLDOUT_AUC_FLOOR: f64 = 0.85;
pub const TRUTH_AUC_FLOOR: f64 = 0.60;

async fn number(ctx: &SessionContext, sql: &str) -> f64 {
    scalar(ctx, sql).await.parse().unwrap_or(f64::NAN)
}

/// Run after the whole sample pipeline was published into `ctx`.
pub async fn check(ctx: &SessionContext, customers: &str) {
    let holdout = number(
        ctx,
        "SELECT value FROM churn_model WHERE set = 'holdout' AND metric = 'auc'",
    )
    .await;
    assert!(holdout >= HOLDOUT_AUC_FLOOR, "holdout AUC {holdout}");

    let truth = repo().join("data/truth");
    for (name, folder) in [("truth_records", "record_person"), ("truth_churn", "churn")] {
        ctx.sql(&format!(
            "CREATE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION '{}/{folder}/'",
            truth.display()
        ))
        .await
        .expect("truth table");
    }
    // AUC by the rank-sum formula over the customers scored at the end whose person was
    // still alive then.
    let truth_auc = number(
        ctx,
        "WITH person_of AS ( \
           SELECT g.customer_id, most_frequent(r.person_id) AS person_id \
           FROM identity_graph g \
           JOIN truth_records r ON r.source = g.source AND r.record_id = g.source_record_id \
           GROUP BY g.customer_id), \
         scored AS ( \
           SELECT p.churn_probability AS score, t.churned_in_horizon AS y \
           FROM customer_predictions p JOIN person_of o ON o.customer_id = p.customer_id \
           JOIN truth_churn t ON t.person_id = o.person_id \
           WHERE p.churn_probability IS NOT NULL AND t.alive_at_cutoff), \
         ranked AS (SELECT y, rank() OVER (ORDER BY score) AS r FROM scored) \
         SELECT (sum(r) FILTER (WHERE y) - sum(CAST(y AS INT)) * (sum(CAST(y AS INT)) + 1) / 2.0) \
                / (sum(CAST(y AS INT)) * sum(CAST(NOT y AS INT))) FROM ranked",
    )
    .await;
    assert!(truth_auc >= TRUTH_AUC_FLOOR, "truth AUC {truth_auc}");

    // The lifetime-value model fitted 90 days before the end forecasts the order days of
    // those 90 days within 15% over all customers.
    let forecast = scalar(
        ctx,
        "SELECT predicted_per_customer || ' ' || actual_per_customer FROM clv_evaluation \
         WHERE frequency_group = 'all'",
    )
    .await;
    let parts: Vec<f64> = forecast
        .split(' ')
        .map(|v| v.parse().expect("a number"))
        .collect();
    assert!(
        (parts[0] / parts[1] - 1.0).abs() < 0.15,
        "predicted {} vs actual {} order days per customer",
        parts[0],
        parts[1]
    );

    // customer_360: one row per customer; every active customer scored with factors that
    // name features; values on their scales.
    let rows = scalar(
        ctx,
        "SELECT count(*) || ' ' || count(DISTINCT customer_id) FROM customer_360",
    )
    .await;
    assert_eq!(rows, format!("{customers} {customers}"));
    let broken = scalar(
        ctx,
        "SELECT count(*) FROM customer_360 WHERE \
           (churn_risk <> 'lapsed' AND (churn_probability IS NULL \
              OR array_length(churn_factors) <> 5)) \
           OR churn_probability NOT BETWEEN 0 AND 1 OR churn_percentile NOT BETWEEN 0 AND 100 \
           OR p_alive NOT BETWEEN 0 AND 1 OR expected_orders_90d < 0 OR clv_12m < 0",
    )
    .await;
    assert_eq!(broken, "0");
    // The risk bands follow the holdout's percentiles: about a tenth of the scored are high.
    let high = number(
        ctx,
        "SELECT avg(CASE WHEN churn_risk = 'high' THEN 1.0 ELSE 0.0 END) FROM customer_360 \
         WHERE churn_risk <> 'lapsed'",
    )
    .await;
    assert!(
        (0.03..0.25).contains(&high),
        "{high} of the scored are high risk"
    );
}
