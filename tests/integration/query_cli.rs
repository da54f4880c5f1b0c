//! `c360 query`: statements split by the parser, every output format, errors on stderr.

use super::common::{c360, repo, texts};

#[test]
fn answers_on_the_sample_workspace() {
    let out = c360(
        &repo(),
        &["query", "-c", "SELECT count(*) AS n FROM orders"],
    );
    let (text, err) = texts(&out);
    assert!(out.status.success(), "{err}");
    assert!(text.contains("| n ") && text.contains("42182"), "{text}");
}

#[test]
fn formats_csv_json_ndjson() {
    let sql = "SELECT offer_id, kind FROM offers WHERE offer_id <= 2 ORDER BY offer_id";
    let out = c360(&repo(), &["query", "-c", sql, "--format", "csv"]);
    assert_eq!(
        texts(&out).0,
        "offer_id,kind\n1,discount\n2,free_shipping\n"
    );
    let out = c360(&repo(), &["query", "-c", sql, "--format", "ndjson"]);
    assert_eq!(
        texts(&out).0,
        "{\"offer_id\":1,\"kind\":\"discount\"}\n{\"offer_id\":2,\"kind\":\"free_shipping\"}\n"
    );
    let out = c360(&repo(), &["query", "-c", sql, "--format", "json"]);
    assert_eq!(
        texts(&out).0.trim(),
        "[{\"offer_id\":1,\"kind\":\"discount\"},{\"offer_id\":2,\"kind\":\"free_shipping\"}]"
    );
}

#[test]
fn parquet_output_is_readable_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("offers.parquet");
    let file_text = file.display().to_string();
    let out = c360(
        &repo(),
        &[
            "query",
            "-c",
            "SELECT * FROM offers",
            "--format",
            "parquet",
            "-o",
            &file_text,
        ],
    );
    assert!(out.status.success(), "{}", texts(&out).1);
    let sql = format!(
        "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '{file_text}'; SELECT count(*) FROM t"
    );
    let out = c360(dir.path(), &["query", "-c", &sql, "--format", "csv"]);
    assert_eq!(texts(&out).0, "count(*)\n12\n", "{}", texts(&out).1);
    let out = c360(&repo(), &["query", "-c", "SELECT 1", "--format", "parquet"]);
    assert!(texts(&out).1.contains("--output"));
}

#[test]
fn semicolon_inside_a_string_does_not_split() {
    let out = c360(
        &repo(),
        &[
            "query",
            "-c",
            "SELECT 'a;b' AS s; SELECT 2 AS t",
            "--format",
            "csv",
        ],
    );
    assert_eq!(texts(&out).0, "s\na;b\nt\n2\n", "{}", texts(&out).1);
}

#[test]
fn sql_error_goes_to_stderr_with_nonzero_exit() {
    let out = c360(
        &repo(),
        &["query", "-c", "SELECT 1; SELECT nope FROM orders"],
    );
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("statement 2") && err.contains("nope"), "{err}");
}

#[test]
fn a_syntax_error_is_said_once_with_its_position() {
    let out = c360(
        &repo(),
        &["query", "-c", "SELECT rec_id, cluster, x FROM t"],
    );
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        err,
        "error: syntax error: Expected: end of statement, found: cluster at Line: 1, Column: 16\n  \
         SELECT rec_id, cluster, x FROM t\n                 ^\n"
    );
    let out = c360(&repo(), &["query", "-c", "SELECT * FROM orders WHERE"]);
    let (_, err) = texts(&out);
    assert_eq!(err.matches("Expected").count(), 1, "{err}");
    assert!(err.starts_with("error: syntax error: "), "{err}");
}

#[test]
fn sql_file_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("q.sql");
    std::fs::write(&file, "-- count\nSELECT count(*) AS n FROM offers;\n").expect("write");
    let out = c360(
        &repo(),
        &[
            "query",
            "-f",
            &file.display().to_string(),
            "--format",
            "csv",
        ],
    );
    assert_eq!(texts(&out).0, "n\n12\n", "{}", texts(&out).1);
}
