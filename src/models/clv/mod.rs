//! Customer lifetime value: the BG/NBD or Pareto/NBD purchase model with the Gamma-Gamma spend
//! model, fitted by maximum likelihood from one row per customer (`frequency` repeat
//! purchases, `recency` of the last, age `t`, mean repeat `monetary_value`, as `clv_summary`
//! makes them), saved as a readable JSON model and applied by `p_alive`, `expected_purchases`,
//! `expected_spend` and `clv`.

pub mod bg_nbd;
pub mod gamma_gamma;
mod likelihood;
pub mod optimize;
pub mod pareto_nbd;
pub mod special;

use serde::{Deserialize, Serialize};

use self::bg_nbd::BgNbd;
use self::gamma_gamma::GammaGamma;
use self::likelihood::{BgNbdLikelihood, ParetoNbdLikelihood, SpendLikelihood};
use self::pareto_nbd::ParetoNbd;

/// The fewest customers a purchase model is fitted on, and the fewest with a repeat purchase
/// the spend model is fitted on.
pub const MIN_CUSTOMERS: usize = 20;

/// The kind name of lifetime-value model files.
pub const KIND: &str = "clv";

/// Which purchase model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseKind {
    BgNbd,
    ParetoNbd,
}

impl PurchaseKind {
    /// From its SQL spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().replace(['/', '-'], "_").as_str() {
            "bg_nbd" | "bgnbd" => Some(Self::BgNbd),
            "pareto_nbd" | "paretonbd" => Some(Self::ParetoNbd),
            _ => None,
        }
    }

    /// Its SQL spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::BgNbd => "bg_nbd",
            Self::ParetoNbd => "pareto_nbd",
        }
    }

    /// The parameter names, in order.
    pub fn parameter_names(self) -> [&'static str; 4] {
        match self {
            Self::BgNbd => ["r", "alpha", "a", "b"],
            Self::ParetoNbd => ["r", "alpha", "s", "beta"],
        }
    }
}

/// A fitted purchase model.
#[derive(Debug, Clone, PartialEq)]
pub enum Purchase {
    BgNbd(BgNbd),
    ParetoNbd(ParetoNbd),
}

impl Purchase {
    fn new(kind: PurchaseKind, p: &[f64]) -> Self {
        match kind {
            PurchaseKind::BgNbd => Self::BgNbd(BgNbd::from_slice(p)),
            PurchaseKind::ParetoNbd => Self::ParetoNbd(ParetoNbd::from_slice(p)),
        }
    }

    /// P(alive | x, t_x, T).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        match self {
            Self::BgNbd(m) => m.p_alive(x, t_x, t),
            Self::ParetoNbd(m) => m.p_alive(x, t_x, t),
        }
    }

    /// Expected purchases in the next `horizon` periods.
    pub fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        match self {
            Self::BgNbd(m) => m.expected_purchases(horizon, x, t_x, t),
            Self::ParetoNbd(m) => m.expected_purchases(horizon, x, t_x, t),
        }
    }
}

/// One customer's summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Repeat purchases (periods with a purchase after the first).
    pub frequency: f64,
    /// Time from the first to the last purchase.
    pub recency: f64,
    /// Time from the first purchase to the end of observation.
    pub t: f64,
    /// Mean value of the repeat purchases (NULL or ignored when frequency is 0).
    pub monetary_value: Option<f64>,
}

impl Summary {
    /// Why this summary cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let Self {
            frequency,
            recency,
            t,
            ..
        } = *self;
        if !(frequency.is_finite() && recency.is_finite() && t.is_finite()) {
            Some("frequency, recency and t must be finite numbers".into())
        } else if frequency < 0.0 || frequency.fract() != 0.0 {
            Some(format!("frequency {frequency} is not a whole number >= 0"))
        } else if recency < 0.0 || t < 0.0 {
            Some(format!("recency {recency} and t {t} must be >= 0"))
        } else if recency > t {
            Some(format!("recency {recency} is later than t {t}"))
        } else if frequency == 0.0 && recency != 0.0 {
            Some(format!(
                "recency {recency} must be 0 when frequency is 0 (no repeat purchase)"
            ))
        } else {
            None
        }
    }
}

