//! `c360 generate`: a deterministic pet-supply shop with a subscription, simulated person by
//! person into each source system's own shape (CRM contacts as CSV, shop accounts, orders,
//! subscriptions, e-mail and web events and offer history as Parquet, helpdesk tickets as CSV,
//! NPS answers as JSON lines, the offer catalogue as CSV) with the ground truth in `truth/`.
//!
//! People are cut into chunks that are simulated in parallel, each streaming to its own part
//! files, so memory stays flat whatever the size and a seed always gives the same files.
//! `next_day` adds the day after the last one generated (new records and events of the same
//! people, and a few new people) for testing and timing incremental runs.

pub mod census;
pub mod names;
pub mod person;
pub mod sim;
pub mod table;
pub mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{C360Error, Result};
use person::{CUTOFF, DAY, OFFERS, START};
use table::{FileKind, Kind, Table};
use tables::{Tables, Target};

/// People per chunk (and per part file).
pub const CHUNK: u64 = 25_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Number of people.
    pub customers: u64,
    /// Random seed.
    pub seed: u64,
    /// Output folder.
    pub out: PathBuf,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct GenerateStats {
    /// Rows per table.
    pub rows: BTreeMap<&'static str, u64>,
    /// Seconds taken.
    pub seconds: f64,
    /// 0 for the history up to the cut-off, N for the N-th day after it.
    pub day: u32,
}

impl GenerateStats {
    /// Rows over all tables.
    pub fn total_rows(&self) -> u64 {
        self.rows.values().sum()
    }

    /// A readable summary.
    pub fn render(&self, out: &Path) -> String {
        let mut text = format!(
            "generated {} rows in {:.2}s ({:.0} rows/s) into {}\n",
            self.total_rows(),
            self.seconds,
            self.total_rows() as f64 / self.seconds.max(1e-9),
            out.display()
        );
        for (table, rows) in &self.rows {
            text.push_str(&format!("  {table:24} {rows:>12}\n"));
        }
        if self.day == 0 {
            text.push_str(
                "cut-off: 2025-07-01 (sources end there; truth/ holds what happens after; \
                 `c360 generate --next-day --out DIR` adds the day after)",
            );
        } else {
            let day = CUTOFF + i64::from(self.day - 1) * DAY;
            text.push_str(&format!(
                "day {} after the cut-off: the new records and events of {} (files day-{:04}-*; \
                 a few sessions arrive up to two days late)",
                self.day,
                date(day),
                self.day
            ));
        }
        text
    }
}

/// What made a folder, kept in its `generate.json` so that `--next-day` continues the same
/// people with the same seed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Stamp {
    customers: u64,
    seed: u64,
    /// Days after the cut-off generated so far.
    days: u32,
}

const STAMP: &str = "generate.json";

/// The most days after the cut-off `--next-day` generates (a year).
pub const MAX_DAYS: u32 = 365;

/// Generate the sample data set: the history up to the cut-off. Day files of an earlier
/// generation in the folder are removed (they continued other people).
pub fn generate(options: &GenerateOptions) -> Result<GenerateStats> {
    let started = Instant::now();
    if options.customers == 0 {
        return Err(C360Error::Generate(
            "--customers must be at least 1".to_string(),
        ));
    }
    let out = &options.out;
    std::fs::create_dir_all(out)
        .map_err(|e| C360Error::io(format!("creating {}", out.display()), e))?;
    remove_day_files(out)?;
    let campaigns = campaign_names();
    let chunks = options.customers.div_ceil(CHUNK) as usize;
    let mut rows = in_parallel(chunks, |chunk| {
        let stem = format!("part-{chunk:05}");
        let mut tables = Tables::create(Target::Files(out, &stem), CUTOFF)?;
        let (first, last) = chunk_people(chunk, options.customers);
        sim::simulate_chunk(&mut tables, first, last, options.seed, &campaigns)?;
        tables.close()
    })?;
    rows.insert("offers", write_offer_catalog(out)?);
    write_stamp(
        out,
        Stamp {
            customers: options.customers,
            seed: options.seed,
            days: 0,
        },
    )?;
    Ok(GenerateStats {
        rows,
        seconds: started.elapsed().as_secs_f64(),
        day: 0,
    })
}

