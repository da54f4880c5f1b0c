//! Running a step again when the cluster lost a connection while it ran (an executor stopped
//! while a result was read from it): the scheduler has already moved that executor's tasks,
//! so the same query succeeds on the executors left.

use std::future::Future;

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use crate::error::{is_lost_connection, strip_context};

/// How many times a step that lost a connection of the cluster runs again before its error
/// is returned.
pub const RETRIES: usize = 2;

/// Run `step`; on a cluster client, when it fails because a connection of the cluster broke
/// (not because the query failed), run `undo` (removing what a partial attempt wrote) and the
/// step again, up to [`RETRIES`] times. `what` names the step in the warning.
pub async fn on_lost_connection<T, S, U>(
    ctx: &SessionContext,
    what: &str,
    step: impl Fn() -> S,
    undo: impl Fn() -> U,
) -> Result<T>
where
    S: Future<Output = Result<T>>,
    U: Future<Output = Result<()>>,
{
    let on_cluster = super::jobs(ctx).is_some();
    let mut retries = 0;
    loop {
        match step().await {
            Err(e) if on_cluster && retries < RETRIES && is_lost_connection(&e) => {
                retries += 1;
                tracing::warn!(
                    "{what}: the cluster lost a connection ({}); running it again ({retries} \
                     of {RETRIES})",
                    strip_context(&e)
                );
                undo().await?;
            }
            done => return done,
        }
    }
}
