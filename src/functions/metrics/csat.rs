//! `csat(score)`: customer satisfaction (CSAT) of survey answers, as an aggregate.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::score_share::{Scale, ScoreAccumulator, ScoreGroups};

const SCALE: Scale = Scale {
    function: "csat",
    range: (1.0, 5.0),
    good_from: 4.0,
    bad_to: 2.0,
    figure: |good, _, total| 100.0 * good as f64 / total as f64,
};

#[user_doc(
    doc_section(label = "Health Functions"),
    description = "Customer satisfaction of 1-5 answers: the percentage of satisfied answers (4 or 5), from 0 to 100. NULL answers are ignored; NULL when there are none. A score outside 1-5 is an error naming it.",
    syntax_example = "csat(score)",
    sql_example = r#"```sql
> SELECT csat(score) AS csat FROM (VALUES (5), (4), (2), (1)) AS t(score);
+------+
| csat |
+------+
| 50.0 |
+------+
```"#,
    argument(name = "score", description = "An answer on the 1-5 scale.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CsatFunc {
    signature: Signature,
}

impl Default for CsatFunc {
    fn default() -> Self {
        Self {
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for CsatFunc {
    fn name(&self) -> &str {
        "csat"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(SCALE.state_fields(args.name))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ScoreAccumulator::new(SCALE)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ScoreGroups::new(SCALE)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
