//! Stopping long work when its query is cancelled or runs out of time.
//!
//! DataFusion stops a query by dropping its streams, which ends work only where it yields; a
//! kernel in the middle of a batch, a constant being folded while planning or a model being
//! trained runs to its end. So each query carries a [`Stop`] in its session's configuration
//! (a DataFusion config extension, which is what scalar functions and the planner see): the
//! server cancels it when the query is cancelled, times out or its client goes. At the edge
//! of long synchronous work (a scalar function's batch, a training job) the work enters the
//! query's stop with [`Stop::enter`]; its loops call [`check`], which fails once the query
//! was stopped, so the core is free within one step of the loop.

use std::any::Any;
use std::cell::RefCell;

use datafusion::common::config::{ConfigEntry, ConfigExtension, ConfigOptions, ExtensionOptions};
use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use tokio_util::sync::CancellationToken;

/// The stop of one query; clones share it. The default one never stops.
#[derive(Clone, Debug, Default)]
pub struct Stop(CancellationToken);

impl Stop {
    /// The stop that `token` cancels.
    pub fn new(token: CancellationToken) -> Self {
        Self(token)
    }

    /// The stop of the query whose configuration is `options` (one that never stops outside
    /// a server query).
    pub fn of(options: &ConfigOptions) -> Self {
        options
            .extensions
            .get::<Self>()
            .cloned()
            .unwrap_or_default()
    }

    /// Whether the query was stopped.
    pub fn is_stopped(&self) -> bool {
        self.0.is_cancelled()
    }

    /// The stop of the query `ctx` runs.
    pub fn of_session(ctx: &SessionContext) -> Self {
        Self::of(ctx.state_ref().read().config_options())
    }

    /// Run synchronous work (a fit, a training) on a blocking thread, off the async ones,
    /// with this stop entered there; `what` names it if the thread fails.
    pub async fn blocking<T: Send + 'static>(
        self,
        what: &str,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(move || {
            let _entered = self.enter();
            work()
        })
        .await
        .map_err(|e| DataFusionError::Execution(format!("{what} stopped: {e}")))?
    }

    /// Make this the stop that [`check`] consults on this thread until the guard drops.
    pub fn enter(&self) -> Entered {
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        Entered { previous }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Stop>> = const { RefCell::new(None) };
}

/// While alive, [`check`] on this thread consults the entered stop.
pub struct Entered {
    previous: Option<Stop>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Fail when the query this thread works for was stopped; `what` names the work, e.g.
/// `damerau_levenshtein` or `training 'churn'`.
pub fn check(what: &str) -> Result<()> {
    let stopped = CURRENT.with(|c| c.borrow().as_ref().is_some_and(Stop::is_stopped));
    if stopped {
        Err(DataFusionError::Execution(format!(
            "{what}: stopped because its query was cancelled or ran out of time"
        )))
    } else {
        Ok(())
    }
}

impl ConfigExtension for Stop {
    const PREFIX: &'static str = "c360_stop";
}

impl ExtensionOptions for Stop {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    /// The same stop: a query's configuration is cloned on its way to the functions, and
    /// every clone must see the cancel.
    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, _value: &str) -> Result<()> {
        Err(DataFusionError::Configuration(format!(
            "c360_stop.{key} cannot be set: it is how the server stops a query"
        )))
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_fails_only_inside_a_stopped_query() {
        assert!(check("work").is_ok());
        let token = CancellationToken::new();
        let mut options = ConfigOptions::new();
        options.extensions.insert(Stop::new(token.clone()));
        let stop = Stop::of(&options);
        {
            let _entered = stop.enter();
            assert!(check("work").is_ok());
            token.cancel();
            let message = check("damerau_levenshtein").unwrap_err().to_string();
            assert!(
                message.contains("damerau_levenshtein: stopped"),
                "{message}"
            );
        }
        assert!(check("work").is_ok(), "the stop ends with its guard");
        assert!(!Stop::of(&ConfigOptions::new()).is_stopped());
    }
}
