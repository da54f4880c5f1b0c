//! `train_match_model(setup)`: estimate a setup's match model, save it and return its levels.

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::prelude::SessionContext;

use crate::models::matching::{Matching, train};

pub(super) async fn train_batch(
    ctx: &SessionContext,
    matching: &Matching,
    name: &str,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let config = matching.config(name)?;
    let model = train::train(ctx, name, config).await?;
    let path = matching.save(name, &model)?;
    tracing::info!("match model '{name}' saved to {}", path.display());
    let mut comparison = vec![Some("prior".to_string())];
    let mut level = vec![None];
    let mut label = vec![Some("probability two random records match".to_string())];
    let mut m = vec![Some(model.prior)];
    let mut u = vec![None];
    let mut factor = vec![Some(model.prior / (1.0 - model.prior))];
    let mut weight = vec![Some(model.prior_weight())];
    for c in &model.comparisons {
        for (l, lv) in c.levels.iter().enumerate() {
            comparison.push(Some(c.config.display_name().to_string()));
            level.push(Some(l as i32));
            label.push(Some(lv.label.clone()));
            m.push(Some(lv.m));
            u.push(Some(lv.u));
            factor.push(Some(lv.bayes_factor));
            weight.push(Some(lv.weight));
        }
    }
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(StringArray::from(comparison)),
            Arc::new(Int32Array::from(level)),
            Arc::new(StringArray::from(label)),
            Arc::new(Float64Array::from(m)),
            Arc::new(Float64Array::from(u)),
            Arc::new(Float64Array::from(factor)),
            Arc::new(Float64Array::from(weight)),
        ],
    )?)
}
