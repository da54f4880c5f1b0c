//! Reading a training table whole, as every trainer does: the feature columns by name (each
//! checked to be a number, a boolean or a string), the label, and the columns a trainer sets
//! aside (a treatment flag), in key order so that the same data gives the same model.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt32Array, new_empty_array};
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::prelude::SessionContext;

use crate::memory::Held;
use crate::models::classifier::{
    Feature, FeatureKind, MIN_PER_CLASS, MIN_ROWS, encode_columns, levels,
};
use crate::values::quote;

/// A labelled table read whole: feature columns by name, labels, and the columns set aside.
pub struct Labelled {
    pub columns: Vec<(String, ArrayRef)>,
    pub labels: Vec<bool>,
    /// The `aside` columns asked for, in their order, for the same rows.
    pub aside: Vec<ArrayRef>,
    /// The memory these rows and the trainer's matrix of them hold, in the session's pool.
    pub held: Held,
}

/// A table read whole for training: feature columns by name, the label column as it is, and
/// the columns set aside, for the rows whose label and set-aside columns are not NULL.
pub struct TrainingRows {
    pub columns: Vec<(String, ArrayRef)>,
    pub label: ArrayRef,
    pub aside: Vec<ArrayRef>,
    /// The memory these rows and the trainer's matrix of them hold, in the session's pool.
    pub held: Held,
}

/// Read `table`: every column but `label`, `key` and `aside` as a feature (checked), rows
/// with a NULL label or a NULL in an `aside` column left out. The rows count against the
/// memory limit while they are read and kept, with the matrix a trainer makes of them
/// (8 bytes per feature value): a table too big for the limit is "resources exhausted" naming
/// the function and the table, not memory no limit sees.
pub async fn read_rows(
    ctx: &SessionContext,
    function: &str,
    table: &str,
    label: &str,
    key: &str,
    aside: &[&str],
) -> Result<TrainingRows> {
    let frame = ctx
        // In key order, so that the validation rows and therefore the model are the same on
        // the same data whatever order the table's files list their rows in.
        .sql(&format!(
            "SELECT * FROM {} ORDER BY {}",
            quote(table),
            quote(key)
        ))
        .await
        .map_err(|e| DataFusionError::Plan(format!("{function}: reading table '{table}': {e}")))?;
    let schema = frame.schema().as_arrow().clone();
    for column in [label, key].iter().chain(aside) {
        if schema.field_with_name(column).is_err() {
            return plan_err!("{function}: table '{table}' has no column '{column}'");
        }
    }
    let mut held = Held::new(ctx, format!("{function} reading '{table}'"));
    let batches = held.collect(frame).await?;
    let read_bytes = held.size();
    let whole = |i: usize| -> Result<ArrayRef> {
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
        if parts.is_empty() {
            return Ok(new_empty_array(schema.field(i).data_type()));
        }
        Ok(concat(&parts)?)
    };
    let label_array = whole(schema.index_of(label)?)?;
    let aside_whole = aside
        .iter()
        .map(|name| whole(schema.index_of(name)?))
        .collect::<Result<Vec<ArrayRef>>>()?;
    let keep: Vec<usize> = (0..label_array.len())
        .filter(|&i| label_array.is_valid(i) && aside_whole.iter().all(|a| a.is_valid(i)))
        .collect();
    let kept = UInt32Array::from_iter_values(keep.iter().map(|&i| i as u32));
    let mut columns = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        if field.name() == label || field.name() == key || aside.contains(&field.name().as_str()) {
            continue;
        }
        if Feature::kind_of(field.data_type()).is_none() {
            return plan_err!(
                "{function}: column '{}' of '{table}' is {}; a feature must be a number, a \
                 boolean or a string: turn times into ages (days since ...) or leave the column out",
                field.name(),
                field.data_type()
            );
        }
        let column = take(whole(i)?.as_ref(), &kept, None)?;
        columns.push((field.name().clone(), column));
    }
    if columns.is_empty() {
        return plan_err!(
            "{function}: table '{table}' has no feature columns besides '{label}' and '{key}'"
        );
    }
    let aside = aside_whole
        .iter()
        .map(|a| Ok(take(a.as_ref(), &kept, None)?))
        .collect::<Result<Vec<ArrayRef>>>()?;
    let label = take(label_array.as_ref(), &kept, None)?;
    let kept_bytes: usize = columns
        .iter()
        .map(|(_, c)| c.get_array_memory_size())
        .chain(aside.iter().map(|a| a.get_array_memory_size()))
        .sum::<usize>()
        + label.get_array_memory_size();
    held.grow(kept_bytes + keep.len() * columns.len() * size_of::<f64>())?;
    drop(batches);
    held.shrink(read_bytes);
    Ok(TrainingRows {
        columns,
        label,
        aside,
        held,
    })
}

