//! The pattern language of `sequence_match` and `sequence_count` (ClickHouse's sequenceMatch):
//! `(?N)` an event meeting condition N, `.` any one event, `.*` any number of events,
//! `(?t OP SECONDS)` a time constraint (`<=`, `<`, `>=`, `>`, `==`) between the event before
//! it and the event after it. A pattern may match anywhere in the group's events; only rows
//! meeting at least one condition are events.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};

use super::events::{Event, MICROS_PER_SECOND};
use crate::functions::util::quoted_value;

/// Steps a match may take before the pattern is declared too hard for a group.
const MAX_STEPS: usize = 1_000_000;

/// One element of a parsed pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// An event meeting condition (0-based).
    Event(usize),
    /// Any one event.
    Any,
    /// Any number of events.
    Star,
    /// Time since the previous event, in microseconds, compared with `Compare`.
    Time(Compare, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
}

/// A state of the automaton used for patterns without time constraints.
#[derive(Debug, Clone, Default)]
struct State {
    /// `.*` loops on this state.
    star: bool,
    /// The transition to the next state: an event meeting a condition, or any event.
    next: Option<Action>,
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    actions: Vec<Action>,
    states: Vec<State>,
    has_time: bool,
    /// The conditions the pattern names, as bits.
    named: u32,
}

impl Pattern {
    /// Parse `text` for a function with `conditions` conditions.
    pub fn parse(function: &str, text: &str, conditions: usize) -> Result<Self> {
        let mut pattern = Pattern {
            actions: vec![Action::Star],
            states: vec![State {
                star: true,
                next: None,
            }],
            has_time: false,
            named: 0,
        };
        let bytes = text.as_bytes();
        let mut pos = 0;
        let error = |pos: usize, what: &str| -> Result<Self> {
            plan_err!(
                "{function}: pattern {}: {what} at character {} (the pattern language is \
                 (?N) for condition N, . for any event, .* for any events, (?t<=SECONDS) and \
                 <, >=, >, == for time between events)",
                quoted_value(text),
                pos + 1
            )
        };
        if text.trim().is_empty() {
            return error(0, "empty pattern");
        }
        while pos < bytes.len() {
            if text[pos..].starts_with("(?") {
                pos += 2;
                if bytes.get(pos) == Some(&b't') {
                    pos += 1;
                    let compare = [
                        ("<=", Compare::Le),
                        ("<", Compare::Lt),
                        (">=", Compare::Ge),
                        (">", Compare::Gt),
                        ("==", Compare::Eq),
                    ]
                    .into_iter()
                    .find(|(op, _)| text[pos..].starts_with(op));
                    let Some((op, compare)) = compare else {
                        return error(pos, "expected a comparison (<=, <, >=, >, ==)");
                    };
                    pos += op.len();
                    let digits = text[pos..].bytes().take_while(u8::is_ascii_digit).count();
                    let Ok(seconds) = text[pos..pos + digits].parse::<i64>() else {
                        return error(pos, "expected a number of seconds");
                    };
                    if matches!(pattern.actions.last(), Some(Action::Time(..))) {
                        return error(
                            pos,
                            "a time constraint must follow an event, not another constraint",
                        );
                    }
                    pos += digits;
                    pattern.has_time = true;
                    pattern.actions.push(Action::Time(
                        compare,
                        seconds.saturating_mul(MICROS_PER_SECOND),
                    ));
                } else {
                    let digits = text[pos..].bytes().take_while(u8::is_ascii_digit).count();
                    let Ok(number) = text[pos..pos + digits].parse::<usize>() else {
                        return error(pos, "expected a condition number or t");
                    };
                    if number == 0 || number > conditions {
                        return error(
                            pos,
                            &format!("condition {number} does not exist (there are {conditions})"),
                        );
                    }
                    pos += digits;
                    let action = Action::Event(number - 1);
                    pattern.actions.push(action);
                    pattern.named |= 1 << (number - 1);
                    pattern.push_state(action);
                }
                if bytes.get(pos) != Some(&b')') {
                    return error(pos, "expected )");
                }
                pos += 1;
            } else if text[pos..].starts_with(".*") {
                pos += 2;
                pattern.actions.push(Action::Star);
                if let Some(state) = pattern.states.last_mut() {
                    state.star = true;
                }
            } else if bytes[pos] == b'.' {
                pos += 1;
                pattern.actions.push(Action::Any);
                pattern.push_state(Action::Any);
            } else if bytes[pos].is_ascii_whitespace() {
                pos += 1;
            } else {
                return error(pos, "unexpected character");
            }
        }
        Ok(pattern)
    }

