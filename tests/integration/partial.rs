//! `[models.NAME] kind = "partial"`: every run rebuilds the rows of the model's `rebuild`
//! condition and keeps the others (the rows a scheduled model trains on) until a model with an
//! `every` downstream of it is rebuilt.

use std::path::Path;

use super::common::{c360, manifest, publish_long_ago, run_ok, texts, workspace, write};

const TOML: &str = "[sources.t]\nformat = \"csv\"\nlocation = \"t.csv\"\n\n\
[models.features]\nkind = \"partial\"\nrebuild = \"snapshot = 'score'\"\n\n\
[models.trained]\nevery = \"7 days\"\n";

/// Source `t` with `n` rows.
fn data(dir: &Path, n: usize) {
    let mut csv = "x\n".to_string();
    for i in 0..n {
        csv.push_str(&format!("{i}\n"));
    }
    write(dir, "t.csv", &csv);
}

/// A feature table of a past snapshot (the rows below 3) and of the scoring snapshot (every
/// row), each row with the size of the source when it was built; a model that trains on the
/// past weekly, and one that scores nightly.
fn models(dir: &Path) {
    write(
        dir,
        "sql/features.sql",
        "WITH n AS (SELECT count(*) AS seen FROM t) \
         SELECT 'train' AS snapshot, x, n.seen FROM t CROSS JOIN n WHERE x < 3 \
         UNION ALL SELECT 'score' AS snapshot, x, n.seen FROM t CROSS JOIN n",
    );
    write(
        dir,
        "sql/trained.sql",
        "SELECT count(*) AS rows, max(seen) AS seen FROM features WHERE snapshot = 'train'",
    );
    write(
        dir,
        "sql/scored.sql",
        "SELECT count(*) AS rows FROM features WHERE snapshot = 'score'",
    );
}

/// Each snapshot of `features` as `snapshot,rows,seen` lines.
fn snapshots(dir: &Path) -> String {
    let out = c360(
        dir,
        &[
            "query",
            "-c",
            "SELECT snapshot, count(*) AS rows, min(seen) AS seen FROM features \
             GROUP BY snapshot ORDER BY snapshot",
            "--format",
            "csv",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    stdout
}

fn last_ledger_entry(dir: &Path) -> serde_json::Value {
    let ledger = manifest(dir)["models"]["features"]["incremental"]["ledger"].clone();
    ledger
        .as_array()
        .expect("a ledger")
        .last()
        .expect("an entry")
        .clone()
}

#[test]
fn a_partial_model_rebuilds_its_condition_nightly_and_the_rest_with_the_model_that_trains() {
    let dir = workspace(TOML);
    models(dir.path());
    data(dir.path(), 3);
    run_ok(dir.path(), &[]);
    let first = manifest(dir.path())["models"]["features"]["version"].clone();
    assert!(snapshots(dir.path()).contains("score,3,3\ntrain,3,3"));
    assert!(last_ledger_entry(dir.path())["kept_from"].is_null());

    // A new day while the trained model is kept: only the scoring rows are rebuilt, the
    // training rows are those it was trained on.
    data(dir.path(), 5);
    let summary = run_ok(dir.path(), &[]);
    assert!(summary.contains("kept     trained"), "{summary}");
    assert!(
        snapshots(dir.path()).contains("score,5,5\ntrain,3,3"),
        "{}",
        snapshots(dir.path())
    );
    assert_eq!(last_ledger_entry(dir.path())["kept_from"], first);

    // --full-refresh keeps the trained model and so its rows.
    run_ok(dir.path(), &["--full-refresh"]);
    assert!(snapshots(dir.path()).contains("score,5,5\ntrain,3,3"));
    assert_eq!(last_ledger_entry(dir.path())["kept_from"], first);

    // Retraining on purpose (--select) rebuilds the partial model whole.
    run_ok(dir.path(), &["--select", "features", "trained"]);
    assert!(snapshots(dir.path()).contains("score,5,5\ntrain,3,5"));
    assert!(last_ledger_entry(dir.path())["kept_from"].is_null());

    // So does the trained model falling due.
    data(dir.path(), 7);
    publish_long_ago(dir.path(), "trained");
    let summary = run_ok(dir.path(), &[]);
    assert!(summary.contains("3 ok"), "{summary}");
    assert!(snapshots(dir.path()).contains("score,7,7\ntrain,3,7"));

    // And a change of its SQL.
    data(dir.path(), 8);
    write(
        dir.path(),
        "sql/features.sql",
        "WITH n AS (SELECT count(*) AS seen FROM t) \
         SELECT 'train' AS snapshot, x, n.seen FROM t CROSS JOIN n WHERE x < 4 \
         UNION ALL SELECT 'score' AS snapshot, x, n.seen FROM t CROSS JOIN n",
    );
    run_ok(dir.path(), &[]);
    assert!(snapshots(dir.path()).contains("score,8,8\ntrain,4,8"));
}

#[test]
fn partial_settings_that_cannot_work_are_refused_naming_the_setting() {
    let cases = [
        (
            TOML.replace("rebuild = \"snapshot = 'score'\"\n", ""),
            "[models.features] rebuild",
        ),
        (
            TOML.replace("kind = \"partial\"\n", ""),
            "[models.features] rebuild: it is for kind = \"partial\"",
        ),
        (
            TOML.replace(
                "kind = \"partial\"\n",
                "kind = \"partial\"\nevery = \"1 day\"\n",
            ),
            "[models.features] every",
        ),
    ];
    for (toml, expected) in cases {
        let dir = workspace(&toml);
        models(dir.path());
        data(dir.path(), 2);
        let out = c360(dir.path(), &["run"]);
        let (stdout, stderr) = texts(&out);
        assert!(!out.status.success(), "{toml}");
        assert!(
            format!("{stdout}{stderr}").contains(expected),
            "{expected}: {stdout}\n{stderr}"
        );
    }
    // A condition that is not one fails the model, naming the setting.
    let dir = workspace(&TOML.replace("snapshot = 'score'", "x + 1"));
    models(dir.path());
    data(dir.path(), 2);
    let out = c360(dir.path(), &["run"]);
    let (stdout, stderr) = texts(&out);
    let text = format!("{stdout}{stderr}");
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("[models.features] rebuild: 'x + 1' gives Int64 values, not a condition"),
        "{text}"
    );
}
