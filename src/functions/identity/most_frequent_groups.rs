//! `most_frequent` over many groups at once: one count per (group, distinct value) in a single
//! hash table, the values interned once for all groups in Arrow's row format (a birth date
//! shared by a thousand customers is stored once). The per-group accumulator held a hash map
//! of `ScalarValue`s for every group, boxed; this state is a few words per (group, value) and
//! is what `size()` reports to the memory pool.
//!
//! The row format orders bytes as the values sort, so "ties go to the greatest value" is a
//! comparison of the interned bytes.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, UInt32Array, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{filter, take};
use datafusion::arrow::datatypes::{DataType, Field, UInt64Type};
use datafusion::arrow::row::{Row, RowConverter, Rows, SortField};
use datafusion::common::{HashMap, Result, exec_err};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};

use crate::functions::util::row_selected;

/// Counts of each group's values.
pub struct ModeGroups {
    value_type: DataType,
    converter: RowConverter,
    /// Interned values: their row bytes to their id, and the rows by id.
    ids: HashMap<Box<[u8]>, u32>,
    values: Rows,
    /// (group, value id) to its count.
    counts: HashMap<(u32, u32), u64>,
    groups: usize,
}

impl std::fmt::Debug for ModeGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModeGroups")
            .field("value_type", &self.value_type)
            .field("values", &self.ids.len())
            .field("counts", &self.counts.len())
            .field("groups", &self.groups)
            .finish()
    }
}

impl ModeGroups {
    /// Groups over values of `value_type`.
    pub fn new(value_type: DataType) -> Result<Self> {
        let converter = RowConverter::new(vec![SortField::new(value_type.clone())])?;
        let values = converter.empty_rows(0, 0);
        Ok(Self {
            value_type,
            converter,
            ids: HashMap::new(),
            values,
            counts: HashMap::new(),
            groups: 0,
        })
    }

    fn group(index: usize) -> Result<u32> {
        u32::try_from(index).map_err(|_| {
            datafusion::error::DataFusionError::ResourcesExhausted(format!(
                "most_frequent: more than {} groups",
                u32::MAX
            ))
        })
    }

    fn intern(&mut self, bytes: &[u8], row: Row<'_>) -> Result<u32> {
        if let Some(&id) = self.ids.get(bytes) {
            return Ok(id);
        }
        let id = Self::group(self.ids.len())?;
        self.ids.insert(bytes.into(), id);
        self.values.push(row);
        Ok(id)
    }

    /// Add `count(i)` to the value at `i` of `values` for group `group_of(i)`, for each `i`
    /// that `keep` selects and whose value is not NULL.
    fn add(
        &mut self,
        values: &ArrayRef,
        group_of: impl Fn(usize) -> usize,
        count: impl Fn(usize) -> u64,
        keep: impl Fn(usize) -> bool,
    ) -> Result<()> {
        let rows = self
            .converter
            .convert_columns(std::slice::from_ref(values))?;
        for i in 0..values.len() {
            if values.is_null(i) || !keep(i) {
                continue;
            }
            let row = rows.row(i);
            let id = self.intern(row.as_ref(), row)?;
            *self
                .counts
                .entry((Self::group(group_of(i))?, id))
                .or_insert(0) += count(i);
        }
        Ok(())
    }

    /// The (group, value id, count) entries of the first `n` groups, by group; the emitted
    /// groups leave the state and the others are renumbered from 0.
    fn take_first(&mut self, emit_to: EmitTo) -> (usize, Vec<(u32, u32, u64)>) {
        let n = match emit_to {
            EmitTo::All => self.groups,
            EmitTo::First(n) => n.min(self.groups),
        };
        let mut taken = Vec::new();
        if n == self.groups {
            taken.extend(self.counts.drain().map(|((g, v), c)| (g, v, c)));
            self.groups = 0;
        } else {
            let cut = n as u32;
            let kept: HashMap<(u32, u32), u64> = self
                .counts
                .drain()
                .filter_map(|((g, v), c)| {
                    if g < cut {
                        taken.push((g, v, c));
                        None
                    } else {
                        Some(((g - cut, v), c))
                    }
                })
                .collect();
            self.counts = kept;
            self.groups -= n;
        }
        taken.sort_unstable_by_key(|&(g, v, _)| (g, v));
        (n, taken)
    }

