//! The descriptive 360 of the published sample (`common::sample`): features, journey, funnel,
//! cohorts and segments are published, consistent with each other, and attribute anonymous web
//! events to the right person, scored against the generator's ground truth.

use super::common::{open_sample, repo, scalar};

#[tokio::test]
async fn the_descriptive_models_are_published_and_consistent() {
    let engine = open_sample().await;
    let ctx = &engine.ctx;
    let q = |sql: &'static str| scalar(ctx, sql);

    // One row per customer in features, journey and segments.
    let customers = q("SELECT count(*) FROM customers").await;
    for model in ["customer_features", "customer_journey", "customer_segments"] {
        let sql = format!("SELECT count(*) || ' ' || count(DISTINCT customer_id) FROM {model}");
        let counts = scalar(ctx, &sql).await;
        assert_eq!(counts, format!("{customers} {customers}"), "{model}");
    }

    // Every web event of a known account or of a cookie that logged in is attributed, the
    // anonymous ones (no account id) included.
    let attributed = q("SELECT count(*) FROM customer_events \
         WHERE event_type IN ('page_view', 'product_view', 'favourite', 'add_to_cart')")
    .await;
    let expected = q(
        "SELECT count(*) FROM stg_web_events w \
         WHERE CAST(w.account_id AS VARCHAR) IN \
                 (SELECT source_record_id FROM identity_graph WHERE source = 'shop_accounts') \
            OR w.cookie_id IN (SELECT source_record_id FROM identity_graph WHERE source = 'web_events')",
    )
    .await;
    assert_eq!(attributed, expected);
    let anonymous: u64 = q(
        "SELECT count(*) FROM stg_web_events WHERE account_id IS NULL AND cookie_id IN \
           (SELECT source_record_id FROM identity_graph WHERE source = 'web_events')",
    )
    .await
    .parse()
    .expect("count");
    assert!(
        anonymous > 10_000,
        "{anonymous} anonymous events attributed"
    );

    // The cookies are attributed to the right person: the truth's person of the cookie is the
    // person most of the customer's other records belong to.
    let truth = repo().join("data/truth/record_person");
    ctx.sql(&format!(
        "CREATE EXTERNAL TABLE truth STORED AS PARQUET LOCATION '{}/'",
        truth.display()
    ))
    .await
    .expect("truth");
    let right: f64 = q(
        "WITH person AS ( \
           SELECT g.customer_id, most_frequent(t.person_id) AS person_id \
           FROM identity_graph g JOIN truth t ON t.source = g.source AND t.record_id = g.source_record_id \
           WHERE g.source <> 'web_events' GROUP BY g.customer_id) \
         SELECT avg(CASE WHEN t.person_id = p.person_id THEN 1.0 ELSE 0.0 END) \
         FROM identity_graph g \
         JOIN truth t ON t.source = 'web_events' AND t.record_id = g.source_record_id \
         JOIN person p ON p.customer_id = g.customer_id \
         WHERE g.source = 'web_events'",
    )
    .await
    .parse()
    .expect("share");
    assert!(
        right > 0.97,
        "{right} of cookies attributed to the right person"
    );

    // The funnel never grows from one step to the next, conversions are shares, and time
    // between steps is never negative.
    let broken = q("SELECT count(*) FROM journey_funnel \
         WHERE conversion > 1 OR conversion < 0 OR median_minutes_from_previous < 0")
    .await;
    assert_eq!(broken, "0");
    // Cohorts: everyone is active in their first month, shares are between 0 and 1.
    let cohorts = q(
        "SELECT count(*) FILTER (WHERE months_after = 0 AND share_active <> 1) \
              + count(*) FILTER (WHERE share_active < 0 OR share_active > 1) FROM retention_cohorts",
    )
    .await;
    assert_eq!(cohorts, "0");
    // Journey stages are ordered in time.
    let disordered = q("SELECT count(*) FROM customer_journey \
         WHERE trial_at < aware_at OR paid_at < aware_at OR loyal_at < paid_at")
    .await;
    assert_eq!(disordered, "0");
    // Five value segments whose profiles add up to every customer.
    let profiles = q("SELECT count(*) || ' ' || sum(customers) FROM segment_profiles").await;
    assert_eq!(profiles, format!("5 {customers}"));
    // Health figures stay on their scales.
    let off_scale = q("SELECT count(*) FROM customer_features \
         WHERE distress_index NOT BETWEEN 0 AND 100 OR csat NOT BETWEEN 0 AND 100 \
            OR email_open_rate > 1 OR r_score NOT BETWEEN 1 AND 5")
    .await;
    assert_eq!(off_scale, "0");
}
