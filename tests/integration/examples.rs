//! Every c360 function's documented example runs on the published sample (`common::sample`)
//! and, where the documentation shows the result, gives that result. Functions that write
//! files (the trainers) are planned with EXPLAIN, which trains nothing, so the shared sample
//! stays as it was.

use c360::functions::registry::{self, Kind};
use c360::functions::{self, Homes};
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::common::open_sample;

/// A documentation example split into its statement and the result table it shows (if any).
pub fn split_example(example: &str) -> (String, Option<String>) {
    let mut sql = Vec::new();
    let mut table = Vec::new();
    for line in example.lines() {
        let line = line
            .trim_start_matches("```sql")
            .trim_end_matches("```")
            .trim_end();
        let trimmed = line.trim_start();
        if trimmed.starts_with('+') || trimmed.starts_with('|') {
            table.push(trimmed.to_string());
        } else if table.is_empty() {
            sql.push(trimmed.strip_prefix("> ").unwrap_or(trimmed).to_string());
        } else if !trimmed.is_empty() {
            // Text after the result table is part of what the example shows: it must match too.
            table.push(trimmed.to_string());
        }
    }
    let table = (!table.is_empty()).then(|| table.join("\n"));
    (sql.join("\n").trim().to_string(), table)
}

/// (name, example) of every function of the registry.
pub fn examples() -> Vec<(String, String)> {
    let mut examples: Vec<(String, String)> = functions::documentation(&Homes::placeholder())
        .into_iter()
        .map(|(name, doc)| {
            let example = doc
                .and_then(|d| d.sql_example)
                .unwrap_or_else(|| panic!("{name} has no SQL example"));
            (name, example)
        })
        .collect();
    for entry in registry::ENTRIES.iter().filter(|e| e.kind == Kind::Table) {
        let example = entry
            .example
            .unwrap_or_else(|| panic!("{} has no example", entry.name));
        examples.push((entry.name.to_string(), example.to_string()));
    }
    examples
}

#[tokio::test]
async fn every_documented_example_runs_on_the_sample_and_shows_its_result() {
    let engine = open_sample().await;
    let all = examples();
    assert_eq!(
        all.len(),
        registry::ENTRIES.len(),
        "one example per function"
    );
    let mut failures = Vec::new();
    for (name, example) in all {
        let (sql, expected) = split_example(&example);
        let writes = registry::entry(&name).is_some_and(|e| e.writes);
        let run = if writes {
            format!("EXPLAIN {sql}")
        } else {
            sql.clone()
        };
        let result = match engine.ctx.sql(&run).await {
            Ok(frame) => frame.collect().await,
            Err(e) => Err(e),
        };
        match result {
            Err(e) => failures.push(format!("{name}: {e}\n  {sql}")),
            Ok(batches) => {
                let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                if rows == 0 {
                    failures.push(format!("{name}: the example returns no rows\n  {sql}"));
                }
                if let Some(expected) = expected {
                    let shown = pretty_format_batches(&batches)
                        .map(|t| t.to_string())
                        .unwrap_or_default();
                    if shown.trim() != expected.trim() {
                        failures.push(format!(
                            "{name}: the documented result differs\n{expected}\nthe result:\n{shown}"
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
