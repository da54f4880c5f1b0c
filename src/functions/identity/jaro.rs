//! `jaro(a, b)`: the Jaro similarity of two strings.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{map_string_pairs, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Jaro similarity of two strings, from 0 to 1: matching characters within \
            half the longer length, penalised for transpositions. NULL if either side is NULL; \
            two empty strings are equal (1.0).",
        syntax_example = "jaro(a, b)",
        sql_example = r#"```sql
> SELECT round(jaro('dwayne', 'duane'), 4) AS s;
+--------+
| s      |
+--------+
| 0.8222 |
+--------+
```"#,
        argument(name = "a", description = "First string."),
        argument(name = "b", description = "Second string.")
    )]
    JaroFunc,
    "jaro",
    strings_signature(2),
    DataType::Float64,
    jaro_kernel
);

/// The kernel: Jaro similarity per row.
pub fn jaro_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_string_pairs::<Float64Type>(&args[0], &args[1], "jaro", |a, b| {
        Some(rapidfuzz::distance::jaro::similarity(a.chars(), b.chars()))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{AsArray, LargeStringArray};

    use super::*;

    #[test]
    fn known_value_on_large_strings() {
        let a: ArrayRef = Arc::new(LargeStringArray::from(vec!["dwayne", "abc"]));
        let b: ArrayRef = Arc::new(LargeStringArray::from(vec!["duane", "xyz"]));
        let out = jaro_kernel(&[a, b]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert!((out.value(0) - 0.822_222).abs() < 1e-5);
        assert_eq!(out.value(1), 0.0);
    }
}
