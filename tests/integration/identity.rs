//! Identity resolution on the sample workspace, scored against the generator's ground truth.

use c360::pipeline::{self, RunOptions};
use c360::{Engine, Workspace};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;

use super::common::repo;

#[tokio::test]
async fn the_sample_identity_graph_is_scored_against_the_truth() {
    let output = tempfile::tempdir().expect("temp dir");
    let mut workspace = Workspace::load(&repo()).expect("sample workspace");
    workspace.config.pipeline.output = output.path().display().to_string();
    let engine = Engine::open(&workspace).await.expect("open");
    let summary = pipeline::run(&engine, &RunOptions::default())
        .await
        .expect("run");
    assert_eq!(summary.failed(), 0, "{}", summary.render());

    let engine = Engine::open(&workspace).await.expect("reopen");
    let scores = c360::eval::identity(&engine, &repo().join("data/truth/record_person"))
        .await
        .expect("eval");
    // Every record of the sources the truth covers is scored.
    assert!(scores.records > 20_000, "{scores}");
    // Rules plus the match model (trained without labels), clustered so that unnamed records
    // join one customer only.
    assert!(scores.pairwise.precision > 0.99, "{scores}");
    assert!(scores.pairwise.recall > 0.96, "{scores}");
    assert!(scores.pairwise.f1 >= 0.98, "{scores}");
    assert!(scores.clusters.f1 > 0.9, "{scores}");

    // Rerunning on unchanged data keeps every customer id.
    let before = customer_ids(&engine).await;
    pipeline::run(&engine, &RunOptions::default())
        .await
        .expect("rerun");
    let engine = Engine::open(&workspace).await.expect("reopen");
    assert_eq!(before, customer_ids(&engine).await);
}

async fn customer_ids(engine: &Engine) -> Vec<String> {
    let batches = engine
        .ctx
        .sql("SELECT source || ':' || source_record_id || '=' || customer_id AS k FROM identity_graph ORDER BY k")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let mut out = Vec::new();
    for batch in &batches {
        let column = cast(batch.column(0), &DataType::Utf8).expect("cast");
        out.extend(
            column
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or_default().to_string()),
        );
    }
    out
}
