//! The survivorship aggregates (`most_recent`, `source_priority`) over many groups at once:
//! each group's winning row is a position in the input batches kept, not a row of
//! `ScalarValue`s in an accumulator of its own. The batches that hold no winner are dropped,
//! and once more rows are kept than twice the groups, the winners are copied into one compact
//! batch: the state stays near one row per group, whatever the input size, and is what
//! `size()` reports to the memory pool.

use std::cmp::Ordering;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, DynComparator, new_null_array};
use datafusion::arrow::compute::kernels::boolean::not;
use datafusion::arrow::compute::{interleave, nullif};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};

use super::survivorship::{Better, check_columns, comparators, compare};
use crate::functions::util::{row_selected, selected_mask};

/// No winner yet.
const NONE: (u32, u32) = (u32::MAX, u32::MAX);

/// Rows kept beyond twice the groups before the winners are compacted.
const SLACK_ROWS: usize = 65_536;

/// Best (value, keys...) row per group.
#[derive(Debug)]
pub struct BestRowGroups {
    function: &'static str,
    directions: Vec<Better>,
    types: Vec<DataType>,
    /// Input column sets (`[value, keys...]`) that hold some group's winner.
    batches: Vec<Vec<ArrayRef>>,
    /// Per group: (batch, row) of its winner, or [`NONE`].
    best: Vec<(u32, u32)>,
    kept_rows: usize,
    kept_bytes: usize,
}

impl BestRowGroups {
    /// Groups over `[value, keys...]` of `types`, one direction per key.
    pub fn new(function: &'static str, types: Vec<DataType>, directions: Vec<Better>) -> Self {
        Self {
            function,
            directions,
            types,
            batches: Vec::new(),
            best: Vec::new(),
            kept_rows: 0,
            kept_bytes: 0,
        }
    }

    fn add(
        &mut self,
        columns: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        check_columns(self.function, &self.directions, columns)?;
        self.best.resize(total_num_groups, NONE);
        let batch = u32::try_from(self.batches.len()).map_err(|_| {
            datafusion::error::DataFusionError::ResourcesExhausted(format!(
                "{}: more than {} input batches kept",
                self.function,
                u32::MAX
            ))
        })?;
        let within = comparators(self.function, &self.directions, columns, columns)?;
        // Comparators of this batch's rows against each kept batch, made when first needed.
        let mut across: Vec<Option<Vec<DynComparator>>> = Vec::new();
        across.resize_with(self.batches.len(), || None);
        let values = &columns[0];
        let mut won = false;
        for (row, &group) in group_indices.iter().enumerate() {
            if values.is_null(row) || !row_selected(opt_filter, row) {
                continue;
            }
            let (held_batch, held_row) = self.best[group];
            let better = if (held_batch, held_row) == NONE {
                true
            } else if held_batch == batch {
                compare(&within, row, held_row as usize) == Ordering::Greater
            } else {
                let slot = &mut across[held_batch as usize];
                if slot.is_none() {
                    *slot = Some(comparators(
                        self.function,
                        &self.directions,
                        columns,
                        &self.batches[held_batch as usize],
                    )?);
                }
                let cmp = slot.as_ref().expect("made above");
                compare(cmp, row, held_row as usize) == Ordering::Greater
            };
            if better {
                self.best[group] = (batch, row as u32);
                won = true;
            }
        }
        if won {
            self.kept_rows += values.len();
            self.kept_bytes += columns
                .iter()
                .map(|c| c.get_array_memory_size())
                .sum::<usize>();
            self.batches.push(columns.to_vec());
            if self.kept_rows > 2 * self.best.len() + SLACK_ROWS {
                self.compact()?;
            }
        }
        Ok(())
    }

    /// Copy every group's winner into one batch and drop the rest.
    fn compact(&mut self) -> Result<()> {
        let winners: Vec<(usize, usize)> = self
            .best
            .iter()
            .filter(|&&b| b != NONE)
            .map(|&(b, r)| (b as usize, r as usize))
            .collect();
        let columns = self.gather(&winners, self.types.len())?;
        for (next, slot) in self.best.iter_mut().filter(|b| **b != NONE).enumerate() {
            *slot = (0, next as u32);
        }
        self.kept_rows = winners.len();
        self.kept_bytes = columns.iter().map(|c| c.get_array_memory_size()).sum();
        self.batches = vec![columns];
        Ok(())
    }

    /// The first `wanted` columns of the rows at `positions` ((batch, row) pairs). Batch
    /// `self.batches.len()` is a one-row all-NULL batch, for groups without a winner.
    fn gather(&self, positions: &[(usize, usize)], wanted: usize) -> Result<Vec<ArrayRef>> {
        (0..wanted)
            .map(|c| {
                let null = new_null_array(&self.types[c], 1);
                let mut sources: Vec<&dyn Array> =
                    self.batches.iter().map(|b| b[c].as_ref()).collect();
                sources.push(null.as_ref());
                Ok(interleave(&sources, positions)?)
            })
            .collect()
    }

