//! `jaccard_similarity(a, b)`: shared words over all words, for names whose words come in any
//! order ("Smith, John" and "John Smith").

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{map_string_pairs, string_udf, strings_signature};
use crate::text::jaccard;

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Jaccard similarity of the word sets of two strings: the number of \
            shared words divided by the number of distinct words in either. Words are runs of \
            letters and digits, compared case-insensitively. NULL if either side is NULL or \
            neither has a word.",
        syntax_example = "jaccard_similarity(a, b)",
        sql_example = r#"```sql
> SELECT jaccard_similarity('Smith, John', 'john smith') AS s;
+-----+
| s   |
+-----+
| 1.0 |
+-----+
```"#,
        argument(name = "a", description = "First string."),
        argument(name = "b", description = "Second string.")
    )]
    JaccardSimilarityFunc,
    "jaccard_similarity",
    strings_signature(2),
    DataType::Float64,
    jaccard_similarity_kernel
);

/// The kernel: Jaccard similarity of word sets per row.
pub fn jaccard_similarity_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_string_pairs::<Float64Type>(&args[0], &args[1], "jaccard_similarity", jaccard)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, AsArray, StringArray};

    use super::*;

    #[test]
    fn word_order_and_case_do_not_matter() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["Smith, John", "a b", "!!"]));
        let b: ArrayRef = Arc::new(StringArray::from(vec!["john smith", "b c", "??"]));
        let out = jaccard_similarity_kernel(&[a, b]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!(out.value(0), 1.0);
        assert!((out.value(1) - 1.0 / 3.0).abs() < 1e-12);
        assert!(out.is_null(2));
    }
}
