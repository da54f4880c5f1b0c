//! How much SQL c360 will plan: a statement's size and the nesting depth of its expressions
//! and joins are checked right after parsing, before DataFusion plans anything, so that no SQL
//! text (`1+1+...+1` with thousands of terms, a 100 MB one-line model) can exhaust a thread's
//! stack or the machine's memory. Parsing, planning and the dropping of parsed statements run
//! on threads with [`PLANNING_STACK`] bytes of stack, enough for the deepest statement these
//! limits let through; `[engine] max_statement_bytes` and `max_expression_depth` set them.

use std::collections::VecDeque;
use std::ops::ControlFlow;

use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::{Expr, Query, SetExpr, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::error::{C360Error, syntax_error};

/// The stack of every thread that parses or plans SQL: 256 MiB of address space, of which a
/// thread only touches what its deepest statement needs.
pub const PLANNING_STACK: usize = 256 << 20;

/// The default largest statement: 1 MiB of SQL text.
pub const DEFAULT_MAX_STATEMENT_BYTES: usize = 1 << 20;

/// The default deepest nesting of expressions, subqueries and joins (DuckDB's default too).
pub const DEFAULT_MAX_EXPRESSION_DEPTH: usize = 1000;

/// How nested parentheses and prefix operators may go, for the parser itself.
const PARSER_RECURSION_LIMIT: usize = 200;

/// The limits a statement is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlLimits {
    /// The most bytes of SQL text in one call.
    pub max_statement_bytes: usize,
    /// The deepest nesting of expressions (`1+1+1` nests three deep), subqueries and joins.
    pub max_expression_depth: usize,
}

impl Default for SqlLimits {
    fn default() -> Self {
        Self {
            max_statement_bytes: DEFAULT_MAX_STATEMENT_BYTES,
            max_expression_depth: DEFAULT_MAX_EXPRESSION_DEPTH,
        }
    }
}

impl SqlLimits {
    /// Parse `sql` into its statements and check each against the limits. Errors are
    /// [`C360Error::Query`] naming the limit and how to stay within it.
    pub fn parse(&self, sql: &str) -> Result<VecDeque<Statement>, C360Error> {
        if sql.len() > self.max_statement_bytes {
            return Err(C360Error::Query(format!(
                "the SQL text is {} bytes, more than the {} bytes c360 plans in one go \
                 ([engine] max_statement_bytes); split it into smaller statements, or move \
                 long lists of values into a table and join it",
                sql.len(),
                self.max_statement_bytes
            )));
        }
        let statements = DFParserBuilder::new(sql)
            .with_dialect(&GenericDialect {})
            .with_recursion_limit(PARSER_RECURSION_LIMIT)
            .build()
            .and_then(|mut parser| parser.parse_statements())
            .map_err(|e| syntax_error(&e, sql))?;
        for (index, statement) in statements.iter().enumerate() {
            self.check_depth(statement).map_err(|depth| {
                let which = if statements.len() > 1 {
                    format!("statement {} of {}", index + 1, statements.len())
                } else {
                    "the statement".to_string()
                };
                C360Error::Query(format!(
                    "{which} nests expressions, subqueries or joins more than {depth} deep, \
                     the most c360 plans ([engine] max_expression_depth); a long chain such as \
                     a + b + c + ... or x = 1 OR x = 2 OR ... can be written as sum over a \
                     table, x IN (1, 2, ...) or a join with a table of the values"
                ))
            })?;
        }
        Ok(statements)
    }

    /// `Err(limit)` when `statement` nests deeper than the limit.
    fn check_depth(&self, statement: &Statement) -> Result<(), usize> {
        let limit = self.max_expression_depth;
        let mut depth = Depth {
            now: 0,
            limit,
            joins: Vec::new(),
        };
        let flow = match statement {
            Statement::Statement(s) => s.visit(&mut depth),
            Statement::Explain(e) => return self.check_depth(&e.statement),
            Statement::CopyTo(c) => match &c.source {
                datafusion::sql::parser::CopyToSource::Query(q) => q.visit(&mut depth),
                datafusion::sql::parser::CopyToSource::Relation(_) => ControlFlow::Continue(()),
            },
            Statement::CreateExternalTable(_) | Statement::Reset(_) => ControlFlow::Continue(()),
        };
        match flow {
            ControlFlow::Break(()) => Err(limit),
            ControlFlow::Continue(()) => Ok(()),
        }
    }
}

