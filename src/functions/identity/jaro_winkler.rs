//! `jaro_winkler(a, b)`: Jaro similarity boosted for a common prefix (up to 4 characters,
//! scaling factor 0.1), the standard comparison for names in record linkage.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{map_string_pairs, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Jaro-Winkler similarity of two strings, from 0 (nothing in common) to 1 \
            (equal): the Jaro similarity raised for a shared prefix of up to 4 characters with \
            scaling factor 0.1. Compares characters (Unicode scalar values) as they are; \
            normalise first with normalize_name. NULL if either side is NULL; two empty \
            strings are equal (1.0).",
        syntax_example = "jaro_winkler(a, b)",
        sql_example = r#"```sql
> SELECT round(jaro_winkler('martha', 'marhta'), 4) AS s;
+--------+
| s      |
+--------+
| 0.9611 |
+--------+
```"#,
        argument(name = "a", description = "First string."),
        argument(name = "b", description = "Second string.")
    )]
    JaroWinklerFunc,
    "jaro_winkler",
    strings_signature(2),
    DataType::Float64,
    jaro_winkler_kernel
);

/// The kernel: Jaro-Winkler similarity per row.
pub fn jaro_winkler_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_string_pairs::<Float64Type>(&args[0], &args[1], "jaro_winkler", |a, b| {
        Some(rapidfuzz::distance::jaro_winkler::similarity(
            a.chars(),
            b.chars(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, AsArray, StringArray};

    use super::*;

    #[test]
    fn known_values_and_nulls() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("martha"), Some(""), None]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("marhta"), Some(""), Some("x")]));
        let out = jaro_winkler_kernel(&[a, b]).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert!((out.value(0) - 0.961_111).abs() < 1e-5);
        assert_eq!(out.value(1), 1.0);
        assert!(out.is_null(2));
    }
}
