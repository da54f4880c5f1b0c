//! The state shared by the journey aggregates (`window_funnel`, `sequence_match`,
//! `sequence_count`): per group, the list of its events, each a time and the set of conditions
//! it meets. Rows are collected in any order and partitions merge by concatenation; the list
//! is sorted when the group is evaluated, so unsorted input and partial aggregation give the
//! same answer. A GROUP BY over millions of customers uses the [`EventGroups`] groups
//! accumulator; without GROUP BY the [`EventsAccumulator`].

use std::fmt::Debug;
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Int64Type, TimeUnit, TimestampMicrosecondType, UInt32Type,
};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::StateFieldsArgs;
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use crate::functions::util::row_selected;

/// At most this many conditions (one bit each).
pub const MAX_CONDITIONS: usize = 32;

/// Microseconds in a second: pattern times and integer windows are in seconds.
pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// One row of a group: when it happened (microseconds) and which conditions it meets
/// (bit `i` is condition `i + 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    /// Time in microseconds since the epoch (or the integer timestamp, in seconds, × 10⁶).
    pub at: i64,
    /// Conditions met.
    pub conditions: u32,
}

/// What a journey aggregate computes from one group's events.
pub trait Evaluate: Debug + Send + Sync + 'static {
    /// The function's SQL name, for errors.
    fn name(&self) -> &'static str;
    /// Whether rows that meet no condition are kept (they matter to `strict_order`).
    fn keeps_rows_without_conditions(&self) -> bool {
        false
    }
    /// The result for one group; `events` is sorted by time, then conditions.
    fn evaluate(&self, events: &[Event]) -> Result<ScalarValue>;
    /// The result type.
    fn return_type(&self) -> DataType;
}

/// Check the time argument and the conditions of a journey aggregate at planning time.
pub fn check_arguments(name: &str, types: &[DataType]) -> Result<()> {
    let Some((time, conditions)) = types.split_first() else {
        return plan_err!("{name}: expected a timestamp and at least one condition");
    };
    check_time_type(name, time)?;
    if conditions.is_empty() {
        return plan_err!("{name}: expected at least one condition after the timestamp");
    }
    if conditions.len() > MAX_CONDITIONS {
        return plan_err!(
            "{name}: {} conditions given, at most {MAX_CONDITIONS} are supported",
            conditions.len()
        );
    }
    for (i, t) in conditions.iter().enumerate() {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return plan_err!(
                "{name}: condition {} is {t}, expected a boolean expression such as event = 'signup'",
                i + 1
            );
        }
    }
    Ok(())
}

fn check_time_type(name: &str, t: &DataType) -> Result<()> {
    match t {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Null => Ok(()),
        t if t.is_integer() => Ok(()),
        other => plan_err!(
            "{name}: the timestamp argument is {other}, expected a timestamp, a date or an integer (seconds)"
        ),
    }
}

/// The time column as microseconds; NULL stays NULL. Integers are seconds.
pub fn micros(array: &ArrayRef, name: &str) -> Result<Int64Array> {
    match array.data_type() {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Null => {
            let micros = cast(array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            Ok(micros
                .as_primitive::<TimestampMicrosecondType>()
                .reinterpret_cast::<Int64Type>())
        }
        t if t.is_integer() => {
            let seconds = cast(array, &DataType::Int64)?;
            Ok(seconds
                .as_primitive::<Int64Type>()
                .unary(|s: i64| s.saturating_mul(MICROS_PER_SECOND)))
        }
        other => exec_err!("{name}: cannot read times of type {other}"),
    }
}

/// The events of a batch: `columns[0]` is the time, the rest are the conditions. Rows with a
/// NULL time are left out; a NULL condition counts as not met.
fn batch_events(name: &str, columns: &[ArrayRef]) -> Result<(Int64Array, Vec<u32>)> {
    let Some((time, conditions)) = columns.split_first() else {
        return exec_err!("{name}: missing timestamp argument");
    };
    let times = micros(time, name)?;
    let mut bits = vec![0u32; time.len()];
    for (c, column) in conditions.iter().enumerate() {
        let Some(flags) = column.as_boolean_opt() else {
            if column.data_type() == &DataType::Null {
                continue;
            }
            return exec_err!("{name}: condition {} is not boolean", c + 1);
        };
        for (row, bit) in bits.iter_mut().enumerate() {
            if flags.is_valid(row) && flags.value(row) {
                *bit |= 1 << c;
            }
        }
    }
    Ok((times, bits))
}

/// The state columns: the times and the condition sets of the collected events.
pub fn state_fields(args: &StateFieldsArgs) -> Vec<FieldRef> {
    vec![
        Field::new_list(
            format_state_name(args.name, "times"),
            Field::new_list_field(DataType::Int64, false),
            true,
        )
        .into(),
        Field::new_list(
            format_state_name(args.name, "conditions"),
            Field::new_list_field(DataType::UInt32, false),
            true,
        )
        .into(),
    ]
}

fn to_state(groups: Vec<Vec<Event>>) -> Vec<ArrayRef> {
    let lengths = groups.iter().map(Vec::len);
    let offsets = OffsetBuffer::from_lengths(lengths);
    let times = Int64Array::from_iter_values(groups.iter().flatten().map(|e| e.at));
    let bits = UInt32Array::from_iter_values(groups.iter().flatten().map(|e| e.conditions));
    let list = |values: ArrayRef, t: DataType| -> ArrayRef {
        Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(t, false)),
            offsets.clone(),
            values,
            None,
        ))
    };
    vec![
        list(Arc::new(times), DataType::Int64),
        list(Arc::new(bits), DataType::UInt32),
    ]
}

