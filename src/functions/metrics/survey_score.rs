//! `nps(score)` and `csat(score)`: the Net Promoter Score and customer satisfaction of survey
//! answers, as aggregates over the counting accumulator of [`super::score_share`].

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::score_share::{Scale, ScoreAccumulator, ScoreGroups};

#[user_doc(
    doc_section(label = "Health Functions"),
    description = "Net Promoter Score of 0-10 answers: the percentage of promoters (9-10) minus the percentage of detractors (0-6), from -100 to 100. NULL answers are ignored; NULL when there are none. A score outside 0-10 is an error naming it.",
    syntax_example = "nps(score)",
    sql_example = r#"```sql
> SELECT nps(score) AS nps FROM (VALUES (10), (9), (8), (3), (NULL)) AS t(score);
+------+
| nps  |
+------+
| 25.0 |
+------+
```"#,
    argument(name = "score", description = "An answer on the 0-10 scale.")
)]
struct NpsDoc;

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
struct CsatDoc;

/// Which survey figure an aggregate reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Survey {
    /// `nps`: promoters (9-10) minus detractors (0-6) of 0-10 answers, in percent.
    Nps,
    /// `csat`: satisfied answers (4-5) of 1-5 answers, in percent.
    Csat,
}

impl Survey {
    /// Its scale: range, good and bad answers, and the figure.
    pub fn scale(self) -> Scale {
        match self {
            Self::Nps => Scale {
                function: "nps",
                range: (0.0, 10.0),
                good_from: 9.0,
                bad_to: 6.0,
                figure: |good, bad, total| 100.0 * (good as f64 - bad as f64) / total as f64,
            },
            Self::Csat => Scale {
                function: "csat",
                range: (1.0, 5.0),
                good_from: 4.0,
                bad_to: 2.0,
                figure: |good, _, total| 100.0 * good as f64 / total as f64,
            },
        }
    }
}

/// `nps` or `csat`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SurveyScoreFunc {
    survey: Survey,
    signature: Signature,
}

impl SurveyScoreFunc {
    /// The aggregate reporting `survey`'s figure.
    pub fn new(survey: Survey) -> Self {
        Self {
            survey,
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for SurveyScoreFunc {
    fn name(&self) -> &str {
        self.survey.scale().function
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(self.survey.scale().state_fields(args.name))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ScoreAccumulator::new(self.survey.scale())))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ScoreGroups::new(self.survey.scale())))
    }

    fn documentation(&self) -> Option<&Documentation> {
        match self.survey {
            Survey::Nps => NpsDoc.doc(),
            Survey::Csat => CsatDoc.doc(),
        }
    }
}
