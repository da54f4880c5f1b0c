//! `c360 run`: dependency order, atomic publish, failure isolation, assertions, selection.

use std::path::Path;
use std::process::Command;

use c360::pipeline::{self, RunOptions, Status};

use super::common::{
    c360, kill_run_when, open, scalar, texts, workspace, write, write_orders_parquet,
};

const TOML: &str = "[sources.orders]\nformat = \"parquet\"\nlocation = \"orders/\"\n\n\
[assertions.big_orders]\nunique = [\"id\"]\n";

/// A workspace with a source and a chain a -> b -> c plus an independent sibling.
fn chain() -> tempfile::TempDir {
    let dir = workspace(TOML);
    write_orders_parquet(
        dir.path(),
        "orders/part-0.parquet",
        &[(1, 5.0), (2, 50.0), (3, 500.0)],
    );
    write(
        dir.path(),
        "sql/big_orders.sql",
        "SELECT id, amount FROM orders WHERE amount >= 50",
    );
    write(
        dir.path(),
        "sql/order_total.sql",
        "SELECT sum(amount) AS total FROM big_orders",
    );
    write(
        dir.path(),
        "sql/report.sql",
        "SELECT total * 2 AS doubled FROM order_total",
    );
    write(
        dir.path(),
        "sql/order_count.sql",
        "SELECT count(*) AS n FROM orders",
    );
    dir
}

async fn run(dir: &Path, select: &[&str]) -> c360::Result<pipeline::RunSummary> {
    let engine = open(dir).await?;
    let options = RunOptions {
        select: select.iter().map(|s| s.to_string()).collect(),
        ..RunOptions::default()
    };
    pipeline::run(&engine, &options).await
}

