//! `source_priority(value, priority [, at])`: the survivorship rule "most trusted source":
//! the value from the source with the smallest priority number, the most recent among equals.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::survivorship::{self, BestRowAccumulator, Better, state_fields};

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Survivorship: the non-NULL value from the most trusted source, the one with \
        the smallest `priority` (1 before 2). Among values of equal priority the latest `at` \
        wins when it is given; remaining ties go to the greatest value, so the answer never \
        depends on row order. A NULL priority ranks below every number. NULL when every value \
        is NULL.",
    syntax_example = "source_priority(value, priority [, at])",
    sql_example = r#"```sql
> SELECT source_priority(name, CASE src WHEN 'crm' THEN 1 WHEN 'shop' THEN 2 ELSE 3 END) AS name
  FROM (VALUES ('shop', 'Bob Smith'), ('crm', 'Robert Smith'), ('helpdesk', 'bob')) AS t(src, name);
+--------------+
| name         |
+--------------+
| Robert Smith |
+--------------+
```"#,
    argument(name = "value", description = "The field, any type."),
    argument(
        name = "priority",
        description = "Rank of the record's source, smaller is more trusted (any orderable type)."
    ),
    argument(
        name = "at",
        description = "Optional: when the value was recorded; breaks ties between sources of equal priority."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SourcePriorityFunc {
    signature: Signature,
}

impl Default for SourcePriorityFunc {
    fn default() -> Self {
        Self {
            signature: Signature::one_of(
                vec![TypeSignature::Any(2), TypeSignature::Any(3)],
                Volatility::Immutable,
            ),
        }
    }
}

/// The ranking keys: the priority (smaller wins), then the time when given (later wins).
fn keys(args: &AccumulatorArgs) -> &'static [Better] {
    if args.expr_fields.len() == 3 {
        &[Better::Smaller, Better::Larger]
    } else {
        &[Better::Smaller]
    }
}

impl AggregateUDFImpl for SourcePriorityFunc {
    fn name(&self) -> &str {
        "source_priority"
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
            "source_priority",
            &args,
            keys(&args),
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
            "source_priority",
            &args,
            keys(&args),
        )?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
