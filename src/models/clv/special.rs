//! Special functions the lifetime-value models need: the log-gamma function (libm's
//! `lgamma`), its derivative the digamma function (statrs'), log-sum-exp, and the Gaussian
//! hypergeometric function 2F1 on `0 <= z < 1`, where the models use it.

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// ψ(x) = d ln Γ(x) / dx for x > 0.
pub fn digamma(x: f64) -> f64 {
    statrs::function::gamma::digamma(x)
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln(e^a + e^b) without overflow.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// ln(e^a − e^b) for a > b (NaN otherwise).
pub fn log_sub_exp(a: f64, b: f64) -> f64 {
    if b == f64::NEG_INFINITY {
        return a;
    }
    a + (-(b - a).exp()).ln_1p()
}

/// Terms summed before the series gives up; at z = 0.99 the terms have shrunk by 1e-44.
const MAX_TERMS: usize = 10_000;

/// The Gauss hypergeometric function ₂F₁(a, b; c; z) for 0 <= z < 1 and c > 0, by its power
/// series Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ, summed until a term no longer changes the sum. For
/// z > 0.5 with c − a − b > 0 the series converges slowly; Euler's transformation
/// ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z) is used when it shortens it.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if !(0.0..1.0).contains(&z) || c <= 0.0 {
        return f64::NAN;
    }
    if z > 0.5 {
        let (ea, eb) = (c - a, c - b);
        // The transformed series' terms fall faster when its numerator parameters are smaller.
        if ea.abs() * eb.abs() < a.abs() * b.abs() {
            return (1.0 - z).powf(c - a - b) * series(ea, eb, c, z);
        }
    }
    series(a, b, c, z)
}

fn series(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..MAX_TERMS {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-16 * sum.abs() {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1.0)
    }

    #[test]
    fn hyp2f1_closed_forms() {
        // 2F1(1, 1; 2; z) = −ln(1 − z) / z
        for z in [0.1f64, 0.5, 0.9, 0.99] {
            let want = -(1.0 - z).ln() / z;
            assert!(close(hyp2f1(1.0, 1.0, 2.0, z), want, 1e-12), "z = {z}");
        }
        // 2F1(a, b; b; z) = (1 − z)^(−a)
        for (a, b, z) in [(0.5, 2.0, 0.3f64), (2.5, 1.5, 0.8), (0.243, 3.1, 0.95)] {
            let want = (1.0 - z).powf(-a);
            assert!(close(hyp2f1(a, b, b, z), want, 1e-10), "{a} {b} {z}");
        }
        // 2F1(1/2, 1/2; 3/2; z²) = asin(z) / z
        for z in [0.2_f64, 0.7, 0.95] {
            let want = z.asin() / z;
            assert!(close(hyp2f1(0.5, 0.5, 1.5, z * z), want, 1e-12), "z = {z}");
        }
        assert_eq!(hyp2f1(1.0, 2.0, 3.0, 0.0), 1.0);
        assert!(hyp2f1(1.0, 2.0, 3.0, 1.0).is_nan());
    }

    #[test]
    fn log_sums() {
        assert!(close(
            log_add_exp(1.0, 2.0),
            (1f64.exp() + 2f64.exp()).ln(),
            1e-15
        ));
        assert!(close(
            log_add_exp(-1000.0, -1001.0),
            -1000.0 + (1.0 + (-1f64).exp()).ln(),
            1e-15
        ));
        assert!(close(
            log_sub_exp(2.0, 1.0),
            (2f64.exp() - 1f64.exp()).ln(),
            1e-14
        ));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-15));
        assert!(close(ln_beta(2.0, 3.0), (1.0f64 / 12.0).ln(), 1e-14));
    }
}
