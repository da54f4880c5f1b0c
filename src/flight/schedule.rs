//! Cron schedules inside `c360 serve`: each `[schedules.NAME]` runs the pipeline (or its
//! selection) on a separate engine; only a run in which every model succeeded is published
//! and swapped in for new queries, so queries already running finish on the data they
//! started with and a failed run changes nothing. Runs are listed in `c360.runs`, schedules
//! with their next time in `c360.schedules` (see `system_tables`).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use croner::Cron;

use crate::config::{ScheduleConfig, parse_cron};

/// The most runs `c360.runs` remembers.
const KEPT_RUNS: usize = 1000;

/// One finished (or running) run.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The schedule's name.
    pub schedule: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (None while running).
    pub finished_at: Option<DateTime<Utc>>,
    /// running, published, failed.
    pub status: String,
    /// Models built.
    pub models_ok: u64,
    /// Models that failed.
    pub models_failed: u64,
    /// Models skipped because an upstream one failed.
    pub models_skipped: u64,
    /// The version folder written.
    pub version: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
}

/// One schedule as shown in `c360.schedules`.
#[derive(Debug, Clone)]
pub struct ScheduleState {
    /// Its name.
    pub name: String,
    /// The cron expression.
    pub cron: String,
    /// The models it runs (empty: all).
    pub select: Vec<String>,
    /// When it fires next.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Runs and schedules, shared by the scheduler and the system tables.
#[derive(Default)]
pub struct RunLog {
    runs: Mutex<Vec<RunRecord>>,
    schedules: Mutex<Vec<ScheduleState>>,
}

impl RunLog {
    /// Record the start of a run; returns its start time, which names it for [`RunLog::finish`].
    pub fn start(&self, schedule: &str) -> DateTime<Utc> {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        if runs.len() >= KEPT_RUNS {
            runs.remove(0);
        }
        let started_at = Utc::now();
        runs.push(RunRecord {
            schedule: schedule.to_string(),
            started_at,
            finished_at: None,
            status: "running".to_string(),
            models_ok: 0,
            models_failed: 0,
            models_skipped: 0,
            version: None,
            error: None,
        });
        started_at
    }

    /// Record how the run of `schedule` that started at `started_at` ended.
    pub fn finish(
        &self,
        schedule: &str,
        started_at: DateTime<Utc>,
        update: impl FnOnce(&mut RunRecord),
    ) {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(run) = runs
            .iter_mut()
            .rev()
            .find(|r| r.schedule == schedule && r.started_at == started_at)
        {
            run.finished_at = Some(Utc::now());
            update(run);
        }
    }

    /// The runs, oldest first.
    pub fn runs(&self) -> Vec<RunRecord> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Set the schedules shown.
    pub fn set_schedules(&self, schedules: Vec<ScheduleState>) {
        *self.schedules.lock().unwrap_or_else(|e| e.into_inner()) = schedules;
    }

    /// Set when a schedule fires next.
    pub fn set_next(&self, name: &str, next: Option<DateTime<Utc>>) {
        let mut schedules = self.schedules.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = schedules.iter_mut().find(|s| s.name == name) {
            s.next_run_at = next;
        }
    }

    /// The schedules with their next time.
    pub fn schedules(&self) -> Vec<ScheduleState> {
        self.schedules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The schedules of the config, parsed.
pub fn parse_all(
    schedules: &std::collections::BTreeMap<String, ScheduleConfig>,
) -> Result<Vec<(String, Cron, ScheduleConfig)>, String> {
    schedules
        .iter()
        .map(|(name, s)| {
            let cron = parse_cron(&s.cron).map_err(|e| format!("[schedules.{name}] cron: {e}"))?;
            Ok((name.clone(), cron, s.clone()))
        })
        .collect()
}

/// The next time a schedule fires after `now`.
pub fn next_after(cron: &Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&now, false).ok()
}
