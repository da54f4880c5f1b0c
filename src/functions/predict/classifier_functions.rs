//! `churn_probability`, `churn_factors`, `churn_percentile` and `churn_risk_band`: apply a
//! classifier trained by `train_classifier` (any binary label; churn is the usual one) to
//! feature columns given in the model's order.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, ListBuilder, StringArray,
    StringBuilder, StructBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Float64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::ModelFunc;
use super::{FeatureScoring, check_scoring_call, model_and_arguments};
use crate::functions::util::finish;
use crate::models::classifier::{ClassifierModel, KIND, risk_band};
use crate::models::store::ModelStore;

/// Contributions listed by `churn_factors`.
pub const TOP_FACTORS: usize = 5;

/// The four functions over `store`.
pub fn functions(store: &Arc<ModelStore>) -> Vec<ScalarUDF> {
    [
        Output::Probability,
        Output::Factors,
        Output::Percentile,
        Output::Band,
    ]
    .into_iter()
    .map(|output| {
        ScalarUDF::new_from_impl(ClassifierFunc {
            aliases: match output {
                Output::Probability => vec!["predict_probability".to_string()],
                _ => Vec::new(),
            },
            ..ClassifierFunc::new(output, store, Signature::variadic_any(Volatility::Stable))
        })
    })
    .collect()
}

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The probability of the label a classifier was trained for (for a churn \
        model: that the customer churns in the label's horizon), from the gradient-boosted \
        model saved by train_classifier. The features follow the name, in the order of the \
        training table's columns (an error lists them); NULL features are missing values the \
        trees were trained to route. Also called predict_probability.",
    syntax_example = "churn_probability(model, feature_1, ..., feature_n)",
    sql_example = r#"```sql
> SELECT customer_id, round(churn_probability('churn', days_since_activity, tenure_days,
    days_since_order, orders, orders_30d, orders_90d, orders_90_180d, spend, spend_90d, web_30d,
    web_90d, web_90_180d, carts_90d, emails_opened_90d, emails_clicked_90d, unsubscribed, tickets,
    tickets_90d, average_csat, worst_csat_180d, latest_nps, had_trial, subscribed, cancelled,
    cancelled_90d), 3) AS p
  FROM churn_scoring ORDER BY customer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name (models/NAME.json)."),
    argument(
        name = "feature_k",
        description = "The features, in the model's order."
    )
)]
#[derive(Debug)]
struct ProbabilityDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "Why: the five features that moved this customer's score most, each with \
        its value and its contribution in log-odds (path attribution; positive raises the \
        probability), largest first. The contributions of all features plus the model's base \
        add up to the score's log-odds.",
    syntax_example = "churn_factors(model, feature_1, ..., feature_n)",
    sql_example = r#"```sql
> SELECT customer_id, churn_factors('churn', days_since_activity, tenure_days,
    days_since_order, orders, orders_30d, orders_90d, orders_90_180d, spend, spend_90d, web_30d,
    web_90d, web_90_180d, carts_90d, emails_opened_90d, emails_clicked_90d, unsubscribed, tickets,
    tickets_90d, average_csat, worst_csat_180d, latest_nps, had_trial, subscribed, cancelled,
    cancelled_90d)[1] AS top_factor
  FROM churn_scoring ORDER BY customer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name."),
    argument(
        name = "feature_k",
        description = "The features, in the model's order."
    )
)]
#[derive(Debug)]
struct FactorsDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "Where a probability falls among the scores of the model's holdout customers \
        (0-100; 95 means riskier than 95% of them).",
    syntax_example = "churn_percentile(model, probability)",
    sql_example = r#"```sql
> SELECT churn_percentile('churn', 0.42);
```"#,
    argument(name = "model", description = "The model's name."),
    argument(name = "probability", description = "A score of that model.")
)]
#[derive(Debug)]
struct PercentileDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The risk band of a probability: 'high' for the riskiest 10% of the model's \
        holdout customers, 'medium' for the next 20%, 'low' for the rest.",
    syntax_example = "churn_risk_band(model, probability)",
    sql_example = r#"```sql
