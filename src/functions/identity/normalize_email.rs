//! `normalize_email(email)`: one spelling per mailbox, so that addresses typed differently in
//! different systems compare equal.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{map_strings, string_udf, strings_signature};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Normalises an e-mail address: trims, lowercases, and applies the rules \
            of providers that deliver several spellings to one mailbox: Gmail ignores dots and \
            '+tags' in the local part (googlemail.com is gmail.com); Outlook/Hotmail/Live/MSN, \
            iCloud/me.com/mac.com, Proton and Fastmail ignore '+tags'. Other domains keep their \
            local part as typed (lowercased). Returns NULL when the text is not an address \
            (no single '@', an empty side, no dot in the domain, spaces or control characters \
            inside).",
        syntax_example = "normalize_email(email)",
        sql_example = r#"```sql
> SELECT normalize_email(' John.Smith+shop@GoogleMail.com ') AS e;
+---------------------+
| e                   |
+---------------------+
| johnsmith@gmail.com |
+---------------------+
```"#,
        argument(name = "email", description = "The address as typed.")
    )]
    NormalizeEmailFunc,
    "normalize_email",
    strings_signature(1),
    DataType::Utf8,
    normalize_email_kernel
);

/// Domains whose mailboxes ignore a `+tag` suffix of the local part.
const PLUS_TAG_DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "fastmail.com",
];

/// Normalise one address into `out`; `false` when it is not an address.
pub fn normalize_email(text: &str, out: &mut String) -> bool {
    let trimmed = text.trim();
    let Some((local, domain)) = trimmed.split_once('@') else {
        return false;
    };
    let bad = |s: &str| {
        s.is_empty()
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
    };
    if bad(local)
        || bad(domain)
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return false;
    }
    let mut domain = domain.to_lowercase();
    if domain == "googlemail.com" {
        domain = "gmail.com".to_string();
    }
    let mut local = local.to_lowercase();
    if PLUS_TAG_DOMAINS.contains(&domain.as_str())
        && let Some(plus) = local.find('+')
    {
        local.truncate(plus);
    }
    if domain == "gmail.com" {
        local.retain(|c| c != '.');
    }
    if local.is_empty() {
        return false;
    }
    out.push_str(&local);
    out.push('@');
    out.push_str(&domain);
    true
}

/// The kernel.
pub fn normalize_email_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    map_strings(&args[0], "normalize_email", normalize_email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        let mut out = String::new();
        normalize_email(s, &mut out).then_some(out)
    }

    #[test]
    fn provider_rules() {
        assert_eq!(
            n(" John.Smith+shop@GoogleMail.com ").as_deref(),
            Some("johnsmith@gmail.com")
        );
        assert_eq!(n("a.b+x@outlook.com").as_deref(), Some("a.b@outlook.com"));
        assert_eq!(n("A.B+x@example.org").as_deref(), Some("a.b+x@example.org"));
        assert_eq!(n("no-at-sign"), None);
        assert_eq!(n("a@b@c.com"), None);
        assert_eq!(n("a b@c.com"), None);
        assert_eq!(n("@c.com"), None);
        assert_eq!(n("+tag@gmail.com"), None);
    }
}
