//! `clv_summary(at, value, observation_end [, unit])`: one customer's transactions as the
//! lifetime-value models read them: repeat-purchase frequency, recency, age and mean repeat
//! value, counted in whole periods (day, week or month) as the `lifetimes` package counts them.

use std::mem::size_of;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility,
};
use datafusion_macros::user_doc;

use crate::functions::journey::events::{literal_argument, micros};
use crate::functions::util::{for_each_state_row, list_state};
use crate::values::scalar_text;

const NAME: &str = "clv_summary";
const MICROS_PER_DAY: i64 = 86_400_000_000;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "A customer's transactions summarised for the lifetime-value models, as a \
        struct of `frequency` (periods with a purchase after the first one), `recency` (periods \
        from the first to the last purchase), `t` (periods from the first purchase to \
        `observation_end`) and `monetary_value` (mean value of the repeat periods, the values of \
        one period added up; NULL without a repeat purchase). Purchases after `observation_end` \
        are left out, so the same data gives features as of a cut-off. Periods are whole days \
        (default), weeks (Monday to Sunday) or calendar months. Rows with a NULL time are left \
        out; a NULL value counts as a purchase of unknown value. NULL when no purchase is left.",
    syntax_example = "clv_summary(at, value, observation_end [, unit])",
    sql_example = r#"```sql
> SELECT s['frequency'] AS frequency, s['recency'] AS recency, s['t'] AS t,
  s['monetary_value'] AS monetary_value
  FROM (SELECT clv_summary(at, amount, TIMESTAMP '2024-01-31') AS s
        FROM (VALUES (TIMESTAMP '2024-01-01 10:00:00', 10.0), (TIMESTAMP '2024-01-01 18:00:00', 5.0),
                     (TIMESTAMP '2024-01-11', 20.0), (TIMESTAMP '2024-01-21', 40.0)) AS t(at, amount));
