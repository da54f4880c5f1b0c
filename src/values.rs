//! Reading Arrow values the same way everywhere: string arrays of any of the three layouts,
//! the constant arguments of a function call, names and strings quoted for the SQL c360
//! writes, and batches cast to the schema they were announced with. A leaf: it imports nothing of c360.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, StringArray, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::Expr;

/// Read access to any Arrow string array.
#[derive(Debug, Clone, Copy)]
pub enum Strings<'a> {
    /// `Utf8`.
    Utf8(&'a StringArray),
    /// `LargeUtf8`.
    Large(&'a LargeStringArray),
    /// `Utf8View`.
    View(&'a StringViewArray),
}

impl<'a> Strings<'a> {
    /// View `array` as strings; `function` names the caller in the error.
    pub fn try_new(array: &'a ArrayRef, function: &str) -> Result<Self> {
        match array.data_type() {
            DataType::Utf8 => Ok(Self::Utf8(array.as_string::<i32>())),
            DataType::LargeUtf8 => Ok(Self::Large(array.as_string::<i64>())),
            DataType::Utf8View => Ok(Self::View(array.as_string_view())),
            other => exec_err!("{function}: expected a string argument, got {other}"),
        }
    }

    /// The value at `i`, or `None` when it is NULL.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Self::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Self::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Self::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// The text of a non-NULL string value of any of the three string types.
pub fn scalar_text(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s),
        _ => None,
    }
}

/// A string constant.
pub fn text(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(value, _) => scalar_text(value).map(str::to_string),
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

/// An identifier quoted for SQL: `a"b` is `"a""b"`.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A possibly dotted name (`schema.table`) quoted for SQL, each part on its own.
pub fn quote(name: &str) -> String {
    name.split('.')
        .map(quote_identifier)
        .collect::<Vec<_>>()
        .join(".")
}

/// A string quoted as a SQL literal: `it's` is `'it''s'`.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `batch` under `schema`: each column cast to its field's type where they differ (string
/// views to strings and the like), with the schema's names, nullability and metadata.
pub fn cast_batch(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.schema_ref() == schema {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(Arc::clone(column))
            } else {
                cast(column, field.data_type())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(Arc::clone(schema), columns)
}
