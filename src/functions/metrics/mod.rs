//! Health functions: survey scores (`nps`, `csat`), RFM segment names (`rfm_segment`) and
//! the customer distress index (`distress_index`).

pub mod distress_index;
pub mod kmeans_segments;
pub mod rfm_segment;
pub mod score_share;
pub mod survey_score;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

/// The health family's scalar functions.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(rfm_segment::RfmSegmentFunc::default()),
        ScalarUDF::new_from_impl(distress_index::DistressIndexFunc::default()),
    ]
}

/// The health family's aggregate functions.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::new_from_impl(survey_score::SurveyScoreFunc::new(
            survey_score::Survey::Nps,
        )),
        AggregateUDF::new_from_impl(survey_score::SurveyScoreFunc::new(
            survey_score::Survey::Csat,
        )),
    ]
}
