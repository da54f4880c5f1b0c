//! The progress line of a statement running over a second, on a terminal: elapsed time, rows
//! read by the scans and bytes read from files, from the running plan's metrics, redrawn on
//! standard error and wiped before the result is printed.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::physical_plan::ExecutionPlan;

/// A running progress line; it stops when dropped (also when the query is cancelled).
pub struct Ticker {
    task: tokio::task::JoinHandle<()>,
    drawn: Arc<std::sync::atomic::AtomicBool>,
}

impl Ticker {
    /// Stop it and wipe the line if it was drawn.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.task.abort();
        if self.drawn.load(std::sync::atomic::Ordering::Relaxed) {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// Start drawing the progress of `plan` (started at `started`) after a second.
pub fn start(plan: Arc<dyn ExecutionPlan>, started: Instant) -> Ticker {
    let drawn = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&drawn);
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        loop {
            let (rows, bytes) = scanned(plan.as_ref());
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r\x1b[2K{:.1} s  {} rows read{}",
                started.elapsed().as_secs_f64(),
                crate::pipeline::run::group_digits(rows as u64),
                if bytes > 0 {
                    format!(", {:.1} MB", bytes as f64 / 1e6)
                } else {
                    String::new()
                }
            );
            let _ = err.flush();
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    Ticker { task, drawn }
}

/// Rows produced by the plan's leaves (its scans) and bytes they read, so far.
fn scanned(plan: &dyn ExecutionPlan) -> (usize, usize) {
    let children = plan.children();
    let metrics = plan.metrics();
    let bytes = metrics
        .as_ref()
        .and_then(|m| m.sum_by_name("bytes_scanned"))
        .map_or(0, |v| v.as_usize());
    if children.is_empty() {
        let rows = metrics.and_then(|m| m.output_rows()).unwrap_or(0);
        return (rows, bytes);
    }
    children.iter().fold((0, bytes), |(r, b), child| {
        let (cr, cb) = scanned(child.as_ref());
        (r + cr, b + cb)
    })
}
