//! `[models.NAME] every`: a model (one that trains, typically) is rebuilt at most that often;
//! in between, runs keep its published output unless its SQL, its settings or a model
//! upstream of it changed, or it is named in `--select`.

use std::path::Path;

use super::common::{c360, manifest, publish_long_ago, run_ok, texts, workspace, write};

const TOML: &str = "[sources.t]\nformat = \"csv\"\nlocation = \"t.csv\"\n\n\
[models.counts]\nevery = \"7 days\"\n";

fn rows(dir: &Path, sql: &str) -> String {
    let out = c360(dir, &["query", "-c", sql, "--format", "csv"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    stdout
}

/// Source `t` with `n` rows.
fn data(dir: &Path, n: usize) {
    let mut csv = "x\n".to_string();
    for i in 0..n {
        csv.push_str(&format!("{i}\n"));
    }
    write(dir, "t.csv", &csv);
}

fn counted(dir: &Path) -> String {
    rows(dir, "SELECT n, doubled FROM counts JOIN report ON true")
}

#[test]
fn a_model_with_every_is_kept_until_it_is_due_or_what_it_is_built_from_changes() {
    let dir = workspace(TOML);
    write(
        dir.path(),
        "sql/clean.sql",
        "SELECT x FROM t WHERE x IS NOT NULL",
    );
    write(
        dir.path(),
        "sql/counts.sql",
        "SELECT count(*) AS n FROM clean",
    );
    write(
        dir.path(),
        "sql/report.sql",
        "SELECT n * 2 AS doubled FROM counts",
    );
    data(dir.path(), 3);
    run_ok(dir.path(), &[]);
    assert!(counted(dir.path()).contains("3,6"));
    let version = manifest(dir.path())["models"]["counts"]["version"].clone();

    // New data: the models around it rebuild, it is kept (and still read downstream).
    data(dir.path(), 5);
    let summary = run_ok(dir.path(), &[]);
    assert!(
        summary.contains("3 models") && summary.contains("2 ok, 1 kept"),
        "{summary}"
    );
    assert!(
        summary.contains("kept     counts") && summary.contains("rebuilt every 7 days"),
        "{summary}"
    );
    assert!(counted(dir.path()).contains("3,6"));
    assert_eq!(manifest(dir.path())["models"]["counts"]["version"], version);

    // Named in --select, it is rebuilt.
    run_ok(dir.path(), &["--select", "counts", "report"]);
    assert!(counted(dir.path()).contains("5,10"));

    // A change upstream rebuilds it.
    data(dir.path(), 7);
    write(dir.path(), "sql/clean.sql", "SELECT x FROM t WHERE x >= 0");
    let summary = run_ok(dir.path(), &[]);
    assert!(summary.contains("3 ok"), "{summary}");
    assert!(counted(dir.path()).contains("7,14"));

    // Once it is due (published more than 7 days ago), it is rebuilt.
    data(dir.path(), 9);
    publish_long_ago(dir.path(), "counts");
    let summary = run_ok(dir.path(), &[]);
    assert!(summary.contains("3 ok"), "{summary}");
    assert!(counted(dir.path()).contains("9,18"));
}

#[test]
fn an_every_that_is_not_a_positive_interval_is_refused() {
    for every in ["soon", "0 days", "-1 day"] {
        let dir = workspace(&TOML.replace("7 days", every));
        write(dir.path(), "sql/counts.sql", "SELECT count(*) AS n FROM t");
        data(dir.path(), 1);
        let out = c360(dir.path(), &["run"]);
        let (stdout, stderr) = texts(&out);
        assert!(!out.status.success(), "{every}");
        assert!(
            format!("{stdout}{stderr}").contains("[models.counts] every"),
            "{every}: {stdout}\n{stderr}"
        );
    }
}

#[test]
fn a_kept_trainer_whose_model_file_is_gone_is_trained_again() {
    let dir = workspace("[models.toy_model]\nevery = \"7 days\"\n");
    write(
        dir.path(),
        "sql/labelled.sql",
        "SELECT 'k' || CAST(n AS VARCHAR) AS id, CAST(n % 100 AS DOUBLE) AS x, \
         (n % 100 >= 60) <> (n % 17 = 0) AS churned FROM generate_series(0, 299) AS g(n)",
    );
    write(
        dir.path(),
        "sql/toy_model.sql",
        "SELECT * FROM train_classifier('toy', 'labelled', 'churned', 'id')",
    );
    write(
        dir.path(),
        "sql/toy_scores.sql",
        "SELECT churn_probability('toy', 90.0) AS p",
    );
    run_ok(dir.path(), &[]);
    let files = &manifest(dir.path())["models"]["toy_model"]["model_files"];
    assert_eq!(files, &serde_json::json!(["toy.json"]));
    let summary = run_ok(dir.path(), &[]);
    assert!(summary.contains("kept     toy_model"), "{summary}");

    std::fs::remove_file(dir.path().join("models/toy.json")).expect("remove the model file");
    let summary = run_ok(dir.path(), &[]);
    assert!(
        summary.contains("3 ok"),
        "the trainer runs again: {summary}"
    );
    assert!(dir.path().join("models/toy.json").exists());
}