    fn push_state(&mut self, transition: Action) {
        if let Some(state) = self.states.last_mut() {
            state.next = Some(transition);
        }
        self.states.push(State::default());
    }

    /// Whether every condition the pattern names is met by some event.
    fn possible(&self, events: &[Event]) -> bool {
        let met = events.iter().fold(0, |m, e| m | e.conditions);
        met & self.named == self.named
    }

    /// Whether the sorted `events` contain a match.
    pub fn matches(&self, function: &str, events: &[Event]) -> Result<bool> {
        if !self.possible(events) {
            return Ok(false);
        }
        if self.has_time {
            let mut start = 0;
            self.match_from(function, events, &mut start)
        } else {
            Ok(self.automaton(events))
        }
    }

    /// Non-overlapping matches in the sorted `events`, each search starting after the last
    /// event of the previous match.
    pub fn count(&self, function: &str, events: &[Event]) -> Result<i64> {
        if !self.possible(events) {
            return Ok(0);
        }
        let mut start = 0;
        let mut count = 0;
        while start < events.len() && self.match_from(function, events, &mut start)? {
            count += 1;
        }
        Ok(count)
    }

    /// Patterns without time constraints: all states advanced together, linear in the events.
    fn automaton(&self, events: &[Event]) -> bool {
        let n = self.states.len();
        let mut active = vec![false; n];
        let mut next = vec![false; n];
        active[0] = true;
        for event in events {
            if active[n - 1] {
                break;
            }
            next.iter_mut().for_each(|s| *s = false);
            let mut any = false;
            for (i, state) in self.states.iter().enumerate() {
                if !active[i] {
                    continue;
                }
                let advance = match state.next {
                    Some(Action::Any) => true,
                    Some(Action::Event(c)) => event.conditions & (1 << c) != 0,
                    _ => false,
                };
                if advance {
                    next[i + 1] = true;
                    any = true;
                }
                if state.star {
                    next[i] = true;
                    any = true;
                }
            }
            std::mem::swap(&mut active, &mut next);
            if !any {
                break;
            }
        }
        active[n - 1]
    }

    /// Backtracking search from `*start`; on return `*start` is where the next search begins.
    fn match_from(&self, function: &str, events: &[Event], start: &mut usize) -> Result<bool> {
        let (n, end) = (self.actions.len(), events.len());
        let begin = *start;
        let (mut a, mut e, mut base) = (0, begin, begin);
        // (action, event, base) to resume from when the current attempt fails.
        let mut stack: Vec<(usize, usize, usize)> = Vec::new();
        let backtrack = |stack: &mut Vec<(usize, usize, usize)>,
                         a: &mut usize,
                         e: &mut usize,
                         base: &mut usize| {
            while let Some((sa, se, sb)) = stack.pop() {
                (*a, *e, *base) = (sa, se + 1, sb);
                if *e != end {
                    return true;
                }
            }
            false
        };
        let mut steps = 0;
        while a < n && e < end {
            match self.actions[a] {
                Action::Event(c) => {
                    if events[e].conditions & (1 << c) != 0 {
                        base = e;
                        a += 1;
                        e += 1;
                    } else if !backtrack(&mut stack, &mut a, &mut e, &mut base) {
                        break;
                    }
                }
                Action::Any => {
                    base = e;
                    a += 1;
                    e += 1;
                }
                Action::Star => {
                    stack.push((a, e, base));
                    base = e;
                    a += 1;
                }
                Action::Time(compare, delta) => {
                    let (at, since) = (events[e].at, events[base].at.saturating_add(delta));
                    let holds = match compare {
                        Compare::Le => at <= since,
                        Compare::Lt => at < since,
                        Compare::Ge => at >= since,
                        Compare::Gt => at > since,
                        Compare::Eq => at == since,
                    };
                    if holds {
                        stack.push((a, e, base));
                        base = e;
                        a += 1;
                    } else if matches!(compare, Compare::Le | Compare::Lt) {
                        // Later events are even further away: try another way.
                        if !backtrack(&mut stack, &mut a, &mut e, &mut base) {
                            break;
                        }
                    } else {
                        // Not far enough yet: look at the next event.
                        e += 1;
                        if e == end && !backtrack(&mut stack, &mut a, &mut e, &mut base) {
                            break;
                        }
                    }
                }
            }
            steps += 1;
            if steps > MAX_STEPS {
                return exec_err!(
                    "{function}: the pattern needs more than {MAX_STEPS} steps on a group of {end} \
                     events; use fewer .* or narrower conditions"
                );
            }
        }
        // Constraints that an empty tail satisfies.
        while a < n
            && matches!(
                self.actions[a],
                Action::Star
                    | Action::Time(Compare::Le | Compare::Lt, _)
                    | Action::Time(Compare::Ge, 0)
            )
        {
            a += 1;
        }
        *start = if e == begin { e + 1 } else { e };
        Ok(a == n)
    }
}

