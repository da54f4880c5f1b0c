//! The Fellegi-Sunter matching functions on the sample workspace: training without labels, the
//! readable model file, scoring the blocked pairs, counting pairs per rule, the pair guard, and
//! broken model files.

use c360::config::matching::{ComparisonConfig, ComparisonKind, MatchingConfig};
use c360::models::matching::KIND;
use c360::models::matching::model::MatchModel;
use c360::models::store::parse;
use c360::pipeline::{self, RunOptions};
use c360::{Engine, Workspace};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use tempfile::TempDir;

use super::common::{repo, scalar};

/// The sample workspace with its outputs and its model file redirected to a temp folder.
async fn sample(scratch: &TempDir) -> Workspace {
    let mut workspace = Workspace::load(&repo()).expect("sample workspace");
    workspace.config.pipeline.output = scratch.path().join("output").display().to_string();
    workspace.config.pipeline.models = scratch.path().join("models").display().to_string();
    let identity = workspace
        .config
        .matching
        .get_mut("identity")
        .expect("[matching.identity]");
    identity.model = scratch.path().join("identity.json").display().to_string();
    std::fs::copy(repo().join("models/identity.json"), &identity.model).expect("copy model");
    let engine = Engine::open(&workspace).await.expect("open");
    let summary = pipeline::run(
        &engine,
        &RunOptions {
            select: [
                "stg_crm_contacts",
                "stg_shop_accounts",
                "stg_helpdesk_tickets",
                "stg_nps_responses",
                "stg_email_events",
                "stg_web_events",
                "identity_records",
            ]
            .map(String::from)
            .to_vec(),
            ..RunOptions::default()
        },
    )
    .await
    .expect("run");
    assert_eq!(summary.failed(), 0, "{}", summary.render());
    workspace
}

async fn scalar_i64(engine: &Engine, sql: &str) -> i64 {
    scalar(&engine.ctx, sql)
        .await
        .parse()
        .expect("a whole number")
}

async fn error_of(engine: &Engine, sql: &str) -> String {
    match engine.ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => df
            .collect()
            .await
            .expect_err("the query should fail")
            .to_string(),
    }
}

#[tokio::test]
async fn trains_without_labels_and_scores_the_blocked_pairs() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let workspace = sample(&scratch).await;
    let model_path = workspace.config.matching["identity"].model.clone();
    std::fs::remove_file(&model_path).expect("remove the copied model");
    let engine = Engine::open(&workspace).await.expect("open");

    // Before training, scoring says how to train.
    let e = error_of(&engine, "SELECT * FROM match_pairs('identity')").await;
    assert!(
        e.contains("is not trained") && e.contains("c360 train identity"),
        "{e}"
    );

    // Training returns the parameters (prior + one row per level) and saves the file.
    let rows = scalar_i64(
        &engine,
        "SELECT count(*) FROM train_match_model('identity')",
    )
    .await;
    assert_eq!(rows, 1 + 4 + 4 + 2 + 2 + 2 + 3);
    let text = std::fs::read_to_string(&model_path).expect("model file");
    let (header, model) =
        parse::<MatchModel>(model_path.as_ref(), &text, KIND, "").expect("readable model");
    assert_eq!(
        (header.name.as_str(), header.kind.as_str()),
        ("identity", "match")
    );
    assert_eq!(header.trained_on, "identity_records");
    assert!(
        model.prior > 0.0 && model.prior < 0.01,
        "prior {}",
        model.prior
    );
    assert_eq!(model.training.sessions.len(), 4);
    assert!(model.training.sessions.iter().all(|s| s.converged));
    // Agreement is evidence for a match, disagreement against, on every comparison.
    for c in &model.comparisons {
        let exact = &c.levels[0];
        let other = c.levels.last().expect("else level");
        assert!(
            exact.weight > 0.0 && other.weight < 0.0,
            "{}: {c:?}",
            c.config.display_name()
        );
    }
    // Term frequencies: a shared common surname counts less than a shared rare one.
    let last = &model.comparisons[1];
    let tf = last.term_frequencies.as_ref().expect("surname frequencies");
    let (common, _) = tf
        .counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .expect("a common surname");
    assert!(tf.frequency(common) > tf.frequency("wojciechowski-unseen"));

    // The pairs of rule 1 (same e-mail) are exactly what blocking_rule_counts announced.
    let announced = scalar_i64(
        &engine,
        "SELECT pairs FROM blocking_rule_counts('identity') WHERE rule = 1",
    )
    .await;
    let joined = scalar_i64(
        &engine,
        "SELECT count(*) FROM match_pairs('identity') WHERE blocking_rule = 1",
    )
    .await;
    assert_eq!(announced, joined);
    // Each pair once, whatever number of rules yield it.
    let distinct = scalar_i64(
        &engine,
        "SELECT count(*) - count(DISTINCT left_key || '|' || right_key) FROM match_pairs('identity')",
    )
    .await;
    assert_eq!(distinct, 0);
    let probability = |aggregate: &'static str| {
        let sql = format!("SELECT {aggregate}(match_probability) FROM match_pairs('identity')");
        let ctx = engine.ctx.clone();
        async move { scalar(&ctx, &sql).await.parse::<f64>().expect("a number") }
    };
    let (lo, hi) = (probability("min").await, probability("max").await);
    assert!(
        (0.0..0.01).contains(&lo) && hi > 0.999 && hi <= 1.0,
        "{lo} {hi}"
    );
}

