//! The sample workspace after a generated next day (`c360 generate --next-day`): the run that
//! appends to the event models publishes the same outputs as a full rebuild of the same data.

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::util::display::array_value_to_string;

use super::common::{c360, copy_tree, manifest, open, repo, run_ok, texts};

/// One published row: its non-float cells as text, its floats apart (compared with a
/// tolerance, since a different file layout sums in a different order).
#[derive(Debug, Clone, PartialEq, PartialOrd)]
struct Row {
    text: Vec<String>,
    floats: Vec<Option<f64>>,
}

/// Columns that hold when a run happened (a pair's scoring time, when an id was first seen),
/// not what the data says.
const RUN_TIME: &[&str] = &["scored_at", "customer_since"];

/// Every published model of the workspace in `dir`, its rows sorted, without its run-time
/// columns.
async fn published(dir: &Path) -> BTreeMap<String, Vec<Row>> {
    let engine = open(dir).await.expect("open the workspace");
    let manifest = manifest(dir);
    let mut out = BTreeMap::new();
    for name in manifest["models"].as_object().expect("models").keys() {
        let batches = engine
            .ctx
            .sql(&format!("SELECT * FROM \"{name}\""))
            .await
            .expect("plan")
            .collect()
            .await
            .expect("read");
        let mut rows = Vec::new();
        for batch in &batches {
            for i in 0..batch.num_rows() {
                let mut row = Row {
                    text: Vec::new(),
                    floats: Vec::new(),
                };
                for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                    if RUN_TIME.contains(&field.name().as_str()) {
                        continue;
                    }
                    if column.data_type() == &DataType::Float64 {
                        let values = column.as_primitive::<Float64Type>();
                        row.floats.push(values.is_valid(i).then(|| values.value(i)));
                    } else {
                        row.text
                            .push(array_value_to_string(column, i).expect("display"));
                    }
                }
                rows.push(row);
            }
        }
        rows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        out.insert(name.clone(), rows);
    }
    out
}

/// Within 1e-9 relative (absolute below 1).
fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
        }
        (a, b) => a.is_none() && b.is_none(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_generated_next_day_the_incremental_run_equals_a_full_rebuild() {
    let incremental = tempfile::tempdir().expect("temp dir");
    for entry in ["c360.toml", "sql", "data", "models"] {
        copy_tree(&repo().join(entry), &incremental.path().join(entry));
    }
    run_ok(incremental.path(), &[]);
    let out = c360(
        incremental.path(),
        &["generate", "--next-day", "--out", "data"],
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("day 1 after the cut-off"), "{stdout}");
    // The same workspace, data and last published run, rebuilt whole.
    let full = tempfile::tempdir().expect("temp dir");
    copy_tree(incremental.path(), full.path());
    run_ok(incremental.path(), &[]);
    run_ok(full.path(), &["--full-refresh"]);

    let (a, b) = (
        published(incremental.path()).await,
        published(full.path()).await,
    );
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same models are published"
    );
    for (name, rows) in &a {
        let other = &b[name];
        assert_eq!(rows.len(), other.len(), "{name}: rows");
        for (x, y) in rows.iter().zip(other) {
            assert_eq!(x.text, y.text, "{name}: a row differs");
            assert!(
                x.floats.iter().zip(&y.floats).all(|(p, q)| close(*p, *q)),
                "{name}: floats differ: {:?} vs {:?} (row {:?})",
                x.floats,
                y.floats,
                x.text
            );
        }
    }
    // The day's events reached the append models: the latest event is on the new day.
    let engine = open(incremental.path()).await.expect("open");
    let latest = super::common::scalar(
        &engine.ctx,
        "SELECT CAST(max(event_at) AS VARCHAR) FROM stg_web_events",
    )
    .await;
    assert!(latest.starts_with("2025-07-01"), "{latest}");
}
