//! Hostile work against `c360 serve`: long kernels and fits stop when their query is
//! cancelled (the process's CPU goes quiet within a second), planned queries' constants count
//! against the memory limit, giant inputs to every string function get an answer or a clear
//! error, and a thousand abandoned plans leave the process near its starting memory.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_flight::CancelFlightInfoRequest;
use prost::Message;
use tonic::Code;

use super::flight::{action, client, code_of, query, rows, start, workspace};
use super::hostile::outcome;

/// `c360 serve` as its own process (its CPU and memory are its own, apart from the tests
/// running beside this one); killed when dropped.
struct Served {
    child: Child,
    addr: SocketAddr,
}

impl Served {
    fn start(dir: &tempfile::TempDir) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_c360"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .current_dir(dir.path())
            .env_remove("C360_WORKSPACE")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start c360 serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the first line");
        let addr = line
            .trim()
            .rsplit("://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("c360 serve did not say where it listens: {line:?}"));
        Self { child, addr }
    }

    /// (user + system CPU seconds, resident MiB) of the server process so far.
    fn usage(&self) -> (f64, f64) {
        let pid = self.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        // Fields after the command name (which is in parentheses): utime is the 12th, stime
        // the 13th, in clock ticks of 1/100 s.
        let fields: Vec<&str> = stat.rsplit_once(')').expect("stat").1.split(' ').collect();
        let ticks: f64 = fields[12].parse::<f64>().unwrap() + fields[13].parse::<f64>().unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        let rss_kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
        (ticks / 100.0, rss_kib / 1024.0)
    }

