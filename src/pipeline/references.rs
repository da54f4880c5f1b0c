//! What a model's statement names by string that its dependency graph must see: the tables
//! a table function reads, the model files it fits or scores with, the `[matching.NAME]`
//! setups it uses (as the function registry says which argument names what).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, TableFactor, Value, Visit,
    Visitor,
};

use crate::functions::registry;

/// The `[matching.NAME]` setups a statement uses through the matching functions.
pub fn matching_setups<V: Visit>(statement: &V) -> BTreeSet<String> {
    first_string_arguments(
        statement,
        &registry::first_argument_names(registry::Names::MatchingSetup),
    )
}

/// The string literals given as first argument to any of `functions` (scalar or table
/// functions) in a statement: the setups or tables a call names by string, which a dependency
/// graph must see.
pub fn first_string_arguments<V: Visit>(statement: &V, functions: &[&str]) -> BTreeSet<String> {
    string_arguments(statement, functions, 0)
}

/// The string literals given as argument `index` (from 0) to any of `functions`.
pub fn string_arguments<V: Visit>(
    statement: &V,
    functions: &[&str],
    index: usize,
) -> BTreeSet<String> {
    struct Names<'a> {
        found: BTreeSet<String>,
        functions: &'a [&'a str],
        index: usize,
    }
    fn literal(args: &[FunctionArg], index: usize) -> Option<String> {
        match args.get(index)? {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
                Value::SingleQuotedString(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    }
    impl Names<'_> {
        fn wanted(&self, name: &ObjectName) -> bool {
            let name = name.to_string().to_lowercase();
            self.functions.contains(&name.as_str())
        }
    }
    impl Visitor for Names<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name,
                args: Some(args),
                ..
            } = factor
                && self.wanted(name)
                && let Some(n) = literal(&args.args, self.index)
            {
                self.found.insert(n);
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = expr
                && self.wanted(&f.name)
                && let FunctionArguments::List(list) = &f.args
                && let Some(n) = literal(&list.args, self.index)
            {
                self.found.insert(n);
            }
            ControlFlow::Continue(())
        }
    }
    let mut names = Names {
        found: BTreeSet::new(),
        functions,
        index,
    };
    let _ = statement.visit(&mut names);
    names.found
}
