//! The rows a training table function returns: (model, set, metric, value), such as
//! ('churn', 'holdout', 'auc', 0.91).

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Result;

/// The schema of the rows.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("set", DataType::Utf8, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]))
}

/// Metric rows being collected: (set, metric, value).
#[derive(Default)]
pub struct MetricRows(Vec<(String, String, f64)>);

impl MetricRows {
    pub fn push(&mut self, set: &str, metric: &str, value: f64) {
        self.0.push((set.into(), metric.into(), value));
    }

    /// The rows of `model` as a batch of [`schema`].
    pub fn batch(self, model: &str, schema: &SchemaRef) -> Result<RecordBatch> {
        let rows = self.0;
        Ok(RecordBatch::try_new(
            Arc::clone(schema),
            vec![
                Arc::new(StringArray::from(vec![model; rows.len()])),
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|r| r.0.as_str()),
                )),
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|r| r.1.as_str()),
                )),
                Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
            ],
        )?)
    }
}
