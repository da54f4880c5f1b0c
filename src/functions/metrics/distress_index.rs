//! `distress_index(tickets_90d, low_csat_share, latest_nps, engagement_change,
//! subscription_lost)`: a 0-100 customer distress score with its four components.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Float64Type, Int64Type};
use datafusion::common::types::{NativeType, logical_boolean, logical_float64};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use super::rfm_segment::integer;
use crate::functions::util::invoke;

/// Any number, as Float64.
fn number() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Native(logical_float64()),
        vec![TypeSignatureClass::Numeric],
        NativeType::Float64,
    )
}

#[user_doc(
    doc_section(label = "Health Functions"),
    description = r#"A customer distress index from 0 (no sign of trouble) to 100, the sum of four components of 0-25 each, returned with the components so a person can see why:
- support: 5 points per support ticket in the last 90 days, at most 25;
- satisfaction: 25 × the larger of the share of low CSAT answers (1-2 on 1-5) and the severity of the latest NPS answer (0 → 1, 6 → 1/7, 7-10 → 0);
- engagement: 25 × the fall in engagement, engagement_change = recent / earlier activity - 1 (-0.6 is a 60% fall; growth counts 0; -1 and below count 25);
- subscription: 25 when a subscription was cancelled or failed.
A NULL input means no evidence and adds 0. Out-of-range inputs (negative tickets, a share outside 0-1, an NPS outside 0-10) are errors."#,
    syntax_example = "distress_index(tickets_90d, low_csat_share, latest_nps, engagement_change, subscription_lost)",
    sql_example = r#"```sql
> SELECT d['distress_index'] AS idx, d['support'] AS support, d['satisfaction'] AS satisfaction
  FROM (SELECT distress_index(2, 0.5, 9, -0.2, false) AS d);
+------+---------+--------------+
| idx  | support | satisfaction |
+------+---------+--------------+
| 27.5 | 10.0    | 12.5         |
+------+---------+--------------+
```"#,
    argument(
        name = "tickets_90d",
        description = "Support tickets in the last 90 days."
    ),
    argument(
        name = "low_csat_share",
        description = "Share (0-1) of the customer's CSAT answers that were 1 or 2."
    ),
    argument(name = "latest_nps", description = "The latest NPS answer, 0-10."),
    argument(
        name = "engagement_change",
        description = "Recent activity / earlier activity - 1 (e.g. last 30 days vs the 60 before, per day)."
    ),
    argument(
        name = "subscription_lost",
        description = "Whether a subscription was cancelled or failed."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DistressIndexFunc {
    signature: Signature,
}

impl Default for DistressIndexFunc {
    fn default() -> Self {
        Self {
            signature: Signature::coercible(
                vec![
                    integer(),
                    number(),
                    integer(),
                    number(),
                    Coercion::new_exact(TypeSignatureClass::Native(logical_boolean())),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

fn fields() -> Fields {
    [
        "distress_index",
        "support",
        "satisfaction",
        "engagement",
        "subscription",
    ]
    .into_iter()
    .map(|n| Field::new(n, DataType::Float64, false))
    .collect()
}

impl ScalarUDFImpl for DistressIndexFunc {
    fn name(&self) -> &str {
        "distress_index"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(&args.args, distress)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// The four components of one customer, each 0-25.
pub fn components(
    tickets: Option<i64>,
    low_csat_share: Option<f64>,
    nps: Option<i64>,
    engagement_change: Option<f64>,
    lost: Option<bool>,
) -> Result<[f64; 4]> {
    let support = match tickets {
        Some(t) if t < 0 => return exec_err!("distress_index: tickets_90d = {t} is negative"),
        Some(t) => 5.0 * t.min(5) as f64,
        None => 0.0,
    };
    let csat = match low_csat_share {
        Some(s) if !(0.0..=1.0).contains(&s) => {
            return exec_err!("distress_index: low_csat_share = {s} is outside 0-1");
        }
        Some(s) => s,
        None => 0.0,
    };
    let detractor = match nps {
        Some(n) if !(0..=10).contains(&n) => {
            return exec_err!("distress_index: latest_nps = {n} is outside 0-10");
        }
        Some(n) if n <= 6 => (7 - n) as f64 / 7.0,
        _ => 0.0,
    };
    let engagement = engagement_change.map_or(0.0, |c| (-c).clamp(0.0, 1.0));
    let subscription = if lost == Some(true) { 25.0 } else { 0.0 };
    Ok([
        support,
        25.0 * csat.max(detractor),
        25.0 * engagement,
        subscription,
    ])
}

fn distress(args: &[ArrayRef]) -> Result<ArrayRef> {
    let [tickets, csat, nps, change, lost] = args else {
        return exec_err!("distress_index takes five arguments");
    };
    let (tickets, csat, nps, change, lost) = (
        tickets.as_primitive::<Int64Type>(),
        csat.as_primitive::<Float64Type>(),
        nps.as_primitive::<Int64Type>(),
        change.as_primitive::<Float64Type>(),
        lost.as_boolean(),
    );
    let get = |a: &dyn Array, i: usize| a.is_valid(i);
    let mut columns: [Vec<f64>; 5] = Default::default();
    for i in 0..tickets.len() {
        let parts = components(
            get(tickets, i).then(|| tickets.value(i)),
            get(csat, i).then(|| csat.value(i)),
            get(nps, i).then(|| nps.value(i)),
            get(change, i).then(|| change.value(i)),
            get(lost, i).then(|| lost.value(i)),
        )?;
        columns[0].push(parts.iter().sum());
        for (c, p) in parts.into_iter().enumerate() {
            columns[c + 1].push(p);
        }
    }
    let arrays: Vec<ArrayRef> = columns
        .into_iter()
        .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef)
        .collect();
    Ok(Arc::new(StructArray::new(fields(), arrays, None)))
}
