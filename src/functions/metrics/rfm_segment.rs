//! `rfm_segment(r, f, m)`: the name of a customer's RFM segment from their recency,
//! frequency and monetary scores (1-5 each, 5 best, usually quintiles over the customer base).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::types::{NativeType, logical_int64};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use crate::functions::util::invoke;

/// Any integer, as Int64.
pub fn integer() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Native(logical_int64()),
        vec![TypeSignatureClass::Integer],
        NativeType::Int64,
    )
}

#[user_doc(
    doc_section(label = "Health Functions"),
    description = r#"The RFM segment of recency, frequency and monetary scores (1-5, 5 best: most recent, most frequent, highest spend; compute them as quintiles, e.g. ntile(5) OVER (ORDER BY days_since_last_order DESC)). F and M are combined as FM = round((F + M) / 2), then:
| R \ FM | 5-4 | 3-2 | 1 |
| 5 | Champions | Potential Loyalist | New Customers |
| 4 | Champions | Potential Loyalist | Promising |
| 3 | Loyal | Need Attention (FM 3) / About to Sleep (FM 2) | About to Sleep |
| 2 | At Risk | Hibernating | Lost |
| 1 | Can't Lose Them | Hibernating | Lost |
NULL in gives NULL; a score outside 1-5 is an error."#,
    syntax_example = "rfm_segment(r, f, m)",
    sql_example = r#"```sql
> SELECT rfm_segment(5, 5, 4) AS a, rfm_segment(2, 5, 5) AS b, rfm_segment(1, 1, 1) AS c;
+-----------+---------+------+
| a         | b       | c    |
+-----------+---------+------+
| Champions | At Risk | Lost |
+-----------+---------+------+
```"#,
    argument(
        name = "r",
        description = "Recency score, 1-5 (5: bought most recently)."
    ),
    argument(name = "f", description = "Frequency score, 1-5 (5: buys most often)."),
    argument(name = "m", description = "Monetary score, 1-5 (5: spends most).")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RfmSegmentFunc {
    signature: Signature,
}

impl Default for RfmSegmentFunc {
    fn default() -> Self {
        Self {
            signature: Signature::coercible(vec![integer(); 3], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RfmSegmentFunc {
    fn name(&self) -> &str {
        "rfm_segment"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(&args.args, rfm_segments)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// The segment of one customer's scores.
pub fn segment(r: i64, f: i64, m: i64) -> Result<&'static str> {
    for (name, score) in [("r", r), ("f", f), ("m", m)] {
        if !(1..=5).contains(&score) {
            return exec_err!("rfm_segment: {name} = {score} is outside 1-5");
        }
    }
    let fm = (f + m + 1) / 2;
    Ok(match (r, fm) {
        (4..=5, 4..=5) => "Champions",
        (3, 4..=5) => "Loyal",
        (4..=5, 2..=3) => "Potential Loyalist",
        (5, _) => "New Customers",
        (4, _) => "Promising",
        (3, 3) => "Need Attention",
        (3, _) => "About to Sleep",
        (2, 4..=5) => "At Risk",
        (_, 4..=5) => "Can't Lose Them",
        (_, 2..=3) => "Hibernating",
        _ => "Lost",
    })
}

fn rfm_segments(args: &[ArrayRef]) -> Result<ArrayRef> {
    let [r, f, m] = args else {
        return exec_err!("rfm_segment takes three scores");
    };
    let (r, f, m) = (
        r.as_primitive::<Int64Type>(),
        f.as_primitive::<Int64Type>(),
        m.as_primitive::<Int64Type>(),
    );
    let mut out = StringBuilder::with_capacity(r.len(), r.len() * 12);
    for i in 0..r.len() {
        match (r.is_valid(i), f.is_valid(i), m.is_valid(i)) {
            (true, true, true) => out.append_value(segment(r.value(i), f.value(i), m.value(i))?),
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_score_combination_has_a_segment() {
        let mut seen = std::collections::BTreeSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    seen.insert(segment(r, f, m).unwrap());
                }
            }
        }
        assert_eq!(seen.len(), 11, "{seen:?}");
        assert!(segment(0, 1, 1).is_err());
    }
}
