//! Merge models: a run builds only the rows changed since the latest published `updated_at`
//! less the lookback, and they replace the published rows of the same key; after new and
//! changed records the output equals a full rebuild's, the key is checked, and a killed run
//! changes nothing published.

use std::path::Path;

use super::common::{
    c360, copy_tree, kill_run_when, manifest, run_ok, texts, workspace, write, write_hourly,
};

const TOML: &str = "[sources.contacts]\nformat = \"parquet\"\nlocation = \"contacts/\"\n\n\
[models.clean_contacts]\nkind = \"merge\"\nunique_key = [\"id\"]\nupdated_at = \"at\"\n\
lookback = \"1 hour\"\n";

/// Contact exports (id, e-mail, hour of 2025-01-01 + n it was last changed) as a Parquet file.
fn contacts(dir: &Path, file: &str, rows: &[(i64, &str, i64)]) {
    write_hourly(
        dir,
        &format!("contacts/{file}"),
        ["id", "email", "at"],
        rows,
    );
}

/// The newest export of each contact, cleaned: a merge model keyed by id.
const NEWEST: &str = "SELECT id, lower(email) AS email, at FROM (\
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY at DESC) AS rn FROM contacts) \
    WHERE rn = 1";

/// A workspace whose merge model keeps the newest export of each contact, with a full model
/// reading it; a hundred contacts, each changed at its own hour.
fn merge_workspace() -> tempfile::TempDir {
    let dir = workspace(TOML);
    write(dir.path(), "sql/clean_contacts.sql", NEWEST);
    write(
        dir.path(),
        "sql/domains.sql",
        "SELECT split_part(email, '@', 2) AS domain, count(*) AS n FROM clean_contacts GROUP BY 1",
    );
    let first: Vec<(i64, String, i64)> = (0..100)
        .map(|i| {
            (
                i,
                format!("Person{i}@{}.example", ["a", "b"][i as usize % 2]),
                i,
            )
        })
        .collect();
    let first: Vec<(i64, &str, i64)> = first.iter().map(|(i, e, h)| (*i, e.as_str(), *h)).collect();
    contacts(dir.path(), "part-0.parquet", &first);
    dir
}

/// The next export: two contacts changed, one of them late (before the latest published
/// change, inside the lookback), one new, and an unchanged contact exported again.
fn next_export(dir: &Path) {
    contacts(
        dir,
        "part-1.parquet",
        &[
            (5, "five@c.example", 120),
            (7, "seven@c.example", 99),
            (150, "new@a.example", 121),
            (50, "Person50@a.example", 50),
        ],
    );
}

