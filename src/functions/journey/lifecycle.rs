//! `lifecycle(unit, timestamp)`: PostHog's lifecycle of a user over days, weeks or months:
//! for each period the user was active, whether they were new, returning or resurrecting, and
//! the period after each run of activity, when they became dormant.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{ArrayRef, Date32Array, ListArray, StringArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::events::{
    Evaluate, Event, EventGroups, EventsAccumulator, MICROS_PER_SECOND, literal_argument,
    state_fields,
};
use crate::values::scalar_text;

#[user_doc(
    doc_section(label = "Journey Functions"),
    description = "A user's lifecycle (PostHog's definition) as a list of {period, status}, \
        one per period the user was active plus one per period in which they became dormant, \
        in time order. Statuses: 'new' (the user's first active period), 'returning' (active \
        in this period and the one before), 'resurrecting' (active now, not in the period \
        before, but active earlier), 'dormant' (active in the period before, not in this one; \
        reported once per run of inactivity, so the last entry is usually a dormant period \
        after the data ends: filter it with period <= current_date). Periods are calendar \
        days, ISO weeks (starting Monday) or months, identified by their first day. NULL \
        timestamps are ignored.",
    syntax_example = "lifecycle(unit, timestamp)",
    sql_example = r#"```sql
> SELECT l['period'] AS period, l['status'] AS status
  FROM (SELECT unnest(lifecycle('month', at)) AS l
        FROM (VALUES (DATE '2025-01-10'), (DATE '2025-02-03'), (DATE '2025-04-20')) AS t(at));
+------------+--------------+
| period     | status       |
+------------+--------------+
| 2025-01-01 | new          |
| 2025-02-01 | returning    |
| 2025-03-01 | dormant      |
| 2025-04-01 | resurrecting |
| 2025-05-01 | dormant      |
+------------+--------------+
```"#,
    argument(name = "unit", description = "A constant: 'day', 'week' or 'month'."),
    argument(
        name = "timestamp",
        description = "When the user was active: a timestamp, a date or integer seconds."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LifecycleFunc {
    signature: Signature,
}

impl Default for LifecycleFunc {
    fn default() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

fn entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("period", DataType::Date32, false),
        Field::new("status", DataType::Utf8, false),
    ])
}

fn out_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(
        DataType::Struct(entry_fields()),
        true,
    )))
}

impl AggregateUDFImpl for LifecycleFunc {
    fn name(&self) -> &str {
        "lifecycle"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if !matches!(
            args.first(),
            Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        ) {
            return plan_err!(
                "lifecycle: expected (unit, timestamp) with unit 'day', 'week' or 'month'"
            );
        }
        let time = &args[1];
        if !(matches!(
            time,
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Null
        ) || time.is_integer())
        {
            return plan_err!(
                "lifecycle: the timestamp argument is {time}, expected a timestamp, a date or integer seconds"
            );
        }
        Ok(out_type())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(EventsAccumulator::new(
            Lifecycle::from_args(&args)?,
            1,
        )))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EventGroups::new(Lifecycle::from_args(&args)?, 1)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Calendar periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Day,
    Week,
    Month,
}

/// The lifecycle of one user.
#[derive(Debug)]
struct Lifecycle {
    unit: Unit,
}

const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

impl Lifecycle {
    fn from_args(args: &AccumulatorArgs) -> Result<Arc<Self>> {
        let value = literal_argument("lifecycle", "unit", args.exprs, 0)?;
        let Some(unit) = scalar_text(&value) else {
            return plan_err!("lifecycle: the unit must be a string, got {value}");
        };
        let unit = match unit.trim().to_ascii_lowercase().as_str() {
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            other => {
                return plan_err!(
                    "lifecycle: unknown unit '{other}'; use 'day', 'week' or 'month'"
                );
            }
        };
        Ok(Arc::new(Self { unit }))
    }

    /// The period holding `micros`, as a number that increases by one per period.
    fn period(&self, micros: i64) -> i64 {
        let day = micros.div_euclid(MICROS_PER_DAY);
        match self.unit {
            Unit::Day => day,
            // 1970-01-01 was a Thursday: day + 3 counts from Monday 1969-12-29.
            Unit::Week => (day + 3).div_euclid(7),
            Unit::Month => {
                let date = epoch() + chrono::Duration::days(day);
                i64::from(date.year()) * 12 + i64::from(date.month0())
            }
        }
    }

    /// The first day of a period, in days since the epoch.
    fn first_day(&self, period: i64) -> Option<i32> {
        let days = match self.unit {
            Unit::Day => period,
            Unit::Week => period * 7 - 3,
            Unit::Month => {
                let year = i32::try_from(period.div_euclid(12)).ok()?;
                let month = u32::try_from(period.rem_euclid(12)).ok()? + 1;
                (NaiveDate::from_ymd_opt(year, month, 1)? - epoch()).num_days()
            }
        };
        i32::try_from(days).ok()
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::default()
}

impl Evaluate for Lifecycle {
    fn name(&self) -> &'static str {
        "lifecycle"
    }

    fn keeps_rows_without_conditions(&self) -> bool {
        true
    }

    fn evaluate(&self, events: &[Event]) -> Result<ScalarValue> {
        let mut periods: Vec<i64> = events.iter().map(|e| self.period(e.at)).collect();
        periods.dedup();
        let mut entries: Vec<(i64, &str)> = Vec::with_capacity(periods.len() * 2);
        for (i, &p) in periods.iter().enumerate() {
            let status = match i.checked_sub(1).map(|j| periods[j]) {
                None => "new",
                Some(previous) if previous + 1 == p => "returning",
                Some(_) => "resurrecting",
            };
            entries.push((p, status));
            if periods.get(i + 1) != Some(&(p + 1)) {
                entries.push((p + 1, "dormant"));
            }
        }
        let days: Vec<i32> = entries
            .iter()
            .filter_map(|(p, _)| self.first_day(*p))
            .collect();
        if days.len() != entries.len() {
            return datafusion::common::exec_err!("lifecycle: a period is outside the date range");
        }
        let structs = StructArray::new(
            entry_fields(),
            vec![
                Arc::new(Date32Array::from(days)) as ArrayRef,
                Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.1))),
            ],
            None,
        );
        let list = ListArray::new(
            Arc::new(Field::new_list_field(
                DataType::Struct(entry_fields()),
                true,
            )),
            OffsetBuffer::from_lengths([entries.len()]),
            Arc::new(structs),
            None,
        );
        Ok(ScalarValue::List(Arc::new(list)))
    }

    fn return_type(&self) -> DataType {
        out_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let week = Lifecycle { unit: Unit::Week };
        // 2025-01-06 is a Monday, 2025-01-12 a Sunday.
        let monday = (NaiveDate::from_ymd_opt(2025, 1, 6).unwrap() - epoch()).num_days();
        let sunday = monday + 6;
        assert_eq!(
            week.period(monday * MICROS_PER_DAY),
            week.period(sunday * MICROS_PER_DAY)
        );
        assert_eq!(
            week.first_day(week.period(sunday * MICROS_PER_DAY)),
            Some(monday as i32)
        );
        let month = Lifecycle { unit: Unit::Month };
        let p = month.period((monday + 20) * MICROS_PER_DAY);
        let first = (NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() - epoch()).num_days();
        assert_eq!(month.first_day(p), Some(first as i32));
        // Before the epoch.
        assert_eq!(month.first_day(month.period(-MICROS_PER_DAY)), Some(-31));
    }
}
