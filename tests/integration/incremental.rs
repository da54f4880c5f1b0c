//! Append models: a run rebuilds only the rows at or after the latest published event time
//! less the lookback; after new and late events its output equals a full rebuild's, its
//! ledger says what each run processed, and a killed run leaves no holes and no duplicates.

use std::path::Path;

use super::common::{
    c360, copy_tree, kill_run_when, manifest, run_ok, texts, workspace, write, write_hourly,
};

const TOML: &str = "[sources.events]\nformat = \"parquet\"\nlocation = \"events/\"\n\n\
[models.clean_events]\nkind = \"append\"\nevent_time = \"at\"\nlookback = \"1 day\"\n";

/// Events (id, kind, hour of 2025-01-01 + n) as a Parquet file.
fn events(dir: &Path, file: &str, rows: &[(i64, &str, i64)]) {
    write_hourly(dir, &format!("events/{file}"), ["id", "kind", "at"], rows);
}

/// A workspace whose append model dedupes and cleans the events, with a full model reading it.
fn append_workspace() -> tempfile::TempDir {
    let dir = workspace(TOML);
    write(
        dir.path(),
        "sql/clean_events.sql",
        "SELECT DISTINCT id, upper(kind) AS kind, at FROM events WHERE kind <> 'test'",
    );
    write(
        dir.path(),
        "sql/event_counts.sql",
        "SELECT kind, count(*) AS n FROM clean_events GROUP BY kind",
    );
    // Ten days of hourly events, one duplicated (a double-fired tag), one test event.
    let mut first: Vec<(i64, &str, i64)> = (0..240).map(|h| (h, "view", h)).collect();
    first.push((239, "view", 239));
    first.push((1000, "test", 100));
    events(dir.path(), "part-0.parquet", &first);
    dir
}

/// The next day: new events, a late one inside the lookback and a duplicate of one of them.
fn next_day(dir: &Path) {
    let mut rows: Vec<(i64, &str, i64)> = (240..264).map(|h| (h, "order", h)).collect();
    rows.push((500, "late", 230));
    rows.push((500, "late", 230));
    events(dir, "part-1.parquet", &rows);
}

