//! Identity functions: standardisation (e-mail, phone, name, nickname, phonetic key, postal
//! code) and similarity (Jaro, Jaro-Winkler, Damerau-Levenshtein, normalised Levenshtein,
//! Jaccard and token-set on words, days between dates) for matching records of one person,
//! clustering of matched pairs (connected components, stable ids) and survivorship for the
//! golden record (most recent, most frequent, source priority).

pub mod best_row_groups;
pub mod connected_components;
pub mod damerau_levenshtein;
pub mod date_diff_days;
pub mod double_metaphone;
pub mod jaccard_similarity;
pub mod jaro;
pub mod jaro_winkler;
pub mod levenshtein_similarity;
pub mod match_score;
pub mod match_tables;
pub mod most_frequent;
pub mod most_frequent_groups;
pub mod most_recent;
pub mod nickname_canonical;
pub mod normalize_email;
pub mod normalize_name;
pub mod normalize_phone;
pub mod normalize_postcode;
pub mod pair_count;
pub mod source_priority;
pub mod stable_ids;
pub mod survivorship;
pub mod token_set_similarity;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

/// The identity family's scalar functions.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(normalize_email::NormalizeEmailFunc::default()),
        ScalarUDF::new_from_impl(normalize_phone::NormalizePhoneFunc::default()),
        ScalarUDF::new_from_impl(normalize_name::NormalizeNameFunc::default()),
        ScalarUDF::new_from_impl(nickname_canonical::NicknameCanonicalFunc::default()),
        ScalarUDF::new_from_impl(double_metaphone::DoubleMetaphoneFunc::default()),
        ScalarUDF::new_from_impl(normalize_postcode::NormalizePostcodeFunc::default()),
        ScalarUDF::new_from_impl(jaro::JaroFunc::default()),
        ScalarUDF::new_from_impl(jaro_winkler::JaroWinklerFunc::default()),
        ScalarUDF::new_from_impl(damerau_levenshtein::DamerauLevenshteinFunc::default()),
        ScalarUDF::new_from_impl(levenshtein_similarity::LevenshteinSimilarityFunc::default()),
        ScalarUDF::new_from_impl(jaccard_similarity::JaccardSimilarityFunc::default()),
        ScalarUDF::new_from_impl(token_set_similarity::TokenSetSimilarityFunc::default()),
        ScalarUDF::new_from_impl(date_diff_days::DateDiffDaysFunc::default()),
    ]
}

/// The identity family's aggregate functions.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::new_from_impl(connected_components::ConnectedComponentsFunc::default()),
        AggregateUDF::new_from_impl(pair_count::PairCountFunc::default()),
        AggregateUDF::new_from_impl(stable_ids::StableIdsFunc::default()),
        AggregateUDF::new_from_impl(most_recent::MostRecentFunc::default()),
        AggregateUDF::new_from_impl(most_frequent::MostFrequentFunc::default()),
        AggregateUDF::new_from_impl(source_priority::SourcePriorityFunc::default()),
    ]
}
