//! c360 on a Ballista cluster: one `c360 scheduler` and two `c360 executor` processes (real
//! processes on free loopback ports) per test binary, over a copy of the sample workspace
//! that every process reads as its shared folder. The test that kills an executor starts a
//! cluster of its own, which it may break.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use c360::{Engine, Workspace};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampNanosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;
use tempfile::TempDir;

use crate::common::{c360, copy_tree, manifest, repo, sample, texts};

/// A running cluster and the workspace folder its processes share.
struct Cluster {
    url: String,
    dir: PathBuf,
    scheduler: Process,
    executors: Vec<Process>,
}

/// A `c360 scheduler` or `c360 executor` process.
struct Process {
    child: Child,
    /// The tasks it reported running (an executor's "c360 executor: task ..." lines).
    tasks: Arc<AtomicUsize>,
}

impl Process {
    fn tasks(&self) -> usize {
        self.tasks.load(Ordering::Relaxed)
    }
}

impl Drop for Cluster {
    /// Every process is killed by its PID when the cluster goes, also when a test failed.
    fn drop(&mut self) {
        for process in self.executors.iter_mut().chain([&mut self.scheduler]) {
            process.child.kill().ok();
            process.child.wait().ok();
        }
    }
}

/// The cluster shared by the tests of this binary.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        // The processes are spawned from a thread that lives as long as the test process, so
        // that their parent-death signal (SIGTERM, sent when the spawning thread ends) comes
        // only when the tests are over, or the test process dies.
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let dir: &'static TempDir = Box::leak(Box::new(tempfile::tempdir().expect("tmp")));
            let started = start_cluster(&dir.path().join("workspace"));
            sender.send(started).expect("hand over the cluster");
            loop {
                std::thread::park();
            }
        });
        receiver.recv().expect("the cluster thread panicked")
    })
}

/// A scheduler and two executors of two task slots each over a copy of the sample's
/// configuration, SQL, data and models in `root`.
fn start_cluster(root: &Path) -> Cluster {
    std::fs::create_dir_all(root).expect("mkdir");
    for part in ["c360.toml", "sql", "data", "models"] {
        copy_tree(&repo().join(part), &root.join(part));
    }
    let (scheduler, line) = spawn_reporting(root, &["scheduler", "--port", "0"]);
    let address = line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("df://"))
        .unwrap_or_else(|| panic!("no address in the scheduler's first line: {line}"))
        .to_string();
    let executors = (0..2)
        .map(|_| {
            let (executor, line) = spawn_reporting(
                root,
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
            executor
        })
        .collect();
    Cluster {
        url: format!("df://{address}"),
        dir: root.to_path_buf(),
        scheduler,
        executors,
    }
}

