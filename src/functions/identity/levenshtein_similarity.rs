//! `levenshtein_similarity(a, b)`: 1 - Levenshtein distance / length of the longer string.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{map_string_pairs, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Normalised Levenshtein similarity from 0 to 1: one minus the edit \
            distance divided by the length of the longer string (in characters). NULL if \
            either side is NULL; two empty strings are equal (1.0).",
        syntax_example = "levenshtein_similarity(a, b)",
        sql_example = r#"```sql
> SELECT levenshtein_similarity('kitten', 'sitting') AS s;
+--------------------+
| s                  |
+--------------------+
| 0.5714285714285714 |
+--------------------+
```"#,
        argument(name = "a", description = "First string."),
        argument(name = "b", description = "Second string.")
    )]
    LevenshteinSimilarityFunc,
    "levenshtein_similarity",
    strings_signature(2),
    DataType::Float64,
    levenshtein_similarity_kernel
);

/// The kernel: normalised similarity per row.
pub fn levenshtein_similarity_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_string_pairs::<Float64Type>(&args[0], &args[1], "levenshtein_similarity", |a, b| {
        Some(rapidfuzz::distance::levenshtein::normalized_similarity(
            a.chars(),
            b.chars(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{AsArray, StringArray};

    use super::*;

    #[test]
    fn kitten_sitting() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["kitten", ""]));
        let b: ArrayRef = Arc::new(StringArray::from(vec!["sitting", ""]));
        let out = levenshtein_similarity_kernel(&[a, b]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert!((out.value(0) - 4.0 / 7.0).abs() < 1e-12);
        assert_eq!(out.value(1), 1.0);
    }
}
