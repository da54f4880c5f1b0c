//! Every bad input gets a clear error that names the source, file, column or line.

use std::path::Path;

use super::common::{
    c360, texts, workspace, write, write_orders_parquet, write_orders_parquet_text_amount,
};

/// Query `table` with the real binary; it must fail, and the error text is returned.
fn query_error(dir: &Path, table: &str) -> String {
    let out = c360(
        dir,
        &["query", "-c", &format!("SELECT count(*) FROM {table}")],
    );
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    err
}

const CSV_SOURCE: &str = "[sources.contacts]\nformat = \"csv\"\nlocation = \"contacts/\"\n";

#[test]
fn missing_file_names_source_and_path() {
    let dir =
        workspace("[sources.orders]\nformat = \"parquet\"\nlocation = \"data/orders.parquet\"\n");
    let err = query_error(dir.path(), "orders");
    assert!(err.contains("source 'orders'"), "{err}");
    assert!(
        err.contains("data/orders.parquet") && err.contains("does not exist"),
        "{err}"
    );
}

#[test]
fn empty_folder_says_no_files() {
    let dir = workspace("[sources.orders]\nformat = \"parquet\"\nlocation = \"orders/\"\n");
    std::fs::create_dir_all(dir.path().join("orders")).expect("mkdir");
    let err = query_error(dir.path(), "orders");
    assert!(
        err.contains("source 'orders'") && err.contains("no .parquet files"),
        "{err}"
    );
}

#[test]
fn corrupt_parquet_names_the_file() {
    let dir = workspace("[sources.orders]\nformat = \"parquet\"\nlocation = \"orders/\"\n");
    write_orders_parquet(dir.path(), "orders/part-0.parquet", &[(1, 10.0)]);
    write(
        dir.path(),
        "orders/part-1.parquet",
        "this is not parquet at all",
    );
    let err = query_error(dir.path(), "orders");
    assert!(err.contains("source 'orders'"), "{err}");
    assert!(err.contains("orders/part-1.parquet"), "{err}");
}

#[test]
fn schema_changed_between_files_names_both_files_and_the_column() {
    let dir = workspace("[sources.orders]\nformat = \"parquet\"\nlocation = \"orders/\"\n");
    write_orders_parquet(dir.path(), "orders/2024.parquet", &[(1, 10.0)]);
    write_orders_parquet_text_amount(dir.path(), "orders/2025.parquet", &[(2, "12.50")]);
    let err = query_error(dir.path(), "orders");
    assert!(err.contains("source 'orders'"), "{err}");
    assert!(err.contains("column 'amount'"), "{err}");
    assert!(
        err.contains("orders/2024.parquet") && err.contains("orders/2025.parquet"),
        "{err}"
    );
}

#[test]
fn csv_with_ragged_rows_names_file_and_line() {
    let dir = workspace(CSV_SOURCE);
    write(dir.path(), "contacts/a.csv", "id,name\n1,Ann\n2,Bob\n");
    write(dir.path(), "contacts/b.csv", "id,name\n3,Cy\n4,Di,extra\n");
    let out = c360(dir.path(), &["query", "-c", "SELECT * FROM contacts"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("contacts/b.csv"), "{err}");
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn csv_with_wrong_types_names_file_and_value() {
    let dir = workspace(
        "[sources.orders]\nformat = \"csv\"\nlocation = \"orders/\"\n\
         schema = [{ name = \"id\", type = \"bigint\" }, { name = \"amount\", type = \"double\" }]\n",
    );
    write(dir.path(), "orders/good.csv", "id,amount\n1,10.5\n");
    write(dir.path(), "orders/bad.csv", "id,amount\n2,12.0\n3,abc\n");
    let out = c360(
        dir.path(),
        &["query", "-c", "SELECT sum(amount) FROM orders"],
    );
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("orders/bad.csv"), "{err}");
    assert!(err.contains("abc"), "{err}");
}

#[test]
fn json_with_a_broken_line_names_the_file() {
    let dir = workspace(
        "[sources.nps]\nformat = \"json\"\nlocation = \"nps/\"\n\
         schema = [{ name = \"id\", type = \"bigint\" }, { name = \"score\", type = \"int\" }]\n",
    );
    write(dir.path(), "nps/a.json", "{\"id\": 1, \"score\": 9}\n");
    write(
        dir.path(),
        "nps/b.json",
        "{\"id\": 2, \"score\": 7}\n{\"id\": 3, \"score\": \n",
    );
    let out = c360(dir.path(), &["query", "-c", "SELECT avg(score) FROM nps"]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nps/b.json"), "{err}");
}

#[test]
fn unsupported_scheme_and_bad_glob_are_explained() {
    let dir =
        workspace("[sources.orders]\nformat = \"csv\"\nlocation = \"ftp://host/orders.csv\"\n");
    let err = query_error(dir.path(), "orders");
    assert!(
        err.contains("source 'orders'") && err.contains("scheme 'ftp' is not supported"),
        "{err}"
    );
    let dir =
        workspace("[sources.orders]\nformat = \"csv\"\nlocation = \"s3://b/orders/[z-a.csv\"\n");
    let err = query_error(dir.path(), "orders");
    assert!(
        err.contains("source 'orders'") && err.contains("glob"),
        "{err}"
    );
}

#[test]
fn a_broken_source_does_not_block_the_others() {
    let dir = workspace(
        "[sources.orders]\nformat = \"parquet\"\nlocation = \"orders/\"\n\n\
         [sources.contacts]\nformat = \"csv\"\nlocation = \"contacts/\"\n",
    );
    write(dir.path(), "orders/part-0.parquet", "corrupt");
    write(dir.path(), "contacts/a.csv", "id,name\n1,Ann\n");
    let out = c360(
        dir.path(),
        &[
            "query",
            "-c",
            "SELECT count(*) AS n FROM contacts",
            "--format",
            "csv",
        ],
    );
    let (text, err) = texts(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(text, "n\n1\n");
    assert!(
        err.contains("source 'orders'"),
        "the broken source is reported as a warning: {err}"
    );
    let err = query_error(dir.path(), "orders");
    assert!(err.contains("orders/part-0.parquet"), "{err}");
}
