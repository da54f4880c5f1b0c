//! `most_recent(value, at)`: the survivorship rule "most recent non-null": the value whose
//! `at` is latest, for a golden-record field that changes over time (phone, address).

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::survivorship::{self, BestRowAccumulator, Better, state_fields};

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Survivorship: the most recent non-NULL value, the one whose `at` is latest. \
        NULL values are ignored; a value with a NULL `at` only wins when no value has a time; \
        values with the same `at` go to the greatest value, so the answer never depends on \
        row order. NULL when every value is NULL.",
    syntax_example = "most_recent(value, at)",
    sql_example = r#"```sql
> SELECT most_recent(phone, updated) AS phone
  FROM (VALUES ('+4420', DATE '2024-01-05'), ('+4471', DATE '2025-03-01'),
               (NULL, DATE '2026-01-01')) AS t(phone, updated);
+-------+
| phone |
+-------+
| +4471 |
+-------+
```"#,
    argument(name = "value", description = "The field, any type."),
    argument(
        name = "at",
        description = "When the value was recorded (any orderable type: timestamp, date, number)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MostRecentFunc {
    signature: Signature,
}

impl Default for MostRecentFunc {
    fn default() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for MostRecentFunc {
    fn name(&self) -> &str {
        "most_recent"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args[0].clone())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(BestRowAccumulator::new(
            "most_recent",
            &args,
            &[Better::Larger],
        )?))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(survivorship::groups(
            "most_recent",
            &args,
            &[Better::Larger],
        )?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
