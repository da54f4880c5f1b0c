//! Bad configuration is reported with the file, the key and what is expected.

use super::common::{c360, texts, workspace};

#[test]
fn unknown_key_is_an_error_naming_file_key_and_line() {
    let dir =
        workspace("[sources.orders]\nformat = \"csv\"\nlocation = \"orders.csv\"\nheader = true\n");
    let out = c360(dir.path(), &["query", "-c", "SELECT 1"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("c360.toml"), "{err}");
    assert!(err.contains("unknown field `header`"), "{err}");
    assert!(err.contains("line 4"), "{err}");
}

#[test]
fn wrong_value_type_is_explained() {
    let dir = workspace("[engine]\nbatch_size = \"big\"\n");
    let out = c360(dir.path(), &["run"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("batch_size") && err.contains("expected usize"),
        "{err}"
    );
}

#[test]
fn missing_config_for_run_says_how_to_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = c360(dir.path(), &["run"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("c360.toml") && err.contains("--workspace"),
        "{err}"
    );
}

#[test]
fn datafusion_options_are_applied_and_checked() {
    let dir =
        workspace("[engine.options]\n\"datafusion.execution.parquet.compression\" = \"zstd(5)\"\n");
    let out = c360(
        dir.path(),
        &[
            "query",
            "-c",
            "SELECT value FROM information_schema.df_settings WHERE name = 'datafusion.execution.parquet.compression'",
            "--format",
            "csv",
        ],
    );
    assert_eq!(texts(&out).0, "value\nzstd(5)\n", "{}", texts(&out).1);
    let dir = workspace("[engine.options]\n\"datafusion.no.such.option\" = \"1\"\n");
    let out = c360(dir.path(), &["query", "-c", "SELECT 1"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("datafusion.no.such.option") && err.contains("[engine.options]"),
        "{err}"
    );
}
