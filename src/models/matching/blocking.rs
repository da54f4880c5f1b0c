//! Blocking rules: SQL join conditions over the two records of a pair, `l` and `r`.
//!
//! A rule is ordinary SQL, so analysts can add one by writing a condition. This module reads a
//! rule's columns (an EM session leaves the comparisons on them out), counts the pairs a rule
//! yields from its equality conditions without running the join (`GROUP BY` on the keys:
//! a block of n records gives n(n-1)/2 pairs), refuses a rule above the configured pair count,
//! and writes the join that produces the deduplicated union of all rules' pairs.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, visit_expressions, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::config::MatchingConfig;

/// A parsed blocking rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule as written.
    pub text: String,
    /// Columns it reads from `l` or `r`.
    pub columns: BTreeSet<String>,
    /// Its equality conditions as (left expression, right expression), both unqualified.
    pub keys: Vec<(String, String)>,
}

impl Rule {
    /// Parse `text`; `at` names the rule in errors.
    pub fn parse(text: &str, at: &str) -> Result<Self, String> {
        let expr = Parser::new(&GenericDialect {})
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| format!("{at} `{text}`: not a SQL condition: {e}"))?;
        let mut columns = BTreeSet::new();
        let mut bad = None;
        let _ = visit_expressions(&expr, |e: &Expr| {
            match e {
                Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                    let side = parts[0].value.to_lowercase();
                    if side == "l" || side == "r" {
                        columns.insert(parts[1].value.clone());
                    } else {
                        bad = Some(parts[0].value.clone());
                    }
                }
                Expr::Identifier(ident) => bad = Some(ident.value.clone()),
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        if let Some(name) = bad {
            return Err(format!(
                "{at} `{text}`: '{name}' is not a column of l or r; write l.column and r.column"
            ));
        }
        let mut keys = Vec::new();
        for condition in conjuncts(&expr) {
            if let Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } = condition
            {
                match (side_of(left), side_of(right)) {
                    (Some('l'), Some('r')) => keys.push((unqualified(left), unqualified(right))),
                    (Some('r'), Some('l')) => keys.push((unqualified(right), unqualified(left))),
                    _ => {}
                }
            }
        }
        Ok(Self {
            text: text.to_string(),
            columns,
            keys,
        })
    }

    /// Whether every equality compares the same expression on both sides, so the pairs are
    /// counted exactly; otherwise the count is an upper bound.
    pub fn symmetric(&self) -> bool {
        self.keys.iter().all(|(l, r)| l == r)
    }

