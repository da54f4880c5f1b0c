//! The places among the concurrent queries (a fair line to wait in for one) and the runtime
//! queries are planned and run on, apart from the gRPC threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

use super::query::AbortOnDrop;
use crate::sql_limits::PLANNING_STACK;

/// Counters for the health action.
#[derive(Default)]
pub struct Counters {
    /// Queries started.
    pub queries: AtomicU64,
    /// Queries refused because no place came free within the queue timeout.
    pub refused: AtomicU64,
    /// Planned queries dropped because their client did not fetch them in time.
    pub expired: AtomicU64,
    /// Queries waiting in line for a place now.
    pub waiting: AtomicU64,
}

/// `max` places; a query holds one from planning until its result is read.
pub struct Places {
    permits: Arc<Semaphore>,
    max: usize,
    queue_timeout: Duration,
}

impl Places {
    /// `max` places, waited for at most `queue_timeout`.
    pub fn new(max: usize, queue_timeout: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
            queue_timeout,
        }
    }

    /// Places taken now.
    pub fn in_use(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// A place: at once when one is free, else after waiting in line (first come, first
    /// served) for at most the queue timeout.
    pub async fn take(&self, counters: &Counters) -> Result<OwnedSemaphorePermit, Status> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        counters.waiting.fetch_add(1, Ordering::Relaxed);
        let waited = tokio::time::timeout(
            self.queue_timeout,
            Arc::clone(&self.permits).acquire_owned(),
        )
        .await;
        counters.waiting.fetch_sub(1, Ordering::Relaxed);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                counters.refused.fetch_add(1, Ordering::Relaxed);
                Err(Status::resource_exhausted(format!(
                    "{} queries are planned or running, the most this server allows ([server] \
                     max_concurrent_queries), and none finished within {} s ([server] \
                     queue_timeout_secs); retry later",
                    self.max,
                    self.queue_timeout.as_secs()
                )))
            }
        }
    }
}

/// The runtime queries are planned and executed on, apart from the one serving gRPC (a
/// CPU-bound plan must not delay deadlines, cancels or other clients' calls); its threads
/// have the planning stack. Shut down without blocking.
pub struct QueryRuntime(Option<tokio::runtime::Runtime>);

impl QueryRuntime {
    /// A runtime of `threads` worker threads.
    pub fn start(threads: usize) -> Result<Self, Status> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("c360-query")
            .thread_stack_size(PLANNING_STACK)
            .enable_all()
            .build()
            .map(|runtime| Self(Some(runtime)))
            .map_err(|e| Status::internal(format!("starting the query runtime: {e}")))
    }

    /// Where tasks are spawned.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.0
            .as_ref()
            .map(|r| r.handle())
            .expect("the query runtime lives as long as the server")
    }

    /// Run `work` here within `limit` (the caller only waits); past it the work is dropped
    /// and the error names `what` ran too long and the `[server]` setting that limits it.
    pub async fn run<T: Send + 'static>(
        &self,
        limit: Duration,
        (what, setting): (&str, &str),
        work: impl Future<Output = Result<T, Status>> + Send + 'static,
    ) -> Result<T, Status> {
        let mut task = AbortOnDrop(self.handle().spawn(work));
        match tokio::time::timeout(limit, &mut task.0).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(Status::internal(format!("{what} stopped: {e}"))),
            Err(_) => Err(Status::deadline_exceeded(format!(
                "{what} took more than {} s ([server] {setting}); simplify it or ask an \
                 administrator to raise the limit",
                limit.as_secs()
            ))),
        }
    }
}

impl Drop for QueryRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
