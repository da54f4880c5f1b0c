//! Maximum likelihood for the lifetime-value models, over the logarithms of the parameters
//! (which keeps them positive): L-BFGS (argmin, Moré-Thuente line search) on the objective's
//! value and gradient, falling back to Nelder-Mead restarted from its best point until a
//! restart no longer improves the fit when the quasi-Newton search cannot finish (a ridge it
//! cannot climb, or a point where the likelihood is not finite).

use std::sync::Mutex;

use argmin::core::{CostFunction, Error, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;

/// A function to minimise over positive parameters: its value at `params`, and its gradient
/// in `params` written to `gradient` when one is given.
pub trait Objective: Sync {
    fn evaluate(&self, params: &[f64], gradient: Option<&mut [f64]>) -> f64;

    /// Whether `evaluate` writes a gradient; an objective without one is fitted by the
    /// simplex alone.
    fn has_gradient(&self) -> bool {
        true
    }
}

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
/// L-BFGS stops when the gradient's norm (in the logarithms of the parameters) is below this,
/// or when a step changes the objective (a mean log-likelihood) by less than
/// `COST_TOLERANCE`, where rounding in the sums keeps the gradient from the first.
const GRADIENT_TOLERANCE: f64 = 1e-9;
const COST_TOLERANCE: f64 = 1e-13;
const MAX_QUASI_NEWTON_ITERATIONS: u64 = 500;

/// A point, the objective's value there and its gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// The objective over the logarithms of its parameters. The line search asks for the value
/// and the gradient at the same points one after the other: both are computed in one pass
/// and the last point's kept.
struct LogSpace<'a, O: Objective> {
    objective: &'a O,
    last: Mutex<Option<Evaluated>>,
}

impl<'a, O: Objective> LogSpace<'a, O> {
    fn new(objective: &'a O) -> Self {
        Self {
            objective,
            last: Mutex::new(None),
        }
    }

    /// The value and the gradient at `log_params`.
    fn at(&self, log_params: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        crate::stop::check("the fit").map_err(|e| Error::msg(e.to_string()))?;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((point, value, gradient)) = last.as_ref()
            && point.as_slice() == log_params
        {
            return Ok((*value, gradient.clone()));
        }
        let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        let mut gradient = vec![0.0; params.len()];
        let value = self.objective.evaluate(&params, Some(&mut gradient));
        // d/d ln θ = θ · d/dθ
        for (g, p) in gradient.iter_mut().zip(&params) {
            *g *= p;
        }
        *last = Some((log_params.to_vec(), value, gradient.clone()));
        Ok((value, gradient))
    }

    /// The value alone, for the simplex.
    fn value(&self, log_params: &[f64]) -> Result<f64, Error> {
        crate::stop::check("the fit").map_err(|e| Error::msg(e.to_string()))?;
        let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        Ok(self.objective.evaluate(&params, None))
    }
}

impl<O: Objective> CostFunction for LogSpace<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Self::Param) -> Result<f64, Error> {
        Ok(self.at(log_params)?.0)
    }
}

impl<O: Objective> Gradient for LogSpace<'_, O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, log_params: &Self::Param) -> Result<Vec<f64>, Error> {
        Ok(self.at(log_params)?.1)
    }
}

/// The simplex's view: values only, and a wall where the likelihood is not defined.
struct Simplex<'a, O: Objective>(LogSpace<'a, O>);

impl<O: Objective> CostFunction for Simplex<'_, O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Self::Param) -> Result<f64, Error> {
        let value = self.0.value(log_params)?;
        Ok(if value.is_finite() { value } else { f64::MAX })
    }
}

/// Minimise `objective` (a negative mean log-likelihood) over positive parameters from
/// `start`: by L-BFGS when the objective has a gradient and the search converges to a finite
/// point, else by the simplex.
pub fn minimise<O: Objective>(objective: &O, start: &[f64]) -> Result<Fit, String> {
    if objective.has_gradient()
        && let Some(fit) = quasi_newton(objective, start)?
    {
        return Ok(fit);
    }
    simplex(objective, start)
}

