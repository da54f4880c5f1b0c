//! `normalize_name(name)`: a comparable form of a person's name: accents folded, case and
//! punctuation removed, honorifics and suffixes dropped, spaces collapsed.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::functions::util::{map_strings, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Normalises a name for comparison: Unicode compatibility decomposition \
            with accents removed (José -> jose, Müller -> muller, ß -> ss), lowercase, \
            apostrophes dropped (O'Brien -> obrien), other punctuation, symbols, emoji and \
            control characters turned into spaces, honorifics and suffixes removed (mr, mrs, \
            ms, miss, mx, dr, prof, sir, rev, jr, sr, ii, iii, iv, phd, md), spaces collapsed. \
            Letters of other scripts are kept. Returns NULL when nothing is left.",
        syntax_example = "normalize_name(name)",
        sql_example = r#"```sql
> SELECT normalize_name('  Dr. José  O''Brien-Smith, Jr. ') AS n;
+-------------------+
| n                 |
+-------------------+
| jose obrien smith |
+-------------------+
```"#,
        argument(name = "name", description = "A name as typed.")
    )]
    NormalizeNameFunc,
    "normalize_name",
    strings_signature(1),
    DataType::Utf8,
    normalize_name_kernel
);

const DROPPED_WORDS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "rev", "jr", "sr", "ii", "iii", "iv",
    "phd", "md",
];

/// Normalise one name into `out`; `false` when nothing is left.
pub fn normalize_name(text: &str, out: &mut String) -> bool {
    let mut folded = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '\u{2019}' | '`') {
            continue;
        }
        match c {
            'ß' => folded.push_str("ss"),
            'æ' | 'Æ' => folded.push_str("ae"),
            'ø' | 'Ø' => folded.push('o'),
            'ł' | 'Ł' => folded.push('l'),
            'đ' | 'Đ' => folded.push('d'),
            c if c.is_alphanumeric() => folded.extend(c.to_lowercase()),
            _ => folded.push(' '),
        }
    }
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        if DROPPED_WORDS.contains(&word) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    !out.is_empty()
}

/// The kernel.
pub fn normalize_name_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_strings(&args[0], "normalize_name", normalize_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        let mut out = String::new();
        normalize_name(s, &mut out).then_some(out)
    }

    #[test]
    fn folds_and_cleans() {
        assert_eq!(
            n("  Dr. José  O'Brien-Smith, Jr. ").as_deref(),
            Some("jose obrien smith")
        );
        assert_eq!(n("MÜLLER").as_deref(), Some("muller"));
        assert_eq!(n("Strauß").as_deref(), Some("strauss"));
        assert_eq!(n("Zoë 🐶").as_deref(), Some("zoe"));
        assert_eq!(n("محمد").as_deref(), Some("محمد"));
        assert_eq!(n(" \t\u{0} "), None);
        assert_eq!(n("Mr."), None);
    }
}
