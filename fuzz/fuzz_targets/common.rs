#![allow(dead_code)] // each target uses part of what the targets share
//! What every fuzz target shares: one session with every c360 function (on an empty
//! workspace) and a runtime, made once per process; SQL is run to its end and any error is
//! fine, only a panic, an abort or a hang is a finding.

use std::sync::LazyLock;

use datafusion::prelude::SessionContext;

struct Session {
    ctx: SessionContext,
    text_functions: Vec<(&'static str, Vec<usize>)>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

static SESSION: LazyLock<Session> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("a temporary workspace");
    std::fs::write(dir.path().join("c360.toml"), "").expect("c360.toml");
    let workspace = c360::Workspace::load(dir.path()).expect("an empty workspace");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let ctx = SessionContext::new();
    c360::functions::register_all(&ctx, &workspace).expect("c360 functions");
    let text_functions = c360::functions::registry::text_functions(&ctx);
    assert!(!text_functions.is_empty(), "no text functions found");
    Session {
        ctx,
        text_functions,
        runtime,
        _dir: dir,
    }
});

/// The c360 functions of text and the numbers of text arguments each takes.
pub fn text_functions() -> &'static [(&'static str, Vec<usize>)] {
    &SESSION.text_functions
}

/// Plan and run `sql` to its end; errors are answers too.
pub fn run(sql: &str) {
    let session = &*SESSION;
    session.runtime.block_on(async {
        if let Ok(df) = session.ctx.sql(sql).await {
            let _ = df.collect().await;
        }
    });
}

/// `VALUES` rows of (at, n) from fuzzed (seconds, event number) pairs.
pub fn events(rows: &[(u32, u8)]) -> String {
    if rows.is_empty() {
        return "(SELECT TIMESTAMP '2024-01-01 00:00:00' AS at, 0 AS n WHERE false)".to_string();
    }
    let values: Vec<String> = rows
        .iter()
        .take(64)
        .map(|(s, n)| {
            format!(
                "(TIMESTAMP '2024-01-01 00:00:00' + INTERVAL '{s} seconds', {})",
                n % 4
            )
        })
        .collect();
    format!(
        "(SELECT column1 AS at, column2 AS n FROM (VALUES {}))",
        values.join(", ")
    )
}
