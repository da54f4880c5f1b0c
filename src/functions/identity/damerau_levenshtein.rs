//! `damerau_levenshtein(a, b)`: edit distance counting a swap of two adjacent characters as
//! one edit (the unrestricted Damerau-Levenshtein distance).

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{map_string_pairs, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Damerau-Levenshtein distance: the fewest insertions, deletions, \
            substitutions and transpositions of adjacent characters that turn one string into \
            the other (a typed 'Jonh' is one edit from 'John'). NULL if either side is NULL.",
        syntax_example = "damerau_levenshtein(a, b)",
        sql_example = r#"```sql
> SELECT damerau_levenshtein('Jonh', 'John') AS d;
+---+
| d |
+---+
| 1 |
+---+
```"#,
        argument(name = "a", description = "First string."),
        argument(name = "b", description = "Second string.")
    )]
    DamerauLevenshteinFunc,
    "damerau_levenshtein",
    strings_signature(2),
    DataType::Int64,
    damerau_levenshtein_kernel
);

/// The kernel: distance per row.
pub fn damerau_levenshtein_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_string_pairs::<Int64Type>(&args[0], &args[1], "damerau_levenshtein", |a, b| {
        Some(rapidfuzz::distance::damerau_levenshtein::distance(a.chars(), b.chars()) as i64)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{AsArray, StringViewArray};

    use super::*;

    #[test]
    fn transposition_is_one_edit() {
        let a: ArrayRef = Arc::new(StringViewArray::from(vec!["Jonh", "ca", ""]));
        let b: ArrayRef = Arc::new(StringViewArray::from(vec!["John", "abc", "abc"]));
        let out = damerau_levenshtein_kernel(&[a, b]).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(out.values().to_vec(), vec![1, 2, 3]);
    }
}
