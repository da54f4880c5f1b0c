//! One chunk of people simulated into one part file per table (sources and truth). Chunks are
//! independent (each person has its own seeded random stream), so they run in parallel and the
//! output is the same for a seed whatever the number of threads.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::names::{self, PLACES};
use super::person::{
    self, CATEGORIES, CHANNELS, CUTOFF, DAY, HORIZON_DAYS, Identity, OFFERS, START,
};
use super::tables::Tables;
use crate::error::Result;

/// Rows written per table name.
pub type Counts = Vec<(&'static str, u64)>;

/// A bijection on u32 (multiplication by an odd constant), so ids look random but never clash.
fn scramble(x: u64) -> i64 {
    ((x as u32)
        .wrapping_mul(2_654_435_761)
        .wrapping_add(0x5bd1_e995)) as i64
}

/// Mixed into the seed for each person's second random stream.
const SIDE_STREAM: u64 = 0xC4A7_7E15_0FFE_5EED;

/// The random stream of person `p` for a seed (splitmix64 of both).
fn person_rng(seed: u64, p: u64) -> Pcg64Mcg {
    let mut z = seed ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Pcg64Mcg::seed_from_u64(z ^ (z >> 31))
}

/// Simulate people `first..last` into part file `chunk` under `out`.
pub fn simulate_chunk(
    out: &Path,
    chunk: usize,
    first: u64,
    last: u64,
    seed: u64,
    campaigns: &[String],
) -> Result<Counts> {
    let mut tables = Tables::create(out, chunk)?;
    let mut household: Option<Identity> = None;
    for p in first..last {
        let mut rng = person_rng(seed, p);
        // A second stream for what later versions of the generator added (channel habits and
        // offer opens), so that every earlier table stays the same for a seed.
        let mut side = person_rng(seed ^ SIDE_STREAM, p);
        let joins_household = p > first && rng.random_bool(0.06);
        let id = person::identity(&mut rng, p, household.as_ref().filter(|_| joins_household));
        simulate_person(&mut tables, &mut rng, &mut side, p, &id, campaigns)?;
        household = Some(id);
    }
    tables.close()
}

fn truth(tables: &mut Tables, source: &str, record: &str, p: u64) -> Result<()> {
    tables
        .truth_records
        .s(Some(source))
        .s(Some(record))
        .i(Some(p as i64))
        .end()
}

fn between(rng: &mut Pcg64Mcg, from: i64, to: i64) -> i64 {
    if to <= from {
        from
    } else {
        rng.random_range(from..to)
    }
}

fn simulate_person(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    side: &mut Pcg64Mcg,
    p: u64,
    id: &Identity,
    campaigns: &[String],
) -> Result<()> {
    let mut traits = person::traits(rng, id);
    let habits = person::channel_habits(side, id, &traits);
    let span_days = (CUTOFF - START) / DAY - 14;
    let signup = START + rng.random_range(0..span_days) * DAY + rng.random_range(0..DAY);
    let (city, state, _, _) = PLACES[id.place];

    // CRM contact(s): 80% are in the CRM, 3% of those twice.
    if rng.random_bool(0.8) {
        let copies = if rng.random_bool(0.03) { 2 } else { 1 };
        for copy in 0..copies {
            let contact_id = format!("CRM-{:08X}", scramble(2 * p + copy) as u32);
            let mut first = person::typed_first(rng, id, 0.12);
            let mut last = if rng.random_bool(0.03) {
                names::typo(rng, &id.last)
            } else {
                id.last.clone()
            };
            if rng.random_bool(0.03) {
                std::mem::swap(&mut first, &mut last);
            }
            let email = (!rng.random_bool(0.08)).then(|| person::typed_email(rng, &id.email));
            let phone = (!rng.random_bool(0.15)).then(|| person::phone_format(rng, &id.phone));
            let postcode = if rng.random_bool(0.05) {
                None
            } else if rng.random_bool(0.1) {
                Some(format!("{}-{:04}", id.zip, rng.random_range(0..10_000)))
            } else {
                Some(id.zip.clone())
            };
            let birth = (!rng.random_bool(0.3)).then_some(id.birth_date);
            let created = signup - rng.random_range(0..30) * DAY;
            tables
                .crm
                .s(Some(&contact_id))
                .s(Some(&first))
                .s(Some(&last))
                .s(email.as_deref())
                .s(phone.as_deref())
                .s(Some(city))
                .s(Some(state))
                .s(postcode.as_deref())
                .d(birth)
                .s(Some(&id.pets))
                .t(Some(created))
                .end()?;
            truth(tables, "crm_contacts", &contact_id, p)?;
        }
    }

    // Shop account(s): 90% have one, 4% of those also a guest account.
    let has_account = rng.random_bool(0.9);
    let account = scramble(2 * p);
    let guest = (has_account && rng.random_bool(0.04)).then(|| scramble(2 * p + 1));
    // Whether some system already knows the person's second address: only then do they write
    // to the helpdesk from it (an address no system has seen could not be resolved by anyone).
    let mut alt_known = guest.is_some();
    if has_account {
        let full_name = match rng.random_range(0..20) {
            0..=13 => format!("{} {}", person::typed_first(rng, id, 0.1), id.last),
            14..=15 => format!("{}, {}", id.last, id.first),
            16 => format!("{} {}", id.first, id.last).to_uppercase(),
            _ => format!("{} {}", id.first, names::typo(rng, &id.last)),
        };
        let email = if rng.random_bool(0.8) {
            person::typed_email(rng, &id.email)
        } else {
            alt_known = true;
            id.alt_email.clone()
        };
        let phone = (!rng.random_bool(0.25)).then(|| person::phone_format(rng, &id.phone));
        write_account(
            tables,
            account,
            &full_name,
            Some(&email),
            phone.as_deref(),
            &id.zip,
            signup,
        )?;
        truth(tables, "shop_accounts", &account.to_string(), p)?;
        if let Some(guest) = guest {
            let name = format!("{} {}", person::typed_first(rng, id, 0.3), id.last);
            let created = signup + rng.random_range(30..300) * DAY;
            write_account(
                tables,
                guest,
                &name,
                Some(&id.alt_email),
                None,
                &id.zip,
                created,
            )?;
            truth(tables, "shop_accounts", &guest.to_string(), p)?;
        }
    }

    // Subscription trial for 40% of account holders.
    let trial_start = (has_account && rng.random_bool(0.4))
        .then(|| signup + rng.random_range(0..20) * DAY + rng.random_range(0..DAY));
    let trial_end = trial_start.map(|t| t + 14 * DAY);
    let converts = trial_start.is_some()
        && rng.random_bool((0.15 + 0.7 * traits.satisfaction * traits.engagement).min(0.95));
    let premium = rng.random_bool(0.35);

    // Devices: 1-3 cookies.
    let cookies: Vec<String> = (0..rng.random_range(1..4))
        .map(|_| format!("ck_{:016x}", rng.random::<u64>()))
        .collect();
    for cookie in &cookies {
        truth(tables, "web_events", cookie, p)?;
    }

    let horizon_end = CUTOFF + HORIZON_DAYS * DAY;
    let mut churned_at: Option<i64> = None;
    let mut unsubscribed = !traits.email_opt_in;
    let mut bad_tickets = 0u32;
    let mut orders = 0i64;
    let mut tickets = 0u32;
    let mut responses = 0u32;
    let mut decisions = 0i64;
    let mut t = signup;
    while t < horizon_end {
        let week_end = t + 7 * DAY;
        traits.engagement = (traits.engagement - 0.003 + person::noise(rng, 0.03)).clamp(0.01, 1.0);
        traits.satisfaction =
            (traits.satisfaction + (0.62 - traits.satisfaction) * 0.02 + person::noise(rng, 0.015))
                .clamp(0.0, 1.0);
        let lapsed = trial_end.is_some_and(|end| !converts && t > end && t < end + 60 * DAY);
        if rng.random::<f64>() < person::churn_hazard(&traits, lapsed, bad_tickets) {
            churned_at = Some(t + rng.random_range(0..7 * DAY));
            break;
        }
        if t >= CUTOFF {
            t = week_end;
            continue;
        }
        let end = week_end.min(CUTOFF);
        let week = ((t - START) / (7 * DAY)) as usize;
        let e = traits.engagement;

        // Orders.
        for _ in 0..person::poisson(rng, 0.04 + 0.4 * e) {
            if !has_account {
                break;
            }
            let cat = weighted_category(rng, &traits.affinity);
            let on = guest.filter(|_| rng.random_bool(0.2)).unwrap_or(account);
            let at = between(rng, t, end);
            write_order(tables, rng, p, &mut orders, on, at, cat, 0.0)?;
        }
        // E-mail newsletter every other week.
        if !unsubscribed && week.is_multiple_of(2) {
            let campaign = &campaigns[week.min(campaigns.len() - 1)];
            let sent = between(rng, t, end);
            let address = id.email.to_lowercase();
            write_email(tables, &address, "sent", campaign, sent)?;
            if rng.random_bool((0.08 + 0.55 * e).min(0.95)) {
                let opened = sent + rng.random_range(0..2 * DAY);
                if opened < CUTOFF {
                    write_email(tables, &address, "open", campaign, opened)?;
                    if rng.random_bool(0.12 + 0.3 * e) && opened + 60_000_000 < CUTOFF {
                        write_email(tables, &address, "click", campaign, opened + 60_000_000)?;
                    }
                }
            }
            if rng.random_bool(0.002 + 0.012 * (1.0 - traits.satisfaction)) {
                write_email(tables, &address, "unsubscribe", campaign, sent + DAY)?;
                unsubscribed = true;
            }
        }
        // Web sessions.
        for _ in 0..person::poisson(rng, 0.1 + 0.8 * e) {
            let cookie = &cookies[rng.random_range(0..cookies.len())];
            let logged_in = has_account && rng.random_bool(0.35);
            let mut at = between(rng, t, end);
            let cat = weighted_category(rng, &traits.affinity);
            for step in 0..rng.random_range(1..5) {
                let kind = match step {
                    0 => "page_view",
                    1 => "product_view",
                    _ if rng.random_bool(0.3) => "favourite",
                    _ => "add_to_cart",
                };
                tables
                    .web
                    .s(Some(cookie))
                    .i(logged_in.then_some(account))
                    .s(Some(kind))
                    .s((step > 0).then_some(CATEGORIES[cat].0))
                    .t(Some(at.min(CUTOFF - 1)))
                    .end()?;
                at += rng.random_range(5..300) * 1_000_000;
            }
        }
        // Support tickets: more when unhappy; slow resolutions hurt.
        if rng.random_bool(0.012 + 0.03 * (1.0 - traits.satisfaction)) {
            tickets += 1;
            let ticket_id = format!("T-{p}-{tickets}");
            let slow = rng.random_bool(0.3);
            let hours = if slow {
                48.0 + rng.random::<f64>() * 150.0
            } else {
                0.5 + rng.random::<f64>() * 30.0
            };
            let csat = rng.random_bool(0.6).then(|| {
                if slow {
                    rng.random_range(1..3)
                } else {
                    rng.random_range(3..6)
                }
            });
            if slow {
                bad_tickets += 1;
                traits.satisfaction = (traits.satisfaction - 0.12).max(0.0);
                traits.engagement = (traits.engagement - 0.05).max(0.01);
            } else {
                traits.satisfaction = (traits.satisfaction + 0.03).min(1.0);
            }
            let category = [
                "delivery",
                "billing",
                "product_quality",
                "subscription",
                "returns",
            ][rng.random_range(0..5)];
            let email = if alt_known && rng.random_bool(0.2) {
                id.alt_email.clone()
            } else {
                person::typed_email(rng, &id.email)
            };
            let name = match rng.random_range(0..4) {
                0 => format!("{} {}", person::typed_first(rng, id, 0.3), id.last).to_lowercase(),
                1 => person::typed_first(rng, id, 0.3),
                _ => format!("{} {}", person::typed_first(rng, id, 0.3), id.last),
            };
            tables
                .tickets
                .s(Some(&ticket_id))
                .s(Some(&email))
                .s(Some(&name))
                .s(Some(category))
                .t(Some(between(rng, t, end)))
                .f(Some((hours * 10.0).round() / 10.0))
                .i32(csat)
                .end()?;
            truth(tables, "helpdesk_tickets", &ticket_id, p)?;
        }
        // NPS survey answers.
        if rng.random_bool(0.012) {
            responses += 1;
            let score = (11.0 * traits.satisfaction - 0.5 + person::noise(rng, 1.2))
                .round()
                .clamp(0.0, 10.0) as i32;
            let comment = match score {
                9..=10 => ["Love the fast delivery", "Great food, my dog loves it", ""]
                    [rng.random_range(0..3)],
                7..=8 => ["Good but pricey", "Fine", ""][rng.random_range(0..3)],
                _ => [
                    "Support never answered",
                    "Order arrived late again",
                    "Too expensive",
                ][rng.random_range(0..3)],
            };
            let response_id = format!("R-{p}-{responses}");
            tables
                .nps
                .s(Some(&response_id))
                .s(Some(&person::typed_email(rng, &id.email)))
                .i32(Some(score))
                .s((!comment.is_empty()).then_some(comment))
                .t(Some(between(rng, t, end)))
                .end()?;
            truth(tables, "nps_responses", &response_id, p)?;
        }
        // Offer campaigns every six weeks, randomised, with a 20% no-offer control group.
        if has_account && week.is_multiple_of(6) && t + 14 * DAY < CUTOFF && rng.random_bool(0.6) {
            decisions += 1;
            let offer = rng.random_range(0..OFFERS.len());
            let control = rng.random_bool(0.2);
            let (p0, p1) = person::offer_response(&traits, offer);
            let converted = rng.random_bool(if control { p0 } else { p1 });
            let decided = between(rng, t, end);
            let converted_at = converted.then(|| decided + rng.random_range(DAY / 24..14 * DAY));
            let channel = (!control).then(|| rng.random_range(0..CHANNELS.len()));
            let opened = channel
                .map(|c| side.random_bool(person::open_probability(&habits, traits.engagement, c)));
            tables
                .offers
                .i(Some(p as i64 * 1000 + decisions))
                .i(Some(account))
                .i(Some(OFFERS[offer].0))
                .t(Some(decided))
                .s(Some(if control { "control" } else { "treatment" }))
                .s(channel.map(|c| CHANNELS[c]))
                .b(Some(converted))
                .t(converted_at)
                .b(opened)
                .end()?;
            if let Some(at) = converted_at {
                let cat = CATEGORIES
                    .iter()
                    .position(|c| c.0 == OFFERS[offer].3)
                    .unwrap_or(0);
                let discount = if control {
                    0.0
                } else {
                    OFFERS[offer].4 / 100.0
                };
                write_order(tables, rng, p, &mut orders, account, at, cat, discount)?;
            }
        }
        t = week_end;
    }

    if let (Some(start), Some(end)) = (trial_start, trial_end)
        && start < CUTOFF
    {
        let converted_at = (converts && end < CUTOFF).then_some(end);
        let cancelled = churned_at.filter(|c| converted_at.is_some() && *c < CUTOFF && *c > end);
        tables
            .subscriptions
            .i(Some(account))
            .i(Some(account))
            .s(Some(if premium { "premium" } else { "basic" }))
            .t(Some(start))
            .t(Some(end))
            .t(converted_at)
            .t(cancelled)
            .f(Some(if premium { 39.99 } else { 19.99 }))
            .end()?;
    }

    let alive = churned_at.is_none_or(|c| c >= CUTOFF);
    tables
        .truth_churn
        .i(Some(p as i64))
        .t(Some(signup))
        .b(Some(alive))
        .b(Some(alive && churned_at.is_some()))
        .t(churned_at)
        .end()?;
    if has_account {
        let preferred = (0..CHANNELS.len())
            .max_by(|&a, &b| habits[a].total_cmp(&habits[b]))
            .unwrap_or(0);
        tables
            .truth_channels
            .i(Some(p as i64))
            .i(Some(account))
            .f(Some(habits[0]))
            .f(Some(habits[1]))
            .f(Some(habits[2]))
            .s(Some(CHANNELS[preferred]))
            .end()?;
    }
    if alive && has_account {
        for (offer, catalog) in OFFERS.iter().enumerate() {
            let (p0, p1) = person::offer_response(&traits, offer);
            let roll = rng.random::<f64>();
            tables
                .truth_offers
                .i(Some(p as i64))
                .i(Some(account))
                .i(Some(catalog.0))
                .f(Some(p0))
                .f(Some(p1))
                .b(Some(roll < p0))
                .b(Some(roll < p1))
                .end()?;
        }
    }
    Ok(())
}

fn weighted_category(rng: &mut Pcg64Mcg, affinity: &[f64; 6]) -> usize {
    let mut roll = rng.random::<f64>();
    for (i, a) in affinity.iter().enumerate() {
        if roll < *a {
            return i;
        }
        roll -= a;
    }
    0
}

fn write_account(
    tables: &mut Tables,
    account: i64,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    zip: &str,
    created: i64,
) -> Result<()> {
    tables
        .accounts
        .i(Some(account))
        .s(Some(name))
        .s(email)
        .s(phone)
        .s(Some(zip))
        .t(Some(created.min(CUTOFF - 1)))
        .end()
}

#[allow(clippy::too_many_arguments)]
fn write_order(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    p: u64,
    count: &mut i64,
    account: i64,
    at: i64,
    category: usize,
    discount: f64,
) -> Result<()> {
    if at >= CUTOFF || *count >= 999 {
        return Ok(());
    }
    *count += 1;
    let (name, low, high) = CATEGORIES[category];
    let amount = ((low + rng.random::<f64>() * (high - low)) * 100.0).round() / 100.0;
    tables
        .orders
        .i(Some(p as i64 * 1000 + *count))
        .i(Some(account))
        .t(Some(at))
        .s(Some(name))
        .f(Some(amount))
        .f(Some(((amount * discount) * 100.0).round() / 100.0))
        .end()
}

fn write_email(
    tables: &mut Tables,
    email: &str,
    kind: &str,
    campaign: &str,
    at: i64,
) -> Result<()> {
    if at >= CUTOFF {
        return Ok(());
    }
    tables
        .email
        .s(Some(email))
        .s(Some(kind))
        .s(Some(campaign))
        .t(Some(at))
        .end()
}
