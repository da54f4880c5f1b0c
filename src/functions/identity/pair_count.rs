//! `pair_count(key)`: how many candidate pairs a blocking rule on `key` would produce
//! (the sum of n(n-1)/2 over the groups of equal keys), and the largest block, before the
//! self-join is run.

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, FieldRef, UInt64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, Signature};
use datafusion_macros::user_doc;

use crate::functions::util::{
    for_each_state_row, list_state, list_state_fields, strings_signature,
};
use crate::values::Strings;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Number of record pairs a blocking rule that joins records with equal key \
        would produce: the sum over the groups of equal, non-NULL keys of n(n-1)/2. Run it on \
        each candidate rule before joining to see which rule explodes (a key shared by \
        100,000 records yields about 5 billion pairs). NULL keys never pair.",
    syntax_example = "pair_count(key)",
    sql_example = r#"```sql
> SELECT pair_count(k) AS pairs
  FROM (VALUES ('a'), ('a'), ('a'), ('b'), (NULL)) AS t(k);
+-------+
| pairs |
+-------+
| 3     |
+-------+
```"#,
    argument(
        name = "key",
        description = "The blocking key (cast other types to text)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PairCountFunc {
    signature: Signature,
}

impl Default for PairCountFunc {
    fn default() -> Self {
        Self {
            signature: strings_signature(1),
        }
    }
}

impl AggregateUDFImpl for PairCountFunc {
    fn name(&self) -> &str {
        "pair_count"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(list_state_fields(
            args.name,
            &[("keys", DataType::Utf8), ("counts", DataType::UInt64)],
        ))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<PairCountAccumulator>::default())
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Counts per key; the state is the (key, count) list so partitions merge by adding.
#[derive(Debug, Default)]
pub struct PairCountAccumulator {
    counts: HashMap<String, u64>,
    bytes: usize,
}

impl PairCountAccumulator {
    fn add(&mut self, key: &str, n: u64) {
        match self.counts.get_mut(key) {
            Some(count) => *count += n,
            None => {
                self.bytes += key.len();
                self.counts.insert(key.to_string(), n);
            }
        }
    }

    /// Pairs the keys seen so far would produce (saturating at u64::MAX).
    pub fn pairs(&self) -> u64 {
        self.counts
            .values()
            .map(|&n| n.saturating_mul(n.saturating_sub(1)) / 2)
            .fold(0u64, u64::saturating_add)
    }
}

impl Accumulator for PairCountAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [keys] = values else {
            return exec_err!("pair_count takes one argument");
        };
        let strings = Strings::try_new(keys, "pair_count")?;
        for i in 0..keys.len() {
            if let Some(key) = strings.get(i) {
                self.add(key, 1);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(list_state(vec![
            Arc::new(StringArray::from_iter_values(self.counts.keys())),
            Arc::new(UInt64Array::from_iter_values(self.counts.values().copied())),
        ]))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for_each_state_row(states, "pair_count", |lists| {
            let [keys, counts] = lists else {
                return exec_err!("pair_count: expected two state columns");
            };
            let keys = Strings::try_new(keys, "pair_count")?;
            let counts = counts.as_primitive::<UInt64Type>();
            for i in 0..counts.len() {
                if let Some(key) = keys.get(i) {
                    self.add(key, counts.value(i));
                }
            }
            Ok(())
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::UInt64(Some(self.pairs())))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.bytes + self.counts.capacity() * (size_of::<String>() + 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_partitions_add_up() {
        let batch =
            |v: Vec<Option<&str>>| -> Vec<ArrayRef> { vec![Arc::new(StringArray::from(v))] };
        let mut left = PairCountAccumulator::default();
        left.update_batch(&batch(vec![Some("a"), Some("a"), None]))
            .unwrap();
        let mut right = PairCountAccumulator::default();
        right
            .update_batch(&batch(vec![Some("a"), Some("b"), Some("b")]))
            .unwrap();
        crate::functions::util::merge_partial(&mut left, &mut right);
        // a: 3 records -> 3 pairs; b: 2 records -> 1 pair.
        assert_eq!(left.pairs(), 4);
    }
}