/// Counts how deep the visit is: every expression and query one level, every join of a
/// FROM clause one more (DataFusion plans joins as a left-deep tree).
struct Depth {
    now: usize,
    limit: usize,
    /// The levels each open query added for its joins and set operations.
    joins: Vec<usize>,
}

impl Depth {
    fn enter(&mut self, levels: usize) -> ControlFlow<()> {
        self.now += levels;
        if self.now > self.limit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Joins and set operations (UNION, INTERSECT, EXCEPT) chained in one query body.
fn chained(body: &SetExpr) -> usize {
    let mut count = 0;
    let mut next = Some(body);
    while let Some(set) = next {
        next = None;
        match set {
            SetExpr::Select(select) => {
                count += select.from.iter().map(|t| t.joins.len()).sum::<usize>();
            }
            SetExpr::SetOperation { left, .. } => {
                count += 1;
                next = Some(left);
            }
            _ => {}
        }
    }
    count
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let levels = 1 + chained(&query.body);
        self.joins.push(levels);
        self.enter(levels)
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.now -= self.joins.pop().unwrap_or(0);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.enter(1)
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
        self.now -= 1;
        ControlFlow::Continue(())
    }
}

/// Run `work` on a new thread with [`PLANNING_STACK`] bytes of stack and wait for it; for
/// parsing and planning from a thread whose own stack is small. `None` when the thread could
/// not start or `work` panicked.
pub fn on_planning_stack<T: Send>(work: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("c360-plan".to_string())
            .stack_size(PLANNING_STACK)
            .spawn_scoped(scope, work)
            .ok()?
            .join()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(terms: usize, op: &str) -> String {
        format!("SELECT {}", vec!["1"; terms].join(op))
    }

    #[test]
    fn chains_within_the_depth_parse_and_deeper_ones_are_refused_naming_the_limit() {
        let limits = SqlLimits::default();
        assert!(limits.parse(&chain(900, " + ")).is_ok());
        for op in [" + ", " OR ", " AND ", " || "] {
            let e = limits.parse(&chain(3000, op)).unwrap_err().to_string();
            assert!(e.contains("max_expression_depth"), "{e}");
        }
        let joins = format!(
            "SELECT 1 FROM t0 {}",
            (1..2000)
                .map(|i| format!("JOIN t{i} ON true"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(limits.parse(&joins).is_err());
        let unions = vec!["SELECT 1"; 2000].join(" UNION ALL ");
        assert!(limits.parse(&unions).is_err());
    }

    #[test]
    fn a_statement_over_the_size_limit_is_refused_before_parsing() {
        let limits = SqlLimits {
            max_statement_bytes: 100,
            ..SqlLimits::default()
        };
        let e = limits.parse(&chain(100, "+")).unwrap_err().to_string();
        assert!(
            e.contains("max_statement_bytes") && e.contains("206 bytes"),
            "{e}"
        );
    }

    #[test]
    fn the_largest_statement_allowed_parses_and_drops_on_the_planning_stack() {
        // 1 MiB of `+1`: half a million terms, the deepest tree the size limit lets through.
        let sql = chain(DEFAULT_MAX_STATEMENT_BYTES / 2 - 8, "+");
        let refused = on_planning_stack(|| SqlLimits::default().parse(&sql).is_err());
        assert_eq!(refused, Some(true));
    }

    #[test]
    fn nested_parentheses_are_a_syntax_error_not_an_overflow() {
        let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        let e = SqlLimits::default().parse(&sql).unwrap_err().to_string();
        assert!(e.contains("nests too deeply"), "{e}");
    }
}
