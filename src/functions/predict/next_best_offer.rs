//! `next_best_offer(candidates, k [, max_offers])`: each customer's k most valuable offers.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::Expr;

use crate::functions::deferred::DeferredTable;
use crate::models::offers::candidates::{self, Candidates, Choice};
use crate::models::offers::{self, next_best::top};
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
        let max_offers = max_offers(NAME, USAGE, exprs.get(2), 0)?;
        decisions(
            NAME,
            format!("{NAME}('{table}', {k})"),
            table,
            max_offers,
            move |c| top(&c.customers, &c.room, k as usize),
        )
    }
}

/// The optional `max_offers` argument: a whole number of at least `least`.
pub(super) fn max_offers(
    name: &str,
    usage: &str,
    arg: Option<&Expr>,
    least: i64,
) -> Result<Option<usize>> {
    match arg {
        None => Ok(None),
        Some(e) => match integer(e) {
            Some(m) if m >= least => Ok(Some(m as usize)),
            _ => plan_err!("{name}: max_offers is a whole number of at least {least}: {usage}"),
        },
    }
}

/// The table of an offer decision: when the query executes, the candidate `table` read (each
/// customer's room capped at `max_offers`) and the choices `decide` makes listed.
pub(super) fn decisions(
    name: &'static str,
    label: String,
    table: String,
    max_offers: Option<usize>,
    decide: impl Fn(&Candidates) -> Vec<Vec<Choice>> + Send + Sync + Copy + 'static,
) -> Result<Arc<dyn TableProvider>> {
    Ok(DeferredTable::one_batch(
        label,
        offers::schema(),
        move |ctx, _| {
            let table = table.clone();
            Box::pin(async move {
                let candidates = candidates::read(&ctx, name, &table, max_offers).await?;
                offers::chosen_rows(&candidates, &decide(&candidates))
            })
        },
    ))
}
