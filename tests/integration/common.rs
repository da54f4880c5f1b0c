//! Helpers: temporary workspaces, files in every format, and running the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use c360::{Engine, Workspace};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::SessionContext;
use tempfile::TempDir;

/// The repository root (the embedded sample workspace).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample workspace with the whole pipeline run once per test process, its outputs and
/// models in a temporary folder. Tests only read it (a test that changes data or reruns the
/// pipeline works on a copy of its own).
pub fn sample() -> &'static Workspace {
    static SAMPLE: OnceLock<(TempDir, Workspace)> = OnceLock::new();
    &SAMPLE
        .get_or_init(|| {
            // A runtime of its own: the first caller may be a test on a single-threaded one.
            std::thread::spawn(run_sample)
                .join()
                .expect("the sample pipeline run panicked")
        })
        .1
}

fn run_sample() -> (TempDir, Workspace) {
    let output = tempfile::tempdir().expect("temp dir");
    let mut workspace = Workspace::load(&repo()).expect("sample workspace");
    workspace.config.pipeline.output = output.path().display().to_string();
    workspace.config.pipeline.models = output.path().join("models").display().to_string();
    // The shipped match model, copied: a run that found it stale would retrain it, and must
    // not write into the repository.
    for setup in workspace.config.matching.values_mut() {
        let copy = output
            .path()
            .join(format!("matching-{}", setup.model.replace('/', "_")));
        std::fs::copy(repo().join(&setup.model), &copy).expect("copy the match model");
        setup.model = copy.display().to_string();
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let summary = runtime.block_on(async {
        let engine = Engine::open(&workspace).await.expect("open the sample");
        c360::pipeline::run(&engine, &c360::pipeline::RunOptions::default())
            .await
            .expect("run the sample pipeline")
    });
    assert_eq!(summary.failed(), 0, "{}", summary.render());
    (output, workspace)
}

/// The published sample (see [`sample`]), opened.
pub async fn open_sample() -> Engine {
    Engine::open(sample())
        .await
        .expect("open the published sample")
}

/// A temporary workspace folder with this `c360.toml`.
pub fn workspace(toml: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "c360.toml", toml);
    dir
}

/// Write a text file, creating folders.
pub fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Write a Parquet file of (id, amount) rows.
pub fn write_orders_parquet(root: &Path, relative: &str, rows: &[(i64, f64)]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
    ];
    write_batch(
        root,
        relative,
        RecordBatch::try_new(schema, columns).expect("batch"),
    );
}

/// Write a Parquet file of (id, amount as text) rows: the same table with a changed schema.
pub fn write_orders_parquet_text_amount(root: &Path, relative: &str, rows: &[(i64, &str)]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
    ];
    write_batch(
        root,
        relative,
        RecordBatch::try_new(schema, columns).expect("batch"),
    );
}

/// Write rows of (an id, a text, a time given as hours after 2025-01-01T00:00:00Z) as a
/// Parquet file with these three column names.
pub fn write_hourly(root: &Path, relative: &str, names: [&str; 3], rows: &[(i64, &str, i64)]) {
    use datafusion::arrow::array::TimestampMicrosecondArray;
    use datafusion::arrow::datatypes::TimeUnit;
    const START: i64 = 1_735_689_600_000_000; // 2025-01-01T00:00:00Z
    const HOUR: i64 = 3_600_000_000;
    let schema = Arc::new(Schema::new(vec![
        Field::new(names[0], DataType::Int64, false),
        Field::new(names[1], DataType::Utf8, true),
        Field::new(
            names[2],
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            rows.iter().map(|r| START + r.2 * HOUR),
        )),
    ];
    write_batch(
        root,
        relative,
        RecordBatch::try_new(schema, columns).expect("batch"),
    );
}

/// Write one batch as a Parquet file, creating folders.
pub fn write_batch(root: &Path, relative: &str, batch: RecordBatch) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let file = std::fs::File::create(path).expect("create");
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

/// Open a workspace folder through the facade.
pub async fn open(dir: &Path) -> c360::Result<Engine> {
    let workspace = Workspace::load(dir)?;
    Engine::open(&workspace).await
}

/// Run the real `c360` binary in `dir`.
pub fn c360(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_c360"))
        .args(args)
        .current_dir(dir)
        .env_remove("C360_WORKSPACE")
        .output()
        .expect("run c360")
}

/// Standard output and error as text.
pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `c360 run ARGS...` in `dir`, which must succeed; its standard output.
pub fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = c360(dir, &[&["run"], args].concat());
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// The published manifest of the workspace in `dir` (`output/_manifest.json`).
pub fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("output/_manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("json")
}

/// One query's single value rendered as text.
pub async fn scalar(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx
        .sql(sql)
        .await
        .expect("plan")
        .collect()
        .await
        .expect("run");
    let column = batches[0].column(0);
    array_value_to_string(column, 0).expect("display")
}

/// Copy a file or a folder with everything in it.
pub fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("entry");
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).expect("copy");
    }
}

/// Start `c360 run` in `dir`, wait until `ready()` holds (polling, two minutes at most) and
/// kill it; fails when the run ended before it could be killed.
pub fn kill_run_when(dir: &Path, ready: impl Fn() -> bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_c360"))
        .arg("run")
        .current_dir(dir)
        .env_remove("C360_WORKSPACE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while !ready() && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the run ended before it could be killed"
    );
    child.kill().expect("kill");
    child.wait().expect("reap");
}

/// Make the published output of `model` look built in 2020, so that its `every` is due.
pub fn publish_long_ago(dir: &Path, model: &str) {
    let path = dir.join("output/_manifest.json");
    let mut published = manifest(dir);
    published["models"][model]["published_at"] = "2020-01-01T00:00:00+00:00".into();
    std::fs::write(&path, published.to_string()).expect("write manifest");
}
