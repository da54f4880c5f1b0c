//! A hostile but authenticated client against `c360 serve`, and the same SQL through
//! `c360 query` and `c360 run`: each gets a clear error or an answer, and the server stays up
//! and answers its health action while it happens.

use std::time::{Duration, Instant};

use arrow_flight::CancelFlightInfoRequest;
use arrow_flight::sql::client::FlightSqlServiceClient;
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

use super::common::{c360, texts, write};
use super::flight::{
    OTHER_TOKEN, action, client, code_of, fetch, query, rows, start, strings, workspace,
};

/// `SELECT 1 op 1 op ... op 1` with `terms` terms.
fn chain(terms: usize, op: &str) -> String {
    format!("SELECT {} AS x", vec!["1"; terms].join(op))
}

/// The code and message a statement gets.
pub(crate) async fn outcome(c: &mut FlightSqlServiceClient<Channel>, sql: &str) -> (Code, String) {
    match c.execute(sql.to_string(), None).await {
        Err(e) => code_of(e),
        Ok(info) => {
            let ticket = info.endpoint[0].ticket.clone().expect("ticket");
            match c.do_get(ticket).await {
                Err(e) => code_of(e),
                Ok(stream) => match futures::TryStreamExt::try_collect::<Vec<_>>(stream).await {
                    Err(e) => code_of(e),
                    Ok(_) => (Code::Ok, String::new()),
                },
            }
        }
    }
}

