//! One chunk of people simulated into one part file per table (sources and truth). Chunks are
//! independent (each person has its own seeded random stream), so they run in parallel and the
//! output is the same for a seed whatever the number of threads.
//!
//! The days after the cut-off continue each person from where the history left them, day by
//! day, from a stream of their own per day (so day N's files are the same whichever days were
//! generated before), and a few new people sign up each day.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::names::{self, PLACES};
use super::person::{
    self, CATEGORIES, CHANNELS, CUTOFF, DAY, HORIZON_DAYS, Identity, OFFERS, START, Traits,
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

/// What the simulation knows of a person from one week (or, after the cut-off, one day) to
/// the next.
pub struct Person {
    p: u64,
    id: Identity,
    traits: Traits,
    signup: i64,
    has_account: bool,
    account: i64,
    guest: Option<i64>,
    /// Whether some system already knows the person's second address: only then do they write
    /// to the helpdesk from it (an address no system has seen could not be resolved by anyone).
    alt_known: bool,
    cookies: Vec<String>,
    unsubscribed: bool,
    bad_tickets: u32,
    orders: i64,
    tickets: u32,
    responses: u32,
    churned_at: Option<i64>,
}

/// Simulate people `first..last` of the history into `tables`; returns each person as they are
/// at the cut-off (the starting point of the days after it).
pub fn simulate_chunk(
    tables: &mut Tables,
    first: u64,
    last: u64,
    seed: u64,
    campaigns: &[String],
) -> Result<Vec<Person>> {
    let mut household: Option<Identity> = None;
    let mut people = Vec::with_capacity((last - first) as usize);
    for p in first..last {
        let mut rng = person_rng(seed, p);
        // A second stream for what later versions of the generator added (channel habits and
        // offer opens), so that every earlier table stays the same for a seed.
        let mut side = person_rng(seed ^ SIDE_STREAM, p);
        let joins_household = p > first && rng.random_bool(0.06);
        let id = person::identity(&mut rng, p, household.as_ref().filter(|_| joins_household));
        household = Some(id.clone());
        people.push(simulate_person(
            tables, &mut rng, &mut side, p, id, campaigns,
        )?);
    }
    Ok(people)
}

/// The random stream of person `p` on day `day` after the cut-off.
fn day_rng(seed: u64, p: u64, day: u32) -> Pcg64Mcg {
    person_rng(seed ^ DAY_STREAM.wrapping_mul(u64::from(day)), p)
}

/// Mixed into the seed (times the day) for each person's stream of a day after the cut-off.
const DAY_STREAM: u64 = 0xDA7A_0F7E_ED1A_7E11;

/// People who sign up on day `day` after the cut-off: `first..first + count`, with their
/// records written to `tables`.
pub fn sign_up_day(
    tables: &mut Tables,
    first: u64,
    count: u64,
    seed: u64,
    day: u32,
) -> Result<Vec<Person>> {
    let day_start = CUTOFF + i64::from(day - 1) * DAY;
    let mut people = Vec::with_capacity(count as usize);
    for p in first..first + count {
        let mut rng = person_rng(seed, p);
        let id = person::identity(&mut rng, p, None);
        let traits = person::traits(&mut rng, &id);
        let signup = day_start + rng.random_range(0..DAY);
        let mut person = sign_up(tables, &mut rng, p, id, traits, signup)?;
        person.cookies = devices(tables, &mut rng, p)?;
        tables
            .truth_churn
            .i(Some(p as i64))
            .t(Some(signup))
            .b(Some(false))
            .b(None)
            .t(None)
            .end()?;
        people.push(person);
    }
    Ok(people)
}

/// What `person` does on day `day` after the cut-off (orders, e-mails, web sessions, a few of
/// them arriving late, tickets and survey answers), at a seventh of the weekly rates.
pub fn simulate_day(
    tables: &mut Tables,
    person: &mut Person,
    seed: u64,
    day: u32,
    campaigns: &[String],
) -> Result<()> {
    let day_start = CUTOFF + i64::from(day - 1) * DAY;
    let day_end = day_start + DAY;
    if person.churned_at.is_some_and(|c| c <= day_start) || person.signup >= day_end {
        return Ok(());
    }
    let rng = &mut day_rng(seed, person.p, day);
    let from = day_start.max(person.signup);
    let e = person.traits.engagement;
    for _ in 0..person::poisson(rng, (0.04 + 0.4 * e) / 7.0) {
        if !person.has_account {
            break;
        }
        order(tables, rng, person, from, day_end)?;
    }
    let week = ((day_start - START) / (7 * DAY)) as usize;
    if !person.unsubscribed && week.is_multiple_of(2) && rng.random_bool(1.0 / 7.0) {
        newsletter(
            tables,
            rng,
            person,
            &campaigns[week.min(campaigns.len() - 1)],
            from,
            day_end,
        )?;
    }
    for _ in 0..person::poisson(rng, (0.1 + 0.8 * e) / 7.0) {
        // 3% of sessions reach the analytics export up to two days late.
        let (lo, hi) = if rng.random_bool(0.03) {
            ((from - 2 * DAY).max(person.signup), from)
        } else {
            (from, day_end)
        };
        session(tables, rng, person, lo, hi)?;
    }
    if rng.random_bool((0.012 + 0.03 * (1.0 - person.traits.satisfaction)) / 7.0) {
        ticket(tables, rng, person, from, day_end)?;
    }
    if rng.random_bool(0.012 / 7.0) {
        survey(tables, rng, person, from, day_end)?;
    }
    Ok(())
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

/// The person's CRM contact(s) and shop account(s), created around `signup`.
fn sign_up(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    p: u64,
    id: Identity,
    traits: Traits,
    signup: i64,
) -> Result<Person> {
    let (city, state, _, _) = PLACES[id.place];
    // CRM contact(s): 80% are in the CRM, 3% of those twice.
    if rng.random_bool(0.8) {
        let copies = if rng.random_bool(0.03) { 2 } else { 1 };
        for copy in 0..copies {
            let contact_id = format!("CRM-{:08X}", scramble(2 * p + copy) as u32);
            let mut first = person::typed_first(rng, &id, 0.12);
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
                .t(Some(created.min(tables.until - 1)))
                .end()?;
            truth(tables, "crm_contacts", &contact_id, p)?;
        }
    }

    // Shop account(s): 90% have one, 4% of those also a guest account.
    let has_account = rng.random_bool(0.9);
    let account = scramble(2 * p);
    let guest = (has_account && rng.random_bool(0.04)).then(|| scramble(2 * p + 1));
    let mut alt_known = guest.is_some();
    if has_account {
        let full_name = match rng.random_range(0..20) {
            0..=13 => format!("{} {}", person::typed_first(rng, &id, 0.1), id.last),
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
            let name = format!("{} {}", person::typed_first(rng, &id, 0.3), id.last);
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
    Ok(Person {
        p,
        unsubscribed: !traits.email_opt_in,
        id,
        traits,
        signup,
        has_account,
        account,
        guest,
        alt_known,
        cookies: Vec::new(),
        bad_tickets: 0,
        orders: 0,
        tickets: 0,
        responses: 0,
        churned_at: None,
    })
}

/// The person's devices: 1-3 cookies.
fn devices(tables: &mut Tables, rng: &mut Pcg64Mcg, p: u64) -> Result<Vec<String>> {
    let cookies: Vec<String> = (0..rng.random_range(1..4))
        .map(|_| format!("ck_{:016x}", rng.random::<u64>()))
        .collect();
    for cookie in &cookies {
        truth(tables, "web_events", cookie, p)?;
    }
    Ok(cookies)
}

fn simulate_person(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    side: &mut Pcg64Mcg,
    p: u64,
    id: Identity,
    campaigns: &[String],
) -> Result<Person> {
    let traits = person::traits(rng, &id);
    let habits = person::channel_habits(side, &id, &traits);
    let span_days = (CUTOFF - START) / DAY - 14;
    let signup = START + rng.random_range(0..span_days) * DAY + rng.random_range(0..DAY);
    let mut person = sign_up(tables, rng, p, id, traits, signup)?;

    // Subscription trial for 40% of account holders.
    let trial_start = (person.has_account && rng.random_bool(0.4))
        .then(|| signup + rng.random_range(0..20) * DAY + rng.random_range(0..DAY));
    let trial_end = trial_start.map(|t| t + 14 * DAY);
    let converts = trial_start.is_some()
        && rng.random_bool(
            (0.15 + 0.7 * person.traits.satisfaction * person.traits.engagement).min(0.95),
        );
    let premium = rng.random_bool(0.35);
    person.cookies = devices(tables, rng, p)?;

    let horizon_end = CUTOFF + HORIZON_DAYS * DAY;
    let mut at_cutoff: Option<Traits> = None;
    let mut decisions = 0i64;
    let mut t = signup;
    while t < horizon_end {
        let week_end = t + 7 * DAY;
        let traits = &mut person.traits;
        traits.engagement = (traits.engagement - 0.003 + person::noise(rng, 0.03)).clamp(0.01, 1.0);
        traits.satisfaction =
            (traits.satisfaction + (0.62 - traits.satisfaction) * 0.02 + person::noise(rng, 0.015))
                .clamp(0.0, 1.0);
        let lapsed = trial_end.is_some_and(|end| !converts && t > end && t < end + 60 * DAY);
        if rng.random::<f64>() < person::churn_hazard(traits, lapsed, person.bad_tickets) {
            person.churned_at = Some(t + rng.random_range(0..7 * DAY));
            break;
        }
        if t >= CUTOFF {
            at_cutoff.get_or_insert_with(|| traits.clone());
            t = week_end;
            continue;
        }
        let end = week_end.min(CUTOFF);
        let week = ((t - START) / (7 * DAY)) as usize;
        let e = traits.engagement;

        for _ in 0..person::poisson(rng, 0.04 + 0.4 * e) {
            if !person.has_account {
                break;
            }
            order(tables, rng, &mut person, t, end)?;
        }
        // E-mail newsletter every other week.
        if !person.unsubscribed && week.is_multiple_of(2) {
            let campaign = &campaigns[week.min(campaigns.len() - 1)];
            newsletter(tables, rng, &mut person, campaign, t, end)?;
        }
        for _ in 0..person::poisson(rng, 0.1 + 0.8 * e) {
            session(tables, rng, &person, t, end)?;
        }
        // Support tickets: more when unhappy; slow resolutions hurt.
        if rng.random_bool(0.012 + 0.03 * (1.0 - person.traits.satisfaction)) {
            ticket(tables, rng, &mut person, t, end)?;
        }
        // NPS survey answers.
        if rng.random_bool(0.012) {
            survey(tables, rng, &mut person, t, end)?;
        }
        // Offer campaigns every six weeks, randomised, with a 20% no-offer control group.
        if person.has_account
            && week.is_multiple_of(6)
            && t + 14 * DAY < CUTOFF
            && rng.random_bool(0.6)
        {
            decisions += 1;
            let offer = rng.random_range(0..OFFERS.len());
            let control = rng.random_bool(0.2);
            let (p0, p1) = person::offer_response(&person.traits, offer);
            let converted = rng.random_bool(if control { p0 } else { p1 });
            let decided = between(rng, t, end);
            let converted_at = converted.then(|| decided + rng.random_range(DAY / 24..14 * DAY));
            let channel = (!control).then(|| rng.random_range(0..CHANNELS.len()));
            let opened = channel.map(|c| {
                side.random_bool(person::open_probability(
                    &habits,
                    person.traits.engagement,
                    c,
                ))
            });
            tables
                .offers
                .i(Some(p as i64 * 1000 + decisions))
                .i(Some(person.account))
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
                let account = person.account;
                write_order(tables, rng, &mut person, account, at, cat, discount)?;
            }
        }
        t = week_end;
    }

    if let (Some(start), Some(end)) = (trial_start, trial_end)
        && start < CUTOFF
    {
        let converted_at = (converts && end < CUTOFF).then_some(end);
        let cancelled = person
            .churned_at
            .filter(|c| converted_at.is_some() && *c < CUTOFF && *c > end);
        tables
            .subscriptions
            .i(Some(person.account))
            .i(Some(person.account))
            .s(Some(if premium { "premium" } else { "basic" }))
            .t(Some(start))
            .t(Some(end))
            .t(converted_at)
            .t(cancelled)
            .f(Some(if premium { 39.99 } else { 19.99 }))
            .end()?;
    }

    let alive = person.churned_at.is_none_or(|c| c >= CUTOFF);
    tables
        .truth_churn
        .i(Some(p as i64))
        .t(Some(signup))
        .b(Some(alive))
        .b(Some(alive && person.churned_at.is_some()))
        .t(person.churned_at)
        .end()?;
    if person.has_account {
        let preferred = (0..CHANNELS.len())
            .max_by(|&a, &b| habits[a].total_cmp(&habits[b]))
            .unwrap_or(0);
        tables
            .truth_channels
            .i(Some(p as i64))
            .i(Some(person.account))
            .f(Some(habits[0]))
            .f(Some(habits[1]))
            .f(Some(habits[2]))
            .s(Some(CHANNELS[preferred]))
            .end()?;
    }
    if alive && person.has_account {
        for (offer, catalog) in OFFERS.iter().enumerate() {
            let (p0, p1) = person::offer_response(&person.traits, offer);
            let roll = rng.random::<f64>();
            tables
                .truth_offers
                .i(Some(p as i64))
                .i(Some(person.account))
                .i(Some(catalog.0))
                .f(Some(p0))
                .f(Some(p1))
                .b(Some(roll < p0))
                .b(Some(roll < p1))
                .end()?;
        }
    }
    // The days after the cut-off start from the person as they were at it.
    if let Some(traits) = at_cutoff {
        person.traits = traits;
    }
    Ok(person)
}

/// One order between `from` and `to`, on the account or now and then the guest account.
fn order(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    person: &mut Person,
    from: i64,
    to: i64,
) -> Result<()> {
    let cat = weighted_category(rng, &person.traits.affinity);
    let on = person
        .guest
        .filter(|_| rng.random_bool(0.2))
        .unwrap_or(person.account);
    let at = between(rng, from, to);
    write_order(tables, rng, person, on, at, cat, 0.0)
}

/// A newsletter sent between `from` and `to`, maybe opened, clicked or unsubscribed from.
fn newsletter(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    person: &mut Person,
    campaign: &str,
    from: i64,
    to: i64,
) -> Result<()> {
    let e = person.traits.engagement;
    let sent = between(rng, from, to);
    let address = person.id.email.to_lowercase();
    write_email(tables, &address, "sent", campaign, sent)?;
    if rng.random_bool((0.08 + 0.55 * e).min(0.95)) {
        let opened = sent + rng.random_range(0..2 * DAY);
        if opened < tables.until {
            write_email(tables, &address, "open", campaign, opened)?;
            if rng.random_bool(0.12 + 0.3 * e) && opened + 60_000_000 < tables.until {
                write_email(tables, &address, "click", campaign, opened + 60_000_000)?;
            }
        }
    }
    if rng.random_bool(0.002 + 0.012 * (1.0 - person.traits.satisfaction)) {
        write_email(tables, &address, "unsubscribe", campaign, sent + DAY)?;
        person.unsubscribed = true;
    }
    Ok(())
}

/// A web session starting between `from` and `to`: one to four steps on one device.
fn session(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    person: &Person,
    from: i64,
    to: i64,
) -> Result<()> {
    let cookie = &person.cookies[rng.random_range(0..person.cookies.len())];
    let logged_in = person.has_account && rng.random_bool(0.35);
    let mut at = between(rng, from, to);
    let cat = weighted_category(rng, &person.traits.affinity);
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
            .i(logged_in.then_some(person.account))
            .s(Some(kind))
            .s((step > 0).then_some(CATEGORIES[cat].0))
            .t(Some(at.min(tables.until - 1)))
            .end()?;
        at += rng.random_range(5..300) * 1_000_000;
    }
    Ok(())
}

/// A support ticket opened between `from` and `to`; a slow resolution hurts satisfaction.
fn ticket(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    person: &mut Person,
    from: i64,
    to: i64,
) -> Result<()> {
    person.tickets += 1;
    let ticket_id = format!("T-{}-{}", person.p, person.tickets);
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
    let traits = &mut person.traits;
    if slow {
        person.bad_tickets += 1;
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
    let id = &person.id;
    let email = if person.alt_known && rng.random_bool(0.2) {
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
        .t(Some(between(rng, from, to)))
        .f(Some((hours * 10.0).round() / 10.0))
        .i32(csat)
        .end()?;
    truth(tables, "helpdesk_tickets", &ticket_id, person.p)
}

/// An NPS survey answer between `from` and `to`, its score following satisfaction.
fn survey(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    person: &mut Person,
    from: i64,
    to: i64,
) -> Result<()> {
    person.responses += 1;
    let score = (11.0 * person.traits.satisfaction - 0.5 + person::noise(rng, 1.2))
        .round()
        .clamp(0.0, 10.0) as i32;
    let comment = match score {
        9..=10 => {
            ["Love the fast delivery", "Great food, my dog loves it", ""][rng.random_range(0..3)]
        }
        7..=8 => ["Good but pricey", "Fine", ""][rng.random_range(0..3)],
        _ => [
            "Support never answered",
            "Order arrived late again",
            "Too expensive",
        ][rng.random_range(0..3)],
    };
    let response_id = format!("R-{}-{}", person.p, person.responses);
    tables
        .nps
        .s(Some(&response_id))
        .s(Some(&person::typed_email(rng, &person.id.email)))
        .i32(Some(score))
        .s((!comment.is_empty()).then_some(comment))
        .t(Some(between(rng, from, to)))
        .end()?;
    truth(tables, "nps_responses", &response_id, person.p)
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
        .t(Some(created.min(tables.until - 1)))
        .end()
}

fn write_order(
    tables: &mut Tables,
    rng: &mut Pcg64Mcg,
    person: &mut Person,
    account: i64,
    at: i64,
    category: usize,
    discount: f64,
) -> Result<()> {
    if at >= tables.until || person.orders >= 999 {
        return Ok(());
    }
    person.orders += 1;
    let (name, low, high) = CATEGORIES[category];
    let amount = ((low + rng.random::<f64>() * (high - low)) * 100.0).round() / 100.0;
    tables
        .orders
        .i(Some(person.p as i64 * 1000 + person.orders))
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
    if at >= tables.until {
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
