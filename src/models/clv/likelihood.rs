//! The objectives the lifetime-value fits minimise: the negative mean log-likelihood of the
//! customers (each summary with its weight, the number of customers it stands for), with its
//! analytic gradient for BG/NBD and Gamma-Gamma (Pareto/NBD's value alone). The customers
//! are summed in fixed chunks on every core and the chunks added in order, so a fit is the
//! same to the bit whatever the number of threads.

use rayon::prelude::*;

use super::Summary;
use super::bg_nbd::BgNbd;
use super::gamma_gamma::GammaGamma;
use super::optimize::Objective;
use super::pareto_nbd::ParetoNbd;

/// Customers per chunk of the parallel sums.
const CHUNK: usize = 4096;

/// Σ over `items` of what `part` returns for each chunk (a value and its gradient), chunk by
/// chunk in order.
fn chunked_sum<T: Sync, const N: usize>(
    items: &[T],
    part: impl Fn(&[T]) -> (f64, [f64; N]) + Sync + Send,
) -> (f64, [f64; N]) {
    let parts: Vec<(f64, [f64; N])> = items.par_chunks(CHUNK).map(part).collect();
    let mut total = (0.0, [0.0; N]);
    for (value, gradient) in parts {
        total.0 += value;
        for (t, g) in total.1.iter_mut().zip(gradient) {
            *t += g;
        }
    }
    total
}

/// Add one summary's log-likelihood and gradient, times its weight `w`, to `sum`.
fn add_weighted<const N: usize>(sum: &mut (f64, [f64; N]), w: f64, (ll, g): (f64, [f64; N])) {
    sum.0 += w * ll;
    for (s, g) in sum.1.iter_mut().zip(g) {
        *s += w * g;
    }
}

/// −(Σ w·ll) / Σ w and its gradient, from the sums.
fn mean_negative<const N: usize>(
    (sum, gradient): (f64, [f64; N]),
    total: f64,
    out: Option<&mut [f64]>,
) -> f64 {
    if let Some(out) = out {
        for (o, g) in out.iter_mut().zip(gradient) {
            *o = -g / total;
        }
    }
    -sum / total
}

/// The BG/NBD likelihood of customers sorted by frequency (its gamma and beta terms are
/// computed once per distinct frequency of a chunk).
pub struct BgNbdLikelihood<'a> {
    pub customers: &'a [(Summary, f64)],
    pub total: f64,
}

impl Objective for BgNbdLikelihood<'_> {
    fn evaluate(&self, params: &[f64], gradient: Option<&mut [f64]>) -> f64 {
        let model = BgNbd::from_slice(params);
        let with_gradient = gradient.is_some();
        let sums = chunked_sum(self.customers, |chunk| {
            let mut last = f64::NAN;
            let mut terms = (0.0, [0.0; 4]);
            let mut sum = (0.0, [0.0; 4]);
            for (c, w) in chunk {
                if c.frequency != last {
                    last = c.frequency;
                    terms = if with_gradient {
                        model.frequency_terms_gradient(c.frequency)
                    } else {
                        (model.frequency_terms(c.frequency), [0.0; 4])
                    };
                }
                if with_gradient {
                    let one =
                        model.log_likelihood_gradient_with(terms, c.frequency, c.recency, c.t);
                    add_weighted(&mut sum, *w, one);
                } else {
                    sum.0 += w * model.log_likelihood_with(terms.0, c.frequency, c.recency, c.t);
                }
            }
            sum
        });
        mean_negative(sums, self.total, gradient)
    }
}

/// The Pareto/NBD likelihood. Its hypergeometric terms have no gradient here: the fit is by
/// the simplex (L-BFGS on a gradient by central differences was tried: on the 84,777
/// customers of a 100,000-customer workspace it had not finished after five minutes).
pub struct ParetoNbdLikelihood<'a> {
    pub customers: &'a [(Summary, f64)],
    pub total: f64,
}

