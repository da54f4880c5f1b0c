//! The files one chunk of simulated people is written to: a part file per source table and
//! per ground-truth table, with their columns, and the moment the sources end (nothing at or
//! after `until` is written).

use std::path::Path;

use super::sim::Counts;
use super::table::{FileKind, Kind, Table};
use crate::error::Result;

/// The part files of one chunk.
pub struct Tables {
    pub crm: Table,
    pub accounts: Table,
    pub orders: Table,
    pub subscriptions: Table,
    pub email: Table,
    pub web: Table,
    pub tickets: Table,
    pub nps: Table,
    pub offers: Table,
    pub truth_records: Table,
    pub truth_churn: Table,
    pub truth_offers: Table,
    pub truth_channels: Table,
    /// Sources hold nothing at or after this moment (microseconds since the epoch).
    pub until: i64,
}

/// Where a chunk's rows go.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Part files named `{stem}.{extension}` in each table's folder under the output folder.
    Files(&'a Path, &'a str),
    /// Nowhere: the simulation runs (and draws its random numbers) without writing.
    Discard,
}

impl Tables {
    /// One part file per table for `target`, writing rows before `until`.
    pub fn create(target: Target<'_>, until: i64) -> Result<Self> {
        use FileKind::{Csv, Json, Parquet};
        use Kind::{Bool, Date, F64, I32, I64, Str, Ts};
        let t = |folder: &str, kind: FileKind, cols: &[(&str, Kind)]| match target {
            Target::Files(out, stem) => Table::create(
                &out.join(folder)
                    .join(format!("{stem}.{}", kind.extension())),
                kind,
                cols,
            ),
            Target::Discard => Ok(Table::discard(cols)),
        };
        Ok(Self {
            until,
            crm: t(
                "crm/contacts",
                Csv,
                &[
                    ("contact_id", Str),
                    ("first_name", Str),
                    ("last_name", Str),
                    ("email", Str),
                    ("phone", Str),
                    ("city", Str),
                    ("state", Str),
                    ("postcode", Str),
                    ("birth_date", Date),
                    ("pet_types", Str),
                    ("created_at", Ts),
                ],
            )?,
            accounts: t(
                "shop/accounts",
                Parquet,
                &[
                    ("account_id", I64),
                    ("full_name", Str),
                    ("email", Str),
                    ("phone", Str),
                    ("postcode", Str),
                    ("created_at", Ts),
                ],
            )?,
            orders: t(
                "shop/orders",
                Parquet,
                &[
                    ("order_id", I64),
                    ("account_id", I64),
                    ("ordered_at", Ts),
                    ("category", Str),
                    ("amount", F64),
                    ("discount", F64),
                ],
            )?,
            subscriptions: t(
                "shop/subscriptions",
                Parquet,
                &[
                    ("subscription_id", I64),
                    ("account_id", I64),
                    ("plan", Str),
                    ("trial_start", Ts),
                    ("trial_end", Ts),
                    ("converted_at", Ts),
                    ("cancelled_at", Ts),
                    ("monthly_amount", F64),
                ],
            )?,
            email: t(
                "email/events",
                Parquet,
                &[
                    ("email", Str),
                    ("event_type", Str),
                    ("campaign", Str),
                    ("event_at", Ts),
                ],
            )?,
            web: t(
                "web/events",
                Parquet,
                &[
                    ("cookie_id", Str),
                    ("account_id", I64),
                    ("event_type", Str),
                    ("category", Str),
                    ("event_at", Ts),
                ],
            )?,
            tickets: t(
                "helpdesk/tickets",
                Csv,
                &[
                    ("ticket_id", Str),
                    ("requester_email", Str),
                    ("requester_name", Str),
                    ("category", Str),
                    ("created_at", Ts),
                    ("resolution_hours", F64),
                    ("csat", I32),
                ],
            )?,
            nps: t(
                "survey/nps",
                Json,
                &[
                    ("response_id", Str),
                    ("email", Str),
                    ("score", I32),
                    ("comment", Str),
                    ("responded_at", Ts),
                ],
            )?,
            offers: t(
                "marketing/offer_history",
                Parquet,
                &[
                    ("decision_id", I64),
                    ("account_id", I64),
                    ("offer_id", I64),
                    ("decided_at", Ts),
                    ("treatment_group", Str),
                    ("channel", Str),
                    ("converted", Bool),
                    ("converted_at", Ts),
                    ("opened", Bool),
                ],
            )?,
            truth_records: t(
                "truth/record_person",
                Parquet,
                &[("source", Str), ("record_id", Str), ("person_id", I64)],
            )?,
            truth_churn: t(
                "truth/churn",
                Parquet,
                &[
                    ("person_id", I64),
                    ("signup_at", Ts),
                    ("alive_at_cutoff", Bool),
                    ("churned_in_horizon", Bool),
                    ("churned_at", Ts),
                ],
            )?,
            truth_offers: t(
                "truth/offer_outcomes",
                Parquet,
                &[
                    ("person_id", I64),
                    ("account_id", I64),
                    ("offer_id", I64),
                    ("p_no_offer", F64),
                    ("p_offer", F64),
                    ("converted_no_offer", Bool),
                    ("converted_offer", Bool),
                ],
            )?,
            truth_channels: t(
                "truth/channel_habits",
                Parquet,
                &[
                    ("person_id", I64),
                    ("account_id", I64),
                    ("email", F64),
                    ("push", F64),
                    ("sms", F64),
                    ("preferred_channel", Str),
                ],
            )?,
        })
    }

    /// Finish every file; the rows written per table.
    pub fn close(self) -> Result<Counts> {
        Ok(vec![
            ("crm_contacts", self.crm.close()?),
            ("shop_accounts", self.accounts.close()?),
            ("orders", self.orders.close()?),
            ("subscriptions", self.subscriptions.close()?),
            ("email_events", self.email.close()?),
            ("web_events", self.web.close()?),
            ("helpdesk_tickets", self.tickets.close()?),
            ("nps_responses", self.nps.close()?),
            ("offer_history", self.offers.close()?),
            ("truth.record_person", self.truth_records.close()?),
            ("truth.churn", self.truth_churn.close()?),
            ("truth.offer_outcomes", self.truth_offers.close()?),
            ("truth.channel_habits", self.truth_channels.close()?),
        ])
    }
}
