//! The BG/NBD purchase model (Fader, Hardie and Lee 2005, "Counting Your Customers the Easy
//! Way"): while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after
//! each purchase they drop out with probability p ~ Beta(a, b).
//!
//! A customer is summarised as `x` repeat purchases, the time `t_x` of the last one and the
//! time `T` observed, both measured from the first purchase in one unit of time.

use super::special::{digamma, hyp2f1, ln_beta, ln_gamma, log_add_exp};

/// The four parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl BgNbd {
    /// From `[r, alpha, a, b]`.
    pub fn from_slice(p: &[f64]) -> Self {
        Self {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    /// The log-likelihood of one customer (equation 6 of the paper).
    pub fn log_likelihood(&self, x: f64, t_x: f64, t: f64) -> f64 {
        self.log_likelihood_with(self.frequency_terms(x), x, t_x, t)
    }

    /// The part of the log-likelihood that depends on the frequency alone (the gamma and beta
    /// functions), to be computed once per distinct frequency when fitting.
    pub fn frequency_terms(&self, x: f64) -> f64 {
        let Self { r, alpha, a, b } = *self;
        ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, b + x) - ln_beta(a, b)
    }

    /// `frequency_terms(x)` and its gradient in (r, α, a, b).
    pub fn frequency_terms_gradient(&self, x: f64) -> (f64, [f64; 4]) {
        let Self { r, alpha, a, b } = *self;
        let (ab, abx) = (digamma(a + b), digamma(a + b + x));
        let gradient = [
            digamma(r + x) - digamma(r) + alpha.ln(),
            r / alpha,
            ab - abx,
            digamma(b + x) - abx - digamma(b) + ab,
        ];
        (self.frequency_terms(x), gradient)
    }

    /// The log-likelihood of one customer and its gradient in (r, α, a, b), given
    /// `frequency_terms_gradient(x)`.
    pub fn log_likelihood_gradient_with(
        &self,
        (terms, terms_gradient): (f64, [f64; 4]),
        x: f64,
        t_x: f64,
        t: f64,
    ) -> (f64, [f64; 4]) {
        let Self { r, alpha, a, b } = *self;
        let ln_at = (alpha + t).ln();
        let a3 = -(r + x) * ln_at;
        let g3 = [-ln_at, -(r + x) / (alpha + t), 0.0, 0.0];
        let mut gradient = terms_gradient;
        if x > 0.0 {
            let ln_atx = (alpha + t_x).ln();
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * ln_atx;
            let g4 = [
                -ln_atx,
                -(r + x) / (alpha + t_x),
                1.0 / a,
                -1.0 / (b + x - 1.0),
            ];
            // ln(e^a3 + e^a4) and the shares of its two terms.
            let m = a3.max(a4);
            let (e3, e4) = ((a3 - m).exp(), (a4 - m).exp());
            let sum = e3 + e4;
            for (g, (d3, d4)) in gradient.iter_mut().zip(g3.iter().zip(g4)) {
                *g += (e3 * d3 + e4 * d4) / sum;
            }
            (terms + m + sum.ln(), gradient)
        } else {
            for (g, d3) in gradient.iter_mut().zip(g3) {
                *g += d3;
            }
            (terms + a3, gradient)
        }
    }

    /// The log-likelihood of one customer given `frequency_terms(x)`.
    pub fn log_likelihood_with(&self, terms: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, a, b } = *self;
        let a3 = -(r + x) * (alpha + t).ln();
        if x > 0.0 {
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
            terms + log_add_exp(a3, a4)
        } else {
            terms + a3
        }
    }

    /// P(alive | x, t_x, T) (equation 11 of the paper's technical note).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let Self { r, alpha, a, b } = *self;
        let odds = (a / (b + x - 1.0)).ln() + (r + x) * ((alpha + t).ln() - (alpha + t_x).ln());
        1.0 / (1.0 + odds.exp())
    }

    /// E[purchases in (T, T + horizon] | x, t_x, T] (equation 10 of the paper).
    pub fn expected_purchases(&self, horizon: f64, x: f64, t_x: f64, t: f64) -> f64 {
        let Self { r, alpha, a, b } = *self;
        if horizon <= 0.0 {
            return 0.0;
        }
        let z = horizon / (alpha + t + horizon);
        let front = (a + b + x - 1.0) / (a - 1.0);
        let hyper = ((alpha + t) / (alpha + t + horizon)).powf(r + x)
            * hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let denominator = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        front * (1.0 - hyper) / denominator
    }

    /// E[purchases in (0, horizon]] of a customer just acquired (equation 9 of the paper).
    pub fn expected_purchases_new(&self, horizon: f64) -> f64 {
        let Self { r, alpha, a, b } = *self;
        if horizon <= 0.0 {
            return 0.0;
        }
        let hyper = (alpha / (alpha + horizon)).powf(r)
            * hyp2f1(r, b, a + b - 1.0, horizon / (alpha + horizon));
        (a + b - 1.0) / (a - 1.0) * (1.0 - hyper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CDNOW estimates (Fader, Hardie and Lee 2005, weeks) at the precision of Hardie's
    /// spreadsheet (the paper prints r = 0.243, α = 4.414, a = 0.793, b = 2.426).
    const CDNOW: BgNbd = BgNbd {
        r: 0.242594,
        alpha: 4.413568,
        a: 0.792919,
        b: 2.425907,
    };

    #[test]
    fn likelihood_by_hand() {
        // x = 0: L = B(a, b) / B(a, b) · (α / (α + T))^r = (α / (α + T))^r
        let m = BgNbd {
            r: 2.0,
            alpha: 3.0,
            a: 1.5,
            b: 2.5,
        };
        let want = 2.0 * (3.0f64 / 13.0).ln();
        assert!((m.log_likelihood(0.0, 0.0, 10.0) - want).abs() < 1e-12);
        // x = 1, t_x = 4, T = 10, r = 2, α = 3, a = 1.5, b = 2.5:
        // Γ(3)/Γ(2) α^r = 2 · 9; B(a, b+1)/B(a, b) = b / (a + b) = 2.5 / 4;
        // L = 18 · 0.625 · (13^-3 + a / b' · 7^-3) with b' = b + x − 1 = 2.5
        let want: f64 = 18.0 * 0.625 * (13f64.powi(-3) + 1.5 / 2.5 * 7f64.powi(-3));
        assert!((m.log_likelihood(1.0, 4.0, 10.0) - want.ln()).abs() < 1e-12);
    }

    #[test]
    fn p_alive_by_hand() {
        // 1 / (1 + a/(b + x − 1) · ((α + T)/(α + t_x))^(r + x))
        let (r, alpha, a, b) = (CDNOW.r, CDNOW.alpha, CDNOW.a, CDNOW.b);
        let want = 1.0 / (1.0 + a / (b + 1.0) * ((alpha + 39.0) / (alpha + 30.0)).powf(r + 2.0));
        assert!((CDNOW.p_alive(2.0, 30.0, 39.0) - want).abs() < 1e-12);
        assert_eq!(CDNOW.p_alive(0.0, 0.0, 39.0), 1.0);
        assert!(CDNOW.p_alive(5.0, 1.0, 39.0) < CDNOW.p_alive(5.0, 38.0, 39.0));
    }

    #[test]
    fn expected_purchases_published() {
        // Hardie's BG/NBD spreadsheet for CDNOW: a customer with x = 2, t_x = 30.43 and
        // T = 38.86 weeks is expected to make 1.226 purchases in the next 39 weeks.
        let year = CDNOW.expected_purchases(39.0, 2.0, 30.43, 38.86);
        assert!((year - 1.226).abs() < 1e-3, "{year}");
        // E[X(t)] of a new customer, from the same spreadsheet.
        for (t, want) in [
            (0.1429, 0.0078),
            (1.0, 0.0532),
            (3.0, 0.1506),
            (31.8571, 1.0405),
            (78.0, 1.8576),
        ] {
            let got = CDNOW.expected_purchases_new(t);
            assert!((got - want).abs() < 1e-3, "t = {t}: {got} vs {want}");
        }
        assert!(CDNOW.expected_purchases(1e-9, 2.0, 30.43, 38.86).abs() < 1e-8);
        assert_eq!(CDNOW.expected_purchases(0.0, 2.0, 30.43, 38.86), 0.0);
    }
}
