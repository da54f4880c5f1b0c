//! `allocate_offers(candidates, budget [, max_offers])`: the sends that earn most in total
//! within a budget, over the whole customer base ([`crate::models::offers::allocate`] solves it).

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};

use super::next_best_offer::{decisions, max_offers};
use crate::models::offers::allocate::allocate;
use crate::values::{number, text};

const NAME: &str = "allocate_offers";
pub const USAGE: &str = "allocate_offers(candidates, budget [, max_offers]): the candidate table \
    (as for next_best_offer), the money the campaign may spend on sends, and the most offers \
    a customer may get (default 1, less the offers_in_period already sent), such as \
    allocate_offers('offer_candidates', 500.0, 1)";

/// The table function.
#[derive(Debug)]
pub struct AllocateOffers;

impl TableFunctionImpl for AllocateOffers {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(2..=3).contains(&exprs.len()) {
            return plan_err!("{NAME} takes two or three arguments: {USAGE}");
        }
        let (Some(table), Some(budget)) = (text(&exprs[0]), number(&exprs[1])) else {
            return plan_err!("{NAME}: {USAGE}");
        };
        if !budget.is_finite() || budget < 0.0 {
            return plan_err!("{NAME}: budget = {budget}; give a number of at least 0");
        }
        let max_offers = max_offers(NAME, USAGE, exprs.get(2), 1)?.unwrap_or(1);
        let label = format!("{NAME}('{table}', {budget})");
        decisions(NAME, label, table, Some(max_offers), move |c| {
            allocate(&c.customers, &c.room, budget)
        })
    }
}
