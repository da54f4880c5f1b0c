//! `train_uplift(name, table, label, treatment, key [, holdout_table])`: train an uplift model
//! on every column of `table` except the label, the treatment flag and the key, judge it on
//! `holdout_table` (the same columns, later in time), save it as `models/NAME.json` and return
//! its metrics as rows.

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};

use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use super::metrics::{UpliftMetrics, evaluate_uplift};
use super::{KIND, UpliftModel};
use crate::models::classifier::metrics::evaluate;
use crate::models::metric_rows::{self, MetricRows};
use crate::models::store::ModelStore;
use crate::models::training::boost::{self, boost, rows_of};
use crate::models::training::rows::{
    Labelled, boolean_column, check_holdout_columns, check_labels, features_of, matrix,
    read_labelled,
};
use crate::models::training::{self, Spec};
use crate::stop::Stop;

pub const NAME: &str = "train_uplift";

/// A table read for uplift: features, conversions and treatment flags.
struct Trial {
    data: Labelled,
    treated: Vec<bool>,
}

async fn read_trial(ctx: &SessionContext, spec: &Spec, table: &str) -> Result<Trial> {
    let data = read_labelled(
        ctx,
        NAME,
        table,
        &spec.label,
        &spec.key,
        &[spec.roles[0].as_str()],
    )
    .await?;
    let treated = flags(&data.aside[0], table, &spec.roles[0])?;
    Ok(Trial { data, treated })
}

/// A boolean (or 0/1) column as flags.
fn flags(array: &ArrayRef, table: &str, column: &str) -> Result<Vec<bool>> {
    let as_bool = boolean_column(array, NAME, table, "treatment", column)
        .map_err(|e| DataFusionError::Plan(format!("{e} (true = treated, false = control)")))?;
    Ok(as_bool
        .as_boolean()
        .iter()
        .map(|v| v == Some(true))
        .collect())
}

/// Train the model `spec` asks for, save it in `store` and return its metric rows.
pub async fn train(ctx: &SessionContext, store: &ModelStore, spec: &Spec) -> Result<RecordBatch> {
    let mut training = read_trial(ctx, spec, &spec.table).await?;
    let labels = &training.data.labels;
    let (treated_rows, control_rows): (Vec<usize>, Vec<usize>) =
        (0..labels.len()).partition(|&i| training.treated[i]);
    let pick = |idx: &[usize]| idx.iter().map(|&i| labels[i]).collect::<Vec<bool>>();
    let (treated_labels, control_labels) = (pick(&treated_rows), pick(&control_rows));
    check_labels(
        NAME,
        &format!("{} (treated rows)", spec.table),
        &treated_labels,
    )?;
    check_labels(
        NAME,
        &format!("{} (control rows)", spec.table),
        &control_labels,
    )?;
    let features = features_of(&training.data.columns, Some(labels), NAME)?;
    let holdout = match &spec.holdout {
        Some(table) => {
            let holdout = read_trial(ctx, spec, table).await?;
            check_holdout_columns(NAME, table, &holdout.data.columns, &features)?;
            Some(holdout)
        }
        None => None,
    };
    let rows = labels.len();
    let cols = features.len();
    let data = matrix(&features, &training.data.columns, NAME)?;
    let holdout_data = holdout
        .as_ref()
        .map(|h| matrix(&features, &h.data.columns, NAME))
        .transpose()?;
    // The treated and control rows are copied apart, then boosted one after the other.
    training.data.held.grow(rows * cols * size_of::<f64>())?;
    boost::reserve(
        &mut training.data.held,
        treated_rows.len().max(control_rows.len()),
        cols,
    )?;
    let (treated_data, control_data) = (
        rows_of(&data, rows, cols, &treated_rows),
        rows_of(&data, rows, cols, &control_rows),
    );
    let (treated, control) = Stop::of_session(ctx)
        .blocking(NAME, move || -> Result<_> {
            let treated = boost(
                NAME,
                &treated_data,
                treated_labels.len(),
                cols,
                &treated_labels,
            )?;
            let control = boost(
                NAME,
                &control_data,
                control_labels.len(),
                cols,
                &control_labels,
            )?;
            Ok((treated, control))
        })
        .await?;
    let mut model = UpliftModel {
        label: spec.label.clone(),
        treatment: spec.roles[0].clone(),
        features,
        training: evaluate_uplift(&[], &[], &[]),
        holdout: None,
        treated,
        control,
    };
    let mut out = MetricRows::default();
    let responses = model.responses(&data, rows);
    model.training = evaluate_uplift(&responses.uplift(), labels, &training.treated);
    out.responses("training", &responses, labels, &training.treated);
    out.uplift("training", &model.training);
    if let (Some(h), Some(data)) = (&holdout, &holdout_data) {
        let responses = model.responses(data, h.data.labels.len());
        let metrics = evaluate_uplift(&responses.uplift(), &h.data.labels, &h.treated);
        out.responses("holdout", &responses, &h.data.labels, &h.treated);
        out.uplift("holdout", &metrics);
        model.holdout = Some(metrics);
    }
    let headline = model.holdout.as_ref().unwrap_or(&model.training);
    let metrics = vec![
        ("qini".to_string(), headline.qini),
        ("top_decile_uplift".to_string(), headline.top_decile_uplift),
        ("uplift".to_string(), headline.uplift),
    ];
    training::save(store, NAME, KIND, spec, metrics, &model)?;
    out.batch(&spec.name, &metric_rows::schema())
}

/// The uplift model's metric rows.
trait UpliftRows {
    fn responses(&mut self, set: &str, r: &super::Responses, labels: &[bool], treated: &[bool]);
    fn uplift(&mut self, set: &str, m: &UpliftMetrics);
}

impl UpliftRows for MetricRows {
    /// The AUC and log loss of each response model on its own group's rows.
    fn responses(&mut self, set: &str, r: &super::Responses, labels: &[bool], treated: &[bool]) {
        for (group, scores, is_group) in [
            ("treated", &r.treated, true),
            ("control", &r.control, false),
        ] {
            let (s, l): (Vec<f64>, Vec<bool>) = (0..labels.len())
                .filter(|&i| treated[i] == is_group)
                .map(|i| (scores[i], labels[i]))
                .unzip();
            let m = evaluate(&s, &l);
            self.push(set, &format!("{group}_auc"), m.auc);
            self.push(set, &format!("{group}_log_loss"), m.log_loss);
        }
    }

    fn uplift(&mut self, set: &str, m: &UpliftMetrics) {
        for (metric, value) in [
            ("rows", m.rows as f64),
            ("treated_rows", m.treated_rows as f64),
            ("control_rows", m.control_rows as f64),
            ("treated_rate", m.treated_rate),
            ("control_rate", m.control_rate),
            ("uplift", m.uplift),
            ("qini", m.qini),
            ("top_decile_uplift", m.top_decile_uplift),
        ] {
            self.push(set, metric, value);
        }
        for (i, (_, predicted, observed)) in m.deciles.iter().enumerate() {
            self.push(set, &format!("decile_{}_predicted", i + 1), *predicted);
            self.push(set, &format!("decile_{}_observed", i + 1), *observed);
        }
    }
}
