//! What a run reports while it goes: [`Progress`] receives each model's start and end;
//! [`TerminalProgress`] draws it as one live line on a terminal (indicatif): models done of
//! the total, the model running, rows written, elapsed time and memory in use (the query
//! memory pool's reservations and the process's resident size). Nothing is drawn when standard
//! error is not a terminal, so logs and CI output stay as they are. Log lines written through
//! [`LogWriter`] appear above the live line instead of through it.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::execution::memory_pool::MemoryPool;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::run::Status;
use crate::memory::{human, resident};

/// Receives a run's progress; every method does nothing unless implemented.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// The run starts `models` models.
    fn started(&self, _models: usize) {}
    /// `model` starts building.
    fn model_started(&self, _model: &str) {}
    /// `model` ended as `status`.
    fn model_ended(&self, _model: &str, _status: &Status) {}
    /// Every model ended (the summary follows).
    fn finished(&self) {}
}

/// The live line showing now, if any: log lines are written above it.
static LIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Standard error for log lines (`tracing`'s writer in the command line): while a live line
/// shows, each line is written above it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let live = LIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match live {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf)),
            None => std::io::stderr().write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn set_live(bar: Option<ProgressBar>) {
    *LIVE.lock().unwrap_or_else(|e| e.into_inner()) = bar;
}

/// The live line of `c360 run` on a terminal.
#[derive(Debug)]
pub struct TerminalProgress {
    bar: ProgressBar,
    rows: Arc<AtomicU64>,
}

impl TerminalProgress {
    /// A live line on standard error, reading memory in use from `pool`; `None` when standard
    /// error is not a terminal.
    pub fn on_stderr(pool: Arc<dyn MemoryPool>) -> Option<Self> {
        std::io::stderr()
            .is_terminal()
            .then(|| Self::new(ProgressDrawTarget::stderr(), pool))
    }

    /// A live line drawn to `target`.
    pub fn new(target: ProgressDrawTarget, pool: Arc<dyn MemoryPool>) -> Self {
        let rows = Arc::new(AtomicU64::new(0));
        let written = Arc::clone(&rows);
        let style = ProgressStyle::with_template(
            "{spinner} {pos}/{len} models  {elapsed_precise}  {rows} rows  memory {memory}  {msg}",
        )
        .expect("a valid progress template")
        .with_key(
            "rows",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(
                    w,
                    "{}",
                    super::run::group_digits(written.load(Ordering::Relaxed))
                );
            },
        )
        .with_key(
            "memory",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{} pool", human(pool.reserved() as u64));
                if let Some(resident) = resident() {
                    let _ = write!(w, ", {} resident", human(resident));
                }
            },
        );
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(style);
        Self { bar, rows }
    }
}

impl Progress for TerminalProgress {
    fn started(&self, models: usize) {
        self.bar.set_length(models as u64);
        self.bar.enable_steady_tick(Duration::from_millis(250));
        set_live(Some(self.bar.clone()));
    }

    fn model_started(&self, model: &str) {
        self.bar.set_message(model.to_string());
    }

    fn model_ended(&self, _model: &str, status: &Status) {
        if let Status::Ok { rows } = status {
            self.rows.fetch_add(*rows, Ordering::Relaxed);
        }
        self.bar.inc(1);
    }

    fn finished(&self) {
        set_live(None);
        self.bar.finish_and_clear();
    }
}
