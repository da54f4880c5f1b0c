//! `blocking_rule_counts(setup)`: each blocking rule's candidate pairs and largest block, and
//! a stricter rule for one that exceeds max_pairs.

use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use crate::models::matching::blocking::parse_rules;
use crate::models::matching::{Matching, count_pairs, stricter_rule};

pub(super) async fn counts_batch(
    ctx: &SessionContext,
    matching: &Matching,
    name: &str,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let config = matching.config(name)?;
    let rules = parse_rules(name, &config.blocking).map_err(DataFusionError::Plan)?;
    let counts = count_pairs(ctx, config, &rules).await?;
    let mut stricter = Vec::new();
    for (rule, count) in rules.iter().zip(&counts) {
        stricter.push(if count.pairs as u64 > config.max_pairs {
            stricter_rule(ctx, name, config, rule).await?
        } else {
            None
        });
    }
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(Int32Array::from_iter_values(1..=rules.len() as i32)),
            Arc::new(StringArray::from_iter_values(
                rules.iter().map(|r| r.text.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(counts.iter().map(|c| c.pairs))),
            Arc::new(BooleanArray::from_iter(
                counts.iter().map(|c| Some(c.exact)),
            )),
            Arc::new(Int64Array::from_iter(counts.iter().map(|c| c.largest))),
            Arc::new(StringArray::from_iter(
                counts.iter().map(|c| c.largest_key.clone()),
            )),
            Arc::new(BooleanArray::from_iter(
                counts
                    .iter()
                    .map(|c| Some(c.pairs as u64 <= config.max_pairs)),
            )),
            Arc::new(StringArray::from_iter(
                stricter
                    .iter()
                    .map(|s| s.as_ref().map(|(text, _)| text.as_str())),
            )),
            Arc::new(Int64Array::from_iter(
                stricter.iter().map(|s| s.as_ref().map(|(_, pairs)| *pairs)),
            )),
        ],
    )?)
}
