//! `train_multiclass(name, table, label, key [, holdout_table])`: train a classifier of the
//! classes of `label` (strings, numbers or booleans; NULL rows left out) on every other column
//! of `table` but the key, judge it on `holdout_table` (the same columns, labelled later in
//! time), save it as `models/NAME.json` and return its metrics as rows.

use std::collections::BTreeMap;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::prelude::SessionContext;

use super::metrics::{MulticlassMetrics, evaluate_classes};
use super::{KIND, MAX_CLASSES, MulticlassModel};
use crate::models::classifier::{MIN_PER_CLASS, MIN_ROWS};
use crate::models::metric_rows::{self, MetricRows};
use crate::models::store::ModelStore;
use crate::models::training::boost::{self, boost};
use crate::models::training::rows::{
    TrainingRows, check_holdout_columns, features_of, matrix, read_rows,
};
use crate::models::training::{self, Spec};
use crate::stop::Stop;

pub const NAME: &str = "train_multiclass";

/// The label of each row as text.
fn label_texts(rows: &TrainingRows, spec: &Spec, table: &str) -> Result<Vec<String>> {
    let t = rows.label.data_type();
    if !(t.is_numeric()
        || matches!(
            t,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean
        ))
    {
        return plan_err!(
            "{NAME}: label '{}' of '{table}' is {t}; the classes are strings, numbers or booleans",
            spec.label
        );
    }
    let text = cast(&rows.label, &DataType::Utf8)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

/// The classes of the training labels, by name, checked.
fn classes_of(labels: &[String], table: &str) -> Result<Vec<String>> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in labels {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    if labels.len() < MIN_ROWS {
        return plan_err!(
            "{NAME}: '{table}' has {} labelled rows; training needs at least {MIN_ROWS}",
            labels.len()
        );
    }
    if counts.len() < 2 {
        return plan_err!(
            "{NAME}: the label of '{table}' has {} class(es); a classifier needs at least two",
            counts.len()
        );
    }
    if counts.len() > MAX_CLASSES {
        return plan_err!(
            "{NAME}: the label of '{table}' has {} classes; at most {MAX_CLASSES} are learnt \
             (group the rare ones into 'other')",
            counts.len()
        );
    }
    if let Some((class, n)) = counts.iter().find(|(_, n)| **n < MIN_PER_CLASS) {
        return plan_err!(
            "{NAME}: class '{class}' of '{table}' has {n} rows; each class needs at least \
             {MIN_PER_CLASS} (group the rare ones into 'other')"
        );
    }
    Ok(counts.into_keys().map(str::to_string).collect())
}

/// A labelled table: features, and each row's class index (None for a class the model does
/// not know).
struct ClassRows {
    rows: TrainingRows,
    classes: Vec<Option<usize>>,
}

async fn read(
    ctx: &SessionContext,
    spec: &Spec,
    table: &str,
    known: Option<&[String]>,
) -> Result<(ClassRows, Vec<String>)> {
    let rows = read_rows(ctx, NAME, table, &spec.label, &spec.key, &[]).await?;
    let texts = label_texts(&rows, spec, table)?;
    let classes = match known {
        Some(k) => k.to_vec(),
        None => classes_of(&texts, table)?,
    };
    let index = texts
        .iter()
        .map(|t| classes.iter().position(|c| c == t))
        .collect();
    Ok((
        ClassRows {
            rows,
            classes: index,
        },
        classes,
    ))
}

/// Train the model `spec` asks for, save it in `store` and return its metric rows.
pub async fn train(ctx: &SessionContext, store: &ModelStore, spec: &Spec) -> Result<RecordBatch> {
    let (mut training, classes) = read(ctx, spec, &spec.table, None).await?;
    let truth: Vec<usize> = training.classes.iter().map(|c| c.unwrap_or(0)).collect();
    let features = features_of(&training.rows.columns, None, NAME)?;
    let holdout = match &spec.holdout {
        Some(table) => {
            let (holdout, _) = read(ctx, spec, table, Some(&classes)).await?;
            check_holdout_columns(NAME, table, &holdout.rows.columns, &features)?;
            Some(holdout)
        }
        None => None,
    };
    let rows = truth.len();
    let cols = features.len();
    let data = matrix(&features, &training.rows.columns, NAME)?;
    boost::reserve(&mut training.rows.held, rows, cols)?;
    let k = classes.len();
    let majority = (0..k)
        .max_by_key(|&c| {
            (
                truth.iter().filter(|&&y| y == c).count(),
                std::cmp::Reverse(c),
            )
        })
        .unwrap_or(0);
    let (fit_data, fit_truth) = (data.clone(), truth.clone());
    let boosters = Stop::of_session(ctx)
        .blocking(NAME, move || -> Result<_> {
            (0..k)
                .map(|c| {
                    let labels: Vec<bool> = fit_truth.iter().map(|&y| y == c).collect();
                    boost(NAME, &fit_data, rows, cols, &labels)
                })
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    let mut model = MulticlassModel {
        label: spec.label.clone(),
        classes,
        features,
        training: evaluate_classes(&[], &[], k, majority),
        holdout: None,
        boosters,
    };
    model.training = evaluate_classes(&model.probabilities(&data, rows), &truth, k, majority);
    let mut out = MetricRows::default();
    push_metrics(&mut out, "training", &model.training, &model.classes);
    if let Some(h) = &holdout {
        // Rows of a class training never saw cannot be right; they are counted apart.
        let known: Vec<usize> = (0..h.classes.len())
            .filter(|&i| h.classes[i].is_some())
            .collect();
        let hdata = matrix(&model.features, &h.rows.columns, NAME)?;
        let hrows = h.classes.len();
        let p = model.probabilities(&hdata, hrows);
        let kept: Vec<f64> = known
            .iter()
            .flat_map(|&i| p[i * k..(i + 1) * k].iter().copied())
            .collect();
        let htruth: Vec<usize> = known.iter().filter_map(|&i| h.classes[i]).collect();
        let metrics = evaluate_classes(&kept, &htruth, k, majority);
        push_metrics(&mut out, "holdout", &metrics, &model.classes);
        out.push("holdout", "unseen_class_rows", (hrows - known.len()) as f64);
        model.holdout = Some(metrics);
    }
    let headline = model.holdout.as_ref().unwrap_or(&model.training);
    let metrics = vec![
        ("accuracy".to_string(), headline.accuracy),
        ("majority_accuracy".to_string(), headline.majority_accuracy),
        ("macro_auc".to_string(), headline.macro_auc),
    ];
    training::save(store, NAME, KIND, spec, metrics, &model)?;
    out.batch(&spec.name, &metric_rows::schema())
}

fn push_metrics(out: &mut MetricRows, set: &str, m: &MulticlassMetrics, classes: &[String]) {
    for (metric, value) in [
        ("rows", m.rows as f64),
        ("accuracy", m.accuracy),
        ("top2_accuracy", m.top2_accuracy),
        ("majority_accuracy", m.majority_accuracy),
        ("log_loss", m.log_loss),
        ("macro_auc", m.macro_auc),
    ] {
        out.push(set, metric, value);
    }
    for (class, (rows, recall, precision)) in classes.iter().zip(&m.classes) {
        out.push(set, &format!("class_{class}_rows"), *rows as f64);
        out.push(set, &format!("class_{class}_recall"), *recall);
        out.push(set, &format!("class_{class}_precision"), *precision);
    }
}
