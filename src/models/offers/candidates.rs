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

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::compute::{cast, concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, Schema};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::physical_expr::expressions::col as physical_col;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};
use datafusion::prelude::SessionContext;
use tokio::task::JoinSet;

use crate::memory::Held;
use crate::stop::Stop;
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
    // Plain strings (VARCHAR is Utf8View in a session), so that the grouping reads them
    // without another copy.
    select[0] = "arrow_cast(CAST(customer_id AS VARCHAR), 'Utf8') AS customer_id".to_string();
    select[1] = "arrow_cast(CAST(offer_id AS VARCHAR), 'Utf8') AS offer_id".to_string();
    select.insert(
        2,
        if has("channel") {
            "arrow_cast(CAST(channel AS VARCHAR), 'Utf8') AS channel".to_string()
        } else {
            "arrow_cast(NULL, 'Utf8') AS channel".to_string()
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
    // Grouped by customer on every core: the rows are split by customer id into one part per
    // partition, and each part is grouped and reduced to its choices on its own.
    let selected = ctx
        .sql(&format!(
            "SELECT {} FROM {}",
            select.join(", "),
            quote(table)
        ))
        .await?;
    // The repartition wraps the optimised plan: the physical optimiser would drop a hash
    // repartition no operator above it needs.
    let parts = ctx.state().config().target_partitions().max(1);
    let plan = selected.create_physical_plan().await?;
    let key = physical_col("customer_id", &plan.schema())?;
    let plan: Arc<dyn ExecutionPlan> = Arc::new(RepartitionExec::try_new(
        plan,
        Partitioning::Hash(vec![key], parts),
    )?);
    let task = ctx.task_ctx();
    let streams = (0..parts)
        .map(|i| plan.execute(i, Arc::clone(&task)))
        .collect::<Result<Vec<_>>>()?;
    let mut tasks = JoinSet::new();
    for stream in streams {
        let mut held = Held::new(ctx, format!("{function} reading '{table}'"));
        let (function, table) = (function.to_string(), table.to_string());
        let stop = Stop::of_session(ctx);
        tasks.spawn(async move {
            let batches = held.collect_stream(stream).await?;
            stop.blocking(&function.clone(), move || {
                reduce(batches, held, &function, &table, max_offers)
            })
            .await
        });
    }
    let mut reduced = Vec::with_capacity(parts);
    while let Some(part) = tasks.join_next().await {
        reduced.push(part.map_err(|e| {
            DataFusionError::Execution(format!("{function} reading '{table}' stopped: {e}"))
        })??);
    }
    merge(ctx, function, table, reduced)
}

/// The candidates of the customers of one part, reduced to their choices.
struct Part {
    /// Only the rows of the choices, in the columns of [`Candidates::rows`].
    rows: RecordBatch,
    /// Per customer of the part, in the order of their ids: the id, the choices (rows of
    /// `rows`) and the room the contact policy leaves.
    customers: Vec<(String, Vec<Choice>, usize)>,
    held: Held,
}

/// One part's rows checked and grouped by customer: each customer's choices, one per offer on
/// its best channel, most valuable first, and the room the contact policy leaves them.
fn reduce(
    parts: Vec<RecordBatch>,
    mut held: Held,
    function: &str,
    table: &str,
    max_offers: Option<usize>,
) -> Result<Part> {
    let Some(first) = parts.first() else {
        return Ok(Part {
            rows: RecordBatch::new_empty(Arc::new(Schema::empty())),
            customers: Vec::new(),
            held,
        });
    };
    let read = held.size();
    held.grow(read)?; // the one batch they are joined into
    let all = concat_batches(&first.schema(), &parts)?;
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
    // Plain strings, as selected above (so these casts copy nothing).
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
    // The rows of each customer (rows without one have no one to send to and are left out).
    let ids = customer.as_string::<i32>();
    let mut groups: HashMap<&str, Vec<usize>, ahash::RandomState> = HashMap::default();
    for i in 0..ids.len() {
        if ids.is_valid(i) {
            groups.entry(ids.value(i)).or_default().push(i);
        }
    }
    // In no order: the parts' customers are put in the order of their ids when merged.
    let groups: Vec<(&str, Vec<usize>)> = groups.into_iter().collect();
    let channels = channel.as_string::<i32>();
    let mut customers = Vec::with_capacity(groups.len());
    for (id, rows) in &groups {
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
        customers.push((id.to_string(), choices, left));
    }
    // Only the chosen rows are kept: the others are dropped with the part's batch.
    let kept = UInt32Array::from_iter_values(
        customers
            .iter()
            .flat_map(|(_, choices, _)| choices.iter().map(|c| c.row as u32)),
    );
    let mut next = 0;
    for (_, choices, _) in &mut customers {
        for choice in choices.iter_mut() {
            choice.row = next;
            next += 1;
        }
    }
    let pick = |a: &ArrayRef| take(a.as_ref(), &kept, None);
    let rows = RecordBatch::try_from_iter(vec![
        ("customer_id", pick(&customer)?),
        ("offer_id", pick(&offer)?),
        ("channel", pick(&channel)?),
        ("uplift", pick(&(Arc::new(uplift.clone()) as ArrayRef))?),
        ("margin", pick(&(Arc::new(margin.clone()) as ArrayRef))?),
        ("cost", pick(&(Arc::new(cost.clone()) as ArrayRef))?),
    ])?;
    drop(groups);
    // What the part keeps: the chosen rows, the customers' ids and their lists of choices.
    let lists: usize = customers
        .iter()
        .map(|(id, c, _)| id.len() + c.capacity() * size_of::<Choice>())
        .sum();
    held.shrink(held.size());
    held.grow(rows.get_array_memory_size() + lists)?;
    Ok(Part {
        rows,
        customers,
        held,
    })
}

/// The parts' choices as one table: customers in the order of their ids, their choices'
/// rows in one batch.
fn merge(
    ctx: &SessionContext,
    function: &str,
    table: &str,
    parts: Vec<Part>,
) -> Result<Candidates> {
    let mut held = Held::new(ctx, format!("{function} reading '{table}'"));
    let parts: Vec<Part> = parts
        .into_iter()
        .filter(|p| p.rows.num_columns() > 0)
        .collect();
    let Some(first) = parts.first() else {
        return Ok(Candidates {
            rows: RecordBatch::new_empty(Arc::new(Schema::empty())),
            customers: Vec::new(),
            room: Vec::new(),
            held,
        });
    };
    held.grow(parts.iter().map(|p| p.held.size()).sum())?;
    let rows = concat_batches(&first.rows.schema(), parts.iter().map(|p| &p.rows))?;
    let mut by_id: Vec<(&str, usize, usize)> = Vec::new();
    let mut offsets = Vec::with_capacity(parts.len());
    let mut offset = 0;
    for (p, part) in parts.iter().enumerate() {
        offsets.push(offset);
        offset += part.rows.num_rows();
        by_id.extend(
            part.customers
                .iter()
                .enumerate()
                .map(|(c, (id, _, _))| (id.as_str(), p, c)),
        );
    }
    by_id.sort_unstable_by(|a, b| a.0.cmp(b.0));
    // Each customer's choices copied in the order of the ids, so that the decisions, which
    // pass over all customers many times, read them from consecutive memory.
    let mut customers = Vec::with_capacity(by_id.len());
    let mut room = Vec::with_capacity(by_id.len());
    for (_, p, c) in by_id {
        let (_, choices, left) = &parts[p].customers[c];
        customers.push(
            choices
                .iter()
                .map(|choice| Choice {
                    row: choice.row + offsets[p],
                    ..*choice
                })
                .collect(),
        );
        room.push(*left);
    }
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
