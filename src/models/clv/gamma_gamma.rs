//! The Gamma-Gamma spend model (Fader, Hardie and Lee 2005, "RFM and CLV: Using Iso-Value
//! Curves for Customer Base Analysis"; Fader and Hardie's note "The Gamma-Gamma Model of
//! Monetary Value"): a customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ)
//! across customers, independent of how often they buy. Fitted on customers with at least one
//! repeat purchase, from their number `x` of repeat purchases and their mean value `m`.

use super::special::{digamma, ln_gamma};

/// The three parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl GammaGamma {
    /// From `[p, q, gamma]`.
    pub fn from_slice(v: &[f64]) -> Self {
        Self {
            p: v[0],
            q: v[1],
            gamma: v[2],
        }
    }

    /// The log-likelihood of a customer's mean value `m` over `x` > 0 transactions (the
    /// density of the mean, equation 3 of the note).
    pub fn log_likelihood(&self, x: f64, m: f64) -> f64 {
        let Self { p, q, gamma } = *self;
        let px = p * x;
        ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
            + q * gamma.ln()
            + (px - 1.0) * m.ln()
            + px * x.ln()
            - (px + q) * (x * m + gamma).ln()
    }

    /// `log_likelihood(x, m)` and its gradient in (p, q, γ).
    pub fn log_likelihood_gradient(&self, x: f64, m: f64) -> (f64, [f64; 3]) {
        let Self { p, q, gamma } = *self;
        let px = p * x;
        let ln_total = (x * m + gamma).ln();
        let both = digamma(px + q);
        let gradient = [
            x * (both - digamma(px) + m.ln() + x.ln() - ln_total),
            both - digamma(q) + gamma.ln() - ln_total,
            q / gamma - (px + q) / (x * m + gamma),
        ];
        (self.log_likelihood(x, m), gradient)
    }

    /// E[value of a transaction | x, m] (equation 5 of the note): a weighted mean of the
    /// population mean p·γ/(q − 1) and the customer's own mean, the weight growing with x.
    /// With x = 0 it is the population mean.
    pub fn expected_spend(&self, x: f64, m: f64) -> f64 {
        let Self { p, q, gamma } = *self;
        let population = p * gamma / (q - 1.0);
        if x <= 0.0 {
            return population;
        }
        let weight = p * x / (p * x + q - 1.0);
        (1.0 - weight) * population + weight * m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_spend_by_hand() {
        let m = GammaGamma {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        };
        // (γ + m·x)·p / (p·x + q − 1), the note's form of the same expectation.
        let want = (15.44 + 22.35 * 2.0) * 6.25 / (6.25 * 2.0 + 3.74 - 1.0);
        assert!((m.expected_spend(2.0, 22.35) - want).abs() < 1e-9);
        assert!((m.expected_spend(0.0, 0.0) - 6.25 * 15.44 / 2.74).abs() < 1e-12);
    }

    #[test]
    fn likelihood_by_hand() {
        // x = 1: the mean is one Gamma(p, ν) draw; with p = 1 (exponential) and q = 2, γ = 3
        // the marginal density is q γ^q / (m + γ)^(q+1) = 2·9 / (m + 3)³.
        let g = GammaGamma {
            p: 1.0,
            q: 2.0,
            gamma: 3.0,
        };
        let want: f64 = 18.0 / 5f64.powi(3);
        assert!((g.log_likelihood(1.0, 2.0) - want.ln()).abs() < 1e-12);
    }
}