/// L-BFGS from `start`, or None when it stopped short of a stationary point.
fn quasi_newton<O: Objective>(objective: &O, start: &[f64]) -> Result<Option<Fit>, String> {
    let point: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let problem = LogSpace::new(objective);
    let (value, gradient) = problem.at(&point).map_err(|e| e.to_string())?;
    if !value.is_finite() || gradient.iter().any(|g| !g.is_finite()) {
        return Ok(None);
    }
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(GRADIENT_TOLERANCE)
        .and_then(|s| s.with_tolerance_cost(COST_TOLERANCE))
        .map_err(|e| e.to_string())?;
    let result = match Executor::new(problem, solver)
        .configure(|state| state.param(point).max_iters(MAX_QUASI_NEWTON_ITERATIONS))
        .run()
    {
        Ok(result) => result,
        // A stop asked for by the user ends the fit; anything else (a line search that found
        // no finite point) leaves it to the simplex.
        Err(e) if crate::stop::check("the fit").is_err() => return Err(e.to_string()),
        Err(_) => return Ok(None),
    };
    let state = result.state();
    let converged = matches!(
        state.get_termination_reason(),
        Some(TerminationReason::SolverConverged)
    );
    let (Some(found), value) = (state.get_best_param(), state.get_best_cost()) else {
        return Ok(None);
    };
    if !converged || !value.is_finite() {
        return Ok(None);
    }
    Ok(Some(Fit {
        params: found.iter().map(|v| v.exp()).collect(),
        value,
        iterations: state.get_iter(),
        converged,
    }))
}

/// Nelder-Mead from `start`, restarted from its best point until a restart no longer
/// improves the fit (a plain simplex can stall on these ridged likelihoods).
fn simplex<O: Objective>(objective: &O, start: &[f64]) -> Result<Fit, String> {
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
        let result = Executor::new(Simplex(LogSpace::new(objective)), solver)
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

    /// (ln a − ln 2)² + (b − 0.5)² · 10, minimal at a = 2, b = 0.5.
    struct Bowl;

    impl Objective for Bowl {
        fn evaluate(&self, p: &[f64], gradient: Option<&mut [f64]>) -> f64 {
            if let Some(g) = gradient {
                g[0] = 2.0 * (p[0].ln() - 2f64.ln()) / p[0];
                g[1] = 20.0 * (p[1] - 0.5);
            }
            (p[0].ln() - 2f64.ln()).powi(2) + 10.0 * (p[1] - 0.5).powi(2)
        }
    }

    #[test]
    fn finds_a_known_minimum() {
        for fit in [
            minimise(&Bowl, &[1.0, 1.0]).expect("fits"),
            simplex(&Bowl, &[1.0, 1.0]).expect("fits"),
        ] {
            assert!((fit.params[0] - 2.0).abs() < 1e-5, "{:?}", fit.params);
            assert!((fit.params[1] - 0.5).abs() < 1e-5, "{:?}", fit.params);
            assert!(fit.converged);
        }
        // The quasi-Newton search gets there in a handful of steps.
        assert!(minimise(&Bowl, &[1.0, 1.0]).expect("fits").iterations < 30);
    }

    /// A function not finite at the start: the quasi-Newton search gives way to the simplex.
    struct Walled;

    impl Objective for Walled {
        fn evaluate(&self, p: &[f64], gradient: Option<&mut [f64]>) -> f64 {
            if let Some(g) = gradient {
                g[0] = 2.0 * (p[0] - 3.0);
            }
            if p[0] < 1.5 {
                return f64::NAN;
            }
            (p[0] - 3.0).powi(2)
        }
    }

    #[test]
    fn falls_back_to_the_simplex() {
        let fit = minimise(&Walled, &[1.0]).expect("fits");
        assert!((fit.params[0] - 3.0).abs() < 1e-5, "{:?}", fit.params);
    }
}
