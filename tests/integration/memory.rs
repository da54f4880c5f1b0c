//! c360's own operators hold their memory in the session's pool: over a small
//! `[engine] memory_limit` a table function that reads a table whole fails with "resources
//! exhausted" naming itself and the table, instead of holding memory no limit sees.

use super::common::{open, workspace};

/// The error of `sql` on an engine limited to `limit`, with a view `big` of `rows` rows.
async fn error_under(limit: &str, rows: u64, sql: &str) -> String {
    // Sorts set 1 MiB aside for merging (the default is 10 MiB per partition), so that the
    // limit is met by what the c360 operator holds.
    let dir = workspace(&format!(
        "[engine]\nmemory_limit = \"{limit}\"\n\n[engine.options]\n\
         \"datafusion.execution.sort_spill_reservation_bytes\" = \"1048576\"\n"
    ));
    let engine = open(dir.path()).await.expect("open");
    engine
        .ctx
        .sql(&format!(
            "CREATE VIEW big AS SELECT value AS id, value % 7 = 0 AS label, \
             CAST(value % 101 AS DOUBLE) AS x, CAST(value % 13 AS DOUBLE) AS y, \
             repeat('z', 20) AS pad FROM generate_series(1, {rows})"
        ))
        .await
        .expect("view");
    let result = match engine.ctx.sql(sql).await {
        Ok(frame) => frame.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    result.expect_err("past the memory limit").to_string()
}

#[tokio::test]
async fn a_trainer_reading_a_table_past_the_limit_names_itself() {
    // The sort that orders the rows fits; the rows kept and the matrix made of them do not.
    let e = error_under(
        "16MiB",
        150_000,
        "SELECT * FROM train_classifier('m', 'big', 'label', 'id')",
    )
    .await;
    assert!(e.contains("Resources exhausted"), "{e}");
    assert!(e.contains("train_classifier reading 'big'"), "{e}");
    assert!(e.contains("memory_limit"), "{e}");
}

#[tokio::test]
async fn kmeans_reading_a_table_past_the_limit_names_itself() {
    let e = error_under(
        "16MiB",
        300_000,
        "SELECT count(*) FROM kmeans_segments('big', 'id', 3, 1, 'x', 'y')",
    )
    .await;
    assert!(e.contains("Resources exhausted"), "{e}");
    assert!(e.contains("kmeans_segments reading 'big'"), "{e}");
}