/// Read `table` as [`read_rows`] does, with a boolean (or 0/1) label.
pub async fn read_labelled(
    ctx: &SessionContext,
    function: &str,
    table: &str,
    label: &str,
    key: &str,
    aside: &[&str],
) -> Result<Labelled> {
    let rows = read_rows(ctx, function, table, label, key, aside).await?;
    let label_bool = boolean_column(&rows.label, function, table, "label", label).map_err(|e| {
        DataFusionError::Plan(format!(
            "{e}; a classifier's label is boolean (true = the class to predict); for more \
             classes use train_multiclass"
        ))
    })?;
    let labels = label_bool
        .as_boolean()
        .iter()
        .map(|v| v == Some(true))
        .collect();
    Ok(Labelled {
        columns: rows.columns,
        labels,
        aside: rows.aside,
        held: rows.held,
    })
}

/// A boolean column, or integers that are all 0 or 1, as booleans; the error names the
/// column (`what` it is for) and what it holds.
pub fn boolean_column(
    array: &ArrayRef,
    function: &str,
    table: &str,
    what: &str,
    column: &str,
) -> std::result::Result<ArrayRef, String> {
    match array.data_type() {
        DataType::Boolean => Ok(Arc::clone(array)),
        t if t.is_integer() => {
            let ints = cast(array, &DataType::Int64).map_err(|e| e.to_string())?;
            if ints
                .as_primitive::<Int64Type>()
                .iter()
                .flatten()
                .any(|v| v != 0 && v != 1)
            {
                return Err(format!(
                    "{function}: {what} '{column}' of '{table}' holds values other than 0 and 1"
                ));
            }
            cast(&ints, &DataType::Boolean).map_err(|e| e.to_string())
        }
        t => Err(format!(
            "{function}: {what} '{column}' of '{table}' is {t}; expected a boolean"
        )),
    }
}

/// The features of a training table, string levels taken from it (ordered by label rate).
pub fn features_of(
    columns: &[(String, ArrayRef)],
    labels: Option<&[bool]>,
    function: &str,
) -> Result<Vec<Feature>> {
    columns
        .iter()
        .map(|(name, array)| {
            let kind = match Feature::kind_of(array.data_type()) {
                Some(FeatureKind::Category(_)) => {
                    FeatureKind::Category(levels(array, labels, function)?)
                }
                Some(kind) => kind,
                None => return plan_err!("{function}: column '{name}' cannot be a feature"),
            };
            Ok(Feature {
                name: name.clone(),
                kind,
            })
        })
        .collect()
}

/// Check there is enough to learn from.
pub fn check_labels(function: &str, table: &str, labels: &[bool]) -> Result<()> {
    let positives = labels.iter().filter(|l| **l).count();
    let negatives = labels.len() - positives;
    if labels.len() < MIN_ROWS {
        return plan_err!(
            "{function}: '{table}' has {} labelled rows; training needs at least {MIN_ROWS}",
            labels.len()
        );
    }
    if positives < MIN_PER_CLASS || negatives < MIN_PER_CLASS {
        return plan_err!(
            "{function}: '{table}' has {positives} rows labelled true and {negatives} false; \
             training needs at least {MIN_PER_CLASS} of each class (a label with one class has \
             nothing to learn)"
        );
    }
    Ok(())
}

/// Check that a holdout table has the training table's feature columns, in order.
pub fn check_holdout_columns(
    function: &str,
    table: &str,
    columns: &[(String, ArrayRef)],
    features: &[Feature],
) -> Result<()> {
    let names: Vec<&String> = columns.iter().map(|c| &c.0).collect();
    let want: Vec<&String> = features.iter().map(|f| &f.name).collect();
    if names != want {
        return plan_err!(
            "{function}: holdout '{table}' has the columns {names:?}, the training table \
             {want:?}; give both the same columns in the same order"
        );
    }
    Ok(())
}

/// The column-major matrix of named `columns`, one per feature in order.
pub fn matrix(
    features: &[Feature],
    columns: &[(String, ArrayRef)],
    function: &str,
) -> Result<Vec<f64>> {
    let arrays: Vec<ArrayRef> = columns.iter().map(|(_, a)| Arc::clone(a)).collect();
    encode_columns(features, &arrays, function)
}