#[tokio::test]
async fn an_exploding_blocking_rule_is_refused() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut workspace = sample(&scratch).await;
    workspace
        .config
        .matching
        .get_mut("identity")
        .expect("identity")
        .max_pairs = 1000;
    // A key shared by 100,000 records.
    workspace.config.matching.insert(
        "crowd".to_string(),
        MatchingConfig {
            records: "crowd".to_string(),
            key: "id".to_string(),
            model: scratch.path().join("crowd.json").display().to_string(),
            blocking: vec!["l.k = r.k".to_string(), "l.id > r.id".to_string()],
            training_blocking: Vec::new(),
            max_pairs: 10_000_000,
            u_sample_pairs: 1000,
            seed: 0,
            comparisons: ["k", "g"]
                .into_iter()
                .map(|column| ComparisonConfig {
                    name: String::new(),
                    column: column.to_string(),
                    kind: ComparisonKind::Exact,
                    thresholds: Vec::new(),
                    term_frequency: false,
                    m: Vec::new(),
                })
                .collect(),
        },
    );
    let engine = Engine::open(&workspace).await.expect("open");
    engine
        .ctx
        .sql(
            "CREATE TABLE crowd AS SELECT v AS id, 'same' AS k, v % 1000 AS g \
             FROM generate_series(1, 100000) AS t(v)",
        )
        .await
        .expect("plan")
        .collect()
        .await
        .expect("create");

    let e = error_of(&engine, "SELECT * FROM match_pairs('identity')").await;
    assert!(
        e.contains("blocking rule `l.email_std = r.email_std` yields")
            && e.contains("above max_pairs = 1000")
            && e.contains("largest block, key '"),
        "{e}"
    );
    let e = error_of(&engine, "SELECT * FROM train_match_model('crowd')").await;
    assert!(
        e.contains("yields 4999950000 candidate pairs")
            && e.contains("key 'same', has 100000 records")
            // The stricter rule that fits: 1,000 blocks of 100 records.
            && e.contains("such as `l.k = r.k AND l.g = r.g` (4950000 pairs)"),
        "{e}"
    );
    // The counts themselves never run the join: a rule without an equality is reported as
    // pairing everything.
    let batches = engine
        .ctx
        .sql("SELECT pairs, exact, within_max_pairs FROM blocking_rule_counts('crowd') ORDER BY rule")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let pairs = batches[0].column(0).as_primitive::<Int64Type>();
    assert_eq!(pairs.value(0), 4_999_950_000);
    assert_eq!(pairs.value(1), 4_999_950_000);
    assert!(!batches[0].column(2).as_boolean().value(0));
    let stricter = scalar(
        &engine.ctx,
        "SELECT string_agg(stricter_rule || ': ' || stricter_rule_pairs, '; ' ORDER BY rule) \
         FROM blocking_rule_counts('crowd')",
    )
    .await;
    assert_eq!(
        stricter,
        "l.k = r.k AND l.g = r.g: 4950000; l.id > r.id AND l.g = r.g: 4950000"
    );
}

#[tokio::test]
async fn broken_model_files_are_named() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let workspace = sample(&scratch).await;
    let model_path = workspace.config.matching["identity"].model.clone();
    let good = std::fs::read_to_string(&model_path).expect("model");
    let cases = [
        ("{ not json", "is not valid JSON"),
        ("{\"format\": \"something else\"}", "is not a c360 model"),
        (
            &good.replace("\"version\": 1", "\"version\": 99") as &str,
            "is version 99; this c360 reads version 1",
        ),
        (
            &good.replace("\"kind\": \"match\"", "\"kind\": \"clv\"") as &str,
            "holds a 'clv' model, not a 'match' model",
        ),
        (
            &good.replacen("\"prior\": ", "\"prior\": 7", 1) as &str,
            "is not a probability",
        ),
    ];
    for (text, expected) in cases {
        std::fs::write(&model_path, text).expect("write");
        let engine = Engine::open(&workspace).await.expect("open");
        let e = error_of(&engine, "SELECT * FROM match_pairs('identity')").await;
        assert!(
            e.contains(expected) && e.contains(&model_path),
            "{expected}: {e}"
        );
    }
}
