//! `sequence_match(pattern, timestamp, cond1, ...)` and `sequence_count(...)`: ClickHouse's
//! sequenceMatch and sequenceCount over a group's events, with the pattern language of
//! [`super::pattern`]. One aggregate answers both: whether the pattern occurs, or how many
//! times it occurs without overlap.

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
struct SequenceMatchDoc;

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
struct SequenceCountDoc;

/// What a sequence aggregate answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// Whether the pattern occurs (`sequence_match`, a boolean).
    Whether,
    /// How many times it occurs without overlap (`sequence_count`, an integer).
    HowMany,
}

/// `sequence_match` or `sequence_count`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SequenceFunc {
    answer: Answer,
    signature: Signature,
}

impl SequenceFunc {
    /// The function giving `answer`.
    pub fn new(answer: Answer) -> Self {
        Self {
            answer,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }

    fn sql_name(&self) -> &'static str {
        match self.answer {
            Answer::Whether => "sequence_match",
            Answer::HowMany => "sequence_count",
        }
    }

    fn counts(&self) -> bool {
        self.answer == Answer::HowMany
    }

    fn sequence(&self, args: &AccumulatorArgs) -> Result<Arc<Sequence>> {
        Sequence::from_args(self.sql_name(), args, self.counts()).map(Arc::new)
    }
}

impl AggregateUDFImpl for SequenceFunc {
    fn name(&self) -> &str {
        self.sql_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Sequence::check(self.name(), args)?;
        Ok(match self.answer {
            Answer::Whether => DataType::Boolean,
            Answer::HowMany => DataType::Int64,
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(EventsAccumulator::new(self.sequence(&args)?, 1)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EventGroups::new(self.sequence(&args)?, 1)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        match self.answer {
            Answer::Whether => SequenceMatchDoc.doc(),
            Answer::HowMany => SequenceCountDoc.doc(),
        }
    }
}