/// `sequence_match` / `sequence_count` over one group: the pattern and which answer.
#[derive(Debug)]
pub struct Sequence {
    /// The SQL function.
    pub function: &'static str,
    /// The parsed pattern.
    pub pattern: Pattern,
    /// Count matches (`sequence_count`) rather than test for one (`sequence_match`).
    pub count: bool,
}

impl Sequence {
    /// Build from the aggregate's arguments: the pattern constant, the time, the conditions.
    pub fn from_args(
        function: &'static str,
        args: &datafusion::logical_expr::function::AccumulatorArgs,
        count: bool,
    ) -> Result<Self> {
        let value = super::events::literal_argument(function, "pattern", args.exprs, 0)?;
        let Some(text) = crate::values::scalar_text(&value) else {
            return plan_err!("{function}: the pattern must be a string, got {value}");
        };
        let conditions = args.exprs.len().saturating_sub(2);
        Ok(Self {
            function,
            pattern: Pattern::parse(function, text, conditions)?,
            count,
        })
    }

    /// Check the argument types at planning time.
    pub fn check(function: &str, types: &[DataType]) -> Result<()> {
        match types.first() {
            Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
                super::events::check_arguments(function, &types[1..])
            }
            _ => plan_err!(
                "{function}: expected (pattern, timestamp, cond1, ...) with a string pattern"
            ),
        }
    }
}

impl super::events::Evaluate for Sequence {
    fn name(&self) -> &'static str {
        self.function
    }

    fn evaluate(&self, events: &[Event]) -> Result<datafusion::common::ScalarValue> {
        use datafusion::common::ScalarValue;
        Ok(if self.count {
            ScalarValue::Int64(Some(self.pattern.count(self.function, events)?))
        } else {
            ScalarValue::Boolean(Some(self.pattern.matches(self.function, events)?))
        })
    }

    fn return_type(&self) -> DataType {
        if self.count {
            DataType::Int64
        } else {
            DataType::Boolean
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(rows: &[(i64, u32)]) -> Vec<Event> {
        rows.iter()
            .map(|&(at, conditions)| Event {
                at: at * MICROS_PER_SECOND,
                conditions,
            })
            .collect()
    }

    #[test]
    fn adjacent_events_and_gaps() {
        let p = Pattern::parse("f", "(?1)(?2)", 3).unwrap();
        // 1 then 2 next to each other (rows meeting no condition are not events).
        assert!(p.matches("f", &events(&[(0, 1), (1, 2)])).unwrap());
        // 1, 3, 2: the event meeting condition 3 is in between.
        assert!(!p.matches("f", &events(&[(0, 1), (1, 4), (2, 2)])).unwrap());
        let p = Pattern::parse("f", "(?1).*(?2)", 3).unwrap();
        assert!(p.matches("f", &events(&[(0, 1), (1, 4), (2, 2)])).unwrap());
    }

    #[test]
    fn time_constraints() {
        let p = Pattern::parse("f", "(?1)(?t>1800)(?2)", 2).unwrap();
        assert!(!p.matches("f", &events(&[(0, 1), (100, 2)])).unwrap());
        assert!(
            p.matches("f", &events(&[(0, 1), (100, 2), (4000, 2)]))
                .unwrap()
        );
        let p = Pattern::parse("f", "(?1)(?t<=60)(?2)", 2).unwrap();
        assert!(p.matches("f", &events(&[(0, 1), (60, 2)])).unwrap());
        assert!(!p.matches("f", &events(&[(0, 1), (61, 2)])).unwrap());
    }

    #[test]
    fn counts_do_not_overlap() {
        let p = Pattern::parse("f", "(?1)(?2)", 2).unwrap();
        let e = events(&[(0, 1), (1, 2), (2, 1), (3, 2), (4, 2)]);
        assert_eq!(p.count("f", &e).unwrap(), 2);
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let err = Pattern::parse("f", "(?1)(?x)", 2).unwrap_err().to_string();
        assert!(err.contains("character 7"), "{err}");
        let err = Pattern::parse("f", "(?1)(?3)", 2).unwrap_err().to_string();
        assert!(err.contains("condition 3 does not exist"), "{err}");
        assert!(Pattern::parse("f", "(?1", 2).is_err());
        assert!(Pattern::parse("f", "(?t<)", 2).is_err());
        assert!(Pattern::parse("f", "", 2).is_err());
    }
}
