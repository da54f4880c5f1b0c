//! `c360.runs`: every scheduled run the server remembers, oldest first.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Result;

use super::{micros, timestamp, timestamps};
use crate::flight::schedule::RunLog;

pub fn schema() -> SchemaRef {
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

pub fn batch(log: &RunLog, schema: &SchemaRef) -> Result<RecordBatch> {
    let runs = log.runs();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            runs.iter().map(|r| &r.schedule),
        )),
        timestamps(runs.iter().map(|r| Some(micros(&r.started_at))).collect()),
        timestamps(
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
    ];
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
