//! One simulated person: who they are (and how each system misspells it), and what they do
//! week by week until they churn. Behaviour carries signal: engagement drifts, bad support
//! experiences lower satisfaction, and the weekly churn hazard rises as both fall, so recency,
//! falling activity, low CSAT/NPS and tickets predict churn after the cut-off.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::names::{self, EMAIL_DOMAINS, PLACES};

/// Microseconds in a day.
pub const DAY: i64 = 86_400_000_000;
/// 2023-01-01T00:00:00Z in microseconds: the first day of the simulated history.
pub const START: i64 = 1_672_531_200_000_000;
/// 2025-07-01T00:00:00Z: the cut-off; sources hold nothing at or after it.
pub const CUTOFF: i64 = 1_751_328_000_000_000;
/// Days after the cut-off in which churn is labelled in the ground truth.
pub const HORIZON_DAYS: i64 = 90;

/// Product categories with their price ranges.
pub const CATEGORIES: &[(&str, f64, f64)] = &[
    ("food", 18.0, 85.0),
    ("treats", 4.0, 22.0),
    ("toys", 6.0, 45.0),
    ("vitamins", 14.0, 48.0),
    ("accessories", 9.0, 120.0),
    ("grooming", 7.0, 38.0),
];

/// Pet types and how common they are.
pub const PETS: &[(&str, u32)] = &[
    ("dog", 50),
    ("cat", 38),
    ("fish", 6),
    ("bird", 4),
    ("small_pet", 6),
];

/// The offer catalogue: (id, name, kind, category, discount %, cost per send, margin share).
pub const OFFERS: &[(i64, &str, &str, &str, f64, f64, f64)] = &[
    (1, "15% off dry food", "discount", "food", 15.0, 0.40, 0.32),
    (
        2,
        "Free shipping on food",
        "free_shipping",
        "food",
        0.0,
        0.90,
        0.32,
    ),
    (3, "Treat sampler", "sample", "treats", 0.0, 1.50, 0.45),
    (
        4,
        "Buy 2 treats get 1",
        "bundle",
        "treats",
        33.0,
        0.30,
        0.45,
    ),
    (5, "20% off toys", "discount", "toys", 20.0, 0.40, 0.50),
    (6, "Toy of the month", "sample", "toys", 0.0, 2.50, 0.50),
    (
        7,
        "10% off vitamins",
        "discount",
        "vitamins",
        10.0,
        0.40,
        0.55,
    ),
    (
        8,
        "Vitamin starter kit",
        "bundle",
        "vitamins",
        25.0,
        1.20,
        0.55,
    ),
    (
        9,
        "25% off accessories",
        "discount",
        "accessories",
        25.0,
        0.40,
        0.40,
    ),
    (
        10,
        "Free grooming kit sample",
        "sample",
        "grooming",
        0.0,
        1.80,
        0.48,
    ),
    (
        11,
        "15% off grooming",
        "discount",
        "grooming",
        15.0,
        0.40,
        0.48,
    ),
    (
        12,
        "Free shipping weekend",
        "free_shipping",
        "accessories",
        0.0,
        0.90,
        0.40,
    ),
];

/// Channels offers are sent through.
pub const CHANNELS: &[&str] = &["email", "push", "sms"];

/// Who a person is, as the truth knows it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Canonical first name.
    pub first: &'static str,
    /// Nicknames of the first name.
    pub nicknames: &'static [&'static str],
    /// Surname.
    pub last: String,
    /// Primary e-mail address.
    pub email: String,
    /// A second address some systems know (work or older address).
    pub alt_email: String,
    /// Ten phone digits.
    pub phone: String,
    /// City index into [`PLACES`].
    pub place: usize,
    /// Five-digit ZIP code.
    pub zip: String,
    /// Days since the epoch.
    pub birth_date: i32,
    /// Pet types, `;`-separated.
    pub pets: String,
}

/// Latent traits driving behaviour.
#[derive(Debug, Clone)]
pub struct Traits {
    /// Engagement in [0, 1]; drifts over time.
    pub engagement: f64,
    /// Satisfaction in [0, 1]; support experiences move it.
    pub satisfaction: f64,
    /// Price sensitivity in [0, 1].
    pub price_sensitivity: f64,
    /// Affinity per category, summing to 1.
    pub affinity: [f64; 6],
    /// Opted in to marketing e-mail.
    pub email_opt_in: bool,
}

