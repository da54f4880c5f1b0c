//! `c360 serve` through the Rust Flight SQL client: every RPC, auth, TLS, limits, cancel,
//! schedules, and a bounded load of 32 concurrent clients.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    CommandGetDbSchemas, CommandGetPrimaryKeys, CommandGetTables, CommandGetXdbcTypeInfo, SqlInfo,
};
use arrow_flight::{Action, CancelFlightInfoRequest, FlightDescriptor, FlightInfo};
use c360::Workspace;
use c360::flight::session::{
    GetSessionOptionsResult, OptionValue, SessionOptionValue, SetSessionOptionsRequest,
    SetSessionOptionsResult,
};
use datafusion::arrow::array::{Array, BinaryArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ipc::convert::try_schema_from_ipc_buffer;
use futures::TryStreamExt;
use prost::Message;
use tempfile::TempDir;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::common::{write, write_batch};

pub(crate) const TOKEN: &str = "flight-test-token-0123456789";
/// The token of a second user.
pub(crate) const OTHER_TOKEN: &str = "flight-test-token-bob-0123456789";

/// A workspace with one source `people` (id, name, city) of `rows` rows and this extra config.
pub(crate) fn workspace(rows: i64, extra: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let ids: Vec<i64> = (0..rows).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("city", DataType::Utf8, true),
    ]));
    let cities = ["Leeds", "York", "Hull"];
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|i| format!("p{i}")),
            )),
            Arc::new(StringArray::from_iter_values(
                ids.iter().map(|i| cities[(*i % 3) as usize]),
            )),
        ],
    )
    .expect("batch");
    write_batch(dir.path(), "data/people/part-0.parquet", batch);
    let toml = format!(
        r#"
[server]
tokens = [{{ user = "analyst", token = "{TOKEN}" }}, {{ user = "bob", token = "{OTHER_TOKEN}" }}]
users = [{{ name = "ann", password = "ann-secret-pass" }}]
{extra}

[sources.people]
format = "parquet"
location = "data/people/"
"#
    );
    write(dir.path(), "c360.toml", &toml);
    dir
}

pub(crate) async fn start(dir: &TempDir) -> c360::flight::Running {
    let ws = Workspace::load(dir.path()).expect("workspace");
    c360::flight::serve(&ws, Some("127.0.0.1:0"))
        .await
        .expect("serve")
}

pub(crate) async fn client(addr: std::net::SocketAddr) -> FlightSqlServiceClient<Channel> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = FlightSqlServiceClient::new(channel);
    client.set_token(TOKEN.to_string());
    client
}

pub(crate) async fn fetch(
    client: &mut FlightSqlServiceClient<Channel>,
    info: FlightInfo,
) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("ticket");
        let stream = client.do_get(ticket).await.expect("do_get");
        batches.extend(stream.try_collect::<Vec<_>>().await.expect("stream"));
    }
    batches
}

pub(crate) async fn query(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Vec<RecordBatch> {
    let info = client
        .execute(sql.to_string(), None)
        .await
        .expect("execute");
    fetch(client, info).await
}

pub(crate) fn code_of(e: arrow_flight::error::FlightError) -> (Code, String) {
    match e {
        arrow_flight::error::FlightError::Tonic(status) => {
            (status.code(), status.message().to_string())
        }
        other => (Code::Unknown, other.to_string()),
    }
}

pub(crate) fn strings(batches: &[RecordBatch], column: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(column).expect("column");
            let a = cast(a, &DataType::Utf8).expect("cast");
            let a = a
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("strings")
                .clone();
            (0..a.len()).map(move |i| a.value(i).to_string())
        })
        .collect()
}

/// Run an action and return the body of its one result.
pub(crate) async fn action(
    client: &mut FlightSqlServiceClient<Channel>,
    name: &str,
    body: Vec<u8>,
) -> prost::bytes::Bytes {
    let mut results = client
        .do_action(Action::new(name.to_string(), body))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    results
        .message()
        .await
        .expect("reply")
        .expect("one result")
        .body
}

/// A SetSessionOptions request for the schema.
fn set_schema(schema: &str) -> Vec<u8> {
    SetSessionOptionsRequest {
        session_options: [(
            "schema".to_string(),
            SessionOptionValue {
                option_value: Some(OptionValue::StringValue(schema.into())),
            },
        )]
        .into(),
    }
    .encode_to_vec()
}

