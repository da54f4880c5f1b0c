//! Comparison levels: for each pair of values, which level of a comparison it hits. The same
//! kernel serves training (random and blocked pairs) and scoring, so a level means the same
//! thing in both.
//!
//! Levels are numbered strictest first: 0 is "exact", then one level per threshold (e-mail adds
//! "same user name" before its thresholds), and the last is "else". A NULL, empty or
//! whitespace-only value on either side is the NULL case: it hits no level and weighs nothing.

use std::sync::Arc;

use std::borrow::Cow;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, LargeStringArray, StringArray, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};

use crate::config::matching::{ComparisonConfig, ComparisonKind};
use crate::text::jaccard;

/// The level index of the NULL case.
pub const NULL_LEVEL: u8 = u8::MAX;

/// A string array of any of Arrow's three layouts.
#[derive(Debug, Clone)]
pub enum Text {
    /// `Utf8`.
    Utf8(StringArray),
    /// `LargeUtf8`.
    Large(LargeStringArray),
    /// `Utf8View`.
    View(StringViewArray),
}

impl Text {
    fn new(array: &ArrayRef) -> Option<Self> {
        match array.data_type() {
            DataType::Utf8 => Some(Self::Utf8(array.as_string::<i32>().clone())),
            DataType::LargeUtf8 => Some(Self::Large(array.as_string::<i64>().clone())),
            DataType::Utf8View => Some(Self::View(array.as_string_view().clone())),
            _ => None,
        }
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Self::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Self::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Self::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Utf8(a) => a.len(),
            Self::Large(a) => a.len(),
            Self::View(a) => a.len(),
        }
    }
}

/// A column prepared for one comparison kind.
#[derive(Debug, Clone)]
pub enum Values {
    /// Text, for every kind but date: a string array of any layout (read in place; other
    /// types are cast to text once).
    Text(Text),
    /// Days since the epoch, for date comparisons.
    Days(Arc<Date32Array>),
}

impl Values {
    /// Cast `array` to what `comparison` compares; `what` names the argument in errors.
    pub fn prepare(comparison: &ComparisonConfig, array: &ArrayRef, what: &str) -> Result<Self> {
        let target = match comparison.kind {
            ComparisonKind::Date => DataType::Date32,
            _ => DataType::Utf8,
        };
        if comparison.kind != ComparisonKind::Date
            && let Some(text) = Text::new(array)
        {
            return Ok(Self::Text(text));
        }
        let cast = cast(array, &target).or_else(|e| {
            exec_err!(
                "{what}: comparison '{}' ({:?}) cannot use a {} column: {e}",
                comparison.display_name(),
                comparison.kind,
                array.data_type()
            )
        })?;
        Ok(match comparison.kind {
            ComparisonKind::Date => Self::Days(Arc::new(cast.as_primitive().clone())),
            _ => Self::Text(Text::Utf8(cast.as_string::<i32>().clone())),
        })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(a) => a.len(),
            Self::Days(a) => a.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text at `i`, `None` for NULL, empty or whitespace-only (and for dates).
    #[inline]
    pub fn text(&self, i: usize) -> Option<&str> {
        match self {
            Self::Text(a) => {
                let v = a.get(i)?;
                // Most values start with a visible character: skip the trim for them.
                let visible = v
                    .as_bytes()
                    .first()
                    .is_some_and(|b| !b.is_ascii_whitespace())
                    || !v.trim().is_empty();
                visible.then_some(v)
            }
            Self::Days(_) => None,
        }
    }

    /// The value at `i` as the key of the term-frequency table (borrowed for text).
    pub fn term(&self, i: usize) -> Option<Cow<'_, str>> {
        match self {
            Self::Text(_) => self.text(i).map(Cow::Borrowed),
            Self::Days(a) => a.is_valid(i).then(|| Cow::Owned(a.value(i).to_string())),
        }
    }
}

/// The level of row `i` of `left` against row `j` of `right`.
#[inline]
pub fn level(c: &ComparisonConfig, left: &Values, i: usize, right: &Values, j: usize) -> u8 {
    match (left, right) {
        (Values::Days(a), Values::Days(b)) => {
            if a.is_null(i) || b.is_null(j) {
                return NULL_LEVEL;
            }
            let diff = (i64::from(a.value(i)) - i64::from(b.value(j))).unsigned_abs() as f64;
            if diff == 0.0 {
                return 0;
            }
            threshold_level(&c.thresholds, 1, |t| diff <= t)
        }
        _ => {
            let (Some(a), Some(b)) = (left.text(i), right.text(j)) else {
                return NULL_LEVEL;
            };
            if a == b {
                return 0;
            }
            text_level(c, a, b)
        }
    }
}

