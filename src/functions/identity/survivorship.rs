//! The accumulator behind the "best row wins" survivorship aggregates (`most_recent`,
//! `source_priority`): each row is a value with ranking keys; the row with the best keys wins,
//! NULL values never win, a NULL key ranks below any other, and remaining ties go to the
//! greatest value, so the answer does not depend on row order or partitioning.

use std::cmp::Ordering;
use std::mem::size_of_val;

use datafusion::arrow::array::{Array, ArrayRef, DynComparator, make_comparator};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::Accumulator;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};

use super::best_row_groups::BestRowGroups;

/// Which way a ranking key is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Larger wins (a later time).
    Larger,
    /// Smaller wins (priority 1 before priority 2).
    Smaller,
}

/// The state of a best-row aggregate is its input row: the value, then the keys.
pub fn state_fields(args: &StateFieldsArgs) -> Vec<FieldRef> {
    args.input_fields
        .iter()
        .map(|f| {
            f.as_ref()
                .clone()
                .with_name(format!("{}[{}]", args.name, f.name()))
                .with_nullable(true)
                .into()
        })
        .collect()
}

/// Keeps the best (value, keys...) row seen so far.
#[derive(Debug)]
pub struct BestRowAccumulator {
    function: &'static str,
    /// One direction per key column; the value itself comes last, larger wins.
    directions: Vec<Better>,
    /// The input types: the value's, then the keys'.
    types: Vec<DataType>,
    /// The winning row: value first, then the keys.
    best: Option<Vec<ScalarValue>>,
}

/// The input types of a best-row aggregate's call, checked against its keys.
fn input_types(function: &str, args: &AccumulatorArgs, keys: &[Better]) -> Result<Vec<DataType>> {
    let types: Vec<DataType> = args
        .expr_fields
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    if types.len() != keys.len() + 1 {
        return plan_err!(
            "{function}: expected {} arguments, got {}",
            keys.len() + 1,
            types.len()
        );
    }
    Ok(types)
}

/// The groups accumulator of a best-row aggregate.
pub fn groups(
    function: &'static str,
    args: &AccumulatorArgs,
    keys: &[Better],
) -> Result<BestRowGroups> {
    let types = input_types(function, args, keys)?;
    Ok(BestRowGroups::new(function, types, keys.to_vec()))
}

/// Comparators between rows of `left` and `right` (columns `[value, keys...]`), ordered so
/// that `Greater` means the left row is better: the keys in turn, then the value (larger wins).
pub fn comparators(
    function: &str,
    directions: &[Better],
    left: &[ArrayRef],
    right: &[ArrayRef],
) -> Result<Vec<DynComparator>> {
    let order = (1..left.len()).chain([0]);
    order
        .map(|c| {
            let better = if c == 0 {
                Better::Larger
            } else {
                directions[c - 1]
            };
            let options = SortOptions {
                descending: better == Better::Smaller,
                nulls_first: true,
            };
            make_comparator(left[c].as_ref(), right[c].as_ref(), options).map_err(|e| {
                DataFusionError::Execution(format!(
                    "{function}: cannot rank values of type {}: {e}",
                    left[c].data_type()
                ))
            })
        })
        .collect()
}

/// The columns of a best-row batch are the value and one per ranking key.
pub fn check_columns(function: &str, directions: &[Better], columns: &[ArrayRef]) -> Result<()> {
    if columns.len() != directions.len() + 1 {
        return exec_err!(
            "{function}: expected {} columns, got {}",
            directions.len() + 1,
            columns.len()
        );
    }
    Ok(())
}

/// Row `left` against row `right` under `comparators`.
pub fn compare(comparators: &[DynComparator], left: usize, right: usize) -> Ordering {
    comparators
        .iter()
        .map(|cmp| cmp(left, right))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

impl BestRowAccumulator {
    /// An accumulator over `[value, keys...]` with one direction per key.
    pub fn new(function: &'static str, args: &AccumulatorArgs, keys: &[Better]) -> Result<Self> {
        Ok(Self {
            function,
            directions: keys.to_vec(),
            types: input_types(function, args, keys)?,
            best: None,
        })
    }
}

impl Accumulator for BestRowAccumulator {
    fn update_batch(&mut self, columns: &[ArrayRef]) -> Result<()> {
        check_columns(self.function, &self.directions, columns)?;
        let values = &columns[0];
        let within = comparators(self.function, &self.directions, columns, columns)?;
        let mut winner: Option<usize> = None;
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            winner = match winner {
                Some(w) if compare(&within, row, w).is_le() => Some(w),
                _ => Some(row),
            };
        }
        let Some(winner) = winner else {
            return Ok(());
        };
        if let Some(best) = &self.best {
            let stored = best
                .iter()
                .map(|s| s.to_array_of_size(1))
                .collect::<Result<Vec<_>>>()?;
            let across = comparators(self.function, &self.directions, &stored, columns)?;
            if compare(&across, 0, winner).is_ge() {
                return Ok(());
            }
        }
        self.best = Some(
            columns
                .iter()
                .map(|c| ScalarValue::try_from_array(c, winner))
                .collect::<Result<_>>()?,
        );
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        match &self.best {
            Some(best) => Ok(best.clone()),
            None => self.types.iter().map(ScalarValue::try_from).collect(),
        }
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        match &self.best {
            Some(best) => Ok(best[0].clone()),
            None => ScalarValue::try_from(&self.types[0]),
        }
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self
                .best
                .iter()
                .flatten()
                .map(ScalarValue::size)
                .sum::<usize>()
    }
}
