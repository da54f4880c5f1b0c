//! The candidate table that `next_best_offer` and `allocate_offers` choose from: one row per
//! customer, offer and (optionally) channel, with what the offer is worth.
//!
//! Required columns: `customer_id`, `offer_id`, `uplift` (what sending adds to the probability
//! of converting), `margin` (the money a conversion earns) and `cost` (of one send). Optional:
//! `eligible` (false or NULL leaves the row out: the eligibility rules, written in SQL),
//! `channel` (the channel it would go out on), `opted_out` (true leaves the row out: the
//! customer refused that channel), `channel_rank` (among the channels of one offer worth the
//! same, the lowest rank is chosen, such as the customer's preferred channel; otherwise the
//! first by name) and `offers_in_period` (offers the customer already received in the contact
//! policy's period, counted against its maximum). A row with a NULL uplift has
//! no score and is left out; a negative or NULL margin or cost is an error.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::prelude::SessionContext;

use crate::memory::Held;
use crate::values::quote;

/// One way to reach a customer: a row of the candidate table that passed the rules.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    /// The row in [`Candidates::rows`].
    pub row: usize,
    /// uplift × margin − cost.
    pub value: f64,
    pub cost: f64,
    /// The channel's rank for the customer (lower first), for ties of value.
    pub channel_rank: i64,
}

/// The candidates read, grouped by customer.
pub struct Candidates {
    /// The columns returned with each choice: customer_id, offer_id, channel (or NULLs),
    /// uplift, margin, cost.
    pub rows: RecordBatch,
    /// Per customer: their choices (one per offer, on its best channel), most valuable first.
    pub customers: Vec<Vec<Choice>>,
    /// Per customer: how many more offers the contact policy allows.
    pub room: Vec<usize>,
    /// The memory the table read holds in the session's pool while the candidates live.
    pub held: Held,
}

/// The columns a candidate table must have.
pub const REQUIRED: [&str; 5] = ["customer_id", "offer_id", "uplift", "margin", "cost"];

