//! `train_classifier(name, table, label, key [, holdout_table])`: train a
//! gradient-boosted classifier on every column of `table` except the label and the key, judge
//! it on `holdout_table` (the same columns, labelled later in time), save it as
//! `models/NAME.json` and return its metrics as rows.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray, UInt32Array, new_empty_array,
};
use datafusion::arrow::compute::{cast, concat, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::prelude::SessionContext;
use forust_ml::gradientbooster::ImportanceMethod;
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};

use super::metrics::{Metrics, evaluate};
use super::{
    ClassifierModel, Feature, FeatureKind, KIND, MIN_PER_CLASS, MIN_ROWS, encode_columns, levels,
};
use crate::models::args::{quote, text};
use crate::models::deferred::DeferredTable;
use crate::models::store::ModelStore;

const NAME: &str = "train_classifier";
pub const USAGE: &str = "train_classifier(name, table, label, key [, holdout_table]): the model \
    name, the training table, its boolean label column, its key column (left out of the \
    features) and optionally a table with the same columns labelled later in time to evaluate \
    on, such as train_classifier('churn', 'churn_training', 'churned', 'customer_id', \
    'churn_holdout')";

/// Boosting: at most this many trees of this depth at this learning rate, stopped when the
/// log loss of the validation rows (a fixed 15% of the training rows) has not improved for
/// `PATIENCE` rounds.
const MAX_TREES: usize = 2000;
const DEPTH: usize = 4;
const LEARNING_RATE: f32 = 0.03;
const PATIENCE: usize = 50;
const VALIDATION_PERCENT: u64 = 15;

/// The table function over `store`.
#[derive(Debug)]
pub struct TrainClassifier {
    pub store: Arc<ModelStore>,
}

#[derive(Debug, Clone)]
struct Spec {
    name: String,
    table: String,
    label: String,
    key: String,
    holdout: Option<String>,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("set", DataType::Utf8, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]))
}

impl TableFunctionImpl for TrainClassifier {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(4..=5).contains(&exprs.len()) {
            return plan_err!("{NAME} takes four or five arguments: {USAGE}");
        }
        let texts: Vec<Option<String>> = exprs.iter().map(text).collect();
        let (Some(name), Some(table), Some(label), Some(key)) = (
            texts[0].clone(),
            texts[1].clone(),
            texts[2].clone(),
            texts[3].clone(),
        ) else {
            return plan_err!("{NAME}: the first four arguments are strings: {USAGE}");
        };
        let holdout = match exprs.get(4) {
            None => None,
            Some(e) => Some(text(e).ok_or_else(|| {
                DataFusionError::Plan(format!("{NAME}: the holdout table is a string: {USAGE}"))
            })?),
        };
        self.store.path(&name)?;
        let spec = Spec {
            name,
            table,
            label,
            key,
            holdout,
        };
        let label = format!("{NAME}('{}', '{}')", spec.name, spec.table);
        let store = Arc::clone(&self.store);
        Ok(DeferredTable::one_batch(
            label,
            schema(),
            move |ctx, schema| {
                let (spec, store) = (spec.clone(), Arc::clone(&store));
                Box::pin(async move { train(&ctx, &store, &spec, &schema).await })
            },
        ))
    }
}

/// A labelled table read whole: feature columns by name, labels, and the columns set aside.
pub struct Labelled {
    pub columns: Vec<(String, ArrayRef)>,
    pub labels: Vec<bool>,
    /// The `aside` columns asked for, in their order, for the same rows.
    pub aside: Vec<ArrayRef>,
}

/// A table read whole for training: feature columns by name, the label column as it is, and
/// the columns set aside, for the rows whose label and set-aside columns are not NULL.
pub struct TrainingRows {
    pub columns: Vec<(String, ArrayRef)>,
    pub label: ArrayRef,
    pub aside: Vec<ArrayRef>,
}

/// Read `table`: every column but `label`, `key` and `aside` as a feature (checked), rows
/// with a NULL label or a NULL in an `aside` column left out.
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
    let batches = frame.collect().await?;
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
    Ok(TrainingRows {
        columns,
        label: take(label_array.as_ref(), &kept, None)?,
        aside,
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

/// Percentiles 0..=100 of `scores`.
pub fn percentiles(scores: &[f64]) -> Vec<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Vec::new();
    }
    (0..=100)
        .map(|p| sorted[(p * (sorted.len() - 1)) / 100])
        .collect()
}

/// Whether training row `i` is kept aside for early stopping (a fixed pseudo-random 15%).
fn is_validation(i: usize) -> bool {
    // SplitMix64 of the row number: the same rows every run, spread over the whole table.
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % 100 < VALIDATION_PERCENT
}

/// The rows `keep` of a column-major matrix of `cols` columns.
pub fn rows_of(data: &[f64], rows: usize, cols: usize, keep: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(keep.len() * cols);
    for c in 0..cols {
        let column = &data[c * rows..(c + 1) * rows];
        out.extend(keep.iter().map(|&i| column[i]));
    }
    out
}

