//! `normalize_postcode(postcode [, region])`: one spelling per postal code (ZIP+4 cut to the
//! ZIP, case and spacing of UK and Canadian codes fixed, leading zeros restored).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::functions::util::{string_udf, text_with_region_signature};
use crate::values::Strings;

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Normalises a postal code for region 'US' (default): the first five digits \
            of a ZIP or ZIP+4, with leading zeros restored for codes that lost them in a \
            spreadsheet ('2138' -> '02138'); 'GB' and 'CA': uppercase with one space before the \
            last three characters ('sw1a1aa' -> 'SW1A 1AA'); any other region: uppercase letters \
            and digits only. NULL when no letter or digit is left, or a US code has more than 9 \
            or fewer than 3 digits. Integer columns are accepted.",
        syntax_example = "normalize_postcode(postcode [, region])",
        sql_example = r#"```sql
    > SELECT normalize_postcode('94110-1234') AS us, normalize_postcode('sw1a1aa', 'GB') AS gb;
    +-------+----------+
    | us    | gb       |
    +-------+----------+
    | 94110 | SW1A 1AA |
    +-------+----------+
    ```"#,
        argument(name = "postcode", description = "The postal code as typed."),
        argument(name = "region", description = "ISO 3166 region code; default 'US'.")
    )]
    NormalizePostcodeFunc,
    "normalize_postcode",
    text_with_region_signature(),
    DataType::Utf8,
    normalize_postcode_kernel
);

/// Normalise one postal code for a region.
pub fn normalize_postcode(text: &str, region: &str) -> Option<String> {
    let region = region.trim().to_ascii_uppercase();
    if region == "US" {
        let digits: String = text
            .split('-')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        return match digits.len() {
            3..=4 => Some(format!("{digits:0>5}")),
            5..=9 => Some(digits[..5].to_string()),
            _ => None,
        };
    }
    let compact: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.is_empty() {
        return None;
    }
    if matches!(region.as_str(), "GB" | "UK" | "CA") && compact.len() > 3 {
        let (outward, inward) = compact.split_at(compact.len() - 3);
        return Some(format!("{outward} {inward}"));
    }
    Some(compact)
}

/// The kernel.
pub fn normalize_postcode_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    let codes = Strings::try_new(&args[0], "normalize_postcode")?;
    let regions = args
        .get(1)
        .map(|a| Strings::try_new(a, "normalize_postcode"))
        .transpose()?;
    let mut builder = StringBuilder::with_capacity(args[0].len(), args[0].len() * 6);
    for i in 0..args[0].len() {
        let region = match &regions {
            Some(r) => r.get(i),
            None => Some("US"),
        };
        match (codes.get(i), region) {
            (Some(code), Some(region)) => builder.append_option(normalize_postcode(code, region)),
            _ => builder.append_null(),
        }
    }
    Ok(Arc::new(builder.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert_eq!(
            normalize_postcode("94110-1234", "US").as_deref(),
            Some("94110")
        );
        assert_eq!(normalize_postcode("2138", "us").as_deref(), Some("02138"));
        assert_eq!(normalize_postcode("12", "US"), None);
        assert_eq!(
            normalize_postcode("sw1a1aa", "GB").as_deref(),
            Some("SW1A 1AA")
        );
        assert_eq!(normalize_postcode("10 115", "DE").as_deref(), Some("10115"));
        assert_eq!(normalize_postcode("--", "DE"), None);
    }
}
