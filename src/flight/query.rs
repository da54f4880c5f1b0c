//! Planning a client's SQL and streaming its result: one statement, `?` parameters numbered
//! as `$1, $2...`, the read-only rule checked on the plan, a memory pool of its own, a
//! deadline and a cancellation token, and one log line when it ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arrow_flight::FlightData;
use arrow_flight::encode::{DictionaryHandling, FlightDataEncoderBuilder};
use arrow_flight::error::FlightError;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Value, visit_expressions_mut};
use futures::{Stream, StreamExt, TryStreamExt};
use tokio_util::sync::{CancellationToken, DropGuard};
use tonic::Status;

use super::memory::QueryPool;
use super::status::{bounded, from_datafusion};
use crate::sql_limits::SqlLimits;
use crate::values::cast_batch;

/// Parse exactly one statement and number its `?` placeholders `$1, $2...` in order.
/// The statement is checked against `limits` first (size and nesting).
pub fn parse_one(sql: &str, limits: &SqlLimits) -> Result<Statement, Status> {
    let mut statements = limits
        .parse(sql)
        .map_err(|e| Status::invalid_argument(bounded(e.to_string())))?;
    if statements.len() != 1 {
        return Err(Status::invalid_argument(format!(
            "expected one SQL statement, got {}; send them one at a time",
            statements.len()
        )));
    }
    let mut statement = statements.pop_front().expect("one statement");
    if let Statement::Statement(inner) = &mut statement {
        let mut next = 0usize;
        let _ = visit_expressions_mut(inner.as_mut(), |expr| {
            if let SqlExpr::Value(value) = expr
                && matches!(&value.value, Value::Placeholder(p) if p == "?")
            {
                next += 1;
                value.value = Value::Placeholder(format!("${next}"));
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
    Ok(statement)
}

/// The parameters of a plan in order (`$1`, `$2`...), with their types when DataFusion
/// could infer them.
pub fn parameters(plan: &LogicalPlan) -> Result<Vec<(String, Option<DataType>)>, Status> {
    let types = plan
        .get_parameter_types()
        .map_err(|e| from_datafusion(&e))?;
    let mut list: Vec<(String, Option<DataType>)> = types.into_iter().collect();
    list.sort_by_key(|(id, _)| {
        id.trim_start_matches('$')
            .parse::<usize>()
            .unwrap_or(usize::MAX)
    });
    Ok(list)
}

/// Bind parameter values, cast to the types the plan expects.
pub fn bind(plan: LogicalPlan, values: &[ScalarValue]) -> Result<LogicalPlan, Status> {
    let wanted = parameters(&plan)?;
    if wanted.len() != values.len() {
        return Err(Status::invalid_argument(format!(
            "the statement has {} parameter(s) but {} value(s) were bound",
            wanted.len(),
            values.len()
        )));
    }
    let mut cast = Vec::with_capacity(values.len());
    for ((id, data_type), value) in wanted.iter().zip(values) {
        let value = match data_type {
            Some(t) if value.data_type() != *t && !value.is_null() => {
                value.cast_to(t).map_err(|e| {
                    Status::invalid_argument(format!(
                        "parameter {id}: cannot use {value:?} as {t}: {}",
                        crate::error::strip_context(&e)
                    ))
                })?
            }
            Some(t) if value.is_null() => ScalarValue::try_from(t).unwrap_or(value.clone()),
            _ => value.clone(),
        };
        cast.push(value);
    }
    plan.with_param_values(cast)
        .map_err(|e| from_datafusion(&e))
}

/// A planned query waiting for its DoGet.
pub struct Planned {
    /// Who asked.
    pub user: String,
    /// The SQL text (for the log).
    pub sql: String,
    /// The physical plan.
    pub plan: Arc<dyn ExecutionPlan>,
    /// Its task context (with the query's own memory pool).
    pub task: Arc<TaskContext>,
    /// The schema announced in FlightInfo and streamed.
    pub schema: SchemaRef,
    /// When planning started (the deadline counts from here).
    pub started: Instant,
    /// The query's memory pool, for its peak.
    pub pool: Option<Arc<QueryPool>>,
    /// Cancels it.
    pub cancel: CancellationToken,
    /// The memory its constants take, held until it ends.
    pub constants: MemoryReservation,
}

/// The physical plan of a logical one, with the task context it runs in (DDL and DML, when
/// allowed, take effect here) and a reservation, in the query's memory pool, of the
/// constants the plan holds (a folded `repeat('x', 10000000)` is 10 MB held from planning
/// until the query ends, read or not): a plan whose constants do not fit is refused.
pub async fn physical(
    ctx: &SessionContext,
    plan: LogicalPlan,
    user: &str,
) -> Result<(Arc<dyn ExecutionPlan>, Arc<TaskContext>, MemoryReservation), DataFusionError> {
    let df = ctx.execute_logical_plan(plan).await?;
    let task = Arc::new(df.task_ctx());
    let (state, plan) = df.into_parts();
    let optimized = state.optimize(&plan)?;
    let constants = MemoryConsumer::new(format!("constants of a query planned for {user}"))
        .register(task.memory_pool());
    constants.try_grow(constants_size(&optimized))?;
    let physical = state
        .query_planner()
        .create_physical_plan(&optimized, &state)
        .await?;
    Ok((physical, task, constants))
}

/// The bytes of the constants in `plan` and its subqueries.
fn constants_size(plan: &LogicalPlan) -> usize {
    let mut bytes = 0;
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                if let Expr::Literal(value, _) = e {
                    bytes += value.size();
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    bytes
}

/// The session state a query runs in.
pub fn query_state(base: SessionState, pool: Option<&Arc<QueryPool>>) -> SessionState {
    let Some(pool) = pool else {
        return base;
    };
    let mut runtime = (**base.runtime_env()).clone();
    runtime.memory_pool = Arc::clone(pool) as _;
    datafusion::execution::session_state::SessionStateBuilder::new_from_existing(base)
        .with_runtime_env(Arc::new(runtime))
        .build()
}

/// What one query did, logged once when the last reference goes.
pub struct QueryLog {
    user: String,
    sql: String,
    started: Instant,
    rows: AtomicU64,
    bytes: AtomicU64,
    outcome: std::sync::Mutex<Option<String>>,
    pool: Option<Arc<QueryPool>>,
}

impl QueryLog {
    fn new(planned: &Planned) -> Self {
        Self {
            user: planned.user.clone(),
            sql: planned.sql.clone(),
            started: planned.started,
            rows: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            outcome: std::sync::Mutex::new(None),
            pool: planned.pool.clone(),
        }
    }

    fn end(&self, outcome: String) {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(outcome);
        }
    }
}

impl Drop for QueryLog {
    fn drop(&mut self) {
        let status = self
            .outcome
            .get_mut()
            .map(|o| o.take())
            .unwrap_or_default()
            .unwrap_or_else(|| "cancelled: the client stopped reading".to_string());
        let sql: String = self.sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let sql: String = sql.chars().take(200).collect();
        tracing::info!(
            target: "c360::query",
            user = %self.user,
            duration_ms = self.started.elapsed().as_millis() as u64,
            rows = self.rows.load(Ordering::Relaxed),
            bytes = self.bytes.load(Ordering::Relaxed),
            peak_memory = self.pool.as_ref().map_or(0, |p| p.peak()) as u64,
            status = %status,
            sql = %sql,
            "query"
        );
    }
}

/// Run a planned query and stream its result as Flight data: the schema first, then every
/// batch with exactly that schema. `permit` is held until the stream ends.
pub fn stream<P: Send + 'static>(
    planned: Planned,
    timeout: std::time::Duration,
    executor: &tokio::runtime::Handle,
    permit: P,
) -> Result<impl Stream<Item = Result<FlightData, Status>> + Send + 'static, Status> {
    let log = Arc::new(QueryLog::new(&planned));
    let deadline = tokio::time::Instant::from_std(planned.started + timeout);
    // The plan starts and runs on the query runtime, apart from the one serving gRPC (its
    // operators spawn their tasks on the runtime that executes it), so that a deadline or a
    // cancel is answered at once even while operators keep every query thread busy;
    // dropping the task (the client went, the query ended) aborts it at its next yield.
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let (plan, task) = (Arc::clone(&planned.plan), Arc::clone(&planned.task));
    let producer = AbortOnDrop(executor.spawn(async move {
        let mut batches = match execute_stream(plan, task) {
            Ok(batches) => batches,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        while let Some(item) = batches.next().await {
            if tx.send(item).await.is_err() {
                break;
            }
        }
    }));
    let state = Running {
        batches: rx,
        _producer: producer,
        schema: Arc::clone(&planned.schema),
        cancel: planned.cancel.clone(),
        _stop_work: planned.cancel.clone().drop_guard(),
        deadline,
        timeout,
        log: Arc::clone(&log),
        done: false,
        _permit: permit,
    };
    let batches = futures::stream::unfold(state, next_batch);
    let encoded = FlightDataEncoderBuilder::new()
        .with_schema(Arc::clone(&planned.schema))
        .with_dictionary_handling(DictionaryHandling::Resend)
        .build(batches.map_err(|s| FlightError::Tonic(Box::new(s))));
    Ok(encoded.map(move |item| match item {
        Ok(data) => {
            log.bytes.fetch_add(
                (data.data_header.len() + data.data_body.len()) as u64,
                Ordering::Relaxed,
            );
            Ok(data)
        }
        Err(e) => Err(Status::from(e)),
    }))
}

/// A task on the query runtime, aborted when dropped.
pub struct AbortOnDrop<T>(pub tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Running<P> {
    batches: tokio::sync::mpsc::Receiver<Result<RecordBatch, DataFusionError>>,
    _producer: AbortOnDrop<()>,
    schema: SchemaRef,
    cancel: CancellationToken,
    /// However the stream ends (read to the end, cancelled, past its deadline, its client
    /// gone), the query's stop is cancelled, so kernels still busy with it stop too.
    _stop_work: DropGuard,
    deadline: tokio::time::Instant,
    timeout: std::time::Duration,
    log: Arc<QueryLog>,
    done: bool,
    _permit: P,
}

async fn next_batch<P>(mut run: Running<P>) -> Option<(Result<RecordBatch, Status>, Running<P>)> {
    if run.done {
        return None;
    }
    let item = tokio::select! {
        biased;
        _ = run.cancel.cancelled() => Some(Err(Status::cancelled("the query was cancelled"))),
        _ = tokio::time::sleep_until(run.deadline) => Some(Err(Status::deadline_exceeded(format!(
            "the query took longer than its limit of {} s ([server] query_timeout_secs)",
            run.timeout.as_secs()
        )))),
        item = run.batches.recv() => item.map(|r| {
            r.map_err(|e| from_datafusion(&e)).and_then(|b| conform(b, &run.schema))
        }),
    };
    match item {
        None => {
            run.log.end("ok".to_string());
            None
        }
        Some(Err(status)) => {
            run.log
                .end(format!("{:?}: {}", status.code(), status.message()));
            run.done = true;
            Some((Err(status), run))
        }
        Some(Ok(batch)) => {
            run.log
                .rows
                .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            Some((Ok(batch), run))
        }
    }
}

/// The schema sent to clients: string and binary views as plain strings and binaries, which
/// every Arrow client reads (JDBC and older pyarrow do not know the view types).
pub fn wire_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(wire_type(f.data_type())))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn wire_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::List(f) => DataType::List(wire_field(f)),
        DataType::LargeList(f) => DataType::LargeList(wire_field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(wire_field(f), *n),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(wire_field).collect()),
        other => other.clone(),
    }
}

fn wire_field(f: &FieldRef) -> FieldRef {
    Arc::new(f.as_ref().clone().with_data_type(wire_type(f.data_type())))
}

/// A batch under the announced schema: views cast to plain types, the announced field names,
/// nullability and metadata (DataFusion's operators may report them differently).
fn conform(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, Status> {
    cast_batch(batch, schema).map_err(|e| {
        Status::internal(format!(
            "a result batch does not match the announced schema: {e}"
        ))
    })
}