/// Call `f(row, events)` for each state row.
fn for_each_state(
    name: &str,
    states: &[ArrayRef],
    mut f: impl FnMut(usize, &mut dyn Iterator<Item = Event>),
) -> Result<()> {
    let [times, bits] = states else {
        return exec_err!("{name}: expected two state columns");
    };
    let (times, bits) = (times.as_list::<i32>(), bits.as_list::<i32>());
    for row in 0..times.len() {
        if times.is_null(row) || bits.is_null(row) {
            continue;
        }
        let t = times.value(row);
        let b = bits.value(row);
        let (t, b) = (
            t.as_primitive::<Int64Type>(),
            b.as_primitive::<UInt32Type>(),
        );
        let mut events = t
            .values()
            .iter()
            .zip(b.values().iter())
            .map(|(&at, &conditions)| Event { at, conditions });
        f(row, &mut events);
    }
    Ok(())
}

fn evaluate_group<E: Evaluate + ?Sized>(eval: &E, events: &mut [Event]) -> Result<ScalarValue> {
    events.sort_unstable();
    eval.evaluate(events)
}

/// Events per group for GROUP BY.
#[derive(Debug)]
pub struct EventGroups {
    eval: Arc<dyn Evaluate>,
    /// Index of the time column among the arguments (the conditions follow it).
    first: usize,
    groups: Vec<Vec<Event>>,
    events: usize,
}

impl EventGroups {
    /// Groups for `eval`, whose time argument is at index `first`.
    pub fn new(eval: Arc<dyn Evaluate>, first: usize) -> Self {
        Self {
            eval,
            first,
            groups: Vec::new(),
            events: 0,
        }
    }
}

impl GroupsAccumulator for EventGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let (times, bits) = batch_events(self.eval.name(), &values[self.first..])?;
        let keep_empty = self.eval.keeps_rows_without_conditions();
        for (row, &group) in group_indices.iter().enumerate() {
            if times.is_null(row) || (bits[row] == 0 && !keep_empty) {
                continue;
            }
            if !row_selected(opt_filter, row) {
                continue;
            }
            self.groups[group].push(Event {
                at: times.value(row),
                conditions: bits[row],
            });
            self.events += 1;
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.groups);
        let mut results = Vec::with_capacity(groups.len());
        for mut events in groups {
            self.events = self.events.saturating_sub(events.len());
            results.push(evaluate_group(self.eval.as_ref(), &mut events)?);
        }
        if results.is_empty() {
            return ScalarValue::try_from(self.eval.return_type())?.to_array_of_size(0);
        }
        ScalarValue::iter_to_array(results)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = emit_to.take_needed(&mut self.groups);
        self.events = self
            .events
            .saturating_sub(groups.iter().map(Vec::len).sum());
        Ok(to_state(groups))
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let groups = &mut self.groups;
        let mut added = 0;
        for_each_state(self.eval.name(), values, |row, events| {
            let group = &mut groups[group_indices[row]];
            let before = group.len();
            group.extend(events);
            added += group.len() - before;
        })?;
        self.events += added;
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let (times, bits) = batch_events(self.eval.name(), &values[self.first..])?;
        let keep_empty = self.eval.keeps_rows_without_conditions();
        let rows = (0..bits.len())
            .map(|row| {
                let kept = times.is_valid(row)
                    && (bits[row] != 0 || keep_empty)
                    && row_selected(opt_filter, row);
                if kept {
                    vec![Event {
                        at: times.value(row),
                        conditions: bits[row],
                    }]
                } else {
                    Vec::new()
                }
            })
            .collect();
        Ok(to_state(rows))
    }

    fn size(&self) -> usize {
        self.groups.capacity() * size_of::<Vec<Event>>() + self.events * size_of::<Event>()
    }
}

/// The events of one group, for an aggregate without GROUP BY.
#[derive(Debug)]
pub struct EventsAccumulator {
    eval: Arc<dyn Evaluate>,
    first: usize,
    events: Vec<Event>,
}

impl EventsAccumulator {
    /// An accumulator for `eval`, whose time argument is at index `first`.
    pub fn new(eval: Arc<dyn Evaluate>, first: usize) -> Self {
        Self {
            eval,
            first,
            events: Vec::new(),
        }
    }
}

impl Accumulator for EventsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (times, bits) = batch_events(self.eval.name(), &values[self.first..])?;
        let keep_empty = self.eval.keeps_rows_without_conditions();
        for (row, &conditions) in bits.iter().enumerate() {
            if times.is_valid(row) && (conditions != 0 || keep_empty) {
                self.events.push(Event {
                    at: times.value(row),
                    conditions,
                });
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        to_state(vec![self.events.clone()])
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let events = &mut self.events;
        for_each_state(self.eval.name(), states, |_, more| events.extend(more))
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        evaluate_group(self.eval.as_ref(), &mut self.events)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.events.capacity() * size_of::<Event>()
    }
}

/// The value of argument `index` when it is a constant, as the window, mode and pattern
/// arguments must be.
pub fn literal_argument(
    name: &str,
    what: &str,
    exprs: &[Arc<dyn datafusion::physical_plan::PhysicalExpr>],
    index: usize,
) -> Result<ScalarValue> {
    use datafusion::physical_expr::expressions::Literal;
    match exprs.get(index).and_then(|e| e.downcast_ref::<Literal>()) {
        Some(literal) => Ok(literal.value().clone()),
        None => plan_err!("{name}: the {what} must be a constant"),
    }
}
