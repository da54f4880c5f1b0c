//! `c360.schedules`: each schedule with its cron, what it runs, its next time and how its last
//! run ended.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Result;

use super::{micros, timestamp, timestamps};
use crate::flight::schedule::RunLog;

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("schedule", DataType::Utf8, false),
        Field::new("cron", DataType::Utf8, false),
        Field::new("models", DataType::Utf8, false),
        timestamp("next_run_at", true),
        timestamp("last_started_at", true),
        Field::new("last_status", DataType::Utf8, true),
    ]))
}

pub fn batch(log: &RunLog, schema: &SchemaRef) -> Result<RecordBatch> {
    let schedules = log.schedules();
    let runs = log.runs();
    let last = |name: &str| runs.iter().rev().find(|r| r.schedule == name);
    let columns: Vec<ArrayRef> = vec![
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
        timestamps(
            schedules
                .iter()
                .map(|s| s.next_run_at.as_ref().map(micros))
                .collect(),
        ),
        timestamps(
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
    ];
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
