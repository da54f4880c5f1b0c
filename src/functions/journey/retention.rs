//! `retention(cond1, cond2, ...)`: ClickHouse's retention array: whether the first condition
//! held on some row, and for each later condition whether it held on some row of a group in
//! which the first one held too.

use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, UInt8Array, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt32Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::events::MAX_CONDITIONS;
use crate::functions::util::row_selected;

#[user_doc(
    doc_section(label = "Journey Functions"),
    description = "Retention flags (ClickHouse's retention): an array with one 0/1 per condition. \
        The first is 1 when cond1 held on some row of the group; the k-th (k > 1) is 1 when \
        cond1 held on some row and cond k held on some row (not necessarily the same one). \
        Typically cond1 is 'active in the cohort period' and cond k 'active k-1 periods later'. \
        A NULL condition is not met. At most 32 conditions.",
    syntax_example = "retention(cond1, cond2, ...)",
    sql_example = r#"```sql
> SELECT user_id, retention(day = 1, day = 2, day = 3) AS r
  FROM (VALUES (1, 1), (1, 3), (2, 2), (3, 1), (3, 2)) AS t(user_id, day)
  GROUP BY user_id ORDER BY user_id;
+---------+-----------+
| user_id | r         |
+---------+-----------+
| 1       | [1, 0, 1] |
| 2       | [0, 0, 0] |
| 3       | [1, 1, 0] |
+---------+-----------+
```"#,
    argument(
        name = "cond1, cond2, ...",
        description = "Boolean conditions: the cohort condition, then one per later period."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RetentionFunc {
    signature: Signature,
}

impl Default for RetentionFunc {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

fn out_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::UInt8, false)))
}

impl AggregateUDFImpl for RetentionFunc {
    fn name(&self) -> &str {
        "retention"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.is_empty() || args.len() > MAX_CONDITIONS {
            return plan_err!(
                "retention: {} conditions given, expected 1 to {MAX_CONDITIONS}",
                args.len()
            );
        }
        for (i, t) in args.iter().enumerate() {
            if !matches!(t, DataType::Boolean | DataType::Null) {
                return plan_err!("retention: condition {} is {t}, expected a boolean", i + 1);
            }
        }
        Ok(out_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Field::new(format_state_name(args.name, "met"), DataType::UInt32, true).into(),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(RetentionAccumulator {
            conditions: args.exprs.len(),
            met: 0,
        }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(RetentionGroups {
            conditions: args.exprs.len(),
            met: Vec::new(),
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// The conditions met by each row of a batch, one bit each.
fn row_bits(columns: &[ArrayRef], rows: usize) -> Result<Vec<u32>> {
    let mut bits = vec![0u32; rows];
    for (c, column) in columns.iter().enumerate() {
        if column.data_type() == &DataType::Null {
            continue;
        }
        let Some(flags) = column.as_boolean_opt() else {
            return exec_err!("retention: condition {} is not boolean", c + 1);
        };
        for (row, bit) in bits.iter_mut().enumerate() {
            if flags.is_valid(row) && flags.value(row) {
                *bit |= 1 << c;
            }
        }
    }
    Ok(bits)
}

/// The flags of one group from the set of conditions met.
fn flags(met: u32, conditions: usize) -> impl Iterator<Item = u8> {
    let first = met & 1 != 0;
    (0..conditions).map(move |c| u8::from(first && met & (1 << c) != 0))
}

fn to_lists(groups: &[u32], conditions: usize) -> ArrayRef {
    let values = UInt8Array::from_iter_values(groups.iter().flat_map(|&m| flags(m, conditions)));
    Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::UInt8, false)),
        OffsetBuffer::from_lengths(std::iter::repeat_n(conditions, groups.len())),
        Arc::new(values),
        None,
    ))
}

/// The conditions met so far, as bits.
#[derive(Debug)]
struct RetentionAccumulator {
    conditions: usize,
    met: u32,
}

impl Accumulator for RetentionAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = values.first().map_or(0, |v| v.len());
        self.met |= row_bits(values, rows)?.iter().fold(0, |a, b| a | b);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::UInt32(Some(self.met))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(met) = states.first() {
            let met = met.as_primitive::<UInt32Type>();
            self.met |= met.iter().flatten().fold(0, |a, b| a | b);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&to_lists(&[self.met], self.conditions), 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>()
    }
}

/// The conditions met per group, as bits.
#[derive(Debug)]
struct RetentionGroups {
    conditions: usize,
    met: Vec<u32>,
}

impl GroupsAccumulator for RetentionGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.met.resize(total_num_groups, 0);
        let bits = row_bits(values, group_indices.len())?;
        for (row, &group) in group_indices.iter().enumerate() {
            if !row_selected(opt_filter, row) {
                continue;
            }
            self.met[group] |= bits[row];
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.met);
        Ok(to_lists(&groups, self.conditions))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = emit_to.take_needed(&mut self.met);
        Ok(vec![Arc::new(UInt32Array::from(groups))])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.met.resize(total_num_groups, 0);
        let Some(met) = values.first() else {
            return exec_err!("retention: missing state");
        };
        let met = met.as_primitive::<UInt32Type>();
        for (row, &group) in group_indices.iter().enumerate() {
            if met.is_valid(row) {
                self.met[group] |= met.value(row);
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut bits = row_bits(values, rows)?;
        for (row, bit) in bits.iter_mut().enumerate() {
            if !row_selected(opt_filter, row) {
                *bit = 0;
            }
        }
        Ok(vec![Arc::new(UInt32Array::from(bits))])
    }

    fn size(&self) -> usize {
        self.met.capacity() * size_of::<u32>()
    }
}