pub(crate) fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_prepared_statements_and_schemas() {
    let dir = workspace(50_000, "");
    let server = start(&dir).await;
    let mut c = client(server.addr).await;

    // A statement: the streamed schema is the announced one, nullability included.
    let info = c
        .execute(
            "SELECT id, name FROM people WHERE city = 'York'".into(),
            None,
        )
        .await
        .expect("execute");
    let announced = info.clone().try_decode_schema().expect("schema");
    let batches = fetch(&mut c, info).await;
    assert_eq!(rows(&batches), 16_667);
    assert_eq!(batches[0].schema().as_ref(), &announced);
    assert!(!announced.field(0).is_nullable());

    // Prepared with `?`, then with `$1`, parameters bound by DoPut.
    for sql in [
        "SELECT count(*) AS n FROM people WHERE city = ? AND id < ?",
        "SELECT count(*) AS n FROM people WHERE city = $1 AND id < $2",
    ] {
        let mut prepared = c.prepare(sql.to_string(), None).await.expect("prepare");
        let params = prepared.parameter_schema().expect("params").clone();
        assert_eq!(params.fields().len(), 2, "{sql}");
        let binding = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("$1", DataType::Utf8, false),
                Field::new("$2", DataType::Int64, false),
            ])),
            vec![
                Arc::new(StringArray::from(vec!["Leeds"])),
                Arc::new(Int64Array::from(vec![300])),
            ],
        )
        .expect("binding");
        prepared.set_parameters(binding).expect("bind");
        let info = prepared.execute().await.expect("execute prepared");
        let batches = fetch(&mut c, info).await;
        assert_eq!(strings(&batches, "n"), vec!["100"], "{sql}");
        prepared.close().await.expect("close");
    }

    // GetSchema answers without running the query; it matches FlightInfo's.
    let descriptor = FlightDescriptor::new_cmd(
        arrow_flight::sql::ProstMessageExt::as_any(&arrow_flight::sql::CommandStatementQuery {
            query: "SELECT city, count(*) AS n FROM people GROUP BY city".into(),
            transaction_id: None,
        })
        .encode_to_vec(),
    );
    let mut request = tonic::Request::new(descriptor);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {TOKEN}").parse().expect("header"),
    );
    let schema = c
        .inner_mut()
        .get_schema(request)
        .await
        .expect("get_schema")
        .into_inner();
    let schema = Schema::try_from(&schema).expect("decode");
    assert_eq!(schema.field(0).name(), "city");
    assert_eq!(schema.field(1).data_type(), &DataType::Int64);

    // A bad query is INVALID_ARGUMENT with DataFusion's message.
    let (code, message) = code_of(
        c.execute("SELECT nope FROM people".into(), None)
            .await
            .expect_err("bad query"),
    );
    assert_eq!(code, Code::InvalidArgument, "{message}");
    assert!(message.contains("nope"), "{message}");

    // Read-only: DDL, DML and COPY are refused.
    for sql in [
        "CREATE TABLE t AS SELECT 1",
        "COPY (SELECT 1) TO '/tmp/c360-flight-copy.csv'",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "SELECT * FROM train_classifier('m', 'people', 'id', 'id')",
    ] {
        let (code, message) = code_of(c.execute(sql.into(), None).await.expect_err(sql));
        assert!(
            matches!(code, Code::PermissionDenied | Code::InvalidArgument),
            "{sql}: {code:?} {message}"
        );
    }
    assert!(!std::path::Path::new("/tmp/c360-flight-copy.csv").exists());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_rpcs() {
    let dir = workspace(10, "");
    let server = start(&dir).await;
    let mut c = client(server.addr).await;

    let info = c.get_catalogs().await.expect("catalogs");
    assert_eq!(
        strings(&fetch(&mut c, info).await, "catalog_name"),
        vec!["datafusion"]
    );

    // No catalog given: every catalog's schemas.
    let info = c
        .get_db_schemas(CommandGetDbSchemas {
            catalog: None,
            db_schema_filter_pattern: None,
        })
        .await
        .expect("schemas");
    let schemas = strings(&fetch(&mut c, info).await, "db_schema_name");
    assert!(schemas.contains(&"public".to_string()) && schemas.contains(&"c360".to_string()));

    let info = c
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: Some("pub%".into()),
            table_name_filter_pattern: Some("peo%".into()),
            table_types: vec![],
            include_schema: true,
        })
        .await
        .expect("tables");
    let batches = fetch(&mut c, info).await;
    assert_eq!(strings(&batches, "table_name"), vec!["people"]);
    assert_eq!(strings(&batches, "table_type"), vec!["TABLE"]);
    let bytes = batches[0]
        .column_by_name("table_schema")
        .expect("table_schema")
        .as_any()
        .downcast_ref::<BinaryArray>()
        .expect("binary")
        .value(0)
        .to_vec();
    let schema = try_schema_from_ipc_buffer(&bytes).expect("ipc schema");
    let name = schema.field_with_name("name").expect("name column");
    assert_eq!(name.data_type(), &DataType::Utf8);
    assert_eq!(
        name.metadata()
            .get("ARROW:FLIGHT:SQL:TYPE_NAME")
            .map(String::as_str),
        Some("VARCHAR")
    );
    assert_eq!(
        name.metadata()
            .get("ARROW:FLIGHT:SQL:TABLE_NAME")
            .map(String::as_str),
        Some("people")
    );

    let info = c.get_table_types().await.expect("table types");
    assert_eq!(
        strings(&fetch(&mut c, info).await, "table_type"),
        vec!["TABLE", "VIEW"]
    );

    let info = c
        .get_sql_info(vec![
            SqlInfo::FlightSqlServerName,
            SqlInfo::FlightSqlServerReadOnly,
            SqlInfo::SqlIdentifierQuoteChar,
            SqlInfo::FlightSqlServerArrowVersion,
        ])
        .await
        .expect("sql info");
    let batches = fetch(&mut c, info).await;
    assert_eq!(rows(&batches), 4);
    let all = c.get_sql_info(vec![]).await.expect("all sql info");
    assert!(
        rows(&fetch(&mut c, all).await) > 80,
        "a complete SqlInfo set"
    );

    let info = c
        .get_primary_keys(CommandGetPrimaryKeys {
            catalog: None,
            db_schema: None,
            table: "people".into(),
        })
        .await
        .expect("primary keys");
    assert_eq!(rows(&fetch(&mut c, info).await), 0);

    let info = c
        .get_xdbc_type_info(CommandGetXdbcTypeInfo { data_type: None })
        .await
        .expect("xdbc");
    let types = strings(&fetch(&mut c, info).await, "type_name");
    assert!(types.contains(&"VARCHAR".to_string()) && types.contains(&"BIGINT".to_string()));

    // Session options: set the schema, read it back, close the session.
    let result = action(&mut c, "SetSessionOptions", set_schema("c360")).await;
    assert!(
        SetSessionOptionsResult::decode(result)
            .expect("decode")
            .errors
            .is_empty()
    );
    // Unqualified names now resolve in schema c360.
    assert_eq!(rows(&query(&mut c, "SELECT * FROM schedules").await), 0);
    let result = action(&mut c, "GetSessionOptions", Vec::new()).await;
    let options = GetSessionOptionsResult::decode(result).expect("decode");
    assert_eq!(
        options.session_options["schema"].option_value,
        Some(OptionValue::StringValue("c360".into()))
    );
    let result = action(&mut c, "SetSessionOptions", set_schema("no_such_schema")).await;
    let refused = SetSessionOptionsResult::decode(result).expect("decode");
    assert!(refused.errors.contains_key("schema"));
    c.do_action(Action::new("CloseSession", Vec::new()))
        .await
        .expect("close session");
    // After CloseSession the defaults apply again.
    assert_eq!(rows(&query(&mut c, "SELECT * FROM people").await), 10);

    // The health action needs no credentials.
    let mut anonymous = client(server.addr).await;
    anonymous.clear_token();
    let body = action(&mut anonymous, "health", Vec::new()).await;
    let health: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(health["status"], "ok");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication() {
    let dir = workspace(10, "");
    let server = start(&dir).await;
    let mut c = client(server.addr).await;
    c.set_token("wrong-token".into());
    let (code, _) = code_of(
        c.execute("SELECT 1".into(), None)
            .await
            .expect_err("rejected"),
    );
    assert_eq!(code, Code::Unauthenticated);
    c.clear_token();
    let (code, _) = code_of(
        c.execute("SELECT 1".into(), None)
            .await
            .expect_err("no token"),
    );
    assert_eq!(code, Code::Unauthenticated);
    // Basic auth is exchanged for a token that then works.
    assert!(c.handshake("ann", "wrong").await.is_err());
    c.handshake("ann", "ann-secret-pass").await.expect("login");
    assert!(c.token().is_some());
    assert_eq!(rows(&query(&mut c, "SELECT 1").await), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_cancel_and_timeouts() {
    let slow = "SELECT count(*) AS n FROM generate_series(1, 100000000000)";
    let dir = workspace(
        10,
        "max_concurrent_queries = 1\nquery_timeout_secs = 2\nquery_memory_limit = \"8MiB\"\n\
         queue_timeout_secs = 1",
    );
    let server = start(&dir).await;
    let mut c = client(server.addr).await;

    // A second query waits in line while the first holds the only place, and is planned as
    // soon as the first has been read.
    let info = c
        .execute("SELECT 1 AS one".into(), None)
        .await
        .expect("plan");
    let mut waiting = client(server.addr).await;
    let second = tokio::spawn(async move { waiting.execute("SELECT 2".into(), None).await });
    while server
        .server
        .counters
        .waiting
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        tokio::task::yield_now().await;
    }
    assert_eq!(rows(&fetch(&mut c, info).await), 1);
    let info2 = second.await.expect("task").expect("planned after waiting");
    assert_eq!(rows(&fetch(&mut c, info2).await), 1);

    // One query runs; another waits its queue time and is RESOURCE_EXHAUSTED.
    let info = c.execute(slow.into(), None).await.expect("plan slow");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut first = c.do_get(ticket).await.expect("start slow");
    let mut other = client(server.addr).await;
    let refused = match other.execute("SELECT 1".into(), None).await {
        Err(e) => code_of(e),
        Ok(_) => (Code::Ok, String::new()),
    };
    assert_eq!(refused.0, Code::ResourceExhausted, "{}", refused.1);
    assert!(refused.1.contains("queue_timeout_secs"), "{}", refused.1);

    // The slow one hits its deadline.
    let started = Instant::now();
    let ended = loop {
        match first.try_next().await {
            Ok(Some(_)) => continue,
            Ok(None) => break Code::Ok,
            Err(e) => break code_of(e).0,
        }
    };
    assert_eq!(ended, Code::DeadlineExceeded);
    assert!(started.elapsed() < Duration::from_secs(30));

    // Over the memory limit: RESOURCE_EXHAUSTED, and the server goes on.
    // A hash join's build side cannot spill.
    let big_sort = "SELECT count(*) AS n FROM generate_series(1, 2000000) a \
                    JOIN generate_series(1, 2000000) b ON a.value = b.value";
    let outcome = match c.execute(big_sort.into(), None).await {
        Err(e) => code_of(e).0,
        Ok(info) => {
            let ticket = info.endpoint[0].ticket.clone().expect("ticket");
            match c.do_get(ticket).await {
                Err(e) => code_of(e).0,
                Ok(s) => s
                    .try_collect::<Vec<_>>()
                    .await
                    .map_or_else(|e| code_of(e).0, |_| Code::Ok),
            }
        }
    };
    assert_eq!(outcome, Code::ResourceExhausted);

    // CancelFlightInfo stops a running query.
    let info = c.execute(slow.into(), None).await.expect("plan slow");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = c.do_get(ticket).await.expect("start");
    let request = CancelFlightInfoRequest::new(info);
    let mut canceller = client(server.addr).await;
    let reply = action(&mut canceller, "CancelFlightInfo", request.encode_to_vec()).await;
    let result = arrow_flight::CancelFlightInfoResult::decode(reply).expect("decode");
    assert_eq!(result.status, 1, "CANCELLED");
    let ended = loop {
        match stream.try_next().await {
            Ok(Some(_)) => continue,
            Ok(None) => break Code::Ok,
            Err(e) => break code_of(e).0,
        }
    };
    assert_eq!(ended, Code::Cancelled);
    assert_eq!(rows(&query(&mut c, "SELECT 1").await), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls() {
    let dir = workspace(
        10,
        "[server.tls]\ncert = \"server.pem\"\nkey = \"server.key\"",
    );
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let pem = cert.cert.pem();
    std::fs::write(dir.path().join("server.pem"), &pem).expect("write cert");
    std::fs::write(
        dir.path().join("server.key"),
        cert.signing_key.serialize_pem(),
    )
    .expect("write key");
    let server = start(&dir).await;
    assert!(server.tls);
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&pem))
        .domain_name("localhost");
    let channel = Endpoint::from_shared(format!("https://localhost:{}", server.addr.port()))
        .expect("endpoint")
        .tls_config(tls)
        .expect("tls config")
        .connect()
        .await
        .expect("connect over TLS");
    let mut c = FlightSqlServiceClient::new(channel);
    c.set_token(TOKEN.to_string());
    assert_eq!(rows(&query(&mut c, "SELECT * FROM people").await), 10);
    // A plain-text client cannot talk to it.
    let plain = Endpoint::from_shared(format!("http://{}", server.addr))
        .expect("endpoint")
        .connect()
        .await;
    if let Ok(channel) = plain {
        let mut p = FlightSqlServiceClient::new(channel);
        p.set_token(TOKEN.to_string());
        assert!(p.execute("SELECT 1".into(), None).await.is_err());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_publish_atomically_and_failures_change_nothing() {
    let dir = workspace(30, "[schedules.every_second]\ncron = \"* * * * * *\"\n");
    write(
        dir.path(),
        "sql/city_counts.sql",
        "SELECT city, count(*) AS n, now() AS built_at FROM people GROUP BY city",
    );
    let server = start(&dir).await;
    let mut c = client(server.addr).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let published = loop {
        let runs = query(
            &mut c,
            "SELECT status FROM c360.runs WHERE status <> 'running'",
        )
        .await;
        if !strings(&runs, "status").is_empty() {
            break strings(&runs, "status");
        }
        assert!(Instant::now() < deadline, "no scheduled run finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(published[0], "published");
    let counts = query(&mut c, "SELECT n FROM city_counts ORDER BY city").await;
    assert_eq!(strings(&counts, "n"), vec!["10", "10", "10"]);

    // Break the model: the next runs fail and the published output stays.
    write(dir.path(), "sql/city_counts.sql", "SELECT nope FROM people");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let runs = query(
            &mut c,
            "SELECT status, error FROM c360.runs WHERE status = 'failed'",
        )
        .await;
        if let Some(error) = strings(&runs, "error").first() {
            assert!(error.contains("nope"), "{error}");
            break;
        }
        assert!(Instant::now() < deadline, "no failed run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let counts = query(&mut c, "SELECT n FROM city_counts ORDER BY city").await;
    assert_eq!(strings(&counts, "n"), vec!["10", "10", "10"]);
    let schedules = query(&mut c, "SELECT schedule, next_run_at FROM c360.schedules").await;
    assert_eq!(strings(&schedules, "schedule"), vec!["every_second"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_clients() {
    let dir = workspace(
        100_000,
        "max_concurrent_queries = 64\nquery_memory_limit = \"256MiB\"",
    );
    let server = start(&dir).await;
    let addr = server.addr;
    let queries = [
        "SELECT count(*) AS n FROM people",
        "SELECT city, count(*) AS n FROM people GROUP BY city ORDER BY city",
        "SELECT id, name FROM people WHERE id % 1000 = 7 ORDER BY id",
        "SELECT max(length(name)) AS n FROM people",
    ];
    let per_client = 8;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        tasks.spawn(async move {
            let mut c = client(addr).await;
            let mut fetched = 0usize;
            for j in 0..per_client {
                let sql = queries[(i + j) % queries.len()];
                let info = c
                    .execute(sql.into(), None)
                    .await
                    .map_err(|e| format!("{sql}: {e}"))?;
                for endpoint in info.endpoint {
                    let stream = c
                        .do_get(endpoint.ticket.expect("ticket"))
                        .await
                        .map_err(|e| format!("{sql}: {e}"))?;
                    let batches: Vec<RecordBatch> = stream
                        .try_collect()
                        .await
                        .map_err(|e| format!("{sql}: {e}"))?;
                    fetched += rows(&batches);
                }
            }
            Ok::<usize, String>(fetched)
        });
    }
    let mut total = 0;
    let mut errors = Vec::new();
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(n) => total += n,
            Err(e) => errors.push(e),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert!(errors.is_empty(), "errors: {errors:?}");
    // 8 queries per client cycle through the four: 2 of each per client.
    assert_eq!(total, 32 * 2 * (1 + 3 + 100 + 1));
    assert_eq!(server.server.in_use(), 0);
    let engine = server.server.engine();
    assert_eq!(
        engine.ctx.runtime_env().memory_pool.reserved(),
        0,
        "memory returned"
    );
    println!(
        "load: 32 clients x {per_client} queries in {seconds:.2}s = {:.0} queries/s (debug build)",
        (32 * per_client) as f64 / seconds
    );
    server.stop().await;
}
