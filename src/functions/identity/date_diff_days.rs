//! `date_diff_days(a, b)`: the absolute number of days between two dates, for comparing birth
//! dates or sign-up dates with a tolerance.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::common::Result;
use datafusion::common::types::{NativeType, logical_date, logical_string};
use datafusion_macros::user_doc;

use crate::functions::util::string_udf;
use datafusion::logical_expr::{Coercion, Signature, TypeSignatureClass, Volatility};

string_udf!(
    #[user_doc(
        doc_section(label = "Identity Functions"),
        description = "Absolute number of days between two dates. Timestamps and date strings \
            ('2024-03-01') are cast to dates first (a string that is not a date is an error, as \
            in CAST). NULL if either side is NULL.",
        syntax_example = "date_diff_days(a, b)",
        sql_example = r#"```sql
    > SELECT date_diff_days(DATE '1980-05-02', DATE '1980-02-05') AS d;
    +----+
    | d  |
    +----+
    | 87 |
    +----+
    ```"#,
        argument(name = "a", description = "A date, timestamp or date string."),
        argument(name = "b", description = "A date, timestamp or date string.")
    )]
    DateDiffDaysFunc,
    "date_diff_days",
    two_dates_signature(),
    DataType::Int64,
    date_diff_days_kernel
);

/// Two dates; timestamps and strings are cast to dates.
fn two_dates_signature() -> Signature {
    let date = Coercion::new_implicit(
        TypeSignatureClass::Native(logical_date()),
        vec![
            TypeSignatureClass::Timestamp,
            TypeSignatureClass::Native(logical_string()),
        ],
        NativeType::Date,
    );
    Signature::coercible(vec![date.clone(), date], Volatility::Immutable)
}

/// The kernel over two Date32 arrays.
pub fn date_diff_days_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    let cast = |a: &ArrayRef| compute::cast(a, &DataType::Date32);
    let (a, b) = (cast(&args[0])?, cast(&args[1])?);
    let (a, b) = (
        a.as_primitive::<Date32Type>(),
        b.as_primitive::<Date32Type>(),
    );
    let out: Int64Array = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| Some((i64::from(x?) - i64::from(y?)).abs()))
        .collect();
    Ok(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Date32Array;
    use datafusion::arrow::datatypes::Int64Type;

    use super::*;

    #[test]
    fn absolute_days_and_nulls() {
        let a: ArrayRef = Arc::new(Date32Array::from(vec![Some(100), None, Some(5)]));
        let b: ArrayRef = Arc::new(Date32Array::from(vec![Some(13), Some(1), Some(10)]));
        let out = date_diff_days_kernel(&[a, b]).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(87), None, Some(5)]
        );
    }
}