/// The fit of a purchase model, as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseFit {
    pub kind: PurchaseKind,
    /// The parameters by name (r, alpha, a, b or r, alpha, s, beta).
    pub parameters: Vec<(String, f64)>,
    pub log_likelihood: f64,
    pub customers: usize,
    pub iterations: u64,
    pub converged: bool,
}

/// The fit of the spend model, as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendFit {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
    pub log_likelihood: f64,
    /// Customers with at least one repeat purchase it was fitted on.
    pub customers: usize,
    pub iterations: u64,
    pub converged: bool,
}

/// A fitted lifetime-value model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvModel {
    /// The unit of `recency`, `t` and horizons: day, week or month.
    pub unit: String,
    pub purchase: PurchaseFit,
    /// Absent when no monetary values were given.
    pub spend: Option<SpendFit>,
}

/// Periods per month of a unit (lifetimes' factors, so results compare).
pub fn periods_per_month(unit: &str) -> Option<f64> {
    match unit {
        "day" => Some(30.0),
        "week" => Some(4.345),
        "month" => Some(1.0),
        _ => None,
    }
}

impl ClvModel {
    /// The purchase model.
    pub fn purchase(&self) -> Purchase {
        let p: Vec<f64> = self.purchase.parameters.iter().map(|(_, v)| *v).collect();
        Purchase::new(self.purchase.kind, &p)
    }

    /// The spend model, if fitted.
    pub fn spend(&self) -> Option<GammaGamma> {
        self.spend.as_ref().map(|s| GammaGamma {
            p: s.p,
            q: s.q,
            gamma: s.gamma,
        })
    }

    /// Discounted expected value of the next `months` months (lifetimes' method: the expected
    /// purchases of each month times the expected spend, discounted monthly).
    pub fn clv(&self, months: u32, discount_rate: f64, customer: &Summary) -> Option<f64> {
        let spend = self
            .spend()?
            .expected_spend(customer.frequency, customer.monetary_value.unwrap_or(0.0));
        let per_month = periods_per_month(&self.unit)?;
        let purchase = self.purchase();
        let Summary {
            frequency: x,
            recency: t_x,
            t,
            ..
        } = *customer;
        let mut value = 0.0;
        let mut before = 0.0;
        for month in 1..=months {
            let upto = purchase.expected_purchases(f64::from(month) * per_month, x, t_x, t);
            value += spend * (upto - before) / (1.0 + discount_rate).powi(month as i32);
            before = upto;
        }
        Some(value)
    }
}

/// Fit a purchase model by maximum likelihood on the summaries with their weights.
pub fn fit_purchase(
    kind: PurchaseKind,
    customers: &[(Summary, f64)],
) -> Result<PurchaseFit, String> {
    let total: f64 = customers.iter().map(|(_, w)| w).sum();
    let count = customers.iter().map(|(_, w)| *w as usize).sum::<usize>();
    if count < MIN_CUSTOMERS {
        return Err(format!(
            "{count} customers; fitting a purchase model needs at least {MIN_CUSTOMERS}"
        ));
    }
    if !customers.iter().any(|(c, _)| c.frequency > 0.0) {
        return Err(
            "no customer made a repeat purchase (every frequency is 0), so there is \
                    nothing to learn a purchase rate from"
                .into(),
        );
    }
    let grouped = by_purchases(customers);
    let fit = |start: &[f64]| match kind {
        PurchaseKind::BgNbd => optimize::minimise(
            &BgNbdLikelihood {
                customers: &grouped,
                total,
            },
            start,
        ),
        PurchaseKind::ParetoNbd => optimize::minimise(
            &ParetoNbdLikelihood {
                customers: &grouped,
                total,
            },
            start,
        ),
    };
    // Start from 1 for every parameter except the scale, at the mean age (keeps the first
    // steps where the likelihood is not flat, whatever the unit of time).
    let mean_t = customers.iter().map(|(c, w)| w * c.t).sum::<f64>() / total;
    let scale = mean_t.max(1e-3);
    let start = match kind {
        PurchaseKind::BgNbd => [1.0, scale, 1.0, 1.0],
        PurchaseKind::ParetoNbd => [1.0, scale, 1.0, scale],
    };
    let fit = fit(&start)?;
    Ok(PurchaseFit {
        kind,
        parameters: kind
            .parameter_names()
            .iter()
            .zip(&fit.params)
            .map(|(n, v)| (n.to_string(), *v))
            .collect(),
        log_likelihood: -fit.value * total,
        customers: count,
        iterations: fit.iterations,
        converged: fit.converged,
    })
}