/// A normal-ish draw (sum of three uniforms), mean 0 and standard deviation `sd`.
pub fn noise(rng: &mut Pcg64Mcg, sd: f64) -> f64 {
    let u: f64 = rng.random::<f64>() + rng.random::<f64>() + rng.random::<f64>() - 1.5;
    u * 2.0 * sd
}

/// A Poisson draw for small rates (Knuth).
pub fn poisson(rng: &mut Pcg64Mcg, lambda: f64) -> u32 {
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p = rng.random::<f64>();
    while p > limit && k < 50 {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

/// A new identity for person `uid`; `household` shares surname, place, landline and possibly
/// an e-mail. Mailboxes are unique per person (as providers make them): every address carries
/// a number derived from `uid`, except the one a household shares on purpose.
pub fn identity(rng: &mut Pcg64Mcg, uid: u64, household: Option<&Identity>) -> Identity {
    let (first, nicknames) = names::first_name(rng);
    let (last, place, zip, phone) = match household {
        Some(h) => (h.last.clone(), h.place, h.zip.clone(), h.phone.clone()),
        None => {
            let place = rng.random_range(0..PLACES.len());
            let (_, _, zip3, area_codes) = PLACES[place];
            let zip = format!("{:03}{:02}", zip3, rng.random_range(1..99));
            let area = area_codes[rng.random_range(0..area_codes.len())];
            let phone = format!(
                "{area}{}{:02}{:04}",
                rng.random_range(2..10),
                rng.random_range(0..100),
                rng.random_range(0..10_000)
            );
            (names::surname(rng), place, zip, phone)
        }
    };
    let f = names::email_part(first);
    let l = names::email_part(&last);
    let domain = EMAIL_DOMAINS[names::weighted(rng, EMAIL_DOMAINS)].0;
    let email = match household {
        Some(h) if rng.random_bool(0.1) => h.email.clone(),
        _ => match rng.random_range(0..6) {
            0 => format!("{f}.{l}{uid}@{domain}"),
            1 => format!("{f}{l}{uid}@{domain}"),
            2 => format!("{}{l}{uid}@{domain}", &f[..1]),
            3 => format!("{f}.{l}.{}{uid}@{domain}", rng.random_range(1..99)),
            4 => format!("{f}_{l}{uid}@{domain}"),
            _ => format!("{l}.{f}{}{uid}@{domain}", rng.random_range(60..99)),
        },
    };
    let alt_email = format!(
        "{f}.{l}.{uid}@{}",
        ["work.example.com", "mail.example.org"][rng.random_range(0..2)]
    );
    let birth_date = rng.random_range(-7300..12400);
    let mut pets = Vec::new();
    let first_pet = names::weighted(rng, PETS);
    pets.push(PETS[first_pet].0);
    if rng.random_bool(0.25) {
        let second = PETS[names::weighted(rng, PETS)].0;
        if !pets.contains(&second) {
            pets.push(second);
        }
    }
    Identity {
        first,
        nicknames,
        last,
        email,
        alt_email,
        phone,
        place,
        zip,
        birth_date,
        pets: pets.join(";"),
    }
}

/// Latent traits; pets shape category affinity (dogs eat more treats, fish need few toys).
pub fn traits(rng: &mut Pcg64Mcg, identity: &Identity) -> Traits {
    let mut affinity = [1.0, 0.5, 0.5, 0.3, 0.4, 0.3];
    if identity.pets.contains("dog") {
        affinity[1] += 0.8;
        affinity[2] += 0.5;
        affinity[5] += 0.4;
    }
    if identity.pets.contains("cat") {
        affinity[2] += 0.6;
        affinity[4] += 0.3;
    }
    if identity.pets.contains("fish") || identity.pets.contains("bird") {
        affinity[4] += 0.6;
        affinity[3] += 0.2;
    }
    for a in affinity.iter_mut() {
        *a *= 0.3 + rng.random::<f64>() * 1.4;
    }
    let total: f64 = affinity.iter().sum();
    for a in affinity.iter_mut() {
        *a /= total;
    }
    Traits {
        engagement: (0.15 + rng.random::<f64>() * 0.8).min(1.0),
        satisfaction: (0.62 + noise(rng, 0.15)).clamp(0.05, 1.0),
        price_sensitivity: rng.random::<f64>(),
        affinity,
        email_opt_in: rng.random_bool(0.85),
    }
}

/// The probabilities of buying from an offer's category within 14 days, without and with the
/// offer: the ground truth that uplift models try to learn.
pub fn offer_response(traits: &Traits, offer: usize) -> (f64, f64) {
    let (_, _, kind, category, discount, _, _) = OFFERS[offer];
    let cat = CATEGORIES.iter().position(|c| c.0 == category).unwrap_or(0);
    let affinity = traits.affinity[cat];
    let base = 0.02 + 0.35 * affinity * traits.engagement;
    let lift = match kind {
        "discount" | "bundle" => {
            affinity * (0.04 + 1.6 * traits.price_sensitivity * discount / 100.0)
        }
        "free_shipping" => 0.02 + 0.10 * traits.price_sensitivity * affinity * 2.0,
        _ => 0.09 * (1.0 - affinity) * traits.engagement,
    };
    (base.min(0.95), (base + lift).min(0.97))
}

/// How much a person reads offers on each channel of [`CHANNELS`] (e-mail, push, SMS), drawn
/// once: e-mail for those who opted in to it, push for the young (app users), SMS for the older,
/// each times a personal factor in [0.5, 1.5).
pub fn channel_habits(rng: &mut Pcg64Mcg, id: &Identity, traits: &Traits) -> [f64; 3] {
    let age = (CUTOFF / DAY - i64::from(id.birth_date)) as f64 / 365.25;
    let email = if traits.email_opt_in { 1.0 } else { 0.25 };
    let push = if age < 40.0 {
        1.2
    } else if age < 55.0 {
        0.7
    } else {
        0.35
    };
    let sms = if age >= 55.0 {
        1.2
    } else if age >= 40.0 {
        0.7
    } else {
        0.4
    };
    [email, push, sms].map(|h| h * (0.5 + rng.random::<f64>()))
}

/// The probability of opening an offer sent on channel `c`, for a person of `habits` and the
/// engagement of the moment.
pub fn open_probability(habits: &[f64; 3], engagement: f64, c: usize) -> f64 {
    ((0.08 + 0.5 * engagement) * habits[c]).clamp(0.0, 0.95)
}

/// Weekly churn hazard from the current state.
pub fn churn_hazard(traits: &Traits, trial_lapsed: bool, bad_tickets: u32) -> f64 {
    let h = 0.0045
        * (3.2 * (0.6 - traits.satisfaction)).exp()
        * (2.6 * (0.5 - traits.engagement)).exp()
        * (1.0 + 0.35 * bad_tickets as f64);
    (h + if trial_lapsed { 0.01 } else { 0.0 }).min(0.5)
}

/// Format ten phone digits the way a given system stores them.
pub fn phone_format(rng: &mut Pcg64Mcg, digits: &str) -> String {
    let (a, b, c) = (&digits[..3], &digits[3..6], &digits[6..]);
    match rng.random_range(0..5) {
        0 => format!("({a}) {b}-{c}"),
        1 => format!("{a}-{b}-{c}"),
        2 => format!("+1 {a} {b} {c}"),
        3 => format!("{a}.{b}.{c}"),
        _ => format!("1{digits}"),
    }
}

/// A first name as typed into some system: canonical, nickname or with a typo.
pub fn typed_first(rng: &mut Pcg64Mcg, id: &Identity, nickname_rate: f64) -> String {
    let roll = rng.random::<f64>();
    if roll < nickname_rate && !id.nicknames.is_empty() {
        id.nicknames[rng.random_range(0..id.nicknames.len())].to_string()
    } else if roll < nickname_rate + 0.05 {
        names::typo(rng, id.first)
    } else {
        id.first.to_string()
    }
}

/// An e-mail address as some system stores it: case changes, Gmail dots and +tags.
pub fn typed_email(rng: &mut Pcg64Mcg, email: &str) -> String {
    let roll = rng.random::<f64>();
    if roll < 0.15 {
        let mut chars = email.chars();
        match chars.next() {
            Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
            None => String::new(),
        }
    } else if roll < 0.22 {
        email.to_ascii_uppercase()
    } else if roll < 0.30 && email.ends_with("@gmail.com") {
        let local = email.trim_end_matches("@gmail.com");
        if rng.random_bool(0.5) {
            format!("{local}+petshop@gmail.com")
        } else {
            format!("{}@gmail.com", local.replace('.', ""))
        }
    } else if roll < 0.33 {
        format!("  {email} ")
    } else {
        email.to_string()
    }
}
