//! c360 on a Ballista cluster: one `c360 scheduler` and one `c360 executor` (real processes,
//! free loopback ports) per test binary, over a copy of the sample workspace that every process
//! reads as its shared folder.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;

use c360::{Engine, Workspace};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use tempfile::TempDir;

use crate::common::{c360, copy_tree, repo, texts};

/// The running cluster and the workspace folder its processes share.
struct Cluster {
    url: String,
    dir: PathBuf,
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        // The processes are spawned from a thread that lives as long as the test process, so
        // that their parent-death signal (SIGTERM, sent when the spawning thread ends) comes
        // only when the tests are over.
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let started = start_cluster();
            sender.send(started).expect("hand over the cluster");
            loop {
                std::thread::park();
            }
        });
        receiver.recv().expect("the cluster thread panicked")
    })
}

fn start_cluster() -> Cluster {
    let dir: &'static TempDir = Box::leak(Box::new(tempfile::tempdir().expect("temp dir")));
    let root = dir.path().join("workspace");
    std::fs::create_dir_all(&root).expect("mkdir");
    for part in ["c360.toml", "sql", "data", "models"] {
        copy_tree(&repo().join(part), &root.join(part));
    }
    let (scheduler, line) = spawn_reporting(&root, &["scheduler", "--port", "0"]);
    let address = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("df://"))
        .unwrap_or_else(|| panic!("no address in the scheduler's first line: {line}"))
        .to_string();
    let (executor, line) = spawn_reporting(
        &root,
        &[
            "executor",
            "--scheduler",
            &address,
            "--port",
            "0",
            "--grpc-port",
            "0",
            "--slots",
            "2",
        ],
    );
    assert!(line.contains("2 task slots"), "{line}");
    // Reaped by the kernel when the test process ends.
    std::mem::forget((scheduler, executor));
    Cluster {
        url: format!("df://{address}"),
        dir: root,
    }
}

/// Spawn `c360 ARGS` in `dir` and return it with the first line it prints.
fn spawn_reporting(dir: &Path, args: &[&str]) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_c360"));
    command
        .args(["--workspace", &dir.display().to_string()])
        .args(args)
        .env_remove("C360_CLUSTER")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: prctl is async-signal-safe; it only asks for a signal when the parent ends.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn c360");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).expect("first line");
    assert!(
        !line.is_empty(),
        "c360 {args:?} ended before it printed where it listens"
    );
    // Keep reading so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    (child, line)
}

/// The cluster's workspace, as a client of the cluster (`cluster = true`) or embedded.
async fn engine(cluster_client: bool) -> Engine {
    let cluster = cluster();
    let mut workspace = Workspace::load(&cluster.dir).expect("workspace");
    if cluster_client {
        workspace.config.engine.cluster = Some(cluster.url.clone());
    }
    Engine::open(&workspace).await.expect("open the workspace")
}

async fn rows(engine: &Engine, sql: &str) -> Vec<RecordBatch> {
    engine
        .ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("plan {sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("run {sql}: {e}"))
}

async fn text(engine: &Engine, sql: &str) -> String {
    pretty_format_batches(&rows(engine, sql).await)
        .expect("format")
        .to_string()
}

/// Scalars, aggregates and window functions of c360 run on the executor and give the rows
/// the embedded engine gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_queries_with_c360_functions_run_on_the_cluster() {
    let remote = engine(true).await;
    let local = engine(false).await;
    for sql in [
        "SELECT normalize_email(email) AS email, count(*) AS n FROM crm_contacts \
         GROUP BY 1 ORDER BY n DESC, email LIMIT 5",
        "SELECT count(DISTINCT normalize_name(last_name)) AS names, \
         count(DISTINCT double_metaphone(last_name)) AS codes FROM crm_contacts",
        "SELECT state, most_frequent(city) AS city, count(*) AS n FROM crm_contacts \
         GROUP BY state ORDER BY state",
        "SELECT round(avg(jaro_winkler(a.last_name, b.last_name)), 9) AS similarity \
         FROM crm_contacts a JOIN crm_contacts b ON a.postcode = b.postcode \
         AND a.contact_id < b.contact_id",
    ] {
        let plan = text(&remote, &format!("EXPLAIN {sql}")).await;
        assert!(plan.contains("DistributedQueryExec"), "{sql}:\n{plan}");
        assert_eq!(text(&remote, sql).await, text(&local, sql).await, "{sql}");
    }
}

/// A query that needs a c360 table function plans on the client; a query of
/// information_schema too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_functions_plan_on_the_client() {
    let remote = engine(true).await;
    for sql in [
        "SELECT count(*) FROM list_models()",
        "SELECT count(*) FROM information_schema.tables",
    ] {
        let plan = text(&remote, &format!("EXPLAIN {sql}")).await;
        assert!(!plan.contains("DistributedQueryExec"), "{sql}:\n{plan}");
        rows(&remote, sql).await;
    }
}

/// `c360 --cluster df://... query` sends the query to the cluster and prints what the embedded
/// query prints; a bad URL is a configuration error naming the flag.
#[test]
fn query_command_takes_the_cluster_flag() {
    let cluster = cluster();
    let sql = "SELECT normalize_phone(phone) AS phone FROM crm_contacts \
               WHERE phone IS NOT NULL ORDER BY contact_id LIMIT 3";
    let remote = c360(
        &cluster.dir,
        &["--cluster", &cluster.url, "query", "-c", sql],
    );
    let local = c360(&cluster.dir, &["query", "-c", sql]);
    let (remote_out, remote_err) = texts(&remote);
    assert!(remote.status.success(), "{remote_err}");
    assert_eq!(remote_out, texts(&local).0);
    let bad = c360(
        &cluster.dir,
        &["--cluster", "http://x:1", "query", "-c", "SELECT 1"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        texts(&bad)
            .1
            .contains("--cluster: 'http://x:1' is not a scheduler URL")
    );
}

/// `c360 --cluster ... run` builds the whole sample pipeline with its file-only queries on the
/// cluster, every model says where it ran, and the identity graph is the embedded run's.
#[test]
fn the_pipeline_runs_on_the_cluster_with_the_embedded_result() {
    let cluster = cluster();
    let out = c360(&cluster.dir, &["--cluster", &cluster.url, "run"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("63 ok, 0 failed"), "{stdout}");
    assert!(stdout.contains("ran on the cluster"), "{stdout}");
    let sql = "SELECT source, source_record_id, customer_id FROM identity_graph ORDER BY 1, 2";
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (remote, local) = runtime.block_on(async {
        let remote = engine(false).await;
        let local = crate::common::open_sample().await;
        (text(&remote, sql).await, text(&local, sql).await)
    });
    assert_eq!(remote.lines().count(), local.lines().count());
    assert!(
        remote == local,
        "the cluster's identity_graph differs from the embedded one"
    );
}
