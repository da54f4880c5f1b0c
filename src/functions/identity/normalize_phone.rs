//! `normalize_phone(phone [, default_region])`: a phone number in E.164 (`+14155550134`),
//! parsed and validated with the libphonenumber metadata (the `phonenumber` crate).

use std::str::FromStr;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion_macros::user_doc;
use phonenumber::country;

use crate::functions::util::{quoted_value, string_udf, text_with_region_signature};
use crate::values::Strings;

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Parses a phone number as typed ('(415) 555-2671', '415.555.2671', \
            '+1 415 555 2671', '1-800-FLOWERS') and returns it in E.164 form. Numbers without a \
            country code are read in default_region (an ISO 3166 code, 'US' when omitted). Returns \
            NULL when the text is not a valid number for its region (too short, unknown area code, \
            no digits). Integer columns are accepted too.",
        syntax_example = "normalize_phone(phone [, default_region])",
        sql_example = r#"```sql
    > SELECT normalize_phone('(415) 555-2671') AS us, normalize_phone('020 7946 0958', 'GB') AS gb;
    +--------------+---------------+
    | us           | gb            |
    +--------------+---------------+
    | +14155552671 | +442079460958 |
    +--------------+---------------+
    ```"#,
        argument(name = "phone", description = "The number as typed."),
        argument(
            name = "default_region",
            description = "ISO 3166 region for numbers without a country code; default 'US'."
        )
    )]
    NormalizePhoneFunc,
    "normalize_phone",
    text_with_region_signature(),
    DataType::Utf8,
    normalize_phone_kernel
);

/// Parse a region code, with an error that says what is expected.
fn region(code: &str) -> Result<country::Id> {
    country::Id::from_str(&code.trim().to_ascii_uppercase()).or_else(|_| {
        exec_err!(
            "normalize_phone: unknown region {}; expected an ISO 3166 code such as 'US', \
             'GB' or 'DE'",
            quoted_value(code)
        )
    })
}

/// E.164 form of one number, or `None`.
pub fn to_e164(text: &str, region: country::Id) -> Option<String> {
    if !text.chars().any(|c| c.is_ascii_digit()) || text.len() > 64 {
        return None;
    }
    let number = phonenumber::parse(Some(region), text.trim()).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The kernel: phone numbers with an optional region column.
pub fn normalize_phone_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    let phones = Strings::try_new(&args[0], "normalize_phone")?;
    let regions = args
        .get(1)
        .map(|a| Strings::try_new(a, "normalize_phone"))
        .transpose()?;
    let mut builder = StringBuilder::with_capacity(args[0].len(), args[0].len() * 13);
    let mut last: Option<(String, country::Id)> = None;
    for i in 0..args[0].len() {
        let code = match &regions {
            Some(r) => r.get(i),
            None => Some("US"),
        };
        let (Some(phone), Some(code)) = (phones.get(i), code) else {
            builder.append_null();
            continue;
        };
        let id = match &last {
            Some((c, id)) if c == code => *id,
            _ => {
                let id = region(code)?;
                last = Some((code.to_string(), id));
                id
            }
        };
        builder.append_option(to_e164(phone, id));
    }
    Ok(Arc::new(builder.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_of_one_number_agree() {
        let us = country::Id::US;
        let e164 = Some("+14155552671".to_string());
        for text in [
            "(415) 555-2671",
            "415.555.2671",
            "+1 415 555 2671",
            "14155552671",
            "415-555-2671",
        ] {
            assert_eq!(to_e164(text, us), e164, "{text}");
        }
        assert_eq!(to_e164("555-0134", us), None);
        assert_eq!(to_e164("call me", us), None);
        assert_eq!(
            to_e164("020 7946 0958", country::Id::GB).as_deref(),
            Some("+442079460958")
        );
        assert!(region("XX").is_err());
    }
}
