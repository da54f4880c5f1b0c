//! Maximum likelihood for the lifetime-value models: Nelder-Mead (argmin) over the logarithms
//! of the parameters, which keeps them positive, restarted from its best point until a restart
//! no longer improves the fit (a plain simplex can stall on these ridged likelihoods).

use argmin::core::{CostFunction, Error, Executor, State, TerminationReason};
use argmin::solver::neldermead::NelderMead;

/// The result of a fit.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The parameters (not their logarithms).
    pub params: Vec<f64>,
    /// The objective at `params`.
    pub value: f64,
    /// Simplex iterations over all restarts.
    pub iterations: u64,
    /// Whether the last restart met the tolerance before its iteration cap.
    pub converged: bool,
}

const MAX_ITERATIONS: u64 = 4_000;
const MAX_RESTARTS: usize = 8;
const TOLERANCE: f64 = 1e-12;

struct LogSpace<'a, F: Fn(&[f64]) -> f64> {
    objective: &'a F,
}

impl<F: Fn(&[f64]) -> f64> CostFunction for LogSpace<'_, F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Self::Param) -> Result<f64, Error> {
        crate::stop::check("the fit").map_err(|e| Error::msg(e.to_string()))?;
        let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        let value = (self.objective)(&params);
        // Outside the region where the likelihood is defined: a wall the simplex turns from.
        Ok(if value.is_finite() { value } else { f64::MAX })
    }
}

/// Minimise `objective` (a negative mean log-likelihood) over positive parameters from
/// `start`.
pub fn minimise<F: Fn(&[f64]) -> f64>(objective: &F, start: &[f64]) -> Result<Fit, String> {
    let mut point: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let mut best = f64::INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    for _ in 0..MAX_RESTARTS {
        let mut simplex = vec![point.clone()];
        for k in 0..point.len() {
            let mut vertex = point.clone();
            vertex[k] += 0.5;
            simplex.push(vertex);
        }
        let solver = NelderMead::new(simplex)
            .with_sd_tolerance(TOLERANCE)
            .map_err(|e| e.to_string())?;
        let result = Executor::new(LogSpace { objective }, solver)
            .configure(|state| state.max_iters(MAX_ITERATIONS))
            .run()
            .map_err(|e| e.to_string())?;
        let state = result.state();
        iterations += state.get_iter();
        converged = matches!(
            state.get_termination_reason(),
            Some(TerminationReason::SolverConverged)
        );
        let Some(found) = state.get_best_param() else {
            break;
        };
        let value = state.get_best_cost();
        let improved = best - value > TOLERANCE * value.abs().max(1.0);
        point = found.clone();
        best = best.min(value);
        if !improved {
            break;
        }
    }
    if !best.is_finite() || best == f64::MAX {
        return Err("the likelihood is not finite anywhere the search went".to_string());
    }
    Ok(Fit {
        params: point.iter().map(|v| v.exp()).collect(),
        value: best,
        iterations,
        converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_known_minimum() {
        // (ln a − ln 2)² + (b − 0.5)² · 10 has its minimum at a = 2, b = 0.5.
        let objective = |p: &[f64]| (p[0].ln() - 2f64.ln()).powi(2) + 10.0 * (p[1] - 0.5).powi(2);
        let fit = minimise(&objective, &[1.0, 1.0]).expect("fits");
        assert!((fit.params[0] - 2.0).abs() < 1e-5, "{:?}", fit.params);
        assert!((fit.params[1] - 0.5).abs() < 1e-5, "{:?}", fit.params);
        assert!(fit.converged);
    }
}
