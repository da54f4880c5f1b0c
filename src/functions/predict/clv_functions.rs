//! `p_alive`, `expected_purchases`, `expected_spend` and `clv`: apply a lifetime-value model
//! fitted by `fit_clv_model` to customer summaries (`clv_summary`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Float64Builder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::ModelFunc;
use crate::functions::util::{finish, string_constant};
use crate::models::clv::{ClvModel, KIND, Summary};
use crate::models::store::ModelStore;

/// The four functions over `store`.
pub fn functions(store: &Arc<ModelStore>) -> Vec<ScalarUDF> {
    [
        Output::PAlive,
        Output::ExpectedPurchases,
        Output::ExpectedSpend,
        Output::Clv,
    ]
    .into_iter()
    .map(|output| {
        ScalarUDF::new_from_impl(ClvFunc::new(
            output,
            store,
            Signature::user_defined(Volatility::Stable),
        ))
    })
    .collect()
}

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The probability that a customer is still active (has not silently churned), \
        from a BG/NBD or Pareto/NBD model fitted by fit_clv_model. A customer with no repeat \
        purchase is alive with probability 1 under BG/NBD. NULL when an argument is NULL.",
    syntax_example = "p_alive(model, frequency, recency, t)",
    sql_example = r#"```sql
> SELECT round(p_alive('clv', 2, 30.43, 38.86), 3) AS p;
```"#,
    argument(name = "model", description = "The model's name (models/NAME.json)."),
    argument(
        name = "frequency",
        description = "Repeat purchases, from clv_summary."
    ),
    argument(
        name = "recency",
        description = "Periods from the first to the last purchase."
    ),
    argument(
        name = "t",
        description = "Periods from the first purchase to the cut-off."
    )
)]
#[derive(Debug)]
struct PAliveDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The expected number of purchases in the next `horizon` periods (the unit \
        the model was fitted in), given the customer's summary.",
    syntax_example = "expected_purchases(model, horizon, frequency, recency, t)",
    sql_example = r#"```sql
> SELECT customer_id, round(expected_purchases('clv', 90, frequency, recency, t), 2) AS orders
  FROM clv_inputs ORDER BY customer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name."),
    argument(name = "horizon", description = "Periods ahead, >= 0."),
    argument(name = "frequency", description = "Repeat purchases."),
    argument(
        name = "recency",
        description = "Periods from the first to the last purchase."
    ),
    argument(
        name = "t",
        description = "Periods from the first purchase to the cut-off."
    )
)]
#[derive(Debug)]
struct ExpectedPurchasesDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The expected value of the customer's next purchases (Gamma-Gamma): their \
        own mean repeat value shrunk towards the population mean, the less so the more repeat \
        purchases they made. With frequency 0 it is the population mean.",
    syntax_example = "expected_spend(model, frequency, monetary_value)",
    sql_example = r#"```sql
> SELECT round(expected_spend('clv', 2, 22.35), 2) AS spend;
```"#,
    argument(
        name = "model",
        description = "The model's name (fitted with monetary values)."
    ),
    argument(name = "frequency", description = "Repeat purchases."),
    argument(
        name = "monetary_value",
        description = "Mean value of the repeat purchases (ignored when frequency is 0)."
    )
)]
#[derive(Debug)]
struct ExpectedSpendDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "Customer lifetime value over the next `months` months: for each month, the \
        expected purchases in it times the expected spend, discounted at `discount_rate` per \
        month (the method of the lifetimes package, so figures compare).",
    syntax_example = "clv(model, months, discount_rate, frequency, recency, t, monetary_value)",
    sql_example = r#"```sql