fn rows(dir: &Path, sql: &str) -> String {
    let out = c360(dir, &["query", "-c", sql, "--format", "csv"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    stdout
}

const ALL: &str =
    "SELECT id, kind, CAST(at AS VARCHAR) AS at FROM clean_events ORDER BY at, id, kind";

/// What a full rebuild of the same data gives (a copy of the workspace built from nothing).
fn full_rebuild(dir: &Path) -> (String, String) {
    let fresh = tempfile::tempdir().expect("temp dir");
    for entry in ["c360.toml", "sql", "events"] {
        copy_tree(&dir.join(entry), &fresh.path().join(entry));
    }
    run_ok(fresh.path(), &[]);
    (
        rows(fresh.path(), ALL),
        rows(fresh.path(), "SELECT * FROM event_counts ORDER BY kind"),
    )
}

#[test]
fn an_append_run_after_new_and_late_events_equals_a_full_rebuild_and_keeps_a_ledger() {
    let dir = append_workspace();
    run_ok(dir.path(), &[]);
    let first = manifest(dir.path());
    let entry = &first["models"]["clean_events"]["incremental"];
    assert_eq!(entry["kind"], "append");
    assert_eq!(entry["ledger"][0]["from"], serde_json::Value::Null);
    assert_eq!(entry["ledger"][0]["to"], "2025-01-10T23:00:00");
    assert_eq!(entry["segments"][0]["rows"], 240);

    next_day(dir.path());
    run_ok(dir.path(), &[]);
    let second = manifest(dir.path());
    let entry = &second["models"]["clean_events"]["incremental"];
    let ledger = entry["ledger"].as_array().expect("ledger");
    assert_eq!(ledger.len(), 2, "{entry}");
    // The run rebuilt from one day before the latest event published (the lookback), no
    // more: 25 hours of old events, 24 new ones and a late one. The first segment is cut
    // there, not copied.
    assert_eq!(ledger[1]["from"], "2025-01-09T23:00:00");
    assert_eq!(ledger[1]["to"], "2025-01-11T23:00:00");
    assert_eq!(ledger[1]["rows"], 25 + 24 + 1);
    assert_eq!(second["models"]["clean_events"]["rows"], 240 + 24 + 1);
    assert_eq!(entry["segments"].as_array().map(Vec::len), Some(2));
    assert_eq!(entry["segments"][0]["until"], "2025-01-09T23:00:00");
    assert_eq!(entry["segments"][0]["rows"], 215);

    let (full, counts) = full_rebuild(dir.path());
    assert_eq!(rows(dir.path(), ALL), full);
    assert_eq!(
        rows(dir.path(), "SELECT * FROM event_counts ORDER BY kind"),
        counts
    );

    // --full-refresh rebuilds it whole: one segment, a ledger entry from the beginning.
    run_ok(dir.path(), &["--full-refresh"]);
    let third = manifest(dir.path());
    let entry = &third["models"]["clean_events"]["incremental"];
    assert_eq!(entry["segments"].as_array().map(Vec::len), Some(1));
    assert_eq!(entry["ledger"][0]["from"], serde_json::Value::Null);
    assert_eq!(rows(dir.path(), ALL), full);

    // Changed SQL rebuilds it whole too.
    write(
        dir.path(),
        "sql/clean_events.sql",
        "SELECT DISTINCT id, lower(kind) AS kind, at FROM events WHERE kind <> 'test'",
    );
    run_ok(dir.path(), &[]);
    let entry = &manifest(dir.path())["models"]["clean_events"]["incremental"];
    assert_eq!(entry["ledger"].as_array().map(Vec::len), Some(1));
    assert!(rows(dir.path(), ALL).contains(",order,"));
}

#[test]
fn an_append_model_with_a_null_event_time_fails_naming_the_column() {
    let dir = append_workspace();
    write(
        dir.path(),
        "sql/clean_events.sql",
        "SELECT id, kind, CASE WHEN id = 3 THEN NULL ELSE at END AS at FROM events",
    );
    let out = c360(dir.path(), &["run"]);
    let (stdout, _) = texts(&out);
    assert!(
        stdout.contains("1 rows have no at (NULL)") && stdout.contains("clean_events.sql"),
        "{stdout}"
    );
}

#[test]
fn a_killed_append_run_leaves_no_holes_and_no_duplicates() {
    let dir = append_workspace();
    run_ok(dir.path(), &[]);
    next_day(dir.path());
    // A slow model after the append model makes the run long enough to kill it at two points:
    // before the append model wrote anything, and after it wrote its new folder.
    write(
        dir.path(),
        "sql/zz_slow.sql",
        "SELECT sum(value) AS s FROM generate_series(1, 300000000)",
    );
    let before = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
    for wait_for_folder in [false, true] {
        let folders_before = folders(dir.path(), "clean_events");
        kill_run_when(dir.path(), || {
            !wait_for_folder || folders(dir.path(), "clean_events") > folders_before
        });
        let after = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
        assert_eq!(before, after, "a killed run must not change the manifest");
    }
    std::fs::remove_file(dir.path().join("sql/zz_slow.sql")).expect("remove");
    run_ok(dir.path(), &[]);
    let (full, counts) = full_rebuild(dir.path());
    assert_eq!(rows(dir.path(), ALL), full);
    assert_eq!(
        rows(dir.path(), "SELECT * FROM event_counts ORDER BY kind"),
        counts
    );
    // The folders the killed runs left behind are gone once a run publishes.
    let kept = &manifest(dir.path())["models"]["clean_events"];
    let segments = kept["incremental"]["segments"]
        .as_array()
        .map_or(0, Vec::len);
    let previous = kept["previous"].as_array().map_or(0, Vec::len);
    assert!(folders(dir.path(), "clean_events") <= segments + previous);
}

fn folders(dir: &Path, model: &str) -> usize {
    std::fs::read_dir(dir.join("output").join(model))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn an_append_model_at_max_segments_is_compacted_into_one_and_keeps_its_ledger() {
    let dir = append_workspace();
    let toml = std::fs::read_to_string(dir.path().join("c360.toml")).expect("toml");
    write(
        dir.path(),
        "c360.toml",
        &toml.replace(
            "lookback = \"1 day\"",
            "lookback = \"1 day\"\nmax_segments = 3",
        ),
    );
    let segments = |dir: &Path| {
        let entry = &manifest(dir)["models"]["clean_events"]["incremental"];
        (
            entry["segments"].as_array().map(Vec::len),
            entry["ledger"].as_array().map(Vec::len),
        )
    };
    run_ok(dir.path(), &[]);
    // Three more days, one run each: segments 2, 3, then compaction into 1.
    for (day, expected) in [(1i64, Some(2)), (2, Some(3)), (3, Some(1))] {
        let rows: Vec<(i64, &str, i64)> = (0..24)
            .map(|h| (10_000 * day + h, "order", 216 + 24 * day + h))
            .collect();
        events(dir.path(), &format!("day-{day}.parquet"), &rows);
        run_ok(dir.path(), &[]);
        let (segments, ledger) = segments(dir.path());
        assert_eq!(segments, expected, "after day {day}");
        assert_eq!(ledger, Some(1 + day as usize), "the ledger goes on");
    }
    let entry = &manifest(dir.path())["models"]["clean_events"]["incremental"];
    assert_eq!(entry["ledger"][3]["from"], serde_json::Value::Null);
    assert_eq!(entry["segments"][0]["until"], serde_json::Value::Null);
    let (all, counts) = full_rebuild(dir.path());
    assert_eq!(rows(dir.path(), ALL), all);
    assert_eq!(
        rows(dir.path(), "SELECT * FROM event_counts ORDER BY kind"),
        counts
    );
}
