//! `train_classifier(name, table, label, key [, holdout_table])`: train a
//! gradient-boosted classifier on every column of `table` except the label and the key, judge
//! it on `holdout_table` (the same columns, labelled later in time), save it as
//! `models/NAME.json` and return its metrics as rows.

use std::collections::HashMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::Result;
use datafusion::prelude::SessionContext;
use forust_ml::gradientbooster::ImportanceMethod;

use super::metrics::{Metrics, evaluate};
use super::{ClassifierModel, KIND};
use crate::models::metric_rows::{self, MetricRows};
use crate::models::store::ModelStore;
use crate::models::training::boost::{self, boost, percentiles};
use crate::models::training::rows::{
    check_holdout_columns, check_labels, features_of, matrix, read_labelled,
};
use crate::models::training::{self, Spec};
use crate::stop::Stop;

pub const NAME: &str = "train_classifier";

/// Train the model `spec` asks for, save it in `store` and return its metric rows.
pub async fn train(ctx: &SessionContext, store: &ModelStore, spec: &Spec) -> Result<RecordBatch> {
    let mut training = read_labelled(ctx, NAME, &spec.table, &spec.label, &spec.key, &[]).await?;
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
    boost::reserve(&mut training.held, rows, features.len())?;
    let labels = training.labels.clone();
    let features_for_fit = features.clone();
    let model = Stop::of_session(ctx)
        .blocking(NAME, move || -> Result<ClassifierModel> {
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
        .await?;
    let mut model = model;
    model.label = spec.label.clone();
    if let (Some(h), Some(data)) = (&holdout, &holdout_data) {
        let scores = model.probabilities(data, h.labels.len());
        model.holdout = Some(evaluate(&scores, &h.labels));
        model.score_percentiles = percentiles(&scores);
    }
    let mut out = MetricRows::default();
    let mut push_metrics = |set: &str, m: &Metrics| {
        for (metric, value) in [
            ("rows", m.rows as f64),
            ("positives", m.positives as f64),
            ("auc", m.auc),
            ("log_loss", m.log_loss),
            ("top_decile_lift", m.top_decile_lift),
            ("calibration_error", m.calibration_error),
        ] {
            out.push(set, metric, value);
        }
        for (i, (_, predicted, observed)) in m.calibration.iter().enumerate() {
            out.push(set, &format!("decile_{}_predicted", i + 1), *predicted);
            out.push(set, &format!("decile_{}_observed", i + 1), *observed);
        }
    };
    push_metrics("training", &model.training);
    if let Some(h) = &model.holdout {
        push_metrics("holdout", h);
    }
    let importance: HashMap<usize, f32> = model
        .booster
        .booster()
        .calculate_feature_importance(ImportanceMethod::TotalGain, true);
    let mut importance: Vec<(usize, f32)> = importance.into_iter().collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, gain) in importance {
        if let Some(f) = model.features.get(i) {
            out.push("importance", &f.name, f64::from(gain));
        }
    }
    let headline = model.holdout.as_ref().unwrap_or(&model.training);
    let metrics = vec![
        ("auc".to_string(), headline.auc),
        ("log_loss".to_string(), headline.log_loss),
        ("top_decile_lift".to_string(), headline.top_decile_lift),
    ];
    training::save(store, NAME, KIND, spec, metrics, &model)?;
    out.batch(&spec.name, &metric_rows::schema())
}
