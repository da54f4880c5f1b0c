//! Offer decisions over a candidate table (see [`candidates`]): `next_best_offer`, the top-k
//! offers of each customer by expected value (uplift × margin − cost) within the rules and the
//! contact policy, and `allocate_offers`, the most valuable set of sends the whole base can get
//! within a budget.

pub mod allocate;
pub mod candidates;
pub mod next_best;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Result;

use self::candidates::{Candidates, Choice};

/// The rows both functions return.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, true),
        Field::new("offer_id", DataType::Utf8, true),
        Field::new("channel", DataType::Utf8, true),
        Field::new("rank", DataType::Int32, false),
        Field::new("uplift", DataType::Float64, true),
        Field::new("margin", DataType::Float64, true),
        Field::new("cost", DataType::Float64, true),
        Field::new("expected_value", DataType::Float64, false),
    ]))
}

/// The chosen offers, per customer in their order (rank 1 first).
pub fn chosen_rows(candidates: &Candidates, chosen: &[Vec<Choice>]) -> Result<RecordBatch> {
    let schema = schema();
    let picks: Vec<(usize, &Choice)> = chosen.iter().flat_map(|c| c.iter().enumerate()).collect();
    if candidates.rows.num_columns() == 0 || picks.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    let rows = UInt32Array::from_iter_values(picks.iter().map(|(_, c)| c.row as u32));
    let column = |i: usize| -> Result<ArrayRef> {
        Ok(take(candidates.rows.column(i).as_ref(), &rows, None)?)
    };
    Ok(RecordBatch::try_new(
        schema,
        vec![
            column(0)?,
            column(1)?,
            column(2)?,
            Arc::new(Int32Array::from_iter_values(
                picks.iter().map(|(rank, _)| *rank as i32 + 1),
            )),
            column(3)?,
            column(4)?,
            column(5)?,
            Arc::new(Float64Array::from_iter_values(
                picks.iter().map(|(_, c)| c.value),
            )),
        ],
    )?)
}
