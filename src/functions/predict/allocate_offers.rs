//! `allocate_offers(candidates, budget [, max_offers])`: the sends that earn most in total
//! within a budget, over the whole customer base ([`crate::models::offers::allocate`] solves it).

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};

use crate::functions::deferred::DeferredTable;
use crate::models::offers::{self, allocate::allocate, candidates};
use crate::values::{integer, number, text};

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
        let max_offers = match exprs.get(2) {
            None => 1,
            Some(e) => match integer(e) {
                Some(m) if m >= 1 => m as usize,
                _ => {
                    return plan_err!(
                        "{NAME}: max_offers is a whole number of at least 1: {USAGE}"
                    );
                }
            },
        };
        let label = format!("{NAME}('{table}', {budget})");
        Ok(DeferredTable::one_batch(
            label,
            offers::schema(),
            move |ctx, _| {
                let table = table.clone();
                Box::pin(async move {
                    let candidates = candidates::read(&ctx, NAME, &table, Some(max_offers)).await?;
                    let chosen = allocate(&candidates.customers, &candidates.room, budget);
                    offers::chosen_rows(&candidates, &chosen)
                })
            },
        ))
    }
}
