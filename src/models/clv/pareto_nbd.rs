//! The Pareto/NBD purchase model (Schmittlein, Morrison and Colombo 1987, in the form of Fader
//! and Hardie's note "A Note on Deriving the Pareto/NBD Model and Related Expressions"): while
//! alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α) and lives an
//! exponential lifetime with rate μ ~ Gamma(s, β).

use super::special::{hyp2f1, ln_gamma, log_add_exp, log_sub_exp};

/// The four parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

impl ParetoNbd {
    /// From `[r, alpha, s, beta]`.
    pub fn from_slice(p: &[f64]) -> Self {
        Self {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        }
    }

    /// ln A₀ of the note (its equation 19), from the hypergeometric function with the smaller
    /// of α and β in the denominator, which keeps its argument in [0, 1).
    fn ln_a0(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, s, beta } = *self;
        let (low, high, second) = if alpha < beta {
            (alpha, beta, r + x)
        } else {
            (beta, alpha, s + 1.0)
        };
        let rsx = r + s + x;
        let gap = high - low;
        let f1 = hyp2f1(rsx, second, rsx + 1.0, gap / (high + t_x));
        let f2 = hyp2f1(rsx, second, rsx + 1.0, gap / (high + t));
        let q1 = high + t_x;
        let q2 = high + t;
        log_sub_exp(f1.ln() + rsx * q2.ln(), f2.ln() + rsx * q1.ln()) - rsx * (q1 * q2).ln()
    }

    /// ln of the first term of the likelihood, ln of the whole, and ln A₀, of one customer.
    fn parts(&self, x: f64, t_x: f64, t: f64) -> (f64, f64, f64) {
        let Self { r, alpha, s, beta } = *self;
        let front = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let alive = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
        let ln_a0 = self.ln_a0(x, t_x, t);
        let died = s.ln() + ln_a0 - (r + s + x).ln();
        (front + alive, front + log_add_exp(alive, died), ln_a0)
    }

    /// The log-likelihood of one customer (equation 22 of the note).
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        self.parts(x, t_x, t).1
    }

    /// P(alive | x, t_x, T) (equation 18 of the note).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, s, beta } = *self;
        let ln_a0 = self.ln_a0(x, t_x, t);
        let odds =
            s.ln() - (r + s + x).ln() + (r + x) * (alpha + t).ln() + s * (beta + t).ln() + ln_a0;
        1.0 / (1.0 + odds.exp())
    }

    /// E[purchases in (T, T + horizon] | x, t_x, T] (equation 41 of the note).
    pub fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, s, beta } = *self;
        if horizon <= 0.0 {
            return 0.0;
        }
        let (alive, whole, _) = self.parts(x, t_x, t);
        let rate = (r + x).ln() + (beta + t).ln() - (alpha + t).ln();
        let lifetime = (1.0 - ((beta + t) / (beta + t + horizon)).powf(s - 1.0)) / (s - 1.0);
        (alive + rate + lifetime.ln() - whole).exp()
    }

    /// E[purchases in (0, horizon]] of a customer just acquired (equation 27 of the note).
    pub fn expected_purchases_new(&self, horizon: f64) -> f64 {
        let Self { r, alpha, s, beta } = *self;
        if horizon <= 0.0 {
            return 0.0;
        }
        r * beta / (alpha * (s - 1.0)) * (1.0 - (beta / (beta + horizon)).powf(s - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published CDNOW estimates (Fader, Hardie and Lee 2005, "A Note on Implementing the
    /// Pareto/NBD Model in MATLAB", weeks).
    const CDNOW: ParetoNbd = ParetoNbd {
        r: 0.5534,
        alpha: 10.5802,
        s: 0.6061,
        beta: 11.6562,
    };

    #[test]
    fn published_conditional_expectation() {
        // Hardie's Pareto/NBD spreadsheet: x = 26, t_x = 30.86, T = 31: 25.46 purchases in
        // the next 52 weeks.
        let got = CDNOW.expected_purchases(52.0, 26.0, 30.86, 31.0);
        assert!((got - 25.46).abs() < 0.01, "{got}");
        let alive = CDNOW.p_alive(26.0, 30.86, 31.0);
        assert!((alive - 0.9979).abs() < 1e-3, "{alive}");
    }

    #[test]
    fn zero_purchases_by_hand() {
        // With α = β both hypergeometric terms are 1, so for x = 0, t_x = 0 (note, eq. 22):
        // L = (α/(α+T))^r (β/(β+T))^s + s/(r+s) α^r β^s (α^-(r+s) − (α+T)^-(r+s)).
        let m = ParetoNbd {
            r: 0.7,
            alpha: 5.0,
            s: 1.3,
            beta: 5.0,
        };
        let (r, s, a, t): (f64, f64, f64, f64) = (0.7, 1.3, 5.0, 20.0);
        let a0 = a.powf(-(r + s)) - (a + t).powf(-(r + s));
        let want = (a / (a + t)).powf(r) * (a / (a + t)).powf(s)
            + s / (r + s) * a.powf(r) * a.powf(s) * a0;
        assert!((m.log_likelihood(0.0, 0.0, t) - want.ln()).abs() < 1e-9);
        assert!(m.p_alive(0.0, 0.0, 20.0) > 0.0 && m.p_alive(0.0, 0.0, 20.0) < 1.0);
    }
}