+-----------+---------+------+----------------+
| frequency | recency | t    | monetary_value |
+-----------+---------+------+----------------+
| 2         | 20.0    | 30.0 | 30.0           |
+-----------+---------+------+----------------+
```"#,
    argument(
        name = "at",
        description = "When the purchase was made: a timestamp or a date."
    ),
    argument(name = "value", description = "What it was worth (a number)."),
    argument(
        name = "observation_end",
        description = "The end of the observation (the cut-off), the same for every row of a customer."
    ),
    argument(
        name = "unit",
        description = "'day' (default), 'week' or 'month', a constant."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ClvSummaryFunc {
    signature: Signature,
}

impl Default for ClvSummaryFunc {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// A period unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Day,
    Week,
    Month,
}

impl Unit {
    fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "day" | "days" => Ok(Self::Day),
            "week" | "weeks" => Ok(Self::Week),
            "month" | "months" => Ok(Self::Month),
            other => plan_err!("{NAME}: unit '{other}': expected 'day', 'week' or 'month'"),
        }
    }

    /// The period holding the instant `micros` (UTC).
    fn period(self, micros: i64) -> i64 {
        let days = micros.div_euclid(MICROS_PER_DAY);
        match self {
            Self::Day => days,
            // 1970-01-01 was a Thursday: shifting by 3 days starts weeks on Monday.
            Self::Week => (days + 3).div_euclid(7),
            Self::Month => {
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                let date = epoch
                    .checked_add_signed(chrono::Duration::days(days))
                    .unwrap_or(epoch);
                i64::from(date.year()) * 12 + i64::from(date.month0())
            }
        }
    }
}

/// The fields of the result.
pub fn summary_fields() -> Fields {
    Fields::from(vec![
        Field::new("frequency", DataType::Int64, false),
        Field::new("recency", DataType::Float64, false),
        Field::new("t", DataType::Float64, false),
        Field::new("monetary_value", DataType::Float64, true),
    ])
}

impl AggregateUDFImpl for ClvSummaryFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if !(3..=4).contains(&types.len()) {
            return plan_err!(
                "{NAME} takes 3 or 4 arguments (at, value, observation_end [, unit]), got {}",
                types.len()
            );
        }
        let time = |what: &str, t: &DataType| match t {
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Null => {
                Ok(t.clone())
            }
            other => plan_err!("{NAME}: {what} is {other}, expected a timestamp or a date"),
        };
        let mut out = vec![time("at", &types[0])?];
        if !(types[1].is_numeric() || types[1] == DataType::Null) {
            return plan_err!("{NAME}: value is {}, expected a number", types[1]);
        }
        out.push(DataType::Float64);
        out.push(time("observation_end", &types[2])?);
        if let Some(unit) = types.get(3) {
            if !matches!(
                unit,
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
            ) {
                return plan_err!("{NAME}: unit is {unit}, expected 'day', 'week' or 'month'");
            }
            out.push(DataType::Utf8);
        }
        Ok(out)
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(summary_fields()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |name: &str, t: DataType| -> FieldRef {
            Field::new_list(
                format_state_name(args.name, name),
                Field::new_list_field(t, true),
                true,
            )
            .into()
        };
        Ok(vec![
            list("periods", DataType::Int64),
            list("values", DataType::Float64),
            Field::new(format_state_name(args.name, "end"), DataType::Int64, true).into(),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let unit = if args.exprs.len() > 3 {
            let value = literal_argument(NAME, "unit", args.exprs, 3)?;
            match scalar_text(&value) {
                Some(unit) => Unit::parse(unit)?,
                None => {
                    return plan_err!("{NAME}: unit {value}: expected 'day', 'week' or 'month'");
                }
            }
        } else {
            Unit::Day
        };
        Ok(Box::new(ClvSummaryAccumulator::new(unit)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Every purchase as (period, value) and the latest observation end seen; partitions merge
/// by concatenating, and the summary is computed once at the end, so neither partitioning nor
/// row order changes it.
#[derive(Debug)]
pub struct ClvSummaryAccumulator {
    unit: Unit,
    periods: Vec<i64>,
    values: Vec<Option<f64>>,
    end: Option<i64>,
}

impl ClvSummaryAccumulator {
    /// An empty accumulator counting in `unit`.
    pub fn new(unit: Unit) -> Self {
        Self {
            unit,
            periods: Vec::new(),
            values: Vec::new(),
            end: None,
        }
    }

    fn see_end(&mut self, end: Option<i64>) {
        if let Some(end) = end {
            self.end = Some(self.end.map_or(end, |e| e.max(end)));
        }
    }
}

impl Accumulator for ClvSummaryAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [at, value, end, ..] = values else {
            return exec_err!("{NAME} takes at, value and observation_end");
        };
        let at = micros(at, NAME)?;
        let end = micros(end, NAME)?;
        let value = cast(value, &DataType::Float64)?;
        let value = value.as_primitive::<Float64Type>();
        for row in 0..at.len() {
            if end.is_valid(row) {
                self.see_end(Some(self.unit.period(end.value(row))));
            }
            if at.is_null(row) {
                continue;
            }
            self.periods.push(self.unit.period(at.value(row)));
            self.values
                .push(value.is_valid(row).then(|| value.value(row)));
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut state = list_state(vec![
            Arc::new(Int64Array::from(self.periods.clone())),
            Arc::new(Float64Array::from(self.values.clone())),
        ]);
        state.push(ScalarValue::Int64(self.end));
        Ok(state)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [periods, values, end] = states else {
            return exec_err!("{NAME}: expected three state columns");
        };
        let end = end.as_primitive::<Int64Type>();
        for row in 0..end.len() {
            self.see_end(end.is_valid(row).then(|| end.value(row)));
        }
        for_each_state_row(&[Arc::clone(periods), Arc::clone(values)], NAME, |lists| {
            let periods = lists[0].as_primitive::<Int64Type>();
            let values = lists[1].as_primitive::<Float64Type>();
            self.periods.extend(periods.values().iter().copied());
            self.values.extend(values.iter());
            Ok(())
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let summary = self
            .end
            .and_then(|end| summarise(&self.periods, &self.values, end));
        let fields = summary_fields();
        let Some((frequency, recency, t, monetary)) = summary else {
            return ScalarValue::try_from(DataType::Struct(fields));
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![frequency])),
            Arc::new(Float64Array::from(vec![recency])),
            Arc::new(Float64Array::from(vec![t])),
            Arc::new(Float64Array::from(vec![monetary])),
        ];
        Ok(ScalarValue::Struct(Arc::new(StructArray::try_new(
            fields, columns, None,
        )?)))
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.periods.capacity() * size_of::<i64>()
            + self.values.capacity() * size_of::<Option<f64>>()
    }
}

/// (frequency, recency, t, monetary value) of the purchases up to period `end`, or None when
/// there is none.
pub fn summarise(
    periods: &[i64],
    values: &[Option<f64>],
    end: i64,
) -> Option<(i64, f64, f64, Option<f64>)> {
    let mut purchases: Vec<(i64, Option<f64>)> = periods
        .iter()
        .zip(values)
        .filter(|(p, _)| **p <= end)
        .map(|(p, v)| (*p, *v))
        .collect();
    purchases.sort_by_key(|(p, _)| *p);
    let first = purchases.first()?.0;
    let last = purchases.last()?.0;
    // Each period's values added up; the first period is the acquisition, not a repeat.
    let mut repeat_totals: Vec<Option<f64>> = Vec::new();
    let mut current = first;
    for (period, value) in purchases {
        if period != current {
            repeat_totals.push(None);
            current = period;
        }
        if period != first
            && let (Some(total), Some(v)) = (repeat_totals.last_mut(), value)
        {
            *total = Some(total.unwrap_or(0.0) + v);
        }
    }
    let frequency = repeat_totals.len() as i64;
    let known: Vec<f64> = repeat_totals.iter().flatten().copied().collect();
    let monetary = (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64);
    Some((
        frequency,
        (last - first) as f64,
        (end - first) as f64,
        monetary,
    ))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::TimestampMicrosecondType;

    use super::*;

    #[test]
    fn summary_by_hand() {
        // Days 0 (10 + 5), 10 (20), 20 (40), end 30: two repeat days worth 20 and 40.
        let periods = [0, 0, 10, 20, 40];
        let values = [Some(10.0), Some(5.0), Some(20.0), Some(40.0), Some(99.0)];
        assert_eq!(
            summarise(&periods, &values, 30),
            Some((2, 20.0, 30.0, Some(30.0)))
        );
        // A single purchase: no repeat, no monetary value.
        assert_eq!(summarise(&[5], &[Some(1.0)], 9), Some((0, 0.0, 4.0, None)));
        // Everything after the end: nothing.
        assert_eq!(summarise(&[5], &[Some(1.0)], 4), None);
        // A repeat day of unknown value counts as a purchase but not in the mean.
        assert_eq!(
            summarise(&[0, 1, 2], &[Some(1.0), None, Some(3.0)], 2),
            Some((2, 2.0, 2.0, Some(3.0)))
        );
    }

    #[test]
    fn periods() {
        // 2024-01-01 (a Monday) and 2024-01-07 (Sunday) share a week; 2024-01-08 starts one.
        let at = |d: &str| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        let w = Unit::Week;
        assert_eq!(w.period(at("2024-01-01")), w.period(at("2024-01-07")));
        assert_eq!(w.period(at("2024-01-08")), w.period(at("2024-01-07")) + 1);
        let m = Unit::Month;
        assert_eq!(m.period(at("2024-02-01")) - m.period(at("2024-01-31")), 1);
        assert_eq!(Unit::Day.period(at("1969-12-31")), -1);
    }

    #[test]
    fn partitions_merge_to_the_same_summary() {
        let ts = |v: &[i64]| -> ArrayRef {
            Arc::new(
                Int64Array::from(v.iter().map(|d| d * MICROS_PER_DAY).collect::<Vec<_>>())
                    .reinterpret_cast::<TimestampMicrosecondType>(),
            )
        };
        let values = |v: &[f64]| -> ArrayRef { Arc::new(Float64Array::from(v.to_vec())) };
        let mut whole = ClvSummaryAccumulator::new(Unit::Day);
        whole
            .update_batch(&[
                ts(&[0, 10, 20]),
                values(&[1.0, 2.0, 4.0]),
                ts(&[30, 30, 30]),
            ])
            .unwrap();
        let mut left = ClvSummaryAccumulator::new(Unit::Day);
        left.update_batch(&[ts(&[20]), values(&[4.0]), ts(&[30])])
            .unwrap();
        let mut right = ClvSummaryAccumulator::new(Unit::Day);
        right
            .update_batch(&[ts(&[10, 0]), values(&[2.0, 1.0]), ts(&[30, 30])])
            .unwrap();
        crate::functions::util::merge_partial(&mut left, &mut right);
        assert_eq!(left.evaluate().unwrap(), whole.evaluate().unwrap());
    }
}