    /// Columns `wanted` of the first groups `emit_to` names, NULL where a group has no winner;
    /// the emitted groups leave the state.
    fn emit(&mut self, emit_to: EmitTo, wanted: usize) -> Result<Vec<ArrayRef>> {
        let groups = emit_to.take_needed(&mut self.best);
        let nulls = self.batches.len();
        let positions: Vec<(usize, usize)> = groups
            .iter()
            .map(|&(b, r)| {
                if (b, r) == NONE {
                    (nulls, 0)
                } else {
                    (b as usize, r as usize)
                }
            })
            .collect();
        let out = self.gather(&positions, wanted)?;
        if self.best.is_empty() {
            self.batches.clear();
            self.kept_rows = 0;
            self.kept_bytes = 0;
        }
        Ok(out)
    }
}

impl GroupsAccumulator for BestRowGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.emit(emit_to, 1)?.remove(0))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let wanted = self.types.len();
        self.emit(emit_to, wanted)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        // The state is the winning input row, so merging is adding those rows.
        self.add(values, group_indices, None, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // Each row is its own state; a filtered-out row's value is NULL, which never wins.
        let mut state = values.to_vec();
        if let Some(filter) = opt_filter {
            let keep = selected_mask(filter);
            state[0] = nullif(&values[0], &not(&keep)?)?;
        }
        Ok(state)
    }

    fn size(&self) -> usize {
        self.kept_bytes + self.best.capacity() * size_of::<(u32, u32)>()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{AsArray, Int64Array, StringArray};

    use super::*;

    fn batch(values: &[Option<&str>], at: &[i64]) -> Vec<ArrayRef> {
        vec![
            Arc::new(StringArray::from(values.to_vec())),
            Arc::new(Int64Array::from(at.to_vec())),
        ]
    }

    fn groups() -> BestRowGroups {
        BestRowGroups::new(
            "most_recent",
            vec![DataType::Utf8, DataType::Int64],
            vec![Better::Larger],
        )
    }

    fn strings(array: &ArrayRef) -> Vec<Option<String>> {
        array
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    #[test]
    fn latest_value_per_group_across_batches_and_compactions() {
        let mut acc = groups();
        acc.update_batch(
            &batch(&[Some("a"), Some("b"), None], &[1, 5, 9]),
            &[0, 1, 0],
            None,
            3,
        )
        .unwrap();
        acc.update_batch(&batch(&[Some("c"), Some("d")], &[2, 4]), &[0, 1], None, 3)
            .unwrap();
        acc.compact().unwrap();
        acc.update_batch(&batch(&[Some("e"), Some("f")], &[2, 7]), &[0, 1], None, 3)
            .unwrap();
        let out = acc.evaluate(EmitTo::All).unwrap();
        // Group 0: c and e tie on time 2, the greater value wins; group 2 saw nothing.
        assert_eq!(
            strings(&out),
            [Some("e".to_string()), Some("f".to_string()), None]
        );
        assert_eq!(acc.size(), 0);
    }

    #[test]
    fn state_merges_like_rows_and_emits_first_groups() {
        let mut left = groups();
        left.update_batch(&batch(&[Some("a"), Some("b")], &[1, 1]), &[0, 1], None, 2)
            .unwrap();
        let mut right = groups();
        right
            .update_batch(&batch(&[Some("x"), Some("y")], &[3, 0]), &[0, 1], None, 2)
            .unwrap();
        let state = right.state(EmitTo::All).unwrap();
        left.merge_batch(&state, &[0, 1], 2).unwrap();
        let first = left.evaluate(EmitTo::First(1)).unwrap();
        assert_eq!(strings(&first), [Some("x".to_string())]);
        let rest = left.evaluate(EmitTo::All).unwrap();
        assert_eq!(strings(&rest), [Some("b".to_string())]);
    }

    #[test]
    fn filtered_rows_do_not_win() {
        let mut acc = groups();
        let filter = BooleanArray::from(vec![Some(true), Some(false), None]);
        acc.update_batch(
            &batch(&[Some("a"), Some("b"), Some("c")], &[1, 2, 3]),
            &[0, 0, 0],
            Some(&filter),
            1,
        )
        .unwrap();
        assert_eq!(
            strings(&acc.evaluate(EmitTo::All).unwrap()),
            [Some("a".to_string())]
        );
    }

    #[test]
    fn rows_converted_to_state_merge_as_their_update_would() {
        let rows = batch(&[Some("a"), Some("b"), Some("c")], &[1, 2, 3]);
        let filter = BooleanArray::from(vec![Some(true), Some(false), None]);
        let acc = groups();
        let state = acc.convert_to_state(&rows, Some(&filter)).unwrap();
        let mut merged = groups();
        merged.merge_batch(&state, &[0, 0, 1], 2).unwrap();
        assert_eq!(
            strings(&merged.evaluate(EmitTo::All).unwrap()),
            [Some("a".to_string()), None]
        );
    }
}
