//! `nickname_canonical(first_name)`: the full first name behind a nickname (Bob -> robert),
//! from a table shipped with c360 (`nicknames.csv`).

use std::collections::HashMap;
use std::sync::LazyLock;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use super::normalize_name::normalize_name;
use crate::functions::util::{map_strings, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Canonical first name: the name is normalised as normalize_name does, and \
            a known nickname is replaced by its full name from the shipped table (Bob, Rob, \
            Bobby -> robert; Liz, Beth -> elizabeth; Kate, Cathy, Catherine -> katherine). A \
            nickname shared by two names (Pat, Chris, Alex, Sam) maps to the first one in the \
            table. Other names come back normalised. NULL when nothing is left.",
        syntax_example = "nickname_canonical(first_name)",
        sql_example = r#"```sql
> SELECT nickname_canonical('Bobby') AS a, nickname_canonical('Katie') AS b;
+--------+-----------+
| a      | b         |
+--------+-----------+
| robert | katherine |
+--------+-----------+
```"#,
        argument(name = "first_name", description = "A first name or nickname.")
    )]
    NicknameCanonicalFunc,
    "nickname_canonical",
    strings_signature(1),
    DataType::Utf8,
    nickname_canonical_kernel
);

static NICKNAMES: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for line in include_str!("nicknames.csv").lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some((nick, full)) = line.split_once(',') {
            map.entry(nick.trim()).or_insert(full.trim());
        }
    }
    map
});

/// Canonical form of one first name into `out`.
pub fn nickname_canonical(text: &str, out: &mut String) -> bool {
    let mut normalized = String::new();
    if !normalize_name(text, &mut normalized) {
        return false;
    }
    out.push_str(
        NICKNAMES
            .get(normalized.as_str())
            .copied()
            .unwrap_or(&normalized),
    );
    true
}

/// The kernel.
pub fn nickname_canonical_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_strings(&args[0], "nickname_canonical", nickname_canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        let mut out = String::new();
        nickname_canonical(s, &mut out).then_some(out)
    }

    #[test]
    fn nicknames_and_plain_names() {
        assert_eq!(n("Bob").as_deref(), Some("robert"));
        assert_eq!(n(" BOBBY ").as_deref(), Some("robert"));
        assert_eq!(n("Robert").as_deref(), Some("robert"));
        assert_eq!(n("Wojciech").as_deref(), Some("wojciech"));
        assert_eq!(n("  "), None);
        assert!(NICKNAMES.len() > 100);
    }
}
