//! `token_set_similarity(a, b)`: the token-set ratio of fuzzy matching, tolerant of extra
//! words ("Robert J Smith" against "Smith Robert") and of typos inside words.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{map_string_pairs, string_udf, strings_signature};
use crate::text::words;

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Token-set similarity from 0 to 1, as in fuzzy string matching: both \
            strings are split into lowercased words; the shared words, sorted, are compared \
            with each side's shared plus remaining words using the normalised Indel ratio, and \
            the best of the three comparisons is returned. It is 1.0 when one side's words are \
            a subset of the other's. NULL if either side is NULL or has no word.",
        syntax_example = "token_set_similarity(a, b)",
        sql_example = r#"```sql
> SELECT token_set_similarity('Robert J Smith', 'smith robert') AS s;
+-----+
| s   |
+-----+
| 1.0 |
+-----+
```"#,
        argument(name = "a", description = "First string."),
        argument(name = "b", description = "Second string.")
    )]
    TokenSetSimilarityFunc,
    "token_set_similarity",
    strings_signature(2),
    DataType::Float64,
    token_set_similarity_kernel
);

/// Token-set ratio of two strings, or `None` when one has no words.
pub fn token_set_ratio(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (words(a), words(b));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let join = |set: Vec<&String>| {
        set.into_iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let common = join(a.intersection(&b).collect());
    let only_a = join(a.difference(&b).collect());
    let only_b = join(b.difference(&a).collect());
    if !common.is_empty() && (only_a.is_empty() || only_b.is_empty()) {
        return Some(1.0);
    }
    let with = |rest: &str| {
        if common.is_empty() {
            rest.to_string()
        } else {
            format!("{common} {rest}")
        }
    };
    let (full_a, full_b) = (with(&only_a), with(&only_b));
    let ratio = |x: &str, y: &str| rapidfuzz::fuzz::ratio(x.chars(), y.chars());
    let mut best = ratio(&full_a, &full_b);
    if !common.is_empty() {
        best = best
            .max(ratio(&common, &full_a))
            .max(ratio(&common, &full_b));
    }
    Some(best)
}

/// The kernel: token-set similarity per row.
pub fn token_set_similarity_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_string_pairs::<Float64Type>(&args[0], &args[1], "token_set_similarity", token_set_ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_are_equal_and_typos_score_high() {
        assert_eq!(token_set_ratio("Robert J Smith", "smith robert"), Some(1.0));
        let typo = token_set_ratio("Katherine Smith", "Smith Katharine").unwrap();
        assert!(typo > 0.85 && typo < 1.0, "{typo}");
        assert_eq!(token_set_ratio("", "x"), None);
        assert!(token_set_ratio("abc", "xyz").unwrap() < 0.1);
    }
}