/// Boost trees on the training rows, stopping early on the validation rows.
pub fn boost(
    function: &str,
    data: &[f64],
    rows: usize,
    cols: usize,
    labels: &[bool],
) -> Result<GradientBooster> {
    let (validation, fit): (Vec<usize>, Vec<usize>) = (0..rows).partition(|&i| is_validation(i));
    let y = |idx: &[usize]| -> Vec<f64> {
        idx.iter()
            .map(|&i| f64::from(u8::from(labels[i])))
            .collect()
    };
    let (fit_data, fit_y) = (rows_of(data, rows, cols, &fit), y(&fit));
    let (val_data, val_y) = (rows_of(data, rows, cols, &validation), y(&validation));
    let (fit_w, val_w) = (vec![1.0; fit.len()], vec![1.0; validation.len()]);
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(MAX_TREES)
        .set_learning_rate(LEARNING_RATE)
        .set_max_depth(DEPTH)
        .set_min_leaf_weight(5.0)
        .set_l2(1.0)
        .set_seed(42)
        .set_evaluation_metric(Some(Metric::LogLoss))
        .set_early_stopping_rounds(Some(PATIENCE));
    let matrix = Matrix::new(&fit_data, fit.len(), cols);
    let evaluation = vec![(
        Matrix::new(&val_data, validation.len(), cols),
        val_y.as_slice(),
        val_w.as_slice(),
    )];
    booster
        .fit(&matrix, &fit_y, &fit_w, Some(evaluation))
        .map_err(|e| DataFusionError::Execution(format!("{function}: training failed: {e}")))?;
    Ok(booster)
}

async fn train(
    ctx: &SessionContext,
    store: &ModelStore,
    spec: &Spec,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let training = read_labelled(ctx, NAME, &spec.table, &spec.label, &spec.key, &[]).await?;
    check_labels(NAME, &spec.table, &training.labels)?;
    let features = features_of(&training.columns, Some(&training.labels), NAME)?;
    let holdout = match &spec.holdout {
        Some(table) => {
            let holdout = read_labelled(ctx, NAME, table, &spec.label, &spec.key, &[]).await?;
            check_holdout_columns(NAME, table, &holdout.columns, &features)?;
            Some(holdout)
        }
        None => None,
    };
    let rows = training.labels.len();
    let data = matrix(&features, &training.columns, NAME)?;
    let holdout_data = holdout
        .as_ref()
        .map(|h| matrix(&features, &h.columns, NAME))
        .transpose()?;
    let labels = training.labels.clone();
    let features_for_fit = features.clone();
    let model = tokio::task::spawn_blocking(move || -> Result<ClassifierModel> {
        let booster = boost(NAME, &data, rows, features_for_fit.len(), &labels)?;
        let mut model = ClassifierModel {
            label: String::new(),
            features: features_for_fit,
            training_rows: rows,
            training: evaluate(&[], &[]),
            holdout: None,
            score_percentiles: Vec::new(),
            booster,
        };
        let scores = model.probabilities(&data, rows);
        model.training = evaluate(&scores, &labels);
        model.score_percentiles = percentiles(&scores);
        Ok(model)
    })
    .await
    .map_err(|e| DataFusionError::Execution(format!("{NAME}: training stopped: {e}")))??;
    let mut model = model;
    model.label = spec.label.clone();
    if let (Some(h), Some(data)) = (&holdout, &holdout_data) {
        let scores = model.probabilities(data, h.labels.len());
        model.holdout = Some(evaluate(&scores, &h.labels));
        model.score_percentiles = percentiles(&scores);
    }
    let mut rows_out: Vec<(String, String, f64)> = Vec::new();
    let mut push_metrics = |set: &str, m: &Metrics| {
        for (metric, value) in [
            ("rows", m.rows as f64),
            ("positives", m.positives as f64),
            ("auc", m.auc),
            ("log_loss", m.log_loss),
            ("top_decile_lift", m.top_decile_lift),
            ("calibration_error", m.calibration_error),
        ] {
            rows_out.push((set.into(), metric.into(), value));
        }
        for (i, (_, predicted, observed)) in m.calibration.iter().enumerate() {
            rows_out.push((
                set.into(),
                format!("decile_{}_predicted", i + 1),
                *predicted,
            ));
            rows_out.push((set.into(), format!("decile_{}_observed", i + 1), *observed));
        }
    };
    push_metrics("training", &model.training);
    if let Some(h) = &model.holdout {
        push_metrics("holdout", h);
    }
    let importance: HashMap<usize, f32> = model
        .booster
        .calculate_feature_importance(ImportanceMethod::TotalGain, true);
    let mut importance: Vec<(usize, f32)> = importance.into_iter().collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, gain) in importance {
        if let Some(f) = model.features.get(i) {
            rows_out.push(("importance".into(), f.name.clone(), f64::from(gain)));
        }
    }
    let headline = model.holdout.as_ref().unwrap_or(&model.training);
    let metrics = vec![
        ("auc".to_string(), headline.auc),
        ("log_loss".to_string(), headline.log_loss),
        ("top_decile_lift".to_string(), headline.top_decile_lift),
    ];
    let on = match &spec.holdout {
        Some(h) => format!("{} (holdout {h})", spec.table),
        None => spec.table.clone(),
    };
    let path = store.save(&spec.name, KIND, &on, metrics, &model)?;
    tracing::info!("{NAME}: saved {}", path.display());
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(StringArray::from(vec![spec.name.as_str(); rows_out.len()])),
            Arc::new(StringArray::from_iter_values(
                rows_out.iter().map(|r| r.0.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                rows_out.iter().map(|r| r.1.as_str()),
            )),
            Arc::new(Float64Array::from_iter_values(rows_out.iter().map(|r| r.2))),
        ],
    )?)
}
