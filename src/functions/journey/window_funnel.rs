//! `window_funnel(window, [mode,] timestamp, cond1, cond2, ...)`: the deepest step of an
//! ordered funnel a group reached within a time window measured from the first step, with
//! ClickHouse's `windowFunnel` semantics and modes.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

use super::events::{
    Evaluate, Event, EventGroups, EventsAccumulator, MAX_CONDITIONS, MICROS_PER_SECOND,
    check_arguments, literal_argument, state_fields,
};
use crate::values::scalar_text;

#[user_doc(
    doc_section(label = "Journey Functions"),
    description = r#"The deepest step of an ordered funnel reached within `window` of the first step (ClickHouse's windowFunnel). Events are sorted by time (ties: by condition number); a chain starts at an event meeting cond1, and step k is reached by an event meeting cond k after step k-1 and at most `window` after the chain's first event. Several chains may be in progress; the deepest counts. Returns 0 when cond1 never holds. Modes, comma-separated in the optional second argument:
- strict_deduplication: an event repeating a step already reached stops the search (A, B, B, C gives 2);
- strict_order: no other event may come between steps: an event meeting no condition, or a step out of order, stops the search (A, B, D, C gives 2);
- strict_increase: each step's time must be strictly later than the previous step's (events at the same instant do not chain);
- strict_once: one event counts for one step only, even if it meets several conditions;
- allow_reentry (with strict_order): a step out of order is skipped instead of stopping the search.
A NULL timestamp leaves the row out; a NULL condition is not met. At most 32 conditions."#,
    syntax_example = "window_funnel(window, [mode,] timestamp, cond1, cond2, ...)",
    sql_example = r#"```sql
> SELECT user_id,
         window_funnel(INTERVAL '1 day', at, event = 'view', event = 'cart', event = 'buy') AS step
  FROM (VALUES (1, TIMESTAMP '2025-01-01 10:00:00', 'view'), (1, TIMESTAMP '2025-01-01 10:05:00', 'cart'),
               (1, TIMESTAMP '2025-01-03 09:00:00', 'buy'), (2, TIMESTAMP '2025-01-01 10:00:00', 'view'))
       AS t(user_id, at, event)
  GROUP BY user_id ORDER BY user_id;
