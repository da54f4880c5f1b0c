//! Shared pieces of the c360 scalar functions: string-argument signatures and the
//! array/scalar plumbing around a kernel.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, PrimitiveBuilder, StringBuilder,
};
use datafusion::arrow::compute::prep_null_mask_filter;
use datafusion::arrow::datatypes::{ArrowPrimitiveType, DataType, Field, FieldRef};
use datafusion::common::types::{NativeType, logical_string};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, ScalarFunctionArgs, Signature, TypeSignature, TypeSignatureClass,
    Volatility,
};

use crate::values::{Strings, scalar_text};

/// A signature of `n` string arguments (Utf8, LargeUtf8 or Utf8View, no casting).
pub fn strings_signature(n: usize) -> Signature {
    Signature::coercible(
        (0..n)
            .map(|_| Coercion::new_exact(TypeSignatureClass::Native(logical_string())))
            .collect(),
        Volatility::Immutable,
    )
}

/// Run an array kernel on the arguments: scalars are expanded to arrays first, and when every
/// argument was a scalar the one-row result is returned as a scalar again.
pub fn invoke(
    args: &[ColumnarValue],
    kernel: impl FnOnce(&[ArrayRef]) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let all_scalars = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let result = kernel(&arrays)?;
    if all_scalars {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

/// Map each string of `array` through `f`, which writes its result into the reused buffer and
/// returns `false` for NULL. NULL in gives NULL out.
pub fn map_strings(
    array: &ArrayRef,
    function: &str,
    mut f: impl FnMut(&str, &mut String) -> bool,
) -> Result<ArrayRef> {
    let strings = Strings::try_new(array, function)?;
    let mut builder = StringBuilder::with_capacity(array.len(), array.len() * 16);
    let mut buffer = String::new();
    for i in 0..array.len() {
        match strings.get(i) {
            Some(value) => {
                buffer.clear();
                if f(value, &mut buffer) {
                    builder.append_value(&buffer);
                } else {
                    builder.append_null();
                }
            }
            None => builder.append_null(),
        }
    }
    Ok(Arc::new(builder.finish()))
}

/// Compare two string arrays row by row with `f`; NULL on either side gives NULL.
/// The longest string the pairwise comparators (edit distances, Jaro, token sets) take: their
/// work grows with the product of the two lengths, so two strings of a million characters
/// would keep a core busy for an hour, out of reach of cancel and timeout.
pub const MAX_COMPARED_BYTES: usize = 10_000;

pub fn map_string_pairs<T: ArrowPrimitiveType>(
    left: &ArrayRef,
    right: &ArrayRef,
    function: &str,
    mut f: impl FnMut(&str, &str) -> Option<T::Native>,
) -> Result<ArrayRef> {
    let (a, b) = (
        Strings::try_new(left, function)?,
        Strings::try_new(right, function)?,
    );
    let mut values = PrimitiveBuilder::<T>::with_capacity(left.len());
    for i in 0..left.len() {
        // One pair can take a tenth of a second: a cancelled query stops between pairs.
        crate::stop::check(function)?;
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => {
                let longest = x.len().max(y.len());
                if longest > MAX_COMPARED_BYTES {
                    return exec_err!(
                        "{function}: row {} has a string of {longest} bytes; it compares \
                         strings of up to {MAX_COMPARED_BYTES} bytes (names, e-mails, \
                         addresses); compare a prefix such as left(x, 1000)",
                        i + 1
                    );
                }
                values.append_option(f(x, y));
            }
            _ => values.append_null(),
        }
    }
    Ok(Arc::new(values.finish()))
}

/// A value as an error message quotes it: whole when short, else its first 40 characters and
/// its length (an error must not echo a million-character argument back).
pub fn quoted_value(text: &str) -> String {
    match text.char_indices().nth(40) {
        None => format!("'{text}'"),
        Some((end, _)) => format!("'{}...' ({} bytes)", &text[..end], text.len()),
    }
}

/// A signature of one string-like argument (integers are cast to text) and an optional string
/// region code, as the phone and postal-code normalisers take.
pub fn text_with_region_signature() -> Signature {
    let text = Coercion::new_implicit(
        TypeSignatureClass::Native(logical_string()),
        vec![TypeSignatureClass::Integer],
        NativeType::String,
    );
    let region = Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
    Signature::one_of(
        vec![
            TypeSignature::Coercible(vec![text.clone()]),
            TypeSignature::Coercible(vec![text, region]),
        ],
        Volatility::Immutable,
    )
}

/// Define a scalar UDF whose kernel takes the argument arrays.
/// Arguments: doc attributes, struct name, SQL name, signature, return type,
/// kernel `fn(&[ArrayRef]) -> Result<ArrayRef>`.
macro_rules! string_udf {
    ($(#[$attr:meta])* $ty:ident, $sql:literal, $signature:expr, $ret:expr, $kernel:path) => {
        $(#[$attr])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        pub struct $ty {
            signature: datafusion::logical_expr::Signature,
        }

        impl Default for $ty {
            fn default() -> Self {
                Self {
                    signature: $signature,
                }
            }
        }

        impl datafusion::logical_expr::ScalarUDFImpl for $ty {
            fn name(&self) -> &str {
                $sql
            }

            fn signature(&self) -> &datafusion::logical_expr::Signature {
                &self.signature
            }

            fn return_type(
                &self,
                _args: &[datafusion::arrow::datatypes::DataType],
            ) -> datafusion::common::Result<datafusion::arrow::datatypes::DataType> {
                Ok($ret)
            }

            fn invoke_with_args(
                &self,
                args: datafusion::logical_expr::ScalarFunctionArgs,
            ) -> datafusion::common::Result<datafusion::logical_expr::ColumnarValue> {
                let _stop = $crate::stop::Stop::of(&args.config_options).enter();
                $crate::functions::util::invoke(&args.args, $kernel)
            }

            fn documentation(&self) -> Option<&datafusion::logical_expr::Documentation> {
                self.doc()
            }
        }
    };
}
pub(crate) use string_udf;

/// State fields of an accumulator whose state is parallel lists, one list column each.
pub fn list_state_fields(aggregate: &str, columns: &[(&str, DataType)]) -> Vec<FieldRef> {
    columns
        .iter()
        .map(|(name, data_type)| {
            Field::new_list(
                format_state_name(aggregate, name),
                Field::new_list_field(data_type.clone(), true),
                true,
            )
            .into()
        })
        .collect()
}

/// The state of such an accumulator: each array as a one-row list.
pub fn list_state(columns: Vec<ArrayRef>) -> Vec<ScalarValue> {
    columns
        .into_iter()
        .map(|array| SingleRowListArrayBuilder::new(array).build_list_scalar())
        .collect()
}

/// Call `f` with the lists of each partial state row of a list-state accumulator; rows where
/// any list is NULL are skipped.
pub fn for_each_state_row(
    states: &[ArrayRef],
    function: &str,
    mut f: impl FnMut(&[ArrayRef]) -> Result<()>,
) -> Result<()> {
    let lists = states
        .iter()
        .map(|s| match s.data_type() {
            DataType::List(_) => Ok(s.as_list::<i32>()),
            other => exec_err!("{function}: expected a list state column, got {other}"),
        })
        .collect::<Result<Vec<_>>>()?;
    let rows = lists.first().map_or(0, |l| l.len());
    let mut row_lists = Vec::with_capacity(lists.len());
    for row in 0..rows {
        if lists.iter().any(|l| l.is_null(row)) {
            continue;
        }
        row_lists.clear();
        row_lists.extend(lists.iter().map(|l| l.value(row)));
        f(&row_lists)?;
    }
    Ok(())
}

/// Whether a groups accumulator takes `row`: there is no FILTER, or it is true there (a NULL
/// filter value leaves the row out, as SQL's FILTER (WHERE ...) does).
pub fn row_selected(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}

/// A FILTER clause's mask with NULL as false (Arrow's `prep_null_mask_filter` needs nulls).
pub fn selected_mask(filter: &BooleanArray) -> BooleanArray {
    if filter.null_count() == 0 {
        filter.clone()
    } else {
        prep_null_mask_filter(filter)
    }
}

/// Argument `index` of a scalar call when it is a string constant (a model or setup name).
pub fn string_constant(args: &ScalarFunctionArgs, index: usize) -> Option<String> {
    match args.args.get(index)? {
        ColumnarValue::Scalar(value) => scalar_text(value).map(str::to_string),
        ColumnarValue::Array(_) => None,
    }
}

/// A kernel's result as the call's shape: one value when every argument was a constant.
pub fn finish(array: ArrayRef, args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
    if args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)))
    {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &array, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

/// Test support: merge `right`'s partial state into `left`, as a final aggregate merges
/// what its partitions sent.
#[cfg(test)]
pub fn merge_partial(
    left: &mut dyn datafusion::logical_expr::Accumulator,
    right: &mut dyn datafusion::logical_expr::Accumulator,
) {
    let state: Vec<ArrayRef> = right
        .state()
        .unwrap()
        .iter()
        .map(|s| s.to_array().unwrap())
        .collect();
    left.merge_batch(&state).unwrap();
}