/// The summaries with the same purchases (frequency, recency, t) as one, their weights added,
/// in order of frequency (the likelihoods compute their frequency terms once per run of it).
fn by_purchases(customers: &[(Summary, f64)]) -> Vec<(Summary, f64)> {
    let key = |c: &Summary| (c.frequency, c.recency, c.t);
    let mut sorted: Vec<&(Summary, f64)> = customers.iter().collect();
    sorted.sort_by(|(a, _), (b, _)| {
        let (a, b) = (key(a), key(b));
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.total_cmp(&b.2))
    });
    let mut out: Vec<(Summary, f64)> = Vec::with_capacity(sorted.len());
    for (c, w) in sorted {
        match out.last_mut() {
            Some((last, weight)) if key(last) == key(c) => *weight += w,
            _ => out.push((*c, *w)),
        }
    }
    out
}

/// Fit the Gamma-Gamma spend model on the customers with a repeat purchase and a positive
/// mean value.
pub fn fit_spend(customers: &[(Summary, f64)]) -> Result<SpendFit, String> {
    let repeat: Vec<(f64, f64, f64)> = customers
        .iter()
        .filter(|(c, _)| c.frequency > 0.0)
        .filter_map(|(c, w)| c.monetary_value.map(|m| (c.frequency, m, *w)))
        .collect();
    if let Some((x, m, _)) = repeat.iter().find(|(_, m, _)| !(m.is_finite() && *m > 0.0)) {
        return Err(format!(
            "monetary_value {m} of a customer with frequency {x}: the spend model needs a \
             positive mean value for every customer with a repeat purchase (filter refunds out)"
        ));
    }
    let count = repeat.iter().map(|(_, _, w)| *w as usize).sum::<usize>();
    if count < MIN_CUSTOMERS {
        return Err(format!(
            "{count} customers with a repeat purchase and a monetary_value; fitting the spend \
             model needs at least {MIN_CUSTOMERS}"
        ));
    }
    let total: f64 = repeat.iter().map(|(_, _, w)| w).sum();
    let mean_m = repeat.iter().map(|(_, m, w)| w * m).sum::<f64>() / total;
    let objective = SpendLikelihood {
        customers: &repeat,
        total,
    };
    let fit = optimize::minimise(&objective, &[1.0, 2.0, mean_m.max(1e-3)])?;
    Ok(SpendFit {
        p: fit.params[0],
        q: fit.params[1],
        gamma: fit.params[2],
        log_likelihood: -fit.value * total,
        customers: count,
        iterations: fit.iterations,
        converged: fit.converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_checked() {
        let ok = Summary {
            frequency: 2.0,
            recency: 3.0,
            t: 5.0,
            monetary_value: Some(1.0),
        };
        assert!(ok.problem().is_none());
        for (f, r, t) in [
            (-1.0, 0.0, 1.0),
            (1.5, 1.0, 2.0),
            (1.0, 3.0, 2.0),
            (0.0, 1.0, 2.0),
        ] {
            let bad = Summary {
                frequency: f,
                recency: r,
                t,
                monetary_value: None,
            };
            assert!(bad.problem().is_some(), "{f} {r} {t}");
        }
    }

    /// The CDNOW calibration summary shipped in tests/data/cdnow (2,357 customers, weeks).
    fn cdnow() -> Vec<(Summary, f64)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdnow/summary.csv");
        let text = std::fs::read_to_string(path).expect("tests/data/cdnow/summary.csv");
        text.lines()
            .skip(1)
            .map(|line| {
                let v: Vec<f64> = line
                    .split(',')
                    .map(|f| f.parse().expect("a number"))
                    .collect();
                let summary = Summary {
                    frequency: v[1],
                    recency: v[2],
                    t: v[3],
                    monetary_value: (v[1] > 0.0).then_some(v[4]),
                };
                (summary, 1.0)
            })
            .collect()
    }

    /// `got` agrees with `published` to three significant digits: they differ by less than
    /// half a unit of the third digit.
    fn three_digits(got: f64, published: f64) -> bool {
        let third_digit = 10f64.powf(published.abs().log10().floor() - 2.0);
        (got - published).abs() < 0.5 * third_digit
    }

    #[test]
    fn cdnow_matches_the_published_fits() {
        let customers = cdnow();
        assert_eq!(customers.len(), 2357);
        // BG/NBD: Fader, Hardie and Lee (2005), r = 0.243, α = 4.414, a = 0.793, b = 2.426,
        // LL = −9582.4.
        let fit = fit_purchase(PurchaseKind::BgNbd, &customers).expect("BG/NBD fits");
        let got: Vec<f64> = fit.parameters.iter().map(|(_, v)| *v).collect();
        for (g, p) in got.iter().zip([0.243, 4.414, 0.793, 2.426]) {
            assert!(three_digits(*g, p), "BG/NBD {got:?}");
        }
        assert!(
            three_digits(fit.log_likelihood, -9582.4),
            "{}",
            fit.log_likelihood
        );
        // Pareto/NBD: Fader, Hardie and Lee (2005, the MATLAB note), r = 0.5534,
        // α = 10.5802, s = 0.6061, β = 11.6562, LL = −9595.0.
        let fit = fit_purchase(PurchaseKind::ParetoNbd, &customers).expect("Pareto/NBD fits");
        let got: Vec<f64> = fit.parameters.iter().map(|(_, v)| *v).collect();
        for (g, p) in got.iter().zip([0.5534, 10.5802, 0.6061, 11.6562]) {
            assert!(three_digits(*g, p), "Pareto/NBD {got:?}");
        }
        assert!(
            three_digits(fit.log_likelihood, -9595.0),
            "{}",
            fit.log_likelihood
        );
        // Gamma-Gamma on the 946 repeat buyers: p = 6.25, q = 3.74, γ = 15.44 (Fader, Hardie
        // and Lee 2005, "RFM and CLV"), LL −4055.9 as lifetimes computes it on the same file.
        let fit = fit_spend(&customers).expect("Gamma-Gamma fits");
        assert_eq!(fit.customers, 946);
        assert!(three_digits(fit.p, 6.25), "{fit:?}");
        assert!(three_digits(fit.q, 3.74), "{fit:?}");
        assert!(three_digits(fit.gamma, 15.44), "{fit:?}");
        assert!(three_digits(fit.log_likelihood, -4055.9), "{fit:?}");
    }

    #[test]
    fn too_few_customers_is_an_error_naming_the_minimum() {
        let one = vec![(
            Summary {
                frequency: 1.0,
                recency: 1.0,
                t: 2.0,
                monetary_value: Some(3.0),
            },
            5.0,
        )];
        let e = fit_purchase(PurchaseKind::BgNbd, &one).unwrap_err();
        assert!(e.contains("at least 20"), "{e}");
        let e = fit_spend(&one).unwrap_err();
        assert!(e.contains("at least 20"), "{e}");
    }
}
