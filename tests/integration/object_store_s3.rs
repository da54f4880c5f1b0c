//! Sources, `CREATE EXTERNAL TABLE` and the pipeline on real object storage: a local
//! S3-compatible server (moto, started by `scripts/test.sh`) with the sample files uploaded to a
//! bucket, used by the real binary exactly as a user would, through `AWS_*` variables.
//!
//! The server's address comes from `C360_TEST_S3_ENDPOINT` and `C360_TEST_S3_BUCKET`. Without
//! them the test says so and skips, except under CI, where it fails.

use std::path::Path;
use std::process::{Command, Output};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};

use super::common::{c360, repo, texts, write};

struct S3 {
    endpoint: String,
    bucket: String,
}

fn server() -> Option<S3> {
    let endpoint = std::env::var("C360_TEST_S3_ENDPOINT").ok()?;
    let bucket = std::env::var("C360_TEST_S3_BUCKET").ok()?;
    Some(S3 { endpoint, bucket })
}

fn skip_or_fail() {
    let message = "S3 test skipped: no local S3-compatible server (set C360_TEST_S3_ENDPOINT and \
                   C360_TEST_S3_BUCKET, or run scripts/test.sh, which starts one)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}; under CI the server must be running");
    }
    eprintln!("{message}");
}

fn c360_s3(s3: &S3, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_c360"))
        .args(args)
        .current_dir(dir)
        .env("AWS_ENDPOINT", &s3.endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("C360_WORKSPACE")
        .output()
        .expect("run c360")
}

async fn upload(s3: &S3, prefix: &str) {
    let store = AmazonS3Builder::new()
        .with_endpoint(&s3.endpoint)
        .with_allow_http(true)
        .with_bucket_name(&s3.bucket)
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .with_region("us-east-1")
        .build()
        .expect("s3 client");
    for file in [
        "shop/orders/part-00000.parquet",
        "crm/contacts/part-00000.csv",
        "survey/nps/part-00000.json",
    ] {
        let bytes = std::fs::read(repo().join("data").join(file)).expect("sample file");
        store
            .put(
                &StorePath::from(format!("{prefix}/{file}")),
                PutPayload::from(bytes),
            )
            .await
            .expect("upload to the local S3 server");
    }
}

fn local_count(table: &str) -> String {
    let out = c360(
        &repo(),
        &[
            "query",
            "-c",
            &format!("SELECT count(*) AS n FROM {table}"),
            "--format",
            "csv",
        ],
    );
    texts(&out).0
}

#[tokio::test]
async fn sources_queries_and_pipeline_on_s3() {
    let Some(s3) = server() else {
        skip_or_fail();
        return;
    };
    let prefix = format!("ws-{}", std::process::id());
    upload(&s3, &prefix).await;
    let base = format!("s3://{}/{prefix}", s3.bucket);
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "c360.toml",
        &format!(
            "[pipeline]\noutput = \"{base}/output/\"\n\n\
             [sources.orders]\nformat = \"parquet\"\nlocation = \"{base}/shop/orders/\"\n\n\
             [sources.crm_contacts]\nformat = \"csv\"\nlocation = \"{base}/crm/contacts/*.csv\"\n\n\
             [sources.nps_responses]\nformat = \"json\"\nlocation = \"{base}/survey/nps/\"\n"
        ),
    );
    write(
        dir.path(),
        "sql/category_sales.sql",
        "SELECT category, count(*) AS orders, sum(amount) AS revenue FROM orders GROUP BY category",
    );

    // Parquet, CSV (through a glob) and JSON sources read from the bucket.
    for table in ["orders", "crm_contacts", "nps_responses"] {
        let out = c360_s3(
            &s3,
            dir.path(),
            &[
                "query",
                "-c",
                &format!("SELECT count(*) AS n FROM {table}"),
                "--format",
                "csv",
            ],
        );
        assert!(out.status.success(), "{table}: {}", texts(&out).1);
        assert_eq!(
            texts(&out).0,
            local_count(table),
            "{table} on S3 differs from local"
        );
    }

    // The pipeline publishes to the bucket; a new process reads the published model back.
    let out = c360_s3(&s3, dir.path(), &["run"]);
    assert!(out.status.success(), "{}{}", texts(&out).0, texts(&out).1);
    assert!(
        texts(&out).0.contains("ok       category_sales"),
        "{}",
        texts(&out).0
    );
    let out = c360_s3(
        &s3,
        dir.path(),
        &[
            "query",
            "-c",
            "SELECT sum(orders) AS n FROM category_sales",
            "--format",
            "csv",
        ],
    );
    assert_eq!(texts(&out).0, local_count("orders"), "{}", texts(&out).1);

    // CREATE EXTERNAL TABLE on an s3:// URL in SQL.
    let sql = format!(
        "CREATE EXTERNAL TABLE o2 STORED AS PARQUET LOCATION '{base}/shop/orders/'; SELECT count(*) AS n FROM o2"
    );
    let out = c360_s3(&s3, dir.path(), &["query", "-c", &sql, "--format", "csv"]);
    assert_eq!(texts(&out).0, local_count("orders"), "{}", texts(&out).1);

    // A missing bucket is a clear error naming the source and the location.
    write(
        dir.path(),
        "c360.toml",
        "[sources.orders]\nformat = \"parquet\"\nlocation = \"s3://no-such-bucket-c360/orders/\"\n",
    );
    let out = c360_s3(
        &s3,
        dir.path(),
        &["query", "-c", "SELECT count(*) FROM orders"],
    );
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("source 'orders'") && err.contains("s3://no-such-bucket-c360/orders/"),
        "{err}"
    );
    assert!(err.contains("bucket"), "{err}");
}
