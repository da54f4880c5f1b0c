//! `sessionize(timestamp [, gap]) OVER (PARTITION BY user ORDER BY timestamp)`: the session
//! number of each event, a new session starting after `gap` of inactivity (30 minutes unless
//! given).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Builder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, TypeSignature, Volatility, WindowUDFImpl,
};
use datafusion::physical_expr::expressions::Literal;
use datafusion_macros::user_doc;

use super::events::{MICROS_PER_SECOND, micros};
use super::window_funnel::window_micros;

/// The inactivity that ends a session unless another gap is given.
const DEFAULT_GAP: i64 = 30 * 60 * MICROS_PER_SECOND;

#[user_doc(
    doc_section(label = "Journey Functions"),
    description = "Session number (1, 2, ...) of each event within its partition: a new \
        session starts when more than `gap` passed since the previous event (30 minutes by \
        default, as web analytics tools count). Needs OVER (PARTITION BY user ORDER BY \
        timestamp); events out of order are an error. Events at the same time stay in one \
        session; a NULL timestamp gets a NULL session.",
    syntax_example = "sessionize(timestamp [, gap]) OVER (PARTITION BY user ORDER BY timestamp)",
    sql_example = r#"```sql
> SELECT at, sessionize(at) OVER (ORDER BY at) AS session
  FROM (VALUES (TIMESTAMP '2025-01-01 10:00:00'), (TIMESTAMP '2025-01-01 10:20:00'),
               (TIMESTAMP '2025-01-01 11:00:00')) AS t(at);
+---------------------+---------+
| at                  | session |
+---------------------+---------+
| 2025-01-01T10:00:00 | 1       |
| 2025-01-01T10:20:00 | 1       |
| 2025-01-01T11:00:00 | 2       |
+---------------------+---------+
```"#,
    argument(
        name = "timestamp",
        description = "The event time: a timestamp, a date or integer seconds."
    ),
    argument(
        name = "gap",
        description = "Optional positive constant: an interval or a number of seconds (default 30 minutes)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SessionizeFunc {
    signature: Signature,
}

impl Default for SessionizeFunc {
    fn default() -> Self {
        Self {
            signature: Signature::one_of(
                vec![TypeSignature::Any(1), TypeSignature::Any(2)],
                Volatility::Immutable,
            ),
        }
    }
}

impl WindowUDFImpl for SessionizeFunc {
    fn name(&self) -> &str {
        "sessionize"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let gap = match args.input_exprs().get(1) {
            None => DEFAULT_GAP,
            Some(expr) => match expr.downcast_ref::<Literal>() {
                Some(literal) => window_micros("sessionize", "gap", literal.value())?,
                None => return plan_err!("sessionize: the gap must be a constant"),
            },
        };
        Ok(Box::new(Sessions { gap }))
    }

    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        if let Some(time) = args.get_input_field(0) {
            let ok = matches!(
                time.data_type(),
                DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Null
            ) || time.data_type().is_integer();
            if !ok {
                return plan_err!(
                    "sessionize: the timestamp argument is {}, expected a timestamp, a date or integer seconds",
                    time.data_type()
                );
            }
        }
        Ok(Arc::new(Field::new(args.name(), DataType::Int64, true)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Numbers the sessions of one partition.
#[derive(Debug)]
struct Sessions {
    gap: i64,
}

impl PartitionEvaluator for Sessions {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let Some(times) = values.first() else {
            return exec_err!("sessionize: missing timestamp argument");
        };
        let times = micros(times, "sessionize")?;
        let mut out = Int64Builder::with_capacity(num_rows);
        let (mut session, mut previous) = (0i64, None::<i64>);
        for row in 0..num_rows {
            if times.is_null(row) {
                out.append_null();
                continue;
            }
            let at = times.value(row);
            match previous {
                Some(p) if at < p => {
                    return exec_err!(
                        "sessionize: events out of order ({} after {}); use OVER (PARTITION BY \
                         user ORDER BY the timestamp)",
                        ScalarValue::TimestampMicrosecond(Some(at), None),
                        ScalarValue::TimestampMicrosecond(Some(p), None)
                    );
                }
                Some(p) if at - p <= self.gap => {}
                _ => session += 1,
            }
            previous = Some(at);
            out.append_value(session);
        }
        Ok(Arc::new(out.finish()))
    }
}
