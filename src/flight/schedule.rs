//! Cron schedules inside `c360 serve`: each `[schedules.NAME]` runs the pipeline (or its
//! selection) on a separate engine; only a run in which every model succeeded is published
//! and swapped in for new queries, so queries already running finish on the data they
//! started with and a failed run changes nothing. Runs are listed in `c360.runs`, schedules
//! with their next time in `c360.schedules`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use croner::Cron;
use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::array::{RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::{Result as DfResult, plan_datafusion_err};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use crate::config::{ScheduleConfig, parse_cron};

/// The most runs `c360.runs` remembers.
const KEPT_RUNS: usize = 1000;

/// One finished (or running) run.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The schedule's name.
    pub schedule: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (None while running).
    pub finished_at: Option<DateTime<Utc>>,
    /// running, published, failed.
    pub status: String,
    /// Models built.
    pub models_ok: u64,
    /// Models that failed.
    pub models_failed: u64,
    /// Models skipped because an upstream one failed.
    pub models_skipped: u64,
    /// The version folder written.
    pub version: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
}

/// One schedule as shown in `c360.schedules`.
#[derive(Debug, Clone)]
pub struct ScheduleState {
    /// Its name.
    pub name: String,
    /// The cron expression.
    pub cron: String,
    /// The models it runs (empty: all).
    pub select: Vec<String>,
    /// When it fires next.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Runs and schedules, shared by the scheduler and the system tables.
#[derive(Default)]
pub struct RunLog {
    runs: Mutex<Vec<RunRecord>>,
    schedules: Mutex<Vec<ScheduleState>>,
}

impl RunLog {
    /// Record the start of a run; returns its start time, which names it for [`RunLog::finish`].
    pub fn start(&self, schedule: &str) -> DateTime<Utc> {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        if runs.len() >= KEPT_RUNS {
            runs.remove(0);
        }
        let started_at = Utc::now();
        runs.push(RunRecord {
            schedule: schedule.to_string(),
            started_at,
            finished_at: None,
            status: "running".to_string(),
            models_ok: 0,
            models_failed: 0,
            models_skipped: 0,
            version: None,
            error: None,
        });
        started_at
    }

    /// Record how the run of `schedule` that started at `started_at` ended.
    pub fn finish(
        &self,
        schedule: &str,
        started_at: DateTime<Utc>,
        update: impl FnOnce(&mut RunRecord),
    ) {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(run) = runs
            .iter_mut()
            .rev()
            .find(|r| r.schedule == schedule && r.started_at == started_at)
        {
            run.finished_at = Some(Utc::now());
            update(run);
        }
    }

    /// The runs, oldest first.
    pub fn runs(&self) -> Vec<RunRecord> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Set the schedules shown.
    pub fn set_schedules(&self, schedules: Vec<ScheduleState>) {
        *self.schedules.lock().unwrap_or_else(|e| e.into_inner()) = schedules;
    }

    /// Set when a schedule fires next.
    pub fn set_next(&self, name: &str, next: Option<DateTime<Utc>>) {
        let mut schedules = self.schedules.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = schedules.iter_mut().find(|s| s.name == name) {
            s.next_run_at = next;
        }
    }

    fn schedules(&self) -> Vec<ScheduleState> {
        self.schedules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The schedules of the config, parsed.
pub fn parse_all(
    schedules: &std::collections::BTreeMap<String, ScheduleConfig>,
) -> Result<Vec<(String, Cron, ScheduleConfig)>, String> {
    schedules
        .iter()
        .map(|(name, s)| {
            let cron = parse_cron(&s.cron).map_err(|e| format!("[schedules.{name}] cron: {e}"))?;
            Ok((name.clone(), cron, s.clone()))
        })
        .collect()
}

/// The next time a schedule fires after `now`.
pub fn next_after(cron: &Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&now, false).ok()
}

/// Register `c360.runs` and `c360.schedules` in a session.
pub fn register_system_tables(ctx: &SessionContext, log: &Arc<RunLog>) -> DfResult<()> {
    let catalog_name = ctx
        .state()
        .config()
        .options()
        .catalog
        .default_catalog
        .clone();
    let catalog = ctx
        .catalog(&catalog_name)
        .ok_or_else(|| plan_datafusion_err!("catalog '{catalog_name}' is missing"))?;
    let schema = Arc::new(MemorySchemaProvider::new());
    schema.register_table(
        "runs".to_string(),
        Arc::new(SnapshotTable {
            schema: runs_schema(),
            log: Arc::clone(log),
            kind: Snapshot::Runs,
        }),
    )?;
    schema.register_table(
        "schedules".to_string(),
        Arc::new(SnapshotTable {
            schema: schedules_schema(),
            log: Arc::clone(log),
            kind: Snapshot::Schedules,
        }),
    )?;
    catalog.register_schema("c360", schema)?;
    Ok(())
}

fn timestamp(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        nullable,
    )
}

fn runs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("schedule", DataType::Utf8, false),
        timestamp("started_at", false),
        timestamp("finished_at", true),
        Field::new("status", DataType::Utf8, false),
        Field::new("seconds", DataType::Float64, true),
        Field::new("models_ok", DataType::UInt64, false),
        Field::new("models_failed", DataType::UInt64, false),
        Field::new("models_skipped", DataType::UInt64, false),
        Field::new("version", DataType::Utf8, true),
        Field::new("error", DataType::Utf8, true),
    ]))
}

