//! Reading the constant arguments of the model table functions, and quoting the names they
//! are given for the SQL they run.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;

/// A string constant.
pub fn text(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

/// An integer constant.
pub fn integer(e: &Expr) -> Option<i64> {
    match e {
        Expr::Negative(inner) => integer(inner).and_then(i64::checked_neg),
        Expr::Literal(v, _) if v.data_type().is_integer() => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(n))) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

/// A numeric literal (integer, float or decimal) as f64.
pub fn number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Negative(inner) => number(inner).map(|x| -x),
        Expr::Literal(ScalarValue::Float64(Some(x)), _) => Some(*x),
        Expr::Literal(ScalarValue::Float32(Some(x)), _) => Some(f64::from(*x)),
        Expr::Literal(ScalarValue::Decimal128(Some(x), _, scale), _) => {
            Some(*x as f64 / 10f64.powi(i32::from(*scale)))
        }
        _ => integer(e).map(|i| i as f64),
    }
}

/// An identifier quoted for SQL, each dotted part on its own.
pub fn quote(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}