fn rows(dir: &Path, sql: &str) -> String {
    let out = c360(dir, &["query", "-c", sql, "--format", "csv"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    stdout
}

const ALL: &str = "SELECT id, email, CAST(at AS VARCHAR) AS at FROM clean_contacts ORDER BY id";
const DOMAINS: &str = "SELECT * FROM domains ORDER BY domain";

/// What a full rebuild of the same data gives (a copy of the workspace built from nothing).
fn full_rebuild(dir: &Path) -> (String, String) {
    let fresh = tempfile::tempdir().expect("temp dir");
    for entry in ["c360.toml", "sql", "contacts"] {
        copy_tree(&dir.join(entry), &fresh.path().join(entry));
    }
    run_ok(fresh.path(), &[]);
    (rows(fresh.path(), ALL), rows(fresh.path(), DOMAINS))
}

fn folders(dir: &Path, model: &str) -> usize {
    std::fs::read_dir(dir.join("output").join(model))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn a_merge_run_after_changed_and_new_records_equals_a_full_rebuild_and_keeps_a_ledger() {
    let dir = merge_workspace();
    run_ok(dir.path(), &[]);
    let entry = &manifest(dir.path())["models"]["clean_contacts"]["incremental"];
    assert_eq!(entry["kind"], "merge");
    assert_eq!(entry["ledger"][0]["from"], serde_json::Value::Null);
    assert_eq!(entry["ledger"][0]["to"], "2025-01-05T03:00:00");

    next_export(dir.path());
    run_ok(dir.path(), &[]);
    let published = manifest(dir.path());
    let model = &published["models"]["clean_contacts"];
    let ledger = model["incremental"]["ledger"].as_array().expect("ledger");
    assert_eq!(ledger.len(), 2, "{model}");
    // From one hour before the latest change published: contacts 98 and 99 again, the two
    // changed ones (7 late, at hour 99) and the new one; contact 50's old export is not read
    // as a change.
    assert_eq!(ledger[1]["from"], "2025-01-05T02:00:00");
    assert_eq!(ledger[1]["to"], "2025-01-06T01:00:00");
    assert_eq!(ledger[1]["rows"], 5);
    assert_eq!(model["rows"], 101);
    assert_eq!(
        model["incremental"]["segments"].as_array().map(Vec::len),
        Some(1)
    );
    let (full, domains) = full_rebuild(dir.path());
    let merged = rows(dir.path(), ALL);
    assert_eq!(merged, full);
    assert!(merged.contains("5,five@c.example,") && merged.contains("150,new@a.example,"));
    assert_eq!(rows(dir.path(), DOMAINS), domains);
    // The scratch folder of the changed rows is gone.
    let previous = model["previous"].as_array().map_or(0, Vec::len);
    assert_eq!(folders(dir.path(), "clean_contacts"), 1 + previous);

    // --full-refresh rebuilds it whole; so does a change of its settings.
    run_ok(dir.path(), &["--full-refresh"]);
    let entry = &manifest(dir.path())["models"]["clean_contacts"]["incremental"];
    assert_eq!(entry["ledger"].as_array().map(Vec::len), Some(1));
    assert_eq!(rows(dir.path(), ALL), full);
    let toml = std::fs::read_to_string(dir.path().join("c360.toml")).expect("toml");
    write(
        dir.path(),
        "c360.toml",
        &toml.replace("lookback = \"1 hour\"", "lookback = \"2 hours\""),
    );
    run_ok(dir.path(), &[]);
    let entry = &manifest(dir.path())["models"]["clean_contacts"]["incremental"];
    assert_eq!(entry["ledger"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_merge_model_whose_key_repeats_or_is_null_fails_naming_the_key() {
    let dir = merge_workspace();
    write(
        dir.path(),
        "sql/clean_contacts.sql",
        "SELECT id, email, at FROM contacts",
    );
    run_ok(dir.path(), &[]);
    let before = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
    // Two exports of contact 5 after the cutoff: the changed rows repeat a key.
    next_export(dir.path());
    contacts(dir.path(), "part-2.parquet", &[(5, "again@c.example", 122)]);
    let out = c360(dir.path(), &["run"]);
    let (stdout, _) = texts(&out);
    assert!(!out.status.success());
    assert!(
        stdout.contains("more than one row has the unique_key (id) = (5)")
            && stdout.contains("clean_contacts.sql"),
        "{stdout}"
    );
    let after = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
    assert_eq!(before, after, "a failed merge publishes nothing");

    write(
        dir.path(),
        "sql/clean_contacts.sql",
        "SELECT CASE WHEN id = 3 THEN NULL ELSE id END AS id, email, at FROM contacts",
    );
    let out = c360(dir.path(), &["run", "--full-refresh"]);
    let (stdout, _) = texts(&out);
    assert!(
        stdout.contains("1 rows have a NULL unique_key (id)"),
        "{stdout}"
    );
}

#[test]
fn a_merge_model_without_its_settings_is_refused_naming_the_setting() {
    for (settings, expected) in [
        (
            "kind = \"merge\"\nupdated_at = \"at\"\n",
            "[models.clean_contacts] unique_key",
        ),
        (
            "kind = \"merge\"\nunique_key = [\"id\"]\n",
            "[models.clean_contacts] updated_at",
        ),
        (
            "unique_key = [\"id\"]\n",
            "[models.clean_contacts] unique_key: it is for kind = \"merge\"",
        ),
        (
            "kind = \"merge\"\nunique_key = [\"id\"]\nupdated_at = \"at\"\nmax_segments = 3\n",
            "[models.clean_contacts] max_segments: it is for kind = \"append\"",
        ),
        (
            "kind = \"merge\"\nunique_key = [\"nope\"]\nupdated_at = \"at\"\n",
            "unique_key: the model has no column 'nope'",
        ),
    ] {
        let dir = merge_workspace();
        let toml = TOML.replace(
            "kind = \"merge\"\nunique_key = [\"id\"]\nupdated_at = \"at\"\nlookback = \"1 hour\"\n",
            settings,
        );
        write(dir.path(), "c360.toml", &toml);
        let out = c360(dir.path(), &["run"]);
        let (stdout, stderr) = texts(&out);
        assert!(!out.status.success(), "{settings}");
        assert!(
            stdout.contains(expected) || stderr.contains(expected),
            "{settings}: {stdout}\n{stderr}"
        );
    }
}

#[test]
fn a_killed_merge_run_changes_nothing_published_and_the_next_run_catches_up() {
    let dir = merge_workspace();
    run_ok(dir.path(), &[]);
    next_export(dir.path());
    write(
        dir.path(),
        "sql/zz_slow.sql",
        "SELECT sum(value) AS s FROM generate_series(1, 300000000)",
    );
    let before = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
    // Killed once the merge wrote its folders (the changed rows, then the merged version).
    let folders_before = folders(dir.path(), "clean_contacts");
    kill_run_when(dir.path(), || {
        folders(dir.path(), "clean_contacts") > folders_before
    });
    let after = std::fs::read(dir.path().join("output/_manifest.json")).expect("manifest");
    assert_eq!(before, after, "a killed run must not change the manifest");
    std::fs::remove_file(dir.path().join("sql/zz_slow.sql")).expect("remove");
    run_ok(dir.path(), &[]);
    let (full, domains) = full_rebuild(dir.path());
    assert_eq!(rows(dir.path(), ALL), full);
    assert_eq!(rows(dir.path(), DOMAINS), domains);
    let model = &manifest(dir.path())["models"]["clean_contacts"];
    let previous = model["previous"].as_array().map_or(0, Vec::len);
    assert_eq!(folders(dir.path(), "clean_contacts"), 1 + previous);
}