fn versions(dir: &Path, model: &str) -> usize {
    std::fs::read_dir(dir.join("output").join(model))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn builds_in_dependency_order_and_publishes() {
    let dir = chain();
    let summary = run(dir.path(), &[]).await.expect("run");
    let order: Vec<_> = summary.outcomes.iter().map(|o| o.model.as_str()).collect();
    let pos = |m: &str| order.iter().position(|o| *o == m).expect("ran");
    assert!(pos("big_orders") < pos("order_total") && pos("order_total") < pos("report"));
    assert_eq!(summary.failed(), 0, "{}", summary.render());
    assert_eq!(summary.status("big_orders"), Some(&Status::Ok { rows: 2 }));
    // A new engine sees the published outputs as tables.
    let engine = open(dir.path()).await.expect("open");
    assert_eq!(
        scalar(&engine.ctx, "SELECT doubled FROM report").await,
        "1100.0"
    );
    // A second run publishes new versions and keeps one earlier version per model.
    run(dir.path(), &[]).await.expect("second run");
    run(dir.path(), &[]).await.expect("third run");
    assert_eq!(versions(dir.path(), "report"), 2);
}

#[tokio::test]
async fn a_failing_model_stops_its_dependents_not_its_siblings_and_keeps_the_last_good_output() {
    let dir = chain();
    run(dir.path(), &[]).await.expect("first run");
    write(
        dir.path(),
        "sql/order_total.sql",
        "SELECT sum(no_such_column) AS total FROM big_orders",
    );
    write_orders_parquet(dir.path(), "orders/part-1.parquet", &[(4, 70.0)]);
    let summary = run(dir.path(), &[]).await.expect("second run");
    assert!(matches!(
        summary.status("big_orders"),
        Some(Status::Ok { rows: 3 })
    ));
    assert!(matches!(
        summary.status("order_count"),
        Some(Status::Ok { rows: 1 })
    ));
    match summary.status("order_total") {
        Some(Status::Failed { error }) => {
            assert!(
                error.contains("sql/order_total.sql") && error.contains("no_such_column"),
                "{error}"
            )
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(
        summary.status("report"),
        Some(&Status::Skipped {
            because: "order_total".to_string()
        })
    );
    let rendered = summary.render();
    assert!(rendered.contains("1 failed, 1 skipped"), "{rendered}");
    // The failed model and its dependent keep their last good output; the siblings moved on.
    let engine = open(dir.path()).await.expect("open");
    assert_eq!(
        scalar(&engine.ctx, "SELECT total FROM order_total").await,
        "550.0"
    );
    assert_eq!(
        scalar(&engine.ctx, "SELECT doubled FROM report").await,
        "1100.0"
    );
    assert_eq!(scalar(&engine.ctx, "SELECT n FROM order_count").await, "4");
    // The failed model's new folder is gone.
    assert_eq!(versions(dir.path(), "order_total"), 1);
}

#[tokio::test]
async fn a_failed_assertion_keeps_the_last_good_output() {
    let dir = chain();
    run(dir.path(), &[]).await.expect("first run");
    write_orders_parquet(dir.path(), "orders/part-1.parquet", &[(2, 60.0)]);
    let summary = run(dir.path(), &[]).await.expect("second run");
    match summary.status("big_orders") {
        Some(Status::Failed { error }) => {
            assert!(
                error.contains("unique(id)") && error.contains("id=2"),
                "{error}"
            )
        }
        other => panic!("expected an assertion failure, got {other:?}"),
    }
    let engine = open(dir.path()).await.expect("open");
    assert_eq!(
        scalar(&engine.ctx, "SELECT count(*) FROM big_orders").await,
        "2"
    );
}

#[tokio::test]
async fn cycles_self_references_unknown_tables_and_syntax_errors_stop_before_anything_runs() {
    let cases = [
        (
            "sql/x.sql",
            "SELECT * FROM y",
            "sql/y.sql",
            "SELECT * FROM x",
            "cycle",
        ),
        (
            "sql/x.sql",
            "SELECT * FROM x",
            "sql/y.sql",
            "SELECT 1",
            "references itself",
        ),
        (
            "sql/x.sql",
            "SELECT * FROM nowhere",
            "sql/y.sql",
            "SELECT 1",
            "unknown table 'nowhere'",
        ),
        (
            "sql/x.sql",
            "SELEC 1",
            "sql/y.sql",
            "SELECT 1",
            "sql/x.sql: syntax error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1",
        ),
        (
            "sql/x.sql",
            "DROP TABLE orders",
            "sql/y.sql",
            "SELECT 1",
            "must be a query",
        ),
    ];
    for (file_a, sql_a, file_b, sql_b, expected) in cases {
        let dir = chain();
        write(dir.path(), file_a, sql_a);
        write(dir.path(), file_b, sql_b);
        let err = run(dir.path(), &[])
            .await
            .expect_err("an error")
            .to_string();
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(
            !dir.path().join("output/_manifest.json").exists(),
            "nothing may be published"
        );
        assert_eq!(versions(dir.path(), "big_orders"), 0, "nothing may run");
    }
}

#[tokio::test]
async fn select_runs_only_the_named_models() {
    let dir = chain();
    let err = run(dir.path(), &["report"])
        .await
        .expect_err("unpublished upstream")
        .to_string();
    assert!(
        err.contains("order_total") && err.contains("never been published"),
        "{err}"
    );
    let err = run(dir.path(), &["nope"])
        .await
        .expect_err("unknown")
        .to_string();
    assert!(err.contains("no such model"), "{err}");
    run(dir.path(), &[]).await.expect("full run");
    let summary = run(dir.path(), &["report"]).await.expect("selected run");
    assert_eq!(summary.outcomes.len(), 1);
    assert_eq!(summary.failed(), 0);
}

#[tokio::test]
async fn models_in_layer_folders_are_found_selected_by_folder_and_named_once() {
    let dir = workspace("[sources.orders]\nformat = \"parquet\"\nlocation = \"orders/\"\n");
    write_orders_parquet(dir.path(), "orders/part-0.parquet", &[(1, 5.0), (2, 50.0)]);
    write(
        dir.path(),
        "sql/staging/stg_orders.sql",
        "SELECT id, amount FROM orders",
    );
    write(
        dir.path(),
        "sql/marts/sales/order_total.sql",
        "SELECT sum(amount) AS total FROM stg_orders",
    );
    write(
        dir.path(),
        "sql/marts/order_count.sql",
        "SELECT count(*) AS n FROM stg_orders",
    );
    let summary = run(dir.path(), &[]).await.expect("run");
    assert_eq!(summary.failed(), 0, "{}", summary.render());
    let ran = |s: &pipeline::RunSummary| {
        let mut names: Vec<String> = s.outcomes.iter().map(|o| o.model.clone()).collect();
        names.sort();
        names
    };
    assert_eq!(ran(&summary), ["order_count", "order_total", "stg_orders"]);
    let engine = open(dir.path()).await.expect("open");
    assert_eq!(
        scalar(&engine.ctx, "SELECT total FROM order_total").await,
        "55.0"
    );

    // A folder selects every model under it, nested folders included.
    let marts = run(dir.path(), &["marts/"]).await.expect("marts/");
    assert_eq!(ran(&marts), ["order_count", "order_total"]);
    let nested = run(dir.path(), &["marts/sales/"])
        .await
        .expect("marts/sales/");
    assert_eq!(ran(&nested), ["order_total"]);
    let err = run(dir.path(), &["profile/"])
        .await
        .expect_err("no such folder")
        .to_string();
    assert!(
        err.contains("--select profile/: no model is in that folder")
            && err.contains("marts/, marts/sales/, staging/"),
        "{err}"
    );

    // Two files with one stem: an error naming both paths, before anything runs.
    write(dir.path(), "sql/staging/order_count.sql", "SELECT 1 AS n");
    let err = run(dir.path(), &[])
        .await
        .expect_err("duplicate")
        .to_string();
    assert!(
        err.contains("two model files are called 'order_count'")
            && err.contains("sql/marts/order_count.sql")
            && err.contains("sql/staging/order_count.sql"),
        "{err}"
    );
}

#[test]
fn a_killed_run_leaves_the_published_outputs_intact() {
    let dir = chain();
    let out = c360(dir.path(), &["run"]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let manifest = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
    // A slow model makes the run long enough to kill it after it has written new versions.
    write(
        dir.path(),
        "sql/zz_slow.sql",
        "SELECT sum(value) AS s FROM generate_series(1, 300000000)",
    );
    kill_run_when(dir.path(), || versions(dir.path(), "big_orders") >= 2);
    let after = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
    assert_eq!(manifest, after, "a killed run must not change the manifest");
    let out = c360(
        dir.path(),
        &[
            "query",
            "-c",
            "SELECT doubled FROM report",
            "--format",
            "csv",
        ],
    );
    assert_eq!(texts(&out).0, "doubled\n1100.0\n", "{}", texts(&out).1);
}

#[tokio::test]
async fn a_model_reading_a_broken_source_fails_alone() {
    let dir = workspace(&format!(
        "{TOML}\n[sources.tickets]\nformat = \"csv\"\nlocation = \"tickets/\"\n"
    ));
    write_orders_parquet(dir.path(), "orders/part-0.parquet", &[(1, 5.0), (2, 50.0)]);
    write(dir.path(), "tickets/a.csv", "id,csat\n1,5\n");
    write(dir.path(), "tickets/b.csv", "id,csat\n2,4,9\n");
    write(
        dir.path(),
        "sql/big_orders.sql",
        "SELECT id, amount FROM orders WHERE amount >= 50",
    );
    write(
        dir.path(),
        "sql/ticket_count.sql",
        "SELECT count(*) AS n FROM tickets",
    );
    let summary = run(dir.path(), &[]).await.expect("run");
    assert!(matches!(
        summary.status("big_orders"),
        Some(Status::Ok { rows: 1 })
    ));
    match summary.status("ticket_count") {
        Some(Status::Failed { error }) => assert!(
            error.contains("source 'tickets'") && error.contains("tickets/b.csv"),
            "{error}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// A workspace whose run trains a classifier (`toy_model`) from a table it builds itself.
fn training_workspace() -> tempfile::TempDir {
    let dir = workspace("");
    write(
        dir.path(),
        "sql/labelled.sql",
        "SELECT CAST(value AS BIGINT) AS id, value % 2 = 0 AS churned, \
         CAST(value % 7 AS DOUBLE) + CAST(value % 2 AS DOUBLE) AS x \
         FROM generate_series(1, 400)",
    );
    write(
        dir.path(),
        "sql/toy_model.sql",
        "SELECT * FROM train_classifier('toy', 'labelled', 'churned', 'id')",
    );
    dir
}

async fn run_all_or_nothing(dir: &Path) -> pipeline::RunSummary {
    let engine = open(dir).await.expect("open");
    let options = RunOptions {
        all_or_nothing: true,
        ..RunOptions::default()
    };
    pipeline::run(&engine, &options).await.expect("run")
}

#[tokio::test]
async fn a_model_file_trained_by_a_run_becomes_current_only_when_the_run_publishes() {
    let dir = training_workspace();
    let model = dir.path().join("models/toy.json");
    // A model that fails: with all-or-nothing nothing is published, so the trained file must
    // not appear either.
    write(dir.path(), "sql/broken.sql", "SELECT nope FROM labelled");
    let summary = run_all_or_nothing(dir.path()).await;
    assert!(matches!(
        summary.status("toy_model"),
        Some(Status::Ok { .. })
    ));
    assert!(matches!(
        summary.status("broken"),
        Some(Status::Failed { .. })
    ));
    assert!(
        !model.exists(),
        "a run that published nothing left models/toy.json"
    );
    assert!(
        !dir.path().join("models/.runs").exists()
            || std::fs::read_dir(dir.path().join("models/.runs"))
                .expect("runs")
                .next()
                .is_none(),
        "the run's staged files are removed"
    );
    // Fixed, the run publishes and its model is current.
    std::fs::remove_file(dir.path().join("sql/broken.sql")).expect("remove");
    let summary = run_all_or_nothing(dir.path()).await;
    assert!(matches!(
        summary.status("toy_model"),
        Some(Status::Ok { .. })
    ));
    let first = std::fs::read_to_string(&model).expect("published model");
    // A later run that trains on other rows and fails leaves the published model as it was.
    write(
        dir.path(),
        "sql/labelled.sql",
        "SELECT CAST(value AS BIGINT) AS id, value % 3 = 0 AS churned, \
         CAST(value % 5 AS DOUBLE) AS x FROM generate_series(1, 900)",
    );
    write(dir.path(), "sql/broken.sql", "SELECT nope FROM labelled");
    run_all_or_nothing(dir.path()).await;
    assert_eq!(std::fs::read_to_string(&model).expect("model"), first);
}

#[test]
fn a_run_shows_a_live_progress_line_on_a_terminal_and_nothing_extra_otherwise() {
    let dir = chain();
    // A model that takes a moment, so that the line is drawn while it builds.
    write(
        dir.path(),
        "sql/slow.sql",
        "SELECT sum(value) AS s FROM generate_series(1, 30000000)",
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_c360"));
    command
        .args(["--workspace", &dir.path().display().to_string(), "run"])
        .env_remove("C360_WORKSPACE")
        .env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(command, Some(120_000)).expect("pty");
    p.exp_regex(r"\d/5 models").expect("a progress line");
    p.exp_string("memory").expect("memory in use on the line");
    p.exp_string("5 ok").expect("the summary after the line");
    p.exp_eof().expect("the run ends");

    // Not a terminal: the summary only, as before.
    let output = c360(dir.path(), &["run"]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    let everything = format!("{stdout}{stderr}");
    assert!(everything.contains("5 models in"), "{everything}");
    assert!(
        !everything.contains("/5 models") && !everything.contains('\x1b'),
        "{everything}"
    );
}