/// The first fuzzy level whose threshold `passes`, counting from `first`; else the last level.
#[inline]
fn threshold_level(thresholds: &[f64], first: usize, passes: impl Fn(f64) -> bool) -> u8 {
    for (k, t) in thresholds.iter().enumerate() {
        if passes(*t) {
            return (first + k) as u8;
        }
    }
    (first + thresholds.len()) as u8
}

fn text_level(c: &ComparisonConfig, a: &str, b: &str) -> u8 {
    let t = &c.thresholds;
    if t.is_empty() && c.kind != ComparisonKind::Email {
        return 1;
    }
    match c.kind {
        ComparisonKind::Exact => 1,
        ComparisonKind::JaroWinkler => {
            let s = rapidfuzz::distance::jaro_winkler::similarity(a.chars(), b.chars());
            threshold_level(t, 1, |x| s >= x)
        }
        ComparisonKind::Jaro => {
            let s = rapidfuzz::distance::jaro::similarity(a.chars(), b.chars());
            threshold_level(t, 1, |x| s >= x)
        }
        ComparisonKind::Levenshtein => {
            let s = rapidfuzz::distance::levenshtein::normalized_similarity(a.chars(), b.chars());
            threshold_level(t, 1, |x| s >= x)
        }
        ComparisonKind::DamerauLevenshtein => {
            let d = rapidfuzz::distance::damerau_levenshtein::distance(a.chars(), b.chars()) as f64;
            threshold_level(t, 1, |x| d <= x)
        }
        ComparisonKind::Jaccard => {
            let s = jaccard(a, b).unwrap_or(0.0);
            threshold_level(t, 1, |x| s >= x)
        }
        ComparisonKind::Date => c.level_count() as u8 - 1,
        ComparisonKind::Email => {
            let user = |e: &'_ str| e.split('@').next().unwrap_or(e).to_string();
            let (ua, ub) = (user(a), user(b));
            if ua == ub {
                return 1;
            }
            let s = rapidfuzz::distance::jaro_winkler::similarity(ua.chars(), ub.chars());
            threshold_level(t, 2, |x| s >= x)
        }
    }
}

/// Levels of aligned rows: `out[i]` is the level of `left[i]` against `right[i]`.
pub fn levels(c: &ComparisonConfig, left: &Values, right: &Values, out: &mut Vec<u8>) {
    out.clear();
    out.extend((0..left.len()).map(|i| level(c, left, i, right, i)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(kind: ComparisonKind, thresholds: &[f64]) -> ComparisonConfig {
        ComparisonConfig {
            name: String::new(),
            column: "x".to_string(),
            kind,
            thresholds: thresholds.to_vec(),
            term_frequency: false,
            m: Vec::new(),
        }
    }

    fn text(values: &[Option<&str>]) -> Values {
        Values::Text(Text::Utf8(StringArray::from(values.to_vec())))
    }

    #[test]
    fn jaro_winkler_levels_and_nulls() {
        let c = comparison(ComparisonKind::JaroWinkler, &[0.9, 0.8]);
        let l = text(&[
            Some("martha"),
            Some("martha"),
            Some("ann"),
            None,
            Some("  "),
        ]);
        let r = text(&[
            Some("martha"),
            Some("marhta"),
            Some("zoe"),
            Some("a"),
            Some("a"),
        ]);
        let mut out = Vec::new();
        levels(&c, &l, &r, &mut out);
        assert_eq!(out, vec![0, 1, 3, NULL_LEVEL, NULL_LEVEL]);
        assert_eq!(c.level_count(), 4);
        assert_eq!(c.level_labels().len(), 4);
    }

    #[test]
    fn email_user_name_level() {
        let c = comparison(ComparisonKind::Email, &[0.88]);
        let l = text(&[Some("ann@x.com"), Some("ann.lee@x.com"), Some("ann@x.com")]);
        let r = text(&[Some("ann@y.com"), Some("annlee@y.com"), Some("bob@x.com")]);
        let mut out = Vec::new();
        levels(&c, &l, &r, &mut out);
        assert_eq!(out, vec![1, 2, 3]);
    }

    #[test]
    fn date_levels() {
        let c = comparison(ComparisonKind::Date, &[1.0, 366.0]);
        let l = Values::Days(Arc::new(Date32Array::from(vec![
            Some(10),
            Some(10),
            Some(10),
            None,
        ])));
        let r = Values::Days(Arc::new(Date32Array::from(vec![
            Some(10),
            Some(11),
            Some(900),
            Some(1),
        ])));
        let mut out = Vec::new();
        levels(&c, &l, &r, &mut out);
        assert_eq!(out, vec![0, 1, 3, NULL_LEVEL]);
    }
}