/// Spawn `c360 ARGS` in `dir` and return it with the first line it prints; its later lines
/// are read (and its task lines counted) on a thread of their own.
fn spawn_reporting(dir: &Path, args: &[&str]) -> (Process, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_c360"));
    command
        .args(["--workspace", &dir.display().to_string()])
        .args(args)
        .env_remove("C360_CLUSTER")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
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
    let tasks = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&tasks);
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if line.starts_with("c360 executor: task ") {
                counted.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    (Process { child, tasks }, line)
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
/// cluster, both executors take tasks, every model says where it ran, and every published
/// model has the embedded run's rows.
#[test]
fn the_pipeline_runs_on_both_executors_with_the_embedded_result() {
    let cluster = cluster();
    let before: Vec<usize> = cluster.executors.iter().map(Process::tasks).collect();
    let out = c360(&cluster.dir, &["--cluster", &cluster.url, "run"]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("63 ok, 0 failed"), "{stdout}");
    assert!(stdout.contains("ran on the cluster"), "{stdout}");
    for (executor, before) in cluster.executors.iter().zip(before) {
        assert!(
            executor.tasks() > before,
            "an executor ran no task of the pipeline ({before} before, {} after)",
            executor.tasks()
        );
    }
    let differences = runtime().block_on(async {
        let remote = engine(false).await;
        let local = crate::common::open_sample().await;
        let mut differences = Vec::new();
        for model in published_models(&cluster.dir) {
            if let Err(difference) = same_rows(&remote, &local, &model).await {
                differences.push(difference);
            }
        }
        differences
    });
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Every c360 function's documented example gives the embedded result on the cluster (the
/// trainers, which write files, are left to the embedded test of the examples).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_example_gives_the_embedded_result_on_the_cluster() {
    let mut workspace = sample().clone();
    workspace.config.engine.cluster = Some(cluster().url.clone());
    let remote = Engine::open(&workspace)
        .await
        .expect("open the sample as a client");
    let local = crate::common::open_sample().await;
    let mut failures = Vec::new();
    for (name, example) in crate::examples::examples() {
        if c360::functions::registry::entry(&name).is_some_and(|e| e.writes) {
            continue;
        }
        let (sql, _) = crate::examples::split_example(&example);
        let remote_rows = match remote.ctx.sql(&sql).await {
            Ok(frame) => frame.collect().await,
            Err(e) => Err(e),
        };
        match remote_rows {
            Err(e) => failures.push(format!("{name} on the cluster: {e}\n  {sql}")),
            Ok(batches) => {
                let expected = rows(&local, &sql).await;
                if let Err(difference) = same_batches(&batches, &expected) {
                    failures.push(format!("{name}: {difference}\n  {sql}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A scoring query runs on the executors with the model file the client planned with: the
/// client's models are in a folder no executor can see, and after the model is fitted again
/// the executors score with the new fit, as the embedded engine does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_runs_on_the_executors_with_the_model_the_client_planned_with() {
    let models = tempfile::tempdir().expect("temp dir");
    let mut workspace = sample().clone();
    workspace.config.pipeline.models = models.path().display().to_string();
    let local = Engine::open(&workspace).await.expect("open embedded");
    workspace.config.engine.cluster = Some(cluster().url.clone());
    let remote = Engine::open(&workspace).await.expect("open as a client");
    let score = "SELECT customer_id, p_alive('refitted', frequency, recency, t) AS p, \
                 expected_purchases('refitted', 30, frequency, recency, t) AS purchases \
                 FROM clv_inputs ORDER BY customer_id";
    let mut scored = Vec::new();
    for fit_on in [
        "SELECT * FROM clv_inputs ORDER BY customer_id LIMIT 400",
        "SELECT * FROM clv_inputs",
    ] {
        rows(&local, "DROP TABLE IF EXISTS fit_rows").await;
        rows(&local, &format!("CREATE TABLE fit_rows AS {fit_on}")).await;
        rows(
            &local,
            "SELECT * FROM fit_clv_model('refitted', 'fit_rows')",
        )
        .await;
        let plan = text(&remote, &format!("EXPLAIN {score}")).await;
        assert!(plan.contains("DistributedQueryExec"), "{plan}");
        assert!(plan.contains("p_alive(Utf8(\"refitted\")"), "{plan}");
        let jobs = c360::cluster::jobs(&remote.ctx).expect("a cluster client");
        let on_cluster = rows(&remote, score).await;
        assert!(
            c360::cluster::jobs(&remote.ctx) > Some(jobs),
            "not sent to the cluster"
        );
        same_batches(&on_cluster, &rows(&local, score).await)
            .unwrap_or_else(|difference| panic!("after fitting on {fit_on}: {difference}"));
        scored.push(
            pretty_format_batches(&on_cluster)
                .expect("format")
                .to_string(),
        );
    }
    assert_ne!(scored[0], scored[1], "the second fit scored like the first");
}

/// `match_score` on the executors scores with the client's match model: here one whose prior
/// the client changed, which no executor has (theirs is the workspace's file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_scores_on_the_executors_use_the_clients_match_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut workspace = sample().clone();
    let setup = workspace
        .config
        .matching
        .get_mut("identity")
        .expect("[matching.identity]");
    let mut model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&setup.model).expect("read the model"))
            .expect("a JSON model");
    model["model"]["prior"] = serde_json::json!(0.25);
    let changed = dir.path().join("identity.json");
    std::fs::write(&changed, model.to_string()).expect("write the changed model");
    setup.model = changed.display().to_string();
    let local = Engine::open(&workspace).await.expect("open embedded");
    workspace.config.engine.cluster = Some(cluster().url.clone());
    let remote = Engine::open(&workspace).await.expect("open as a client");
    let score = "SELECT l.record_key AS left_key, r.record_key AS right_key, \
        match_score('identity', l.first_name_std, r.first_name_std, l.last_name_std, \
        r.last_name_std, l.email_std, r.email_std, l.phone_std, r.phone_std, l.postcode_std, \
        r.postcode_std, l.birth_date, r.birth_date)['match_weight'] AS w \
        FROM identity_records l JOIN identity_records r \
        ON l.email_std = r.email_std AND l.record_key < r.record_key \
        ORDER BY left_key, right_key LIMIT 50";
    let plan = text(&remote, &format!("EXPLAIN {score}")).await;
    assert!(plan.contains("DistributedQueryExec"), "{plan}");
    let on_cluster = rows(&remote, score).await;
    same_batches(&on_cluster, &rows(&local, score).await).unwrap_or_else(|d| panic!("{d}"));
    let unchanged = rows(&crate::common::open_sample().await, score).await;
    assert!(
        same_batches(&on_cluster, &unchanged).is_err(),
        "the executors scored with their own copy of the model"
    );
}

/// `connected_components` over a million edges on the cluster: the partial states (every
/// node of a partition with its root) cross the shuffle and the result reaches the client
/// within Ballista's message limits, whole: 1,000 chains of 1,000 records each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_edges_form_their_components_on_the_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edges = dir.path().join("edges");
    let local = engine(false).await;
    // Record i links to record i + 1 within each block of 1,000; four files, so that several
    // tasks build partial components that the final aggregate merges.
    std::fs::create_dir_all(&edges).expect("mkdir");
    for part in 0..4 {
        rows(
            &local,
            &format!(
                "COPY (SELECT 'r' || lpad(CAST(i AS VARCHAR), 7, '0') AS l, \
                        'r' || lpad(CAST(i + 1 AS VARCHAR), 7, '0') AS r \
                 FROM generate_series(0, 999998) AS t(i) \
                 WHERE (i + 1) % 1000 <> 0 AND i % 4 = {part}) \
                 TO '{}/part-{part}.parquet' STORED AS PARQUET",
                edges.display()
            ),
        )
        .await;
    }
    let remote = engine(true).await;
    rows(
        &remote,
        &format!(
            "CREATE EXTERNAL TABLE edges STORED AS PARQUET LOCATION '{}/'",
            edges.display()
        ),
    )
    .await;
    let sql = "SELECT concat_ws(' ', count(*), min(n), max(n), min(component), \
               max(component)) AS summary FROM (SELECT c['component'] AS component, count(*) AS n \
                     FROM (SELECT unnest(connected_components(l, r)) AS c FROM edges) \
                     GROUP BY 1)";
    let plan = text(&remote, &format!("EXPLAIN {sql}")).await;
    assert!(plan.contains("DistributedQueryExec"), "{plan}");
    let found = text(&remote, sql).await;
    assert!(
        found.contains("| 1000 1000 1000 r0000000 r0999000 |"),
        "{found}"
    );
}

/// A scheduler that is not there is an error naming its address within seconds.
#[test]
fn a_scheduler_that_is_down_is_a_clear_error() {
    let port = c360::cluster::pick_port("127.0.0.1", 0).expect("a free port");
    let started = Instant::now();
    let out = c360(
        &repo(),
        &[
            "--cluster",
            &format!("df://127.0.0.1:{port}"),
            "query",
            "-c",
            "SELECT count(*) FROM crm_contacts",
        ],
    );
    let (_, stderr) = texts(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("no scheduler answers at 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("start `c360 scheduler` there"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no quick answer"
    );
}

/// A client of another c360 version is refused by the scheduler, naming both versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_another_version_is_refused() {
    let remote = engine(true).await;
    rows(&remote, "SET c360.version = '0.0.1-other'").await;
    let error = match remote.ctx.sql("SELECT count(*) FROM crm_contacts").await {
        Ok(frame) => frame.collect().await.expect_err("refused"),
        Err(e) => e,
    };
    let message = c360::error::strip_context(&error);
    assert!(
        message.contains(&format!(
            "c360 scheduler {} refuses a job from c360 0.0.1-other",
            c360::cluster::version::VERSION
        )),
        "{message}"
    );
}

/// An executor killed in the middle of a run: the run completes on the other executor (or
/// fails with a clear error), and the published outputs are whole either way.
#[test]
fn an_executor_killed_mid_run_loses_nothing_published() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("workspace");
    let mut cluster = start_cluster(&root);
    // The sample's published run as the last good one.
    copy_tree(
        Path::new(&sample().config.pipeline.output),
        &root.join("output"),
    );
    let victim_before = cluster.executors[1].tasks();
    let mut run = Command::new(env!("CARGO_BIN_EXE_c360"))
        .args(["--workspace", &root.display().to_string()])
        .args(["--cluster", &cluster.url, "run"])
        .env_remove("C360_CLUSTER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn c360 run");
    let waiting = Instant::now();
    while cluster.executors[1].tasks() < victim_before + 5 {
        assert!(
            waiting.elapsed() < Duration::from_secs(300),
            "the executor took no task"
        );
        assert!(
            run.try_wait().expect("wait").is_none(),
            "the run ended before an executor could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    cluster.executors[1]
        .child
        .kill()
        .expect("kill the executor");
    cluster.executors[1]
        .child
        .wait()
        .expect("reap the executor");
    let survivor_before = cluster.executors[0].tasks();
    let ran = Instant::now();
    while run.try_wait().expect("wait").is_none() {
        if ran.elapsed() > Duration::from_secs(600) {
            run.kill().ok();
            panic!("the run neither finished nor failed within 10 minutes of the kill");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = run.wait_with_output().expect("the run's output");
    let (stdout, stderr) = texts(&out);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if out.status.success() {
        // A model whose result was being read from the lost executor ran again.
        assert!(stdout.contains("63 ok, 0 failed"), "{stdout}");
        assert!(
            cluster.executors[0].tasks() > survivor_before,
            "the other executor took over no task"
        );
    } else {
        // The models that failed say it was the cluster; the others published.
        assert!(stderr.contains("cluster"), "{stdout}\n{stderr}");
    }
    drop(cluster);
    // Whatever happened, every published model is whole: all its rows read back, and the
    // identity graph and the 360 are the embedded run's.
    let manifest = manifest(&root);
    runtime().block_on(async {
        let workspace = Workspace::load(&root).expect("workspace");
        let published = Engine::open(&workspace).await.expect("open");
        for model in published_models(&root) {
            let rows: usize = rows(&published, &format!("SELECT * FROM \"{model}\""))
                .await
                .iter()
                .map(RecordBatch::num_rows)
                .sum();
            assert_eq!(
                Some(rows as u64),
                manifest["models"][&model]["rows"].as_u64(),
                "{model}"
            );
        }
        let local = crate::common::open_sample().await;
        for model in ["identity_graph", "customer_360"] {
            same_rows(&published, &local, model)
                .await
                .unwrap_or_else(|difference| panic!("{difference}"));
        }
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

/// The models the last run of the workspace in `dir` published.
fn published_models(dir: &Path) -> Vec<String> {
    let manifest = manifest(dir);
    let models = manifest["models"]
        .as_object()
        .expect("models in the manifest");
    assert!(!models.is_empty());
    models.keys().cloned().collect()
}

/// `Ok` when `table` has the same rows in both engines (in any order; floats within 1e-9
/// relative), else what differs.
async fn same_rows(remote: &Engine, local: &Engine, table: &str) -> Result<(), String> {
    let sql = format!("SELECT * FROM \"{table}\"");
    same_batches(&rows(remote, &sql).await, &rows(local, &sql).await)
        .map_err(|difference| format!("{table}: {difference}"))
}

/// One cell: a float compared within a tolerance, anything else as its text.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Float(Option<f64>),
    Text(String),
}

impl Cell {
    /// Rows are ordered by their cells (floats by their exact value) before they are compared.
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Float(a), Self::Float(b)) => match (a, b) {
                (Some(a), Some(b)) => a.total_cmp(b),
                _ => a.is_some().cmp(&b.is_some()),
            },
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            (Self::Float(_), Self::Text(_)) => std::cmp::Ordering::Less,
            (Self::Text(_), Self::Float(_)) => std::cmp::Ordering::Greater,
        }
    }

    fn close(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Float(Some(a)), Self::Float(Some(b))) => {
                a == b
                    || (a.is_nan() && b.is_nan())
                    || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
            }
            _ => self == other,
        }
    }
}

/// The cells of a column. A timestamp of the last day is the time of a run (when a model was
/// built, an id issued), which two runs never share: it reads as `<run time>`.
fn column_cells(column: &dyn Array) -> Vec<Cell> {
    match column.data_type() {
        DataType::Float64 | DataType::Float32 => {
            let floats = cast(column, &DataType::Float64).expect("cast to float");
            let floats = floats.as_primitive::<Float64Type>();
            (0..floats.len())
                .map(|i| Cell::Float(floats.is_valid(i).then(|| floats.value(i))))
                .collect()
        }
        data_type => {
            let options = FormatOptions::default().with_null("NULL");
            let format = ArrayFormatter::try_new(column, &options).expect("formatter");
            let recent = matches!(data_type, DataType::Timestamp(..)).then(|| {
                let nanos = cast(column, &DataType::Timestamp(TimeUnit::Nanosecond, None))
                    .expect("cast to nanoseconds");
                let day_ago = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("clock")
                    .saturating_sub(Duration::from_secs(86_400))
                    .as_nanos() as i64;
                let nanos = nanos.as_primitive::<TimestampNanosecondType>().clone();
                move |i: usize| nanos.is_valid(i) && nanos.value(i) >= day_ago
            });
            (0..column.len())
                .map(|i| match &recent {
                    Some(recent) if recent(i) => Cell::Text("<run time>".to_string()),
                    _ => Cell::Text(format.value(i).to_string()),
                })
                .collect()
        }
    }
}

fn cells(batches: &[RecordBatch]) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<Vec<Cell>> = batch
            .columns()
            .iter()
            .map(|column| column_cells(column.as_ref()))
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(columns.iter().map(|column| column[row].clone()).collect());
        }
    }
    rows.sort_by(|a: &Vec<Cell>, b: &Vec<Cell>| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.order(y))
            .find(|ordering| ordering.is_ne())
            .unwrap_or(a.len().cmp(&b.len()))
    });
    rows
}

/// `Ok` when both hold the same rows in any order (floats within 1e-9 relative).
fn same_batches(remote: &[RecordBatch], local: &[RecordBatch]) -> Result<(), String> {
    let (remote, local) = (cells(remote), cells(local));
    if remote.len() != local.len() {
        return Err(format!(
            "{} rows on the cluster, {} embedded",
            remote.len(),
            local.len()
        ));
    }
    for (a, b) in remote.iter().zip(&local) {
        if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| !x.close(y)) {
            return Err(format!(
                "a row differs:\n  cluster  {a:?}\n  embedded {b:?}"
            ));
        }
    }
    Ok(())
}