> SELECT churn_risk_band('churn', 0.42);
```"#,
    argument(name = "model", description = "The model's name."),
    argument(name = "probability", description = "A score of that model.")
)]
#[derive(Debug)]
struct BandDoc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Output {
    Probability,
    Factors,
    Percentile,
    Band,
}

impl Output {
    fn name(self) -> &'static str {
        match self {
            Self::Probability => "churn_probability",
            Self::Factors => "churn_factors",
            Self::Percentile => "churn_percentile",
            Self::Band => "churn_risk_band",
        }
    }
}

pub(super) type ClassifierFunc = ModelFunc<Output>;

fn factor_fields() -> Fields {
    Fields::from(vec![
        Field::new("feature", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
        Field::new("contribution", DataType::Float64, true),
    ])
}

impl ScalarUDFImpl for ClassifierFunc {
    fn name(&self) -> &str {
        self.output.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        check_scoring_call(self.output.name(), args, "arguments")?;
        Ok(match self.output {
            Output::Probability | Output::Percentile => DataType::Float64,
            Output::Band => DataType::Utf8,
            Output::Factors => DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(factor_fields()),
                true,
            ))),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = self.output.name();
        let train = "train_classifier('NAME', 'TABLE', 'LABEL', 'KEY')";
        let array = match self.output {
            Output::Probability | Output::Factors => {
                let call = FeatureScoring::<ClassifierModel>::read(self, &args, name, train)?;
                if self.output == Output::Probability {
                    Arc::new(Float64Array::from(
                        call.model.probabilities(&call.data, args.number_rows),
                    )) as ArrayRef
                } else {
                    factors(&call.model, &call.columns, &call.data, args.number_rows)?
                }
            }
            Output::Percentile | Output::Band => {
                let (_, model, columns) =
                    model_and_arguments::<ClassifierModel, _>(self, &args, name, KIND, train)?;
                if columns.len() != 1 {
                    return exec_err!("{name} takes two arguments: model, probability");
                }
                let p = cast(&columns[0], &DataType::Float64)?;
                let p = p.as_primitive::<Float64Type>();
                let percentile = |i: usize| p.is_valid(i).then(|| model.percentile(p.value(i)));
                if self.output == Output::Percentile {
                    Arc::new(Float64Array::from_iter((0..p.len()).map(percentile))) as ArrayRef
                } else {
                    Arc::new(StringArray::from_iter(
                        (0..p.len()).map(|i| percentile(i).map(risk_band)),
                    ))
                }
            }
        };
        finish(array, &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        match self.output {
            Output::Probability => ProbabilityDoc.doc(),
            Output::Factors => FactorsDoc.doc(),
            Output::Percentile => PercentileDoc.doc(),
            Output::Band => BandDoc.doc(),
        }
    }
}

/// The top contributions of each row, with the feature's value as text.
fn factors(
    model: &ClassifierModel,
    columns: &[ArrayRef],
    data: &[f64],
    rows: usize,
) -> Result<ArrayRef> {
    let width = model.features.len() + 1;
    let contributions = model.contributions(data, rows);
    // Values as a person reads them: fractions to two decimals, the rest as SQL prints them.
    let shown: Vec<ArrayRef> = columns
        .iter()
        .map(|c| match c.data_type() {
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                let v = cast(c, &DataType::Float64)?;
                let v = v.as_primitive::<Float64Type>();
                Ok(Arc::new(StringArray::from_iter(v.iter().map(|x| {
                    x.map(|x| {
                        let text = format!("{x:.2}");
                        text.trim_end_matches('0').trim_end_matches('.').to_string()
                    })
                }))) as ArrayRef)
            }
            _ => cast(c, &DataType::Utf8),
        })
        .collect::<std::result::Result<_, ArrowError>>()?;
    let entry = StructBuilder::from_fields(factor_fields(), rows * TOP_FACTORS);
    let mut list = ListBuilder::new(entry).with_field(Arc::new(Field::new(
        "item",
        DataType::Struct(factor_fields()),
        true,
    )));
    let mut order: Vec<usize> = Vec::with_capacity(width);
    for row in 0..rows {
        let c = &contributions[row * width..(row + 1) * width - 1];
        order.clear();
        order.extend(0..c.len());
        order.sort_by(|&a, &b| c[b].abs().total_cmp(&c[a].abs()).then(a.cmp(&b)));
        let entries = list.values();
        for &k in order.iter().take(TOP_FACTORS) {
            let value = shown[k].as_string::<i32>();
            if let Some(b) = entries.field_builder::<StringBuilder>(0) {
                b.append_value(&model.features[k].name);
            }
            if let Some(b) = entries.field_builder::<StringBuilder>(1) {
                b.append_option(value.is_valid(row).then(|| value.value(row)));
            }
            if let Some(b) = entries.field_builder::<Float64Builder>(2) {
                b.append_value(c[k]);
            }
            entries.append(true);
        }
        list.append(true);
    }
    Ok(Arc::new(list.finish()))
}
