//! `sequence_count(pattern, timestamp, cond1, ...)`: ClickHouse's sequenceCount over a
//! group's events, with the pattern language of [`super::pattern`].

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::events::{EventGroups, EventsAccumulator, state_fields};
use super::pattern::Sequence;

#[user_doc(
    doc_section(label = "Journey Functions"),
    description = r#"How many times the group's events contain the pattern, without overlap (ClickHouse's sequenceCount): after a match the search resumes after its last event. Same events and pattern language as sequence_match. 0 when a condition the pattern names never holds."#,
    syntax_example = "sequence_count(pattern, timestamp, cond1, cond2, ...)",
    sql_example = r#"```sql
> SELECT user_id, sequence_count('(?1)(?2)', at, event = 'cart', event = 'buy') AS purchases
  FROM (VALUES (1, TIMESTAMP '2025-01-01 10:00:00', 'cart'), (1, TIMESTAMP '2025-01-01 10:30:00', 'buy'),
               (1, TIMESTAMP '2025-01-02 10:00:00', 'cart'), (1, TIMESTAMP '2025-01-02 10:05:00', 'buy'))
       AS t(user_id, at, event)
  GROUP BY user_id;
+---------+-----------+
| user_id | purchases |
+---------+-----------+
| 1       | 2         |
+---------+-----------+
```"#,
    argument(
        name = "pattern",
        description = "A constant pattern string, such as '(?1).*(?2)'."
    ),
    argument(
        name = "timestamp",
        description = "The event time: a timestamp, a date or integer seconds."
    ),
    argument(
        name = "cond1, cond2, ...",
        description = "Boolean conditions, referred to as (?1), (?2), ... in the pattern."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SequenceCountFunc {
    signature: Signature,
}

impl Default for SequenceCountFunc {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for SequenceCountFunc {
    fn name(&self) -> &str {
        "sequence_count"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Sequence::check("sequence_count", args)?;
        Ok(DataType::Int64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let sequence = Sequence::from_args("sequence_count", &args, true)?;
        Ok(Box::new(EventsAccumulator::new(Arc::new(sequence), 1)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let sequence = Sequence::from_args("sequence_count", &args, true)?;
        Ok(Box::new(EventGroups::new(Arc::new(sequence), 1)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
