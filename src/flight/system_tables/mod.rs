//! The system tables of `c360 serve`, one file each (as influxdb3's `system_tables/`):
//! `c360.runs` (the scheduled runs) and `c360.schedules` (each schedule with its next time),
//! read from the run log whenever they are scanned.

mod runs;
mod schedules;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, SchemaRef, TimeUnit};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, Session, TableProvider};
use datafusion::common::{Result, plan_datafusion_err};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use super::schedule::RunLog;

/// Register `c360.runs` and `c360.schedules` in a session.
pub fn register_system_tables(ctx: &SessionContext, log: &Arc<RunLog>) -> Result<()> {
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
    for (name, table_schema, rows) in [
        ("runs", runs::schema(), runs::batch as Rows),
        ("schedules", schedules::schema(), schedules::batch as Rows),
    ] {
        schema.register_table(
            name.to_string(),
            Arc::new(SystemTable {
                name,
                schema: table_schema,
                log: Arc::clone(log),
                rows,
            }),
        )?;
    }
    catalog.register_schema("c360", schema)?;
    Ok(())
}

/// How a system table's rows are made from the run log, in the table's schema.
type Rows = fn(&RunLog, &SchemaRef) -> Result<RecordBatch>;

/// A table whose rows are read from the run log when it is scanned.
struct SystemTable {
    name: &'static str,
    schema: SchemaRef,
    log: Arc<RunLog>,
    rows: Rows,
}

impl std::fmt::Debug for SystemTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c360.{}", self.name)
    }
}

#[async_trait::async_trait]
impl TableProvider for SystemTable {
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
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batch = (self.rows)(&self.log, &self.schema)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }
}

/// A UTC timestamp column.
fn timestamp(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        nullable,
    )
}

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn timestamps(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}
