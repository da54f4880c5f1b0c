//! `offer_uplift`, `offer_acceptance` and `offer_baseline`: apply an uplift model trained by
//! `train_uplift` to feature columns given in the model's order.

use std::sync::Arc;

use datafusion::arrow::array::Float64Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::{FeatureScoring, ModelFunc, check_scoring_call};
use crate::functions::util::finish;
use crate::models::store::ModelStore;
use crate::models::uplift::UpliftModel;

/// The three functions over `store`.
pub fn functions(store: &Arc<ModelStore>) -> Vec<ScalarUDF> {
    [Output::Uplift, Output::Acceptance, Output::Baseline]
        .into_iter()
        .map(|output| {
            ScalarUDF::new_from_impl(OfferFunc::new(
                output,
                store,
                Signature::variadic_any(Volatility::Stable),
            ))
        })
        .collect()
}

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "What sending the offer adds to the probability of converting: the treated \
        model's probability less the control model's, from the uplift model saved by \
        train_uplift. Negative when the offer puts people off (or the customer would have \
        bought anyway at full price). The features follow the name in the order of the \
        training table's columns; NULL features are missing values the trees route.",
    syntax_example = "offer_uplift(model, feature_1, ..., feature_n)",
    sql_example = r#"```sql
> SELECT customer_id, offer_id, offer_uplift('offers', offer_kind, offer_category, discount_pct,
    category_orders, category_views, category_share, category_view_share, orders_365d, spend_365d,
    days_since_order, web_90d, emails_opened_90d, emails_clicked_90d, past_offers,
    past_conversions, past_discount_offers, past_discount_conversions, past_control_conversions) AS uplift
  FROM offer_features WHERE snapshot = 'score' ORDER BY customer_id, offer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name (models/NAME.json)."),
    argument(
        name = "feature_k",
        description = "The features, in the model's order."
    )
)]
#[derive(Debug)]
struct UpliftDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The probability of converting if the offer is sent (the treated model).",
    syntax_example = "offer_acceptance(model, feature_1, ..., feature_n)",
    sql_example = r#"```sql
> SELECT customer_id, offer_id, offer_acceptance('offers', offer_kind, offer_category, discount_pct,
    category_orders, category_views, category_share, category_view_share, orders_365d, spend_365d,
    days_since_order, web_90d, emails_opened_90d, emails_clicked_90d, past_offers,
    past_conversions, past_discount_offers, past_discount_conversions, past_control_conversions) AS p
  FROM offer_features WHERE snapshot = 'score' ORDER BY customer_id, offer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name."),
    argument(
        name = "feature_k",
        description = "The features, in the model's order."
    )
)]
#[derive(Debug)]
struct AcceptanceDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The probability of converting without the offer (the control model).",
    syntax_example = "offer_baseline(model, feature_1, ..., feature_n)",
    sql_example = r#"```sql
> SELECT customer_id, offer_id, offer_baseline('offers', offer_kind, offer_category, discount_pct,
    category_orders, category_views, category_share, category_view_share, orders_365d, spend_365d,
    days_since_order, web_90d, emails_opened_90d, emails_clicked_90d, past_offers,
    past_conversions, past_discount_offers, past_discount_conversions, past_control_conversions) AS p
  FROM offer_features WHERE snapshot = 'score' ORDER BY customer_id, offer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name."),
    argument(
        name = "feature_k",
        description = "The features, in the model's order."
    )
)]
#[derive(Debug)]
struct BaselineDoc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Output {
    Uplift,
    Acceptance,
    Baseline,
}

impl Output {
    fn name(self) -> &'static str {
        match self {
            Self::Uplift => "offer_uplift",
            Self::Acceptance => "offer_acceptance",
            Self::Baseline => "offer_baseline",
        }
    }
}

pub(super) type OfferFunc = ModelFunc<Output>;

impl ScalarUDFImpl for OfferFunc {
    fn name(&self) -> &str {
        self.output.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        check_scoring_call(self.output.name(), args, "features")?;
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = self.output.name();
        let call = FeatureScoring::<UpliftModel>::read(
            self,
            &args,
            name,
            "train_uplift('NAME', 'TABLE', 'LABEL', 'TREATMENT', 'KEY')",
        )?;
        let (model, rows) = (&call.model, args.number_rows);
        // Each output scores only the response models it reads.
        let values = match self.output {
            Output::Uplift => model.responses(&call.data, rows).uplift(),
            Output::Acceptance => model.treated.probabilities(&call.data, rows),
            Output::Baseline => model.control.probabilities(&call.data, rows),
        };
        finish(Arc::new(Float64Array::from(values)), &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        match self.output {
            Output::Uplift => UpliftDoc.doc(),
            Output::Acceptance => AcceptanceDoc.doc(),
            Output::Baseline => BaselineDoc.doc(),
        }
    }
}