    /// CPU seconds the server used over the next `window`.
    fn cpu_over(&self, window: Duration) -> f64 {
        let before = self.usage().0;
        std::thread::sleep(window);
        self.usage().0 - before
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `sql`, wait until the server is busy with it, cancel it, and return the CPU the
/// server used in the second after the one a cancel may take.
async fn cpu_after_cancel(served: &Served, sql: &str) -> f64 {
    let mut c = client(served.addr).await;
    let info = c.execute(sql.to_string(), None).await.expect("plan");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = c.do_get(ticket).await.expect("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while served.cpu_over(Duration::from_millis(300)) < 0.15 {
        if Instant::now() > deadline {
            let first = futures::TryStreamExt::try_next(&mut stream).await;
            panic!("{sql}: the server never got busy; the stream gave {first:?}");
        }
    }
    let request = CancelFlightInfoRequest::new(info).encode_to_vec();
    let reply = action(&mut c, "CancelFlightInfo", request).await;
    let status = arrow_flight::CancelFlightInfoResult::decode(reply).expect("decode");
    assert_eq!(status.status, 1, "CANCELLED");
    let ended = loop {
        match futures::TryStreamExt::try_next(&mut stream).await {
            Ok(Some(_)) => continue,
            Ok(None) => break Code::Ok,
            Err(e) => break code_of(e).0,
        }
    };
    assert_eq!(ended, Code::Cancelled, "{sql}");
    std::thread::sleep(Duration::from_secs(1));
    served.cpu_over(Duration::from_secs(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_frees_the_cpu_of_kernels_and_fits_within_a_second() {
    let dir = workspace(30_000, "");
    let served = Served::start(&dir);
    // Each pair of 2,000-character strings is millions of steps; 30,000 rows are an hour.
    let damerau = "SELECT sum(damerau_levenshtein(repeat(name, 400), repeat(city, 400))) \
                   AS d FROM people";
    // 1,000 segments of 30,000 rows: ten restarts of up to 300 steps, minutes.
    let kmeans = "SELECT count(*) AS n FROM kmeans_segments('people', 'id', 1000, 1, 'id')";
    for sql in [damerau, kmeans] {
        let after = cpu_after_cancel(&served, sql).await;
        assert!(
            after < 0.3,
            "{sql}: the server still used {after:.2} s of CPU in the second after cancel"
        );
        println!("{sql}: {after:.2} s CPU in the second after cancel + 1 s");
    }
    let mut c = client(served.addr).await;
    assert_eq!(rows(&query(&mut c, "SELECT 1").await), 1, "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_abandoned_plans_leave_memory_near_its_baseline() {
    let dir = workspace(
        10,
        "max_concurrent_queries = 200\npending_timeout_secs = 1\nqueue_timeout_secs = 60",
    );
    let served = Served::start(&dir);
    let mut c = client(served.addr).await;
    assert_eq!(rows(&query(&mut c, "SELECT * FROM people").await), 10);
    let baseline = served.usage().1;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let addr = served.addr;
        tasks.spawn(async move {
            let mut c = client(addr).await;
            for _ in 0..100 {
                // 1 MB of constants each, planned and never fetched.
                c.execute("SELECT repeat('x', 1000000) AS s".into(), None)
                    .await
                    .expect("plan");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("client");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = action(&mut c, "health", Vec::new()).await;
        let health: serde_json::Value = serde_json::from_slice(&body).expect("json");
        if health["queries_expired"] == 1000 && health["pending_queries"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "plans did not expire: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = served.usage().1;
    println!("RSS {baseline:.0} MiB before, {after:.0} MiB after 1,000 abandoned 1 MB plans");
    assert!(
        after < baseline + 150.0,
        "RSS {after:.0} MiB after the plans expired, {baseline:.0} MiB before"
    );
    assert_eq!(rows(&query(&mut c, "SELECT 1").await), 1, "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_constants_count_against_the_memory_limit() {
    let dir = workspace(10, "query_memory_limit = \"8MiB\"");
    let server = start(&dir).await;
    let mut c = client(server.addr).await;
    let (code, message) = code_of(
        c.execute("SELECT repeat('x', 10000000) AS s".into(), None)
            .await
            .expect_err("10 MB of constants in an 8 MiB query"),
    );
    assert_eq!(code, Code::ResourceExhausted, "{message}");
    assert!(
        message.contains("constants of a query planned for analyst"),
        "{message}"
    );
    // Within the limit it plans and runs; health shows nothing left behind.
    let small = query(&mut c, "SELECT repeat('x', 1000000) AS s").await;
    assert_eq!(rows(&small), 1);
    assert_eq!(server.server.in_use(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giant_inputs_to_every_string_function_get_an_answer_or_a_clear_error() {
    let dir = workspace(10, "query_timeout_secs = 60");
    let server = start(&dir).await;
    let mut c = client(server.addr).await;
    let giant = "repeat('ab c', 250000)"; // a million characters
    let functions = text_functions(&dir);
    let calls = functions
        .iter()
        .flat_map(|(f, arities)| {
            arities.iter().map(move |&n| match n {
                1 => format!("SELECT length(CAST({f}({giant}) AS VARCHAR)) AS n"),
                _ => format!("SELECT {f}({giant}, {giant}) AS n"),
            })
        })
        .chain([
            // A pathological pattern: the regex engine is linear in the text.
            format!("SELECT regexp_like({giant}, '(a*)*b$') AS n"),
            // A huge IN list.
            format!(
                "SELECT count(*) AS n FROM people WHERE id IN ({})",
                (0..50_000)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ]);
    for sql in calls {
        let started = Instant::now();
        let (code, message) = outcome(&mut c, &sql).await;
        let shown: String = sql.chars().take(60).collect();
        assert!(
            matches!(code, Code::Ok | Code::InvalidArgument),
            "{shown}: {code:?} {message}"
        );
        if code == Code::InvalidArgument {
            assert!(message.contains("bytes"), "{shown}: {message}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{shown} took {:?}",
            started.elapsed()
        );
    }
    let body = action(&mut c, "health", Vec::new()).await;
    assert!(String::from_utf8_lossy(&body).contains("\"status\":\"ok\""));
    server.stop().await;
}

/// The c360 functions of text (with how many text arguments each takes), as the registry finds
/// them in a session on `dir`.
fn text_functions(dir: &tempfile::TempDir) -> Vec<(&'static str, Vec<usize>)> {
    let workspace = c360::Workspace::load(dir.path()).expect("the test workspace");
    let ctx = datafusion::prelude::SessionContext::new();
    c360::functions::register_all(&ctx, &workspace).expect("c360 functions");
    let found = c360::functions::registry::text_functions(&ctx);
    assert!(found.len() >= 12, "too few text functions found: {found:?}");
    found
}