    /// A query returning `pairs` (the rule's candidate pairs, or an upper bound), `largest`
    /// (records in its largest block) and `largest_key` (that block's key), from the equality
    /// conditions alone. `None` when the rule has no equality between `l` and `r`.
    pub fn count_sql(&self, records: &str) -> Option<String> {
        if self.keys.is_empty() {
            return None;
        }
        let side = |k: &(String, String), right: bool| -> String {
            if right { k.1.clone() } else { k.0.clone() }
        };
        let not_null = |right: bool| {
            self.keys
                .iter()
                .map(|k| format!("({}) IS NOT NULL", side(k, right)))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let group = |right: bool| {
            self.keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("({}) AS k{i}", side(k, right)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let key_text = (0..self.keys.len())
            .map(|i| format!("CAST(k{i} AS VARCHAR)"))
            .collect::<Vec<_>>()
            .join(" || ' / ' || ");
        let positions = (1..=self.keys.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let blocks = |right: bool| {
            format!(
                "SELECT {}, count(*) AS n FROM {records} WHERE {} GROUP BY {positions}",
                group(right),
                not_null(right)
            )
        };
        Some(if self.symmetric() {
            format!(
                "SELECT CAST(coalesce(sum(n * (n - 1) / 2), 0) AS BIGINT) AS pairs, \
                 max(n) AS largest, first_value({key_text} ORDER BY n DESC) AS largest_key \
                 FROM ({})",
                blocks(false)
            )
        } else {
            let on = (0..self.keys.len())
                .map(|i| format!("a.k{i} = b.k{i}"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let key_text = key_text.replace("CAST(k", "CAST(a.k");
            format!(
                "SELECT CAST(coalesce(sum(a.n * b.n), 0) AS BIGINT) AS pairs, \
                 max(greatest(a.n, b.n)) AS largest, \
                 first_value({key_text} ORDER BY a.n * b.n DESC) AS largest_key \
                 FROM ({}) a JOIN ({}) b ON {on}",
                blocks(false),
                blocks(true)
            )
        })
    }
}

/// The top-level AND-ed conditions of `expr`.
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut all = conjuncts(left);
            all.extend(conjuncts(right));
            all
        }
        Expr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

/// 'l' or 'r' when every column `expr` reads is of that side.
fn side_of(expr: &Expr) -> Option<char> {
    let mut sides = BTreeSet::new();
    let _ = visit_expressions(expr, |e: &Expr| {
        if let Expr::CompoundIdentifier(parts) = e
            && parts.len() == 2
        {
            sides.insert(parts[0].value.to_lowercase());
        }
        ControlFlow::<()>::Continue(())
    });
    match sides.into_iter().collect::<Vec<_>>().as_slice() {
        [side] if side == "l" => Some('l'),
        [side] if side == "r" => Some('r'),
        _ => None,
    }
}

/// `expr` with its `l.`/`r.` qualifiers removed.
fn unqualified(expr: &Expr) -> String {
    let mut expr = expr.clone();
    let _ = visit_expressions_mut(&mut expr, |e: &mut Expr| {
        if let Expr::CompoundIdentifier(parts) = e
            && parts.len() == 2
        {
            *e = Expr::Identifier(parts[1].clone());
        }
        ControlFlow::<()>::Continue(())
    });
    expr.to_string()
}

/// Parse every rule of `rules`; `name` is the `[matching.NAME]`.
pub fn parse_rules(name: &str, rules: &[String]) -> Result<Vec<Rule>, String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, text)| Rule::parse(text, &format!("[matching.{name}] blocking rule {}", i + 1)))
        .collect()
}

/// The join producing the pairs of `rules`, each pair once (the first rule that yields it
/// keeps it), with `select` over `l` and `r` and the rule's number as `blocking_rule`.
pub fn pairs_sql(config: &MatchingConfig, rules: &[Rule], select: &str) -> String {
    let key = &config.key;
    let before = format!("CAST(l.{key} AS VARCHAR) < CAST(r.{key} AS VARCHAR)");
    sided_pairs_sql(rules, select, &config.records, &config.records, &before)
}

/// [`pairs_sql`] with `l` drawn from `left` and `r` from `right` (tables or CTEs holding the
/// records' columns) and `before` the condition that orients a pair (so each is made once).
pub fn sided_pairs_sql(
    rules: &[Rule],
    select: &str,
    left: &str,
    right: &str,
    before: &str,
) -> String {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let earlier = rules[..i]
                .iter()
                .map(|r| format!(" AND NOT coalesce(({}), false)", r.text))
                .collect::<String>();
            format!(
                "SELECT {select}, CAST({} AS INT) AS blocking_rule \
                 FROM {left} AS l JOIN {right} AS r \
                 ON ({}) AND {before} \
                 WHERE TRUE{earlier}",
                i + 1,
                rule.text
            )
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_keys() {
        let rule = Rule::parse(
            "l.postcode = r.postcode AND substr(l.last, 1, 2) = substr(r.last, 1, 2) \
             AND jaro_winkler(l.first, r.first) > 0.9",
            "rule",
        )
        .unwrap();
        assert_eq!(
            rule.columns.iter().cloned().collect::<Vec<_>>(),
            vec!["first", "last", "postcode"]
        );
        assert_eq!(rule.keys.len(), 2);
        assert_eq!(rule.keys[1].0.to_lowercase(), "substr(last, 1, 2)");
        assert!(rule.symmetric());
        assert!(rule.count_sql("t").is_some());
    }

    #[test]
    fn swapped_columns_are_an_upper_bound() {
        let rule = Rule::parse("l.first = r.last AND l.last = r.first", "rule").unwrap();
        assert!(!rule.symmetric());
        assert!(rule.count_sql("t").unwrap().contains("JOIN"));
    }

    #[test]
    fn bad_rules_are_named() {
        let e = Rule::parse("email = r.email", "rule 1").unwrap_err();
        assert!(e.contains("'email' is not a column of l or r"), "{e}");
        let e = Rule::parse("l.email = = r.email", "rule 1").unwrap_err();
        assert!(e.contains("not a SQL condition"), "{e}");
        let rule = Rule::parse("l.a > r.a", "rule").unwrap();
        assert!(rule.count_sql("t").is_none());
    }
}