+---------+------+
| user_id | step |
+---------+------+
| 1       | 2    |
| 2       | 1    |
+---------+------+
```"#,
    argument(
        name = "window",
        description = "A positive constant: an interval (days, hours, ...) or a number of seconds."
    ),
    argument(
        name = "mode",
        description = "Optional constant string: a comma-separated list of the modes above."
    ),
    argument(
        name = "timestamp",
        description = "The event time: a timestamp, a date or integer seconds."
    ),
    argument(
        name = "cond1, cond2, ...",
        description = "Boolean conditions, one per funnel step, in order."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WindowFunnelFunc {
    signature: Signature,
}

impl Default for WindowFunnelFunc {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// The type of `funnel_step_seconds`: seconds from the first step to each step reached.
pub fn step_seconds_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

/// Check the arguments of a funnel function; returns the index of the timestamp.
pub fn check_funnel_arguments(function: &str, args: &[DataType]) -> Result<usize> {
    let first = if has_mode(args) { 2 } else { 1 };
    if args.len() <= first {
        return plan_err!(
            "{function}: expected window, [mode,] timestamp and at least one condition"
        );
    }
    check_arguments(function, &args[first..])?;
    Ok(first)
}

/// Whether the second argument is the mode string.
fn has_mode(types: &[DataType]) -> bool {
    types
        .get(1)
        .is_some_and(|t| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
}

impl AggregateUDFImpl for WindowFunnelFunc {
    fn name(&self) -> &str {
        "window_funnel"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        check_funnel_arguments("window_funnel", args)?;
        Ok(DataType::Int32)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let (funnel, first) = Funnel::from_args("window_funnel", &args)?;
        Ok(Box::new(EventsAccumulator::new(Arc::new(funnel), first)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let (funnel, first) = Funnel::from_args("window_funnel", &args)?;
        Ok(Box::new(EventGroups::new(Arc::new(funnel), first)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// A funnel's window, steps and modes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Funnel {
    /// The SQL function, for errors.
    pub function: &'static str,
    /// Return the seconds from the first step to each step reached instead of the level.
    pub step_seconds: bool,
    /// Window in microseconds.
    pub window: i64,
    /// Number of steps (conditions).
    pub steps: usize,
    /// The modes.
    pub strict_deduplication: bool,
    /// See the function's documentation.
    pub strict_order: bool,
    /// See the function's documentation.
    pub strict_increase: bool,
    /// See the function's documentation.
    pub strict_once: bool,
    /// See the function's documentation.
    pub allow_reentry: bool,
}

impl Funnel {
    /// The funnel of `function`'s arguments, and the index of its timestamp argument.
    pub fn from_args(function: &'static str, args: &AccumulatorArgs) -> Result<(Self, usize)> {
        let types: Vec<DataType> = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let first = if has_mode(&types) { 2 } else { 1 };
        let window = literal_argument(function, "window", args.exprs, 0)?;
        let mut funnel = Funnel {
            function,
            window: window_micros(function, "window", &window)?,
            steps: types.len().saturating_sub(first + 1),
            ..Funnel::default()
        };
        if first == 2 {
            match scalar_text(&literal_argument(function, "mode", args.exprs, 1)?) {
                Some(modes) => funnel.set_modes(modes)?,
                None => return plan_err!("{function}: the mode must be a non-NULL string"),
            }
        }
        if funnel.steps == 0 || funnel.steps > MAX_CONDITIONS {
            return plan_err!(
                "{function}: {} conditions given, expected 1 to {MAX_CONDITIONS}",
                funnel.steps
            );
        }
        Ok((funnel, first))
    }

    /// Apply a comma-separated list of modes.
    pub fn set_modes(&mut self, modes: &str) -> Result<()> {
        for mode in modes.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            match mode.to_ascii_lowercase().as_str() {
                "strict_deduplication" => self.strict_deduplication = true,
                "strict_order" => self.strict_order = true,
                "strict_increase" => self.strict_increase = true,
                "strict_once" => self.strict_once = true,
                "allow_reentry" => self.allow_reentry = true,
                other => {
                    return plan_err!(
                        "{}: unknown mode '{other}'; the modes are strict_deduplication, \
                         strict_order, strict_increase, strict_once and allow_reentry",
                        self.function
                    );
                }
            }
        }
        if self.allow_reentry && !self.strict_order {
            return plan_err!(
                "{}: allow_reentry needs strict_order ('strict_order,allow_reentry')",
                self.function
            );
        }
        Ok(())
    }

    /// The deepest step reached by the sorted `events`.
    pub fn level(&self, events: &[Event]) -> usize {
        self.chain(events).len()
    }

    /// The times (microseconds) of the steps of the deepest chain reached by the sorted
    /// `events`, first step first; empty when step 1 never happened.
    pub fn chain(&self, events: &[Event]) -> Vec<i64> {
        if events.is_empty() {
            return Vec::new();
        }
        // One entry per (event, condition met), or a "no condition" entry (step 0) that only
        // strict_order looks at; sorted by time, then step, then event.
        let mut entries: Vec<(i64, usize, usize)> = Vec::with_capacity(events.len());
        for (id, event) in events.iter().enumerate() {
            if event.conditions == 0 {
                entries.push((event.at, 0, id));
            }
            for step in 0..self.steps {
                if event.conditions & (1 << step) != 0 {
                    entries.push((event.at, step + 1, id));
                }
            }
        }
        entries.sort_unstable();
        if !self.strict_order && self.steps == 1 {
            return entries
                .iter()
                .find(|e| e.1 == 1)
                .map(|e| vec![e.0])
                .unwrap_or_default();
        }
        if self.strict_once {
            self.chain_once(&entries)
        } else {
            self.chain_greedy(&entries)
        }
    }

    /// The chain of the deepest step reached.
    fn deepest(reached: &[Option<Vec<i64>>]) -> Vec<i64> {
        reached
            .iter()
            .rev()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_default()
    }

    /// The chain up to the first step not reached (strict_order stopped the search).
    fn before_gap(reached: &[Option<Vec<i64>>]) -> Vec<i64> {
        match reached.iter().position(Option::is_none) {
            Some(0) => Vec::new(),
            Some(gap) => reached[gap - 1].clone().unwrap_or_default(),
            None => Self::deepest(reached),
        }
    }

    /// One chain per step: a later start of step 1 replaces the earlier one.
    fn chain_greedy(&self, entries: &[(i64, usize, usize)]) -> Vec<i64> {
        // The step times of the chain that reached each step.
        let mut reached: Vec<Option<Vec<i64>>> = vec![None; self.steps];
        let mut started = false;
        for &(at, step, _) in entries {
            if step == 0 {
                if self.strict_order && started {
                    break;
                }
                continue;
            }
            let i = step - 1;
            if i == 0 {
                reached[0] = Some(vec![at]);
                started = true;
            } else if self.strict_deduplication && reached[i].is_some() {
                return Self::deepest(&reached);
            } else if self.strict_order && started && reached[i - 1].is_none() {
                if self.allow_reentry {
                    continue;
                }
                return Self::before_gap(&reached);
            } else if let Some(chain) = &reached[i - 1] {
                let (start, previous) = (chain[0], chain[chain.len() - 1]);
                let in_window = at <= start.saturating_add(self.window);
                if in_window && (!self.strict_increase || previous < at) {
                    let mut longer = chain.clone();
                    longer.push(at);
                    reached[i] = Some(longer);
                    if i + 1 == self.steps {
                        return Self::deepest(&reached);
                    }
                }
            }
        }
        Self::deepest(&reached)
    }

    /// strict_once: every chain in progress is kept, each with the events it used, so that
    /// one event never counts twice in a chain.
    fn chain_once(&self, entries: &[(i64, usize, usize)]) -> Vec<i64> {
        #[derive(Clone)]
        struct Chain {
            times: Vec<i64>,
            events: Vec<usize>,
        }
        let mut chains: Vec<Vec<Chain>> = vec![Vec::new(); self.steps];
        let deepest = |chains: &[Vec<Chain>]| -> Vec<i64> {
            chains
                .iter()
                .rev()
                .find_map(|c| c.first())
                .map(|c| c.times.clone())
                .unwrap_or_default()
        };
        let mut started = false;
        for &(at, step, id) in entries {
            if step == 0 {
                if self.strict_order && started {
                    break;
                }
                continue;
            }
            let i = step - 1;
            if i == 0 {
                chains[0].push(Chain {
                    times: vec![at],
                    events: vec![id],
                });
                started = true;
            } else if self.strict_deduplication && !chains[i].is_empty() {
                return deepest(&chains);
            } else if self.strict_order && started && chains[i - 1].is_empty() {
                if self.allow_reentry {
                    continue;
                }
                let gap = chains.iter().position(Vec::is_empty).unwrap_or(self.steps);
                return deepest(&chains[..gap]);
            } else if !chains[i - 1].is_empty() {
                let window = self.window;
                // Chains that fell out of the window are dropped, keeping at least one.
                let previous = &mut chains[i - 1];
                let mut k = 0;
                while k < previous.len() {
                    if at > previous[k].times[0].saturating_add(window) && previous.len() > 1 {
                        previous.remove(k);
                    } else {
                        k += 1;
                    }
                }
                let extended: Vec<Chain> = previous
                    .iter()
                    .filter(|c| {
                        at <= c.times[0].saturating_add(window)
                            && !c.events.contains(&id)
                            && (!self.strict_increase || c.times[c.times.len() - 1] < at)
                    })
                    .map(|c| {
                        let mut longer = c.clone();
                        longer.times.push(at);
                        longer.events.push(id);
                        longer
                    })
                    .collect();
                if !extended.is_empty() {
                    chains[i].extend(extended);
                    if i + 1 == self.steps {
                        return deepest(&chains);
                    }
                }
            }
        }
        deepest(&chains)
    }
}

impl Evaluate for Funnel {
    fn name(&self) -> &'static str {
        self.function
    }

    fn keeps_rows_without_conditions(&self) -> bool {
        self.strict_order
    }

    fn evaluate(&self, events: &[Event]) -> Result<ScalarValue> {
        let chain = self.chain(events);
        if !self.step_seconds {
            return Ok(ScalarValue::Int32(Some(chain.len() as i32)));
        }
        let start = chain.first().copied().unwrap_or_default();
        let seconds: Vec<ScalarValue> = chain
            .iter()
            .map(|&at| ScalarValue::Float64(Some((at - start) as f64 / MICROS_PER_SECOND as f64)))
            .collect();
        Ok(ScalarValue::List(ScalarValue::new_list_nullable(
            &seconds,
            &DataType::Float64,
        )))
    }

    fn return_type(&self) -> DataType {
        if self.step_seconds {
            step_seconds_type()
        } else {
            DataType::Int32
        }
    }
}

/// A window constant in microseconds: an interval without months, or seconds.
pub fn window_micros(function: &str, what: &str, window: &ScalarValue) -> Result<i64> {
    const DAY: i64 = 86_400 * MICROS_PER_SECOND;
    let micros = match window {
        ScalarValue::IntervalMonthDayNano(Some(v)) if v.months == 0 => {
            i64::from(v.days) * DAY + v.nanoseconds / 1_000
        }
        ScalarValue::IntervalDayTime(Some(v)) => {
            i64::from(v.days) * DAY + i64::from(v.milliseconds) * 1_000
        }
        ScalarValue::IntervalMonthDayNano(Some(_)) | ScalarValue::IntervalYearMonth(Some(_)) => {
            return plan_err!(
                "{function}: months vary in length; give the window in days (INTERVAL '30 days')"
            );
        }
        v if v.data_type().is_integer() && !v.is_null() => {
            let seconds = v.cast_to(&DataType::Int64)?;
            match seconds {
                ScalarValue::Int64(Some(s)) => s.saturating_mul(MICROS_PER_SECOND),
                _ => return plan_err!("{function}: cannot read the window {v}"),
            }
        }
        other => {
            return plan_err!(
                "{function}: the {what} must be an interval or a number of seconds, got {other}"
            );
        }
    };
    if micros <= 0 {
        return plan_err!("{function}: the {what} must be positive, got {window}");
    }
    Ok(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(rows: &[(i64, u32)]) -> Vec<Event> {
        let mut e: Vec<Event> = rows
            .iter()
            .map(|&(at, conditions)| Event {
                at: at * MICROS_PER_SECOND,
                conditions,
            })
            .collect();
        e.sort_unstable();
        e
    }

    fn funnel(modes: &str) -> Funnel {
        let mut f = Funnel {
            function: "window_funnel",
            window: 10 * MICROS_PER_SECOND,
            steps: 3,
            ..Funnel::default()
        };
        f.set_modes(modes).unwrap();
        f
    }

    #[test]
    fn steps_in_order_within_the_window() {
        // A at 0, B at 1, C at 20 (outside the window of 10): step 2.
        let e = events(&[(0, 1), (1, 2), (20, 4)]);
        assert_eq!(funnel("").level(&e), 2);
        // A later start of step 1 opens a new window: A 15, C 20 still needs B after 15.
        let e = events(&[(0, 1), (1, 2), (15, 1), (16, 2), (20, 4)]);
        assert_eq!(funnel("").level(&e), 3);
    }

    #[test]
    fn modes() {
        // A B D C: strict_order stops at the D (an event meeting no condition).
        let e = events(&[(0, 1), (1, 2), (2, 0), (3, 4)]);
        assert_eq!(funnel("").level(&e), 3);
        assert_eq!(funnel("strict_order").level(&e), 2);
        // A B B C: strict_deduplication stops at the second B.
        let e = events(&[(0, 1), (1, 2), (2, 2), (3, 4)]);
        assert_eq!(funnel("strict_deduplication").level(&e), 2);
        // A and B at the same instant: strict_increase does not chain them.
        let e = events(&[(0, 1), (0, 2), (1, 4)]);
        assert_eq!(funnel("").level(&e), 3);
        assert_eq!(funnel("strict_increase").level(&e), 1);
        // One event meeting A and B: strict_once counts it for A only, so B is never reached.
        let e = events(&[(0, 3), (1, 4)]);
        assert_eq!(funnel("").level(&e), 3);
        assert_eq!(funnel("strict_once").level(&e), 1);
        // A C B C: strict_order stops at the early C, allow_reentry skips it.
        let e = events(&[(0, 1), (1, 4), (2, 2), (3, 4)]);
        assert_eq!(funnel("strict_order").level(&e), 1);
        assert_eq!(funnel("strict_order,allow_reentry").level(&e), 3);
    }

    #[test]
    fn the_chain_holds_the_step_times() {
        // A at 0 and 5, B at 6, C at 9: the chain restarted at 5.
        let e = events(&[(0, 1), (5, 1), (6, 2), (9, 4)]);
        let s = MICROS_PER_SECOND;
        assert_eq!(funnel("").chain(&e), vec![5 * s, 6 * s, 9 * s]);
        assert_eq!(funnel("strict_once").chain(&e), vec![0, 6 * s, 9 * s]);
    }
}