> SELECT round(clv('clv', 12, 0.01, 2, 30.43, 38.86, 22.35), 2) AS clv;
```"#,
    argument(
        name = "model",
        description = "The model's name (fitted with monetary values)."
    ),
    argument(name = "months", description = "The horizon in months, 0 to 1200."),
    argument(
        name = "discount_rate",
        description = "Monthly discount rate, e.g. 0.01."
    ),
    argument(name = "frequency", description = "Repeat purchases."),
    argument(
        name = "recency",
        description = "Periods from the first to the last purchase."
    ),
    argument(
        name = "t",
        description = "Periods from the first purchase to the cut-off."
    ),
    argument(
        name = "monetary_value",
        description = "Mean value of the repeat purchases."
    )
)]
#[derive(Debug)]
struct ClvDoc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Output {
    PAlive,
    ExpectedPurchases,
    ExpectedSpend,
    Clv,
}

impl Output {
    fn name(self) -> &'static str {
        match self {
            Self::PAlive => "p_alive",
            Self::ExpectedPurchases => "expected_purchases",
            Self::ExpectedSpend => "expected_spend",
            Self::Clv => "clv",
        }
    }

    fn arguments(self) -> &'static str {
        match self {
            Self::PAlive => "model, frequency, recency, t",
            Self::ExpectedPurchases => "model, horizon, frequency, recency, t",
            Self::ExpectedSpend => "model, frequency, monetary_value",
            Self::Clv => "model, months, discount_rate, frequency, recency, t, monetary_value",
        }
    }

    fn arity(self) -> usize {
        self.arguments().split(',').count()
    }
}

pub(super) type ClvFunc = ModelFunc<Output>;

impl ScalarUDFImpl for ClvFunc {
    fn name(&self) -> &str {
        self.output.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.output.name();
        if types.len() != self.output.arity() {
            return plan_err!(
                "{name} takes {} arguments ({}), got {}",
                self.output.arity(),
                self.output.arguments(),
                types.len()
            );
        }
        if !matches!(
            types[0],
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ) {
            return plan_err!(
                "{name}: the model is {}, expected its name as a string",
                types[0]
            );
        }
        let names: Vec<&str> = self.output.arguments().split(", ").collect();
        let mut out = vec![DataType::Utf8];
        for (t, what) in types[1..].iter().zip(&names[1..]) {
            if !(t.is_numeric() || *t == DataType::Null) {
                return plan_err!("{name}: {what} is {t}, expected a number");
            }
            out.push(DataType::Float64);
        }
        Ok(out)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = self.output.name();
        let Some(model_name) = string_constant(&args, 0) else {
            return exec_err!(
                "{name}: the model must be a string constant naming models/NAME.json, such \
                 as {name}('clv', ...)"
            );
        };
        let retrain = format!(
            "fit it with SELECT * FROM fit_clv_model('{model_name}', 'TABLE') over a table of \
             clv_summary columns"
        );
        let model = self.load::<ClvModel>(&model_name, KIND, &retrain)?;
        let columns = args.args[1..]
            .iter()
            .map(|a| {
                let array = a.to_array(args.number_rows)?;
                Ok(cast(&array, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone())
            })
            .collect::<Result<Vec<Float64Array>>>()?;
        let array = kernel(self.output, &model, &columns, args.number_rows)?;
        finish(array, &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        match self.output {
            Output::PAlive => PAliveDoc.doc(),
            Output::ExpectedPurchases => ExpectedPurchasesDoc.doc(),
            Output::ExpectedSpend => ExpectedSpendDoc.doc(),
            Output::Clv => ClvDoc.doc(),
        }
    }
}

/// The function over the argument columns (after the model name), row by row; NULL in any
/// argument gives NULL.
fn kernel(
    output: Output,
    model: &ClvModel,
    columns: &[Float64Array],
    rows: usize,
) -> Result<ArrayRef> {
    let name = output.name();
    let purchase = model.purchase();
    let spend = model.spend();
    if matches!(output, Output::ExpectedSpend | Output::Clv) && spend.is_none() {
        return exec_err!(
            "{name}: model was fitted without monetary values, so it has no spend model; refit \
             it on a table with a monetary_value column"
        );
    }
    let mut out = Float64Builder::with_capacity(rows);
    let mut values = vec![0.0; columns.len()];
    for row in 0..rows {
        if columns.iter().any(|c| c.is_null(row)) {
            out.append_null();
            continue;
        }
        for (v, c) in values.iter_mut().zip(columns) {
            *v = c.value(row);
        }
        let summary = |offset: usize| Summary {
            frequency: values[offset],
            recency: values[offset + 1],
            t: values[offset + 2],
            monetary_value: values.get(offset + 3).copied(),
        };
        let check = |s: &Summary| match s.problem() {
            Some(problem) => exec_err!("{name}: row {row}: {problem}"),
            None => Ok(()),
        };
        let value = match output {
            Output::PAlive => {
                let s = summary(0);
                check(&s)?;
                purchase.p_alive(s.frequency, s.recency, s.t)
            }
            Output::ExpectedPurchases => {
                let horizon = values[0];
                if !(horizon >= 0.0 && horizon.is_finite()) {
                    return exec_err!("{name}: row {row}: horizon {horizon} must be >= 0");
                }
                let s = summary(1);
                check(&s)?;
                purchase.expected_purchases(horizon, s.frequency, s.recency, s.t)
            }
            Output::ExpectedSpend => {
                let (x, m) = (values[0], values[1]);
                if x < 0.0 || (x > 0.0 && (m.is_nan() || m <= 0.0)) {
                    return exec_err!(
                        "{name}: row {row}: frequency {x} and monetary_value {m}: expected \
                         frequency >= 0 and a positive mean value"
                    );
                }
                spend.map_or(f64::NAN, |g| g.expected_spend(x, m))
            }
            Output::Clv => {
                let (months, rate) = (values[0], values[1]);
                if !(0.0..=1200.0).contains(&months) || months.fract() != 0.0 {
                    return exec_err!(
                        "{name}: row {row}: months {months}: expected a whole number from 0 to 1200"
                    );
                }
                if !(rate > -1.0 && rate.is_finite()) {
                    return exec_err!("{name}: row {row}: discount_rate {rate} must be > -1");
                }
                let s = summary(2);
                check(&s)?;
                model.clv(months as u32, rate, &s).unwrap_or(f64::NAN)
            }
        };
        out.append_value(value);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::clv::{PurchaseFit, PurchaseKind, SpendFit};

    /// The CDNOW model at Hardie's precision, in weeks.
    fn cdnow() -> ClvModel {
        ClvModel {
            unit: "week".into(),
            purchase: PurchaseFit {
                kind: PurchaseKind::BgNbd,
                parameters: vec![
                    ("r".into(), 0.242594),
                    ("alpha".into(), 4.413568),
                    ("a".into(), 0.792919),
                    ("b".into(), 2.425907),
                ],
                log_likelihood: -9582.4,
                customers: 2357,
                iterations: 0,
                converged: true,
            },
            spend: Some(SpendFit {
                p: 6.248802,
                q: 3.744588,
                gamma: 15.447748,
                log_likelihood: -4055.9,
                customers: 946,
                iterations: 0,
                converged: true,
            }),
        }
    }

    fn column(v: &[Option<f64>]) -> Float64Array {
        Float64Array::from(v.to_vec())
    }

    #[test]
    fn kernels_match_lifetimes_and_map_null_to_null() {
        let model = cdnow();
        let p = kernel(
            Output::PAlive,
            &model,
            &[
                column(&[Some(2.0), None]),
                column(&[Some(30.43), Some(1.0)]),
                column(&[Some(38.86), Some(2.0)]),
            ],
            2,
        )
        .unwrap();
        let p = p.as_primitive::<Float64Type>();
        // lifetimes: BetaGeoFitter on CDNOW, conditional_probability_alive(2, 30.43, 38.86).
        assert!((p.value(0) - 0.7266).abs() < 1e-3, "{}", p.value(0));
        assert!(p.is_null(1));
        let spend = kernel(
            Output::ExpectedSpend,
            &model,
            &[column(&[Some(2.0)]), column(&[Some(22.35)])],
            1,
        )
        .unwrap();
        // lifetimes: conditional_expected_average_profit(2, 22.35) = 24.6586.
        assert!((spend.as_primitive::<Float64Type>().value(0) - 24.6586).abs() < 1e-3);
        let value = kernel(
            Output::Clv,
            &model,
            &[
                column(&[Some(12.0)]),
                column(&[Some(0.01)]),
                column(&[Some(2.0)]),
                column(&[Some(30.43)]),
                column(&[Some(38.86)]),
                column(&[Some(22.35)]),
            ],
            1,
        )
        .unwrap();
        // lifetimes: customer_lifetime_value(bgf, 2, 30.43, 38.86, 22.35, time=12,
        // discount_rate=0.01, freq='W') = 36.2785.
        let got = value.as_primitive::<Float64Type>().value(0);
        assert!((got - 36.2785).abs() < 0.01, "{got}");
    }

    #[test]
    fn bad_rows_are_errors_naming_the_row() {
        let model = cdnow();
        let e = kernel(
            Output::PAlive,
            &model,
            &[
                column(&[Some(1.0)]),
                column(&[Some(9.0)]),
                column(&[Some(2.0)]),
            ],
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("p_alive: row 0: recency 9 is later than t 2"),
            "{e}"
        );
        let e = kernel(
            Output::ExpectedPurchases,
            &model,
            &[
                column(&[Some(-1.0)]),
                column(&[Some(1.0)]),
                column(&[Some(1.0)]),
                column(&[Some(2.0)]),
            ],
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("horizon -1 must be >= 0"), "{e}");
    }
}
