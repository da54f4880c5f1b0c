//! `double_metaphone(name)`: the primary Double Metaphone key of a name, so that names that
//! sound alike (Smith / Smyth, Katherine / Kathryn) share a blocking key.

use std::sync::LazyLock;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;
use rphonetic::DoubleMetaphone;

use super::normalize_name::normalize_name;
use crate::functions::util::{map_strings, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Primary Double Metaphone key (up to 4 characters) of a name, after \
            normalize_name: names that sound alike get the same key (Smith and Smyth -> SM0). \
            Multi-word names are encoded word by word and joined with a space. Letters outside \
            the Latin alphabet carry no sound in this algorithm; NULL when no key is left.",
        syntax_example = "double_metaphone(name)",
        sql_example = r#"```sql
> SELECT double_metaphone('Smith') AS a, double_metaphone('Smyth') AS b;
+-----+-----+
| a   | b   |
+-----+-----+
| SM0 | SM0 |
+-----+-----+
```"#,
        argument(name = "name", description = "A name.")
    )]
    DoubleMetaphoneFunc,
    "double_metaphone",
    strings_signature(1),
    DataType::Utf8,
    double_metaphone_kernel
);

static ENCODER: LazyLock<DoubleMetaphone> = LazyLock::new(|| DoubleMetaphone::new(Some(4)));

/// Encode one name into `out`.
pub fn double_metaphone(text: &str, out: &mut String) -> bool {
    let mut normalized = String::new();
    if !normalize_name(text, &mut normalized) {
        return false;
    }
    for word in normalized.split(' ') {
        // The encoder works on Latin letters; others are skipped rather than mis-encoded.
        let latin: String = word.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        if latin.is_empty() {
            continue;
        }
        let key = ENCODER.double_metaphone(&latin).primary();
        if key.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&key);
    }
    !out.is_empty()
}

/// The kernel.
pub fn double_metaphone_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_strings(&args[0], "double_metaphone", double_metaphone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Option<String> {
        let mut out = String::new();
        double_metaphone(s, &mut out).then_some(out)
    }

    #[test]
    fn sound_alike_names_share_keys() {
        assert_eq!(k("Smith"), k("Smyth"));
        assert_eq!(k("Katherine"), k("Kathryn"));
        assert_ne!(k("Smith"), k("Jones"));
        assert_eq!(k("🐶"), None);
        assert!(k(&"a".repeat(10_000)).is_some());
    }
}
