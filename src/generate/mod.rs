//! `c360 generate`: a deterministic pet-supply shop with a subscription, simulated person by
//! person into each source system's own shape (CRM contacts as CSV, shop accounts, orders,
//! subscriptions, e-mail and web events and offer history as Parquet, helpdesk tickets as CSV,
//! NPS answers as JSON lines, the offer catalogue as CSV) with the ground truth in `truth/`.
//!
//! People are cut into chunks that are simulated in parallel, each streaming to its own part
//! files, so memory stays flat whatever the size and a seed always gives the same files.

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

use crate::error::{C360Error, Result};
use person::{CUTOFF, DAY, OFFERS, START};
use table::{FileKind, Kind, Table};

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
        text.push_str("cut-off: 2025-07-01 (sources end there; truth/ holds what happens after)");
        text
    }
}

/// Generate the sample data set.
pub fn generate(options: &GenerateOptions) -> Result<GenerateStats> {
    let started = Instant::now();
    if options.customers == 0 {
        return Err(C360Error::Generate(
            "--customers must be at least 1".to_string(),
        ));
    }
    std::fs::create_dir_all(&options.out)
        .map_err(|e| C360Error::io(format!("creating {}", options.out.display()), e))?;
    let campaigns = campaign_names();
    let chunks = options.customers.div_ceil(CHUNK) as usize;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(chunks);
    let next = AtomicUsize::new(0);
    let totals: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());
    let failure: Mutex<Option<C360Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let chunk = next.fetch_add(1, Ordering::Relaxed);
                    if chunk >= chunks || failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        break;
                    }
                    let first = chunk as u64 * CHUNK;
                    let last = (first + CHUNK).min(options.customers);
                    let result = sim::simulate_chunk(
                        &options.out,
                        chunk,
                        first,
                        last,
                        options.seed,
                        &campaigns,
                    );
                    match result {
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
    let mut rows = totals.into_inner().unwrap_or_default();
    rows.insert("offers", write_offer_catalog(&options.out)?);
    Ok(GenerateStats {
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One newsletter name per week of the history.
fn campaign_names() -> Vec<String> {
    let weeks = ((CUTOFF - START) / (7 * DAY) + 1) as usize;
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
            let date = chrono::DateTime::from_timestamp_micros(START + w as i64 * 7 * DAY)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            format!("{date}-{}", themes[w % themes.len()])
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
