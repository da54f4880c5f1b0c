//! The accumulator behind the survey-score aggregates (`nps`, `csat`): per group, how many
//! answers were good, how many bad, how many in all; partitions merge by adding. A score
//! outside its scale is an error naming the value, the same for every score function.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use crate::functions::util::row_selected;

/// A survey scale: its range, what counts as good or bad, and the figure reported.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// The SQL function, for errors.
    pub function: &'static str,
    /// Smallest and largest valid score.
    pub range: (f64, f64),
    /// Scores at or above this are good.
    pub good_from: f64,
    /// Scores at or below this are bad.
    pub bad_to: f64,
    /// The figure from (good, bad, total answers), total > 0.
    pub figure: fn(u64, u64, u64) -> f64,
}

/// Counts of one group.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    good: u64,
    bad: u64,
    total: u64,
}

impl Scale {
    /// The state fields: good, bad and total counts.
    pub fn state_fields(&self, name: &str) -> Vec<FieldRef> {
        ["good", "bad", "total"]
            .iter()
            .map(|c| {
                Arc::new(Field::new(
                    format_state_name(name, c),
                    DataType::UInt64,
                    true,
                ))
            })
            .collect()
    }

    /// Classify each valid score of `scores`; an out-of-scale score is an error.
    fn each(&self, scores: &ArrayRef, mut f: impl FnMut(usize, bool, bool)) -> Result<()> {
        let scores = cast(scores, &DataType::Float64)?;
        let scores = scores.as_primitive::<Float64Type>();
        let (low, high) = self.range;
        for (row, score) in scores.iter().enumerate() {
            let Some(score) = score else { continue };
            if !(low..=high).contains(&score) {
                return exec_err!(
                    "{}: score {score} is outside the scale {low}-{high}; fix or filter it \
                     (WHERE score BETWEEN {low} AND {high})",
                    self.function
                );
            }
            f(row, score >= self.good_from, score <= self.bad_to);
        }
        Ok(())
    }

    fn value(&self, c: Counts) -> Option<f64> {
        (c.total > 0).then(|| (self.figure)(c.good, c.bad, c.total))
    }
}

fn add(c: &mut Counts, good: bool, bad: bool) {
    c.good += u64::from(good);
    c.bad += u64::from(bad);
    c.total += 1;
}

fn merge_rows(states: &[ArrayRef], mut f: impl FnMut(usize, Counts)) -> Result<()> {
    let [good, bad, total] = states else {
        return exec_err!("expected three state columns");
    };
    let (good, bad, total) = (
        good.as_primitive::<UInt64Type>(),
        bad.as_primitive::<UInt64Type>(),
        total.as_primitive::<UInt64Type>(),
    );
    for row in 0..total.len() {
        if total.is_valid(row) {
            f(
                row,
                Counts {
                    good: good.value(row),
                    bad: bad.value(row),
                    total: total.value(row),
                },
            );
        }
    }
    Ok(())
}

fn to_state(counts: &[Counts]) -> Vec<ArrayRef> {
    vec![
        Arc::new(UInt64Array::from_iter_values(counts.iter().map(|c| c.good))),
        Arc::new(UInt64Array::from_iter_values(counts.iter().map(|c| c.bad))),
        Arc::new(UInt64Array::from_iter_values(
            counts.iter().map(|c| c.total),
        )),
    ]
}

/// One group's counts.
#[derive(Debug)]
pub struct ScoreAccumulator {
    scale: Scale,
    counts: Counts,
}

impl ScoreAccumulator {
    /// An empty accumulator on `scale`.
    pub fn new(scale: Scale) -> Self {
        Self {
            scale,
            counts: Counts::default(),
        }
    }
}

impl Accumulator for ScoreAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let counts = &mut self.counts;
        match values.first() {
            Some(scores) => self
                .scale
                .each(scores, |_, good, bad| add(counts, good, bad)),
            None => exec_err!("{}: missing score argument", self.scale.function),
        }
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        to_state(&[self.counts])
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let counts = &mut self.counts;
        merge_rows(states, |_, c| {
            counts.good += c.good;
            counts.bad += c.bad;
            counts.total += c.total;
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.scale.value(self.counts)))
    }

    fn size(&self) -> usize {
        size_of::<Self>()
    }
}

/// Counts per group.
#[derive(Debug)]
pub struct ScoreGroups {
    scale: Scale,
    counts: Vec<Counts>,
}

impl ScoreGroups {
    /// Empty groups on `scale`.
    pub fn new(scale: Scale) -> Self {
        Self {
            scale,
            counts: Vec::new(),
        }
    }
}

impl GroupsAccumulator for ScoreGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.counts.resize(total_num_groups, Counts::default());
        let Some(scores) = values.first() else {
            return exec_err!("{}: missing score argument", self.scale.function);
        };
        let counts = &mut self.counts;
        self.scale.each(scores, |row, good, bad| {
            if row_selected(opt_filter, row) {
                add(&mut counts[group_indices[row]], good, bad);
            }
        })
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let counts = emit_to.take_needed(&mut self.counts);
        Ok(Arc::new(Float64Array::from_iter(
            counts.into_iter().map(|c| self.scale.value(c)),
        )))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(to_state(&emit_to.take_needed(&mut self.counts)))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.counts.resize(total_num_groups, Counts::default());
        let counts = &mut self.counts;
        merge_rows(values, |row, c| {
            let group = &mut counts[group_indices[row]];
            group.good += c.good;
            group.bad += c.bad;
            group.total += c.total;
        })
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let Some(scores) = values.first() else {
            return exec_err!("{}: missing score argument", self.scale.function);
        };
        let mut counts = vec![Counts::default(); scores.len()];
        self.scale.each(scores, |row, good, bad| {
            if row_selected(opt_filter, row) {
                add(&mut counts[row], good, bad);
            }
        })?;
        Ok(to_state(&counts))
    }

    fn size(&self) -> usize {
        self.counts.capacity() * size_of::<Counts>()
    }
}