fn schedules_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("schedule", DataType::Utf8, false),
        Field::new("cron", DataType::Utf8, false),
        Field::new("models", DataType::Utf8, false),
        timestamp("next_run_at", true),
        timestamp("last_started_at", true),
        Field::new("last_status", DataType::Utf8, true),
    ]))
}

#[derive(Debug, Clone, Copy)]
enum Snapshot {
    Runs,
    Schedules,
}

/// A table whose rows are read from the run log when it is scanned.
struct SnapshotTable {
    schema: SchemaRef,
    log: Arc<RunLog>,
    kind: Snapshot,
}

impl std::fmt::Debug for SnapshotTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SnapshotTable({:?})", self.kind)
    }
}

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn ts_array(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

impl SnapshotTable {
    fn batch(&self) -> DfResult<RecordBatch> {
        let columns: Vec<ArrayRef> = match self.kind {
            Snapshot::Runs => {
                let runs = self.log.runs();
                vec![
                    Arc::new(StringArray::from_iter_values(
                        runs.iter().map(|r| &r.schedule),
                    )),
                    ts_array(runs.iter().map(|r| Some(micros(&r.started_at))).collect()),
                    ts_array(
                        runs.iter()
                            .map(|r| r.finished_at.as_ref().map(micros))
                            .collect(),
                    ),
                    Arc::new(StringArray::from_iter_values(
                        runs.iter().map(|r| &r.status),
                    )),
                    Arc::new(Float64Array::from_iter(runs.iter().map(|r| {
                        r.finished_at
                            .map(|f| (f - r.started_at).num_milliseconds() as f64 / 1000.0)
                    }))),
                    Arc::new(UInt64Array::from_iter_values(
                        runs.iter().map(|r| r.models_ok),
                    )),
                    Arc::new(UInt64Array::from_iter_values(
                        runs.iter().map(|r| r.models_failed),
                    )),
                    Arc::new(UInt64Array::from_iter_values(
                        runs.iter().map(|r| r.models_skipped),
                    )),
                    Arc::new(StringArray::from_iter(
                        runs.iter().map(|r| r.version.clone()),
                    )),
                    Arc::new(StringArray::from_iter(runs.iter().map(|r| r.error.clone()))),
                ]
            }
            Snapshot::Schedules => {
                let schedules = self.log.schedules();
                let runs = self.log.runs();
                let last = |name: &str| runs.iter().rev().find(|r| r.schedule == name);
                vec![
                    Arc::new(StringArray::from_iter_values(
                        schedules.iter().map(|s| &s.name),
                    )),
                    Arc::new(StringArray::from_iter_values(
                        schedules.iter().map(|s| &s.cron),
                    )),
                    Arc::new(StringArray::from_iter_values(schedules.iter().map(|s| {
                        if s.select.is_empty() {
                            "all".to_string()
                        } else {
                            s.select.join(", ")
                        }
                    }))),
                    ts_array(
                        schedules
                            .iter()
                            .map(|s| s.next_run_at.as_ref().map(micros))
                            .collect(),
                    ),
                    ts_array(
                        schedules
                            .iter()
                            .map(|s| last(&s.name).map(|r| micros(&r.started_at)))
                            .collect(),
                    ),
                    Arc::new(StringArray::from_iter(
                        schedules
                            .iter()
                            .map(|s| last(&s.name).map(|r| r.status.clone())),
                    )),
                ]
            }
        };
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

#[async_trait::async_trait]
impl TableProvider for SnapshotTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let batch = self.batch()?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }
}
