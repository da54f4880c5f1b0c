//! `next_best_offer(candidates, k [, max_offers])`: each customer's k most valuable offers.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};

use crate::functions::deferred::DeferredTable;
use crate::models::offers::{self, candidates, next_best::top};
use crate::values::{integer, text};

const NAME: &str = "next_best_offer";
pub const USAGE: &str = "next_best_offer(candidates, k [, max_offers]): the candidate table (one \
    row per customer and offer, and optionally channel, with customer_id, offer_id, uplift, \
    margin, cost and optionally eligible, channel, opted_out, offers_in_period), how many offers \
    to list per customer, and the contact policy's maximum offers per customer in its period \
    (less the offers_in_period already sent), such as next_best_offer('offer_candidates', 3, 2)";

/// The table function.
#[derive(Debug)]
pub struct NextBestOffer;

impl TableFunctionImpl for NextBestOffer {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(2..=3).contains(&exprs.len()) {
            return plan_err!("{NAME} takes two or three arguments: {USAGE}");
        }
        let (Some(table), Some(k)) = (text(&exprs[0]), integer(&exprs[1])) else {
            return plan_err!("{NAME}: {USAGE}");
        };
        if !(1..=1000).contains(&k) {
            return plan_err!("{NAME}: k = {k}; list 1 to 1000 offers per customer");
        }
        let max_offers = match exprs.get(2) {
            None => None,
            Some(e) => match integer(e) {
                Some(m) if m >= 0 => Some(m as usize),
                _ => {
                    return plan_err!(
                        "{NAME}: max_offers is a whole number of at least 0: {USAGE}"
                    );
                }
            },
        };
        let label = format!("{NAME}('{table}', {k})");
        Ok(DeferredTable::one_batch(
            label,
            offers::schema(),
            move |ctx, _| {
                let table = table.clone();
                Box::pin(async move {
                    let candidates = candidates::read(&ctx, NAME, &table, max_offers).await?;
                    let chosen = top(&candidates.customers, &candidates.room, k as usize);
                    offers::chosen_rows(&candidates, &chosen)
                })
            },
        ))
    }
}