    /// The values of `ids` as an array (positions without an id are NULL).
    fn values_of(&self, ids: &[Option<u32>]) -> Result<ArrayRef> {
        let present: Vec<u32> = ids.iter().flatten().copied().collect();
        let dense = self
            .converter
            .convert_rows(present.iter().map(|&id| self.values.row(id as usize)))?
            .remove(0);
        if present.len() == ids.len() {
            return Ok(dense);
        }
        let mut next = 0u32;
        let positions: UInt32Array = ids
            .iter()
            .map(|id| {
                id.map(|_| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        Ok(take(&dense, &positions, None)?)
    }

    fn list(&self, item: DataType, offsets: Vec<i32>, values: ArrayRef) -> ArrayRef {
        Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(item, true)),
            OffsetBuffer::new(offsets.into()),
            values,
            None,
        ))
    }
}

impl GroupsAccumulator for ModeGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let [values] = values else {
            return exec_err!("most_frequent takes one argument");
        };
        self.groups = self.groups.max(total_num_groups);
        self.add(
            values,
            |i| group_indices[i],
            |_| 1,
            |i| row_selected(opt_filter, i),
        )
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (n, taken) = self.take_first(emit_to);
        // Per group: its best (count, value id); more records win, then the greater value.
        let mut best: Vec<Option<(u64, u32)>> = vec![None; n];
        for (g, v, c) in taken {
            let slot = &mut best[g as usize];
            let better = match *slot {
                None => true,
                Some((held, held_id)) => {
                    c > held
                        || (c == held
                            && self.values.row(v as usize) > self.values.row(held_id as usize))
                }
            };
            if better {
                *slot = Some((c, v));
            }
        }
        let ids: Vec<Option<u32>> = best.iter().map(|b| b.map(|(_, v)| v)).collect();
        self.values_of(&ids)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (n, taken) = self.take_first(emit_to);
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0i32);
        let mut at = 0;
        for group in 0..n as u32 {
            while at < taken.len() && taken[at].0 == group {
                at += 1;
            }
            offsets.push(i32::try_from(at).map_err(|_| {
                datafusion::error::DataFusionError::ResourcesExhausted(
                    "most_frequent: a state of more than 2^31 values".to_string(),
                )
            })?);
        }
        let ids: Vec<Option<u32>> = taken.iter().map(|&(_, v, _)| Some(v)).collect();
        let values = self.values_of(&ids)?;
        let counts: ArrayRef = Arc::new(UInt64Array::from_iter_values(
            taken.iter().map(|&(_, _, c)| c),
        ));
        Ok(vec![
            self.list(self.value_type.clone(), offsets.clone(), values),
            self.list(DataType::UInt64, offsets, counts),
        ])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let [values, counts] = values else {
            return exec_err!("most_frequent: expected two state columns");
        };
        let (Some(values), Some(counts)) =
            (values.as_list_opt::<i32>(), counts.as_list_opt::<i32>())
        else {
            return exec_err!("most_frequent: expected list state columns");
        };
        self.groups = self.groups.max(total_num_groups);
        // The group of each list element, and whether its list is there at all.
        let offsets = values.value_offsets();
        let mut group_of = vec![0usize; values.values().len()];
        let mut present = vec![false; values.values().len()];
        for (row, &group) in group_indices.iter().enumerate() {
            if values.is_null(row) || counts.is_null(row) {
                continue;
            }
            for i in offsets[row] as usize..offsets[row + 1] as usize {
                group_of[i] = group;
                present[i] = true;
            }
        }
        if counts.value_offsets() != offsets {
            return exec_err!("most_frequent: state lists of different lengths");
        }
        let numbers = counts.values().as_primitive::<UInt64Type>();
        self.add(
            values.values(),
            |i| group_of[i],
            |i| numbers.value(i),
            |i| present[i],
        )
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let [values] = values else {
            return exec_err!("most_frequent takes one argument");
        };
        // Each row is a list of its value with count 1, or an empty list.
        let keep: BooleanArray = (0..values.len())
            .map(|i| Some(!values.is_null(i) && row_selected(opt_filter, i)))
            .collect();
        let mut offsets = Vec::with_capacity(values.len() + 1);
        offsets.push(0i32);
        let mut at = 0i32;
        for i in 0..values.len() {
            at += i32::from(keep.value(i));
            offsets.push(at);
        }
        let kept = filter(values, &keep)?;
        let ones: ArrayRef = Arc::new(UInt64Array::from(vec![1u64; kept.len()]));
        Ok(vec![
            self.list(self.value_type.clone(), offsets.clone(), kept),
            self.list(DataType::UInt64, offsets, ones),
        ])
    }

    fn size(&self) -> usize {
        let bytes: usize = self.ids.keys().map(|k| k.len()).sum();
        self.counts.capacity() * (size_of::<((u32, u32), u64)>() + 1)
            + self.ids.capacity() * (size_of::<(Box<[u8]>, u32)>() + 1)
            + bytes
            + self.values.size()
            + self.converter.size()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::StringArray;

    use super::*;

    fn strings(values: &[Option<&str>]) -> Vec<ArrayRef> {
        vec![Arc::new(StringArray::from(values.to_vec()))]
    }

    fn texts(array: &ArrayRef) -> Vec<Option<String>> {
        array
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some(v.to_string())).collect()
    }

    #[test]
    fn the_mode_per_group_ties_to_the_greatest_and_nulls_never_count() {
        let mut acc = ModeGroups::new(DataType::Utf8).unwrap();
        acc.update_batch(
            &strings(&[Some("a"), Some("b"), Some("b"), None, Some("x"), None]),
            &[0, 0, 0, 1, 1, 2],
            None,
            3,
        )
        .unwrap();
        acc.update_batch(&strings(&[Some("a"), Some("w")]), &[0, 1], None, 3)
            .unwrap();
        let out = acc.evaluate(EmitTo::All).unwrap();
        // Group 0: a 2, b 2 -> b; group 1: x 1, w 1 -> x; group 2 saw only NULL.
        assert_eq!(texts(&out), [Some("b".into()), Some("x".into()), None]);
    }

    #[test]
    fn states_merge_by_adding_counts_and_first_groups_leave() {
        let mut left = ModeGroups::new(DataType::Utf8).unwrap();
        left.update_batch(&strings(&[Some("a"), Some("c")]), &[0, 1], None, 2)
            .unwrap();
        let mut right = ModeGroups::new(DataType::Utf8).unwrap();
        right
            .update_batch(
                &strings(&[Some("z"), Some("z"), Some("d"), Some("d")]),
                &[0, 0, 1, 1],
                None,
                2,
            )
            .unwrap();
        let state = right.state(EmitTo::All).unwrap();
        left.merge_batch(&state, &[0, 1], 2).unwrap();
        assert_eq!(
            texts(&left.evaluate(EmitTo::First(1)).unwrap()),
            some(&["z"])
        );
        left.update_batch(&strings(&[Some("c")]), &[0], None, 1)
            .unwrap();
        // The former group 1 is group 0 now: c 2, d 2 -> d.
        assert_eq!(texts(&left.evaluate(EmitTo::All).unwrap()), some(&["d"]));
    }

    #[test]
    fn filtered_rows_and_converted_states_count_as_their_updates_would() {
        let rows = strings(&[Some("a"), Some("b"), Some("b"), None]);
        let filter = BooleanArray::from(vec![Some(true), Some(false), None, Some(true)]);
        let mut direct = ModeGroups::new(DataType::Utf8).unwrap();
        direct
            .update_batch(&rows, &[0, 0, 0, 1], Some(&filter), 2)
            .unwrap();
        let acc = ModeGroups::new(DataType::Utf8).unwrap();
        let state = acc.convert_to_state(&rows, Some(&filter)).unwrap();
        let mut merged = ModeGroups::new(DataType::Utf8).unwrap();
        merged.merge_batch(&state, &[0, 0, 0, 1], 2).unwrap();
        let expected = vec![Some("a".to_string()), None];
        assert_eq!(texts(&direct.evaluate(EmitTo::All).unwrap()), expected);
        assert_eq!(texts(&merged.evaluate(EmitTo::All).unwrap()), expected);
        // A filter without NULLs (Arrow's null-mask helper needs a null buffer).
        let all = BooleanArray::from(vec![true, true, false, true]);
        let state = acc.convert_to_state(&rows, Some(&all)).unwrap();
        assert_eq!(state[0].len(), 4);
    }

    #[test]
    fn the_row_and_groups_accumulators_agree_on_dates() {
        use datafusion::arrow::array::Date32Array;
        use datafusion::logical_expr::Accumulator;

        let dates: ArrayRef = Arc::new(Date32Array::from(vec![
            Some(100),
            Some(-5),
            Some(-5),
            Some(100),
            None,
        ]));
        let mut groups = ModeGroups::new(DataType::Date32).unwrap();
        groups
            .update_batch(std::slice::from_ref(&dates), &[0; 5], None, 1)
            .unwrap();
        let mut row = super::super::most_frequent::MostFrequentAccumulator::new(DataType::Date32);
        row.update_batch(&[dates]).unwrap();
        let out = groups.evaluate(EmitTo::All).unwrap();
        assert_eq!(
            datafusion::common::ScalarValue::try_from_array(&out, 0).unwrap(),
            row.evaluate().unwrap()
        );
    }
}
