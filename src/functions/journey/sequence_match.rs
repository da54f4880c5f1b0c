//! `sequence_match(pattern, timestamp, cond1, ...)`: ClickHouse's sequenceMatch over a
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
    description = r#"Whether the group's events contain the pattern (ClickHouse's sequenceMatch). Events are the rows meeting at least one condition, sorted by time (ties: by the conditions met). Pattern: (?N) an event meeting condition N; . any one event; .* any number of events; (?t<=S), (?t<S), (?t>=S), (?t>S), (?t==S) the seconds between the event before and the event after (with > and >= later events are searched, with < and <= the next event must qualify). A match may start anywhere. False when a condition the pattern names never holds. A syntax error names its position. At most 32 conditions."#,
    syntax_example = "sequence_match(pattern, timestamp, cond1, cond2, ...)",
    sql_example = r#"```sql
> SELECT user_id, sequence_match('(?1)(?t<=3600)(?2)', at, event = 'cart', event = 'buy') AS bought
  FROM (VALUES (1, TIMESTAMP '2025-01-01 10:00:00', 'cart'), (1, TIMESTAMP '2025-01-01 10:30:00', 'buy'),
               (2, TIMESTAMP '2025-01-01 10:00:00', 'cart'), (2, TIMESTAMP '2025-01-02 10:00:00', 'buy'))
       AS t(user_id, at, event)
  GROUP BY user_id ORDER BY user_id;
+---------+--------+
| user_id | bought |
+---------+--------+
| 1       | true   |
| 2       | false  |
+---------+--------+
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
pub struct SequenceMatchFunc {
    signature: Signature,
}

impl Default for SequenceMatchFunc {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for SequenceMatchFunc {
    fn name(&self) -> &str {
        "sequence_match"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Sequence::check("sequence_match", args)?;
        Ok(DataType::Boolean)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let sequence = Sequence::from_args("sequence_match", &args, false)?;
        Ok(Box::new(EventsAccumulator::new(Arc::new(sequence), 1)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let sequence = Sequence::from_args("sequence_match", &args, false)?;
        Ok(Box::new(EventGroups::new(Arc::new(sequence), 1)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