impl Objective for ParetoNbdLikelihood<'_> {
    fn evaluate(&self, params: &[f64], _: Option<&mut [f64]>) -> f64 {
        let model = ParetoNbd::from_slice(params);
        let (sum, _) = chunked_sum::<_, 0>(self.customers, |chunk| {
            let sum = chunk
                .iter()
                .map(|(c, w)| w * model.log_likelihood(c.frequency, c.recency, c.t))
                .sum();
            (sum, [])
        });
        -sum / self.total
    }

    fn has_gradient(&self) -> bool {
        false
    }
}

/// The Gamma-Gamma likelihood of the repeat buyers, as (repeat purchases, mean value, weight).
pub struct SpendLikelihood<'a> {
    pub customers: &'a [(f64, f64, f64)],
    pub total: f64,
}

impl Objective for SpendLikelihood<'_> {
    fn evaluate(&self, params: &[f64], gradient: Option<&mut [f64]>) -> f64 {
        let model = GammaGamma::from_slice(params);
        let with_gradient = gradient.is_some();
        let sums = chunked_sum(self.customers, |chunk| {
            let mut sum = (0.0, [0.0; 3]);
            for &(x, m, w) in chunk {
                if with_gradient {
                    add_weighted(&mut sum, w, model.log_likelihood_gradient(x, m));
                } else {
                    sum.0 += w * model.log_likelihood(x, m);
                }
            }
            sum
        });
        mean_negative(sums, self.total, gradient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient of `objective` at `params` against central differences.
    fn check_gradient(objective: &impl Objective, params: &[f64]) {
        let mut analytic = vec![0.0; params.len()];
        objective.evaluate(params, Some(&mut analytic));
        for i in 0..params.len() {
            let h = 1e-6 * params[i];
            let mut at = params.to_vec();
            at[i] += h;
            let up = objective.evaluate(&at, None);
            at[i] -= 2.0 * h;
            let down = objective.evaluate(&at, None);
            let numeric = (up - down) / (2.0 * h);
            assert!(
                (analytic[i] - numeric).abs() < 1e-6 * numeric.abs().max(1e-3),
                "parameter {i}: analytic {} vs numeric {numeric}",
                analytic[i]
            );
        }
    }

    fn customers() -> Vec<(Summary, f64)> {
        let mut out = Vec::new();
        for x in 0..12 {
            for k in 0..40 {
                let t = 10.0 + f64::from(k) * 1.7;
                let recency = if x == 0 {
                    0.0
                } else {
                    t * f64::from((k * 7 + x) % 10) / 10.0
                };
                let summary = Summary {
                    frequency: f64::from(x),
                    recency,
                    t,
                    monetary_value: (x > 0).then(|| 5.0 + f64::from(k % 9) * 3.1),
                };
                out.push((summary, f64::from(1 + k % 3)));
            }
        }
        out
    }

    #[test]
    fn analytic_gradients_match_differences() {
        let customers = customers();
        let total = customers.iter().map(|(_, w)| w).sum();
        let bg = BgNbdLikelihood {
            customers: &customers,
            total,
        };
        check_gradient(&bg, &[0.8, 12.0, 0.7, 2.3]);
        check_gradient(&bg, &[2.5, 40.0, 1.9, 0.4]);
        let repeat: Vec<(f64, f64, f64)> = customers
            .iter()
            .filter_map(|(c, w)| c.monetary_value.map(|m| (c.frequency, m, *w)))
            .collect();
        let spend = SpendLikelihood {
            customers: &repeat,
            total: repeat.iter().map(|(_, _, w)| w).sum(),
        };
        check_gradient(&spend, &[6.0, 3.7, 15.0]);
        check_gradient(&spend, &[1.2, 0.8, 40.0]);
    }

    #[test]
    fn sums_do_not_depend_on_the_threads() {
        // More customers than one chunk, so the sum is split.
        let customers: Vec<(Summary, f64)> = customers().into_iter().cycle().take(20_000).collect();
        let bg = BgNbdLikelihood {
            customers: &customers,
            total: 20_000.0,
        };
        let params = [0.8, 12.0, 0.7, 2.3];
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            pool.install(|| {
                let mut g = vec![0.0; 4];
                (bg.evaluate(&params, Some(&mut g)), g)
            })
        };
        assert_eq!(on(1), on(3));
    }
}