/// How long the health action takes to answer.
async fn health_time(c: &mut FlightSqlServiceClient<Channel>) -> Duration {
    let started = Instant::now();
    let body = action(c, "health", Vec::new()).await;
    assert!(String::from_utf8_lossy(&body).contains("\"status\":\"ok\""));
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_and_huge_statements_get_invalid_argument_and_the_server_stays_up() {
    let dir = workspace(10, "");
    let server = start(&dir).await;
    let mut c = client(server.addr).await;
    for op in [" + ", " OR ", " AND ", " || "] {
        for terms in [2_500, 3_000, 50_000] {
            let (code, message) = outcome(&mut c, &chain(terms, op)).await;
            assert_eq!(code, Code::InvalidArgument, "{op} x {terms}: {message}");
            assert!(message.contains("max_expression_depth"), "{message}");
        }
    }
    // Within the limit the same chain has its answer.
    let sum = query(&mut c, &chain(900, " + ")).await;
    assert_eq!(strings(&sum, "x"), vec!["900"]);
    let nested = format!("SELECT {}1{} AS x", "(".repeat(10_000), ")".repeat(10_000));
    let (code, message) = outcome(&mut c, &nested).await;
    assert_eq!(code, Code::InvalidArgument, "{message}");
    let subqueries = format!(
        "SELECT {}1{}",
        "(SELECT ".repeat(3_000),
        ") AS x".repeat(3_000)
    );
    assert_eq!(outcome(&mut c, &subqueries).await.0, Code::InvalidArgument);
    let unions = vec!["SELECT 1 AS x"; 5_000].join(" UNION ALL ");
    assert_eq!(outcome(&mut c, &unions).await.0, Code::InvalidArgument);
    // 2 MB of SQL is refused before it is parsed.
    let (code, message) = outcome(&mut c, &chain(1_000_000, "+")).await;
    assert_eq!(code, Code::InvalidArgument, "{message}");
    assert!(message.contains("max_statement_bytes"), "{message}");
    // A huge IN list is wide, not deep: it has its answer.
    let values: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
    let wide = format!(
        "SELECT count(*) AS n FROM people WHERE id IN ({})",
        values.join(", ")
    );
    assert_eq!(strings(&query(&mut c, &wide).await, "n"), vec!["10"]);
    assert!(health_time(&mut c).await < Duration::from_secs(1));
    // A regular expression that compiles too big is the query's fault, whichever function.
    for sql in [
        "SELECT regexp_like('aaa', repeat('(a{100}){100}', 50))",
        "SELECT regexp_replace('aaa', repeat('(a{100}){100}', 50), 'x')",
    ] {
        let (code, message) = outcome(&mut c, sql).await;
        assert_eq!(code, Code::InvalidArgument, "{sql}: {message}");
    }
    // Messages name the workspace's files as the workspace does, never the server's paths.
    let (code, message) = outcome(&mut c, "SELECT p_alive('ghost', 1, 2, 3)").await;
    assert_eq!(code, Code::InvalidArgument, "{message}");
    assert!(message.contains("models/ghost.json"), "{message}");
    let root = dir.path().canonicalize().expect("root");
    for shown in [root.display().to_string(), dir.path().display().to_string()] {
        assert!(!message.contains(&shown), "{message}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_every_place_runs_a_heavy_query() {
    let dir = workspace(10, "max_concurrent_queries = 4\nquery_timeout_secs = 20");
    let server = start(&dir).await;
    let heavy = "SELECT count(*) AS n FROM generate_series(1, 100000000000)";
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut c = client(server.addr).await;
        let info = c.execute(heavy.into(), None).await.expect("plan heavy");
        let ticket = info.endpoint[0].ticket.clone().expect("ticket");
        streams.push((c.do_get(ticket).await.expect("start heavy"), info, c));
    }
    let mut probe = client(server.addr).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        slowest = slowest.max(health_time(&mut probe).await);
    }
    // The gRPC threads only move messages: health is not queued behind the queries.
    assert!(slowest < Duration::from_secs(1), "health took {slowest:?}");
    println!("health under 4 heavy queries: slowest of 10 calls {slowest:?}");
    // Another user cannot cancel them; their owner can.
    let mut bob = client(server.addr).await;
    bob.set_token(OTHER_TOKEN.to_string());
    let (_, info, _) = &streams[0];
    let request = CancelFlightInfoRequest::new(info.clone()).encode_to_vec();
    let reply = action(&mut bob, "CancelFlightInfo", request.clone()).await;
    let status = arrow_flight::CancelFlightInfoResult::decode(reply).expect("decode");
    assert_ne!(
        status.status, 1,
        "another user's query must not be cancelled"
    );
    for (stream, info, c) in &mut streams {
        let request = CancelFlightInfoRequest::new(info.clone()).encode_to_vec();
        let reply = action(c, "CancelFlightInfo", request).await;
        let status = arrow_flight::CancelFlightInfoResult::decode(reply).expect("decode");
        assert_eq!(status.status, 1, "CANCELLED");
        let ended = loop {
            match futures::TryStreamExt::try_next(stream).await {
                Ok(Some(_)) => continue,
                Ok(None) => break Code::Ok,
                Err(e) => break code_of(e).0,
            }
        };
        assert_eq!(ended, Code::Cancelled);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_plans_hold_their_place_only_until_they_expire() {
    let dir = workspace(
        10,
        "max_concurrent_queries = 4\npending_timeout_secs = 1\nqueue_timeout_secs = 20",
    );
    let server = start(&dir).await;
    let mut c = client(server.addr).await;
    // Four plans never fetched take every place; health shows them.
    for _ in 0..4 {
        c.execute("SELECT repeat('x', 1000000) AS s".into(), None)
            .await
            .expect("plan");
    }
    let body = action(&mut c, "health", Vec::new()).await;
    let health: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(health["places_in_use"], 4, "{health}");
    // A fifth waits in line and is planned when the abandoned ones expire.
    let started = Instant::now();
    assert_eq!(rows(&query(&mut c, "SELECT 1").await), 1);
    assert!(started.elapsed() < Duration::from_secs(15));
    // Every abandoned plan expires and frees its place.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let body = action(&mut c, "health", Vec::new()).await;
        let health: serde_json::Value = serde_json::from_slice(&body).expect("json");
        if health["queries_expired"] == 4 {
            assert_eq!(health["pending_queries"], 0, "{health}");
            break;
        }
        assert!(Instant::now() < deadline, "plans did not expire: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(server.server.in_use(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_with_one_token_keep_their_own_sessions() {
    let dir = workspace(10, "");
    let server = start(&dir).await;
    let mut first = client(server.addr).await;
    let mut second = client(server.addr).await;
    let mut a = first
        .prepare("SELECT count(*) AS n FROM people".into(), None)
        .await
        .expect("prepare on the first connection");
    let mut b = second
        .prepare("SELECT count(*) AS n FROM people".into(), None)
        .await
        .expect("prepare on the second connection");
    // The first connection closes its session (as ADBC does when it closes).
    action(&mut first, "CloseSession", Vec::new()).await;
    let info = b
        .execute()
        .await
        .expect("the second connection's statement lives on");
    assert_eq!(strings(&fetch(&mut second, info).await, "n"), vec!["10"]);
    let gone = a.execute().await.map(|_| ()).map_err(code_of);
    assert_eq!(gone.map_err(|e| e.0), Err(Code::NotFound));
    server.stop().await;
}

#[test]
fn query_and_run_refuse_deep_sql_with_exit_1_instead_of_aborting() {
    let dir = workspace(10, "");
    write(dir.path(), "deep.sql", &chain(5_000, " + "));
    let out = c360(dir.path(), &["query", "-f", "deep.sql"]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("max_expression_depth"), "{stderr}");

    write(dir.path(), "sql/deep_model.sql", &chain(5_000, " OR "));
    let out = c360(dir.path(), &["run"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("sql/deep_model.sql"),
        "{stdout}{stderr}"
    );
    // A model file larger than any statement is refused without reading it whole.
    let huge = chain(600_000, "+");
    write(dir.path(), "sql/deep_model.sql", &huge);
    let out = c360(dir.path(), &["run"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("max_statement_bytes"),
        "{stdout}{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessed_passwords_are_slowed_then_locked_out() {
    let dir = workspace(10, "");
    let server = start(&dir).await;
    let mut c = client(server.addr).await;
    c.clear_token();
    let mut slowed = 0;
    for _ in 0..10 {
        let e = c
            .handshake("ann", "guess")
            .await
            .expect_err("wrong password");
        if e.to_string().contains("failed logins in a row") {
            slowed += 1;
        }
    }
    // Three free tries, one that sets the first wait; the rapid rest are refused unchecked.
    assert!(slowed >= 5, "only {slowed} of 10 rapid guesses were slowed");
    // While the wait lasts even the right password is not checked.
    let e = c
        .handshake("ann", "ann-secret-pass")
        .await
        .expect_err("waiting");
    assert!(e.to_string().contains("try again in"), "{e}");
    server.stop().await;
}