/// Add the next day after the cut-off to a folder made by [`generate`]: the same people go on
/// (orders, e-mails, web sessions, tickets, survey answers, some of them late) and a few new
/// people sign up (CRM contacts, shop accounts), written as `day-NNNN-part-*` files beside the
/// history, with their truth. Deterministic for the folder's seed: day N is the same files
/// whether days 1..N-1 were generated one by one or not.
pub fn next_day(out: &Path) -> Result<GenerateStats> {
    let started = Instant::now();
    let mut stamp = read_stamp(out)?;
    if stamp.days >= MAX_DAYS {
        return Err(C360Error::Generate(format!(
            "{} already holds {MAX_DAYS} days after the cut-off, the most --next-day adds; \
             generate the folder again to start over",
            out.display()
        )));
    }
    let day = stamp.days + 1;
    let campaigns = campaign_names();
    let chunks = stamp.customers.div_ceil(CHUNK) as usize;
    let per_day = sign_ups_per_day(stamp.customers);
    let until = |k: u32| CUTOFF + i64::from(k) * DAY;
    // One task per chunk of people, and one more for the people who signed up after the cut-off.
    let rows = in_parallel(chunks + 1, |chunk| {
        let stem = format!("day-{day:04}-part-{chunk:05}");
        let mut tables = Tables::create(Target::Files(out, &stem), until(day))?;
        let mut people = if chunk < chunks {
            let mut history = Tables::create(Target::Discard, CUTOFF)?;
            let (first, last) = chunk_people(chunk, stamp.customers);
            sim::simulate_chunk(&mut history, first, last, stamp.seed, &campaigns)?
        } else {
            Vec::new()
        };
        for k in 1..=day {
            let mut scratch;
            let sink = if k == day {
                &mut tables
            } else {
                scratch = Tables::create(Target::Discard, until(k))?;
                &mut scratch
            };
            if chunk == chunks {
                let first = stamp.customers + u64::from(k - 1) * per_day;
                people.extend(sim::sign_up_day(sink, first, per_day, stamp.seed, k)?);
            }
            for person in &mut people {
                sim::simulate_day(sink, person, stamp.seed, k, &campaigns)?;
            }
        }
        tables.close()
    })?;
    stamp.days = day;
    write_stamp(out, stamp)?;
    Ok(GenerateStats {
        rows,
        seconds: started.elapsed().as_secs_f64(),
        day,
    })
}

/// People `first..last` of chunk `chunk`.
fn chunk_people(chunk: usize, customers: u64) -> (u64, u64) {
    let first = chunk as u64 * CHUNK;
    (first, (first + CHUNK).min(customers))
}

/// New sign-ups a day after the cut-off: the history's rate (its people signed up evenly over
/// its days), at least one.
fn sign_ups_per_day(customers: u64) -> u64 {
    let days = ((CUTOFF - START) / DAY) as u64;
    (customers / days).max(1)
}

/// Run `task` for `0..tasks` on every core; the rows written per table, summed.
fn in_parallel(
    tasks: usize,
    task: impl Fn(usize) -> Result<sim::Counts> + Sync,
) -> Result<BTreeMap<&'static str, u64>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(tasks);
    let next = AtomicUsize::new(0);
    let totals: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());
    let failure: Mutex<Option<C360Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= tasks || failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    match task(i) {
                        Ok(counts) => {
                            if let Ok(mut totals) = totals.lock() {
                                for (table, rows) in counts {
                                    *totals.entry(table).or_default() += rows;
                                }
                            }
                        }
                        Err(e) => {
                            if let Ok(mut failure) = failure.lock() {
                                failure.get_or_insert(e);
                            }
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(totals.into_inner().unwrap_or_default())
}

fn write_stamp(out: &Path, stamp: Stamp) -> Result<()> {
    let path = out.join(STAMP);
    let text = serde_json::to_string_pretty(&stamp)
        .map_err(|e| C360Error::Generate(format!("{}: {e}", path.display())))?;
    std::fs::write(&path, text + "\n")
        .map_err(|e| C360Error::io(format!("writing {}", path.display()), e))
}

fn read_stamp(out: &Path) -> Result<Stamp> {
    let path = out.join(STAMP);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        C360Error::Generate(format!(
            "cannot read {} ({e}): --next-day continues a folder made by \
             `c360 generate --customers N --out {}`",
            path.display(),
            out.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        C360Error::Generate(format!("{} is not a generator stamp: {e}", path.display()))
    })
}

/// Remove the `day-*` part files under `out` (left by `--next-day` on an earlier generation).
fn remove_day_files(out: &Path) -> Result<()> {
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| C360Error::io(format!("reading {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.starts_with("day-") && name.contains("-part-") {
                std::fs::remove_file(&path)
                    .map_err(|e| C360Error::io(format!("removing {}", path.display()), e))?;
            }
        }
    }
    Ok(())
}

fn date(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// One newsletter name per week of the history and of the days `--next-day` may add.
fn campaign_names() -> Vec<String> {
    let last = CUTOFF + i64::from(MAX_DAYS) * DAY;
    let weeks = ((last - START) / (7 * DAY) + 1) as usize;
    let themes = [
        "dog-food",
        "cat-care",
        "toys",
        "vitamins",
        "grooming",
        "new-arrivals",
    ];
    (0..weeks)
        .map(|w| {
            format!(
                "{}-{}",
                date(START + w as i64 * 7 * DAY),
                themes[w % themes.len()]
            )
        })
        .collect()
}

fn write_offer_catalog(out: &Path) -> Result<u64> {
    use Kind::{F64, I64, Str};
    let mut table = Table::create(
        &out.join("marketing/offers.csv"),
        FileKind::Csv,
        &[
            ("offer_id", I64),
            ("name", Str),
            ("kind", Str),
            ("category", Str),
            ("discount_pct", F64),
            ("cost", F64),
            ("margin", F64),
        ],
    )?;
    for (id, name, kind, category, discount, cost, margin) in OFFERS {
        table
            .i(Some(*id))
            .s(Some(name))
            .s(Some(kind))
            .s(Some(category))
            .f(Some(*discount))
            .f(Some(*cost))
            .f(Some(*margin))
            .end()?;
    }
    table.close()
}
