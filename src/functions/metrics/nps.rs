//! `nps(score)`: Net Promoter Score of survey answers, as an aggregate.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::score_share::{Scale, ScoreAccumulator, ScoreGroups};

const SCALE: Scale = Scale {
    function: "nps",
    range: (0.0, 10.0),
    good_from: 9.0,
    bad_to: 6.0,
    figure: |good, bad, total| 100.0 * (good as f64 - bad as f64) / total as f64,
};

#[user_doc(
    doc_section(label = "Health Functions"),
    description = "Net Promoter Score of 0-10 answers: the percentage of promoters (9-10) minus the percentage of detractors (0-6), from -100 to 100. NULL answers are ignored; NULL when there are none. A score outside 0-10 is an error naming it.",
    syntax_example = "nps(score)",
    sql_example = r#"```sql
> SELECT nps(score) AS nps FROM (VALUES (10), (9), (8), (3), (NULL)) AS t(score);
+-------+
| nps   |
+-------+
| 25.0  |
+-------+
```"#,
    argument(name = "score", description = "An answer on the 0-10 scale.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NpsFunc {
    signature: Signature,
}

impl Default for NpsFunc {
    fn default() -> Self {
        Self {
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for NpsFunc {
    fn name(&self) -> &str {
        "nps"
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