/// Read and check `table`, applying eligibility, opt-outs and the contact policy of at most
/// `max_offers` offers per customer in the period (None: no maximum).
pub async fn read(
    ctx: &SessionContext,
    function: &str,
    table: &str,
    max_offers: Option<usize>,
) -> Result<Candidates> {
    let frame = ctx
        .sql(&format!("SELECT * FROM {}", quote(table)))
        .await
        .map_err(|e| DataFusionError::Plan(format!("{function}: reading table '{table}': {e}")))?;
    let schema = frame.schema().as_arrow().clone();
    for column in REQUIRED {
        if schema.field_with_name(column).is_err() {
            return plan_err!(
                "{function}: candidate table '{table}' has no column '{column}'; it needs \
                 {} (and optionally eligible, channel, opted_out, offers_in_period)",
                REQUIRED.join(", ")
            );
        }
    }
    let has = |c: &str| schema.field_with_name(c).is_ok();
    let mut select: Vec<String> = REQUIRED.iter().map(|c| quote(c)).collect();
    select[0] = "CAST(customer_id AS VARCHAR) AS customer_id".to_string();
    select[1] = "CAST(offer_id AS VARCHAR) AS offer_id".to_string();
    select.insert(
        2,
        if has("channel") {
            "CAST(channel AS VARCHAR) AS channel".to_string()
        } else {
            "CAST(NULL AS VARCHAR) AS channel".to_string()
        },
    );
    for (column, default) in [
        ("eligible", "true"),
        ("opted_out", "false"),
        ("offers_in_period", "0"),
        ("channel_rank", "CAST(NULL AS BIGINT)"),
    ] {
        select.push(if has(column) {
            quote(column)
        } else {
            format!("{default} AS {column}")
        });
    }
    let sorted = ctx
        .sql(&format!(
            "SELECT {} FROM {}",
            select.join(", "),
            quote(table)
        ))
        .await?;
    let sorted_schema = Arc::new(sorted.schema().as_arrow().clone());
    // The candidates read, and their one batch, count against the memory limit while held.
    let mut held = Held::new(ctx, format!("{function} reading '{table}'"));
    let parts = held.collect(sorted).await?;
    let read = held.size();
    held.grow(read)?; // the one batch they are joined into
    let all = concat_batches(&sorted_schema, &parts)?;
    drop(parts);
    held.shrink(read);
    let number = |name: &str| -> Result<ArrayRef> {
        let column = all.column_by_name(name).ok_or_else(|| {
            DataFusionError::Internal(format!("{function}: column {name} not selected"))
        })?;
        if !column.data_type().is_numeric() && column.data_type() != &DataType::Null {
            return plan_err!(
                "{function}: column '{name}' of '{table}' is {}, expected a number",
                column.data_type()
            );
        }
        Ok(cast(column, &DataType::Float64)?)
    };
    let flag = |name: &str| -> Result<ArrayRef> {
        let column = all.column_by_name(name).ok_or_else(|| {
            DataFusionError::Internal(format!("{function}: column {name} not selected"))
        })?;
        if !matches!(column.data_type(), DataType::Boolean | DataType::Null) {
            return plan_err!(
                "{function}: column '{name}' of '{table}' is {}, expected a boolean",
                column.data_type()
            );
        }
        Ok(cast(column, &DataType::Boolean)?)
    };
    let (uplift, margin, cost) = (number("uplift")?, number("margin")?, number("cost")?);
    let (uplift, margin, cost) = (
        uplift.as_primitive::<Float64Type>(),
        margin.as_primitive::<Float64Type>(),
        cost.as_primitive::<Float64Type>(),
    );
    let (eligible, opted_out) = (flag("eligible")?, flag("opted_out")?);
    let (eligible, opted_out) = (eligible.as_boolean(), opted_out.as_boolean());
    let in_period = all
        .column_by_name("offers_in_period")
        .filter(|c| c.data_type().is_integer() || c.data_type() == &DataType::Null)
        .ok_or_else(|| {
            DataFusionError::Plan(format!(
                "{function}: column 'offers_in_period' of '{table}' must be an integer count"
            ))
        })?;
    let in_period = cast(in_period, &DataType::Int64)?;
    let in_period = in_period.as_primitive::<Int64Type>();
    let channel_rank = all
        .column_by_name("channel_rank")
        .filter(|c| c.data_type().is_integer() || c.data_type() == &DataType::Null)
        .ok_or_else(|| {
            DataFusionError::Plan(format!(
                "{function}: column 'channel_rank' of '{table}' must be an integer"
            ))
        })?;
    let channel_rank = cast(channel_rank, &DataType::Int64)?;
    let channel_rank = channel_rank.as_primitive::<Int64Type>();
    // Plain strings whatever the session casts VARCHAR to (Utf8View by default).
    let customer = cast(all.column(0), &DataType::Utf8)?;
    let offer = cast(all.column(1), &DataType::Utf8)?;
    let offers = offer.as_string::<i32>();
    let channel = cast(all.column(2), &DataType::Utf8)?;
    let shown = |i: usize| -> String {
        let text = |a: &ArrayRef| {
            cast(&a.slice(i, 1), &DataType::Utf8)
                .ok()
                .and_then(|s| {
                    let s = s.as_string::<i32>();
                    s.is_valid(0).then(|| s.value(0).to_string())
                })
                .unwrap_or_else(|| "NULL".into())
        };
        format!("customer {}, offer {}", text(&customer), text(&offer))
    };
    // The rows of each customer, customers in the order of their ids (rows without one have
    // no one to send to and are left out).
    let ids = customer.as_string::<i32>();
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in 0..ids.len() {
        if ids.is_valid(i) {
            groups.entry(ids.value(i)).or_default().push(i);
        }
    }
    let mut groups: Vec<(&str, Vec<usize>)> = groups.into_iter().collect();
    groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let channels = channel.as_string::<i32>();
    let mut customers = Vec::with_capacity(groups.len());
    let mut room = Vec::with_capacity(groups.len());
    for (_, rows) in &groups {
        let mut choices: Vec<Choice> = Vec::new();
        let mut received = 0i64;
        for &i in rows {
            for (what, column) in [("cost", cost), ("margin", margin)] {
                if column.is_null(i) || column.value(i) < 0.0 || column.value(i).is_nan() {
                    return plan_err!(
                        "{function}: {what} of {} in '{table}' is {}; the {what} of an offer is \
                         a number of at least 0 (fix the offer catalogue or the candidate model)",
                        shown(i),
                        if column.is_null(i) {
                            "NULL".to_string()
                        } else {
                            column.value(i).to_string()
                        }
                    );
                }
            }
            if in_period.is_valid(i) {
                received = received.max(in_period.value(i));
            }
            let allowed = eligible.is_valid(i)
                && eligible.value(i)
                && !(opted_out.is_valid(i) && opted_out.value(i))
                && uplift.is_valid(i)
                && uplift.value(i).is_finite();
            if !allowed {
                continue;
            }
            choices.push(Choice {
                row: i,
                value: uplift.value(i) * margin.value(i) - cost.value(i),
                cost: cost.value(i),
                channel_rank: if channel_rank.is_valid(i) {
                    channel_rank.value(i)
                } else {
                    i64::MAX
                },
            });
        }
        best_channel_per_offer(&mut choices, offers, channels);
        let left = max_offers.map_or(usize::MAX, |m| {
            m.saturating_sub(usize::try_from(received).unwrap_or(0))
        });
        customers.push(choices);
        room.push(left);
    }
    let rows = RecordBatch::try_from_iter(vec![
        ("customer_id", customer),
        ("offer_id", offer),
        ("channel", channel),
        ("uplift", Arc::new(uplift.clone()) as ArrayRef),
        ("margin", Arc::new(margin.clone()) as ArrayRef),
        ("cost", Arc::new(cost.clone()) as ArrayRef),
    ])?;
    let choices: usize = customers.iter().map(Vec::capacity).sum();
    held.grow(choices * size_of::<Choice>())?;
    Ok(Candidates {
        rows,
        customers,
        room,
        held,
    })
}

/// Keep one choice per offer (its most valuable channel), most valuable first; ties go to the
/// lower channel rank, then by offer id and channel name. Rows without an offer id are dropped.
fn best_channel_per_offer(choices: &mut Vec<Choice>, offers: &StringArray, channels: &StringArray) {
    let channel = |row: usize| channels.is_valid(row).then(|| channels.value(row));
    choices.retain(|c| offers.is_valid(c.row));
    choices.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then(a.channel_rank.cmp(&b.channel_rank))
            .then(offers.value(a.row).cmp(offers.value(b.row)))
            .then(channel(a.row).cmp(&channel(b.row)))
    });
    let mut kept: Vec<Choice> = Vec::with_capacity(choices.len());
    for choice in choices.iter() {
        let offer = offers.value(choice.row);
        if !kept.iter().any(|k| offers.value(k.row) == offer) {
            kept.push(*choice);
        }
    }
    *choices = kept;
}
