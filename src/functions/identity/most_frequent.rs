//! `most_frequent(value)`: the survivorship rule "most frequent": the value most records
//! agree on, for a golden-record field typed in many systems (birth date, name spelling).

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, FieldRef, UInt64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::most_frequent_groups::ModeGroups;
use crate::functions::util::{for_each_state_row, list_state, list_state_fields};

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Survivorship: the non-NULL value that occurs most often (the mode). Ties go \
        to the greatest value, so the answer never depends on row order. NULL when every value \
        is NULL.",
    syntax_example = "most_frequent(value)",
    sql_example = r#"```sql
> SELECT most_frequent(born) AS birth_date
  FROM (VALUES (DATE '1980-04-02'), (DATE '1980-02-04'), (DATE '1980-04-02'), (NULL)) AS t(born);
+------------+
| birth_date |
+------------+
| 1980-04-02 |
+------------+
```"#,
    argument(name = "value", description = "The field, any type.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MostFrequentFunc {
    signature: Signature,
}

impl Default for MostFrequentFunc {
    fn default() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for MostFrequentFunc {
    fn name(&self) -> &str {
        "most_frequent"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let value_type = args.input_fields[0].data_type().clone();
        Ok(list_state_fields(
            args.name,
            &[("values", value_type), ("counts", DataType::UInt64)],
        ))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MostFrequentAccumulator::new(
            args.expr_fields[0].data_type().clone(),
        )))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ModeGroups::new(
            args.expr_fields[0].data_type().clone(),
        )?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Counts per distinct value; partitions merge by adding counts.
#[derive(Debug)]
pub struct MostFrequentAccumulator {
    value_type: DataType,
    counts: HashMap<ScalarValue, u64>,
    bytes: usize,
}

impl MostFrequentAccumulator {
    /// An empty accumulator of values of `value_type`.
    pub fn new(value_type: DataType) -> Self {
        Self {
            value_type,
            counts: HashMap::new(),
            bytes: 0,
        }
    }

    fn add(&mut self, values: &ArrayRef, counts: impl Fn(usize) -> u64) -> Result<()> {
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let value = ScalarValue::try_from_array(values, row)?;
            let n = counts(row);
            match self.counts.get_mut(&value) {
                Some(count) => *count += n,
                None => {
                    self.bytes += value.size();
                    self.counts.insert(value, n);
                }
            }
        }
        Ok(())
    }
}

impl Accumulator for MostFrequentAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [values] = values else {
            return exec_err!("most_frequent takes one argument");
        };
        self.add(values, |_| 1)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values = if self.counts.is_empty() {
            ScalarValue::try_from(&self.value_type)?.to_array_of_size(0)?
        } else {
            ScalarValue::iter_to_array(self.counts.keys().cloned())?
        };
        Ok(list_state(vec![
            values,
            Arc::new(UInt64Array::from_iter_values(self.counts.values().copied())),
        ]))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for_each_state_row(states, "most_frequent", |lists| {
            let [values, counts] = lists else {
                return exec_err!("most_frequent: expected two state columns");
            };
            let counts = counts.as_primitive::<UInt64Type>().clone();
            self.add(values, |row| counts.value(row))
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let best = self.counts.iter().max_by(|(a, n), (b, m)| {
            n.cmp(m)
                .then_with(|| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
        });
        match best {
            Some((value, _)) => Ok(value.clone()),
            None => ScalarValue::try_from(&self.value_type),
        }
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.bytes
            + self.counts.capacity() * (size_of::<ScalarValue>() + size_of::<u64>())
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::StringArray;

    use super::*;

    #[test]
    fn merged_partitions_give_the_mode_and_ties_go_to_the_greatest() {
        let batch =
            |v: Vec<Option<&str>>| -> Vec<ArrayRef> { vec![Arc::new(StringArray::from(v))] };
        let mut left = MostFrequentAccumulator::new(DataType::Utf8);
        left.update_batch(&batch(vec![Some("a"), Some("b"), None]))
            .unwrap();
        let mut right = MostFrequentAccumulator::new(DataType::Utf8);
        right.update_batch(&batch(vec![Some("b")])).unwrap();
        crate::functions::util::merge_partial(&mut left, &mut right);
        assert_eq!(left.evaluate().unwrap(), ScalarValue::from("b"));
        left.update_batch(&batch(vec![Some("a"), Some("c"), Some("c")]))
            .unwrap();
        // a: 2, b: 2, c: 2 -> the greatest, c.
        assert_eq!(left.evaluate().unwrap(), ScalarValue::from("c"));
    }
}
