//! `c360 run`: build the models in dependency order, check their assertions, publish.
//!
//! Every model is written to a new version folder and registered under its name for the models
//! downstream of it. A model that fails (planning, execution or an assertion) has its new
//! folder removed; its dependents are skipped, its independent siblings go on. At the end the
//! manifest is switched once for all models that succeeded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::dataframe::DataFrameWriteOptions;

use super::assertions;
use super::incremental;
use super::models::{self, Model};
use super::progress::Progress;
use super::publish::{self, Incremental, Output, PublishedModel};
use crate::Engine;
use crate::config::{ModelConfig, ModelKind};
use crate::error::{C360Error, Result, strip_context};
use crate::functions;
use crate::memory::{self, PeakPool, human};
use crate::models::matching::Matching;
use crate::models::store::ModelStore;
use crate::text::md5_hex;
use crate::values::quote_literal;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only these models (their upstream models must have been published); empty means all.
    pub select: Vec<String>,
    /// Publish nothing unless every model succeeds (scheduled runs in `c360 serve`): a
    /// failed run then leaves every published output as it was.
    pub all_or_nothing: bool,
    /// Where the run reports each model's start and end (the terminal's live line).
    pub progress: Option<Arc<dyn Progress>>,
    /// Rebuild incremental models whole instead of only their new rows.
    pub full_refresh: bool,
}

/// A model built into the run's version folder.
#[derive(Debug, Clone, Default)]
struct Built {
    rows: u64,
    /// What it was built from (see [`digests`]; set by the run once it is built).
    digest: String,
    /// The model files it saved, under the model folder (set by the run likewise).
    model_files: Vec<String>,
    /// An append model's segments and ledger.
    incremental: Option<Incremental>,
}

/// How one model ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Built, checked and published.
    Ok {
        /// Rows written.
        rows: u64,
    },
    /// Failed; the last good output stays published.
    Failed {
        /// Why, naming the file or assertion.
        error: String,
    },
    /// Not run because a model it reads failed or was skipped.
    Skipped {
        /// The upstream model that failed.
        because: String,
    },
    /// Not rebuilt: its published output is younger than its `[models.NAME] every` and
    /// nothing it is built from changed.
    Kept {
        /// When the kept output was published (RFC 3339).
        published_at: String,
        /// Its `every`, as configured.
        every: String,
    },
}

/// One model's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Model name.
    pub model: String,
    /// How it ended.
    pub status: Status,
    /// Seconds spent on it.
    pub seconds: f64,
    /// The most the query memory pool held while it built (bytes).
    pub peak_pool: usize,
    /// The process's peak resident memory while it built (bytes; Linux only).
    pub peak_resident: Option<u64>,
    /// With `[engine] cluster`: how many of its queries ran on the cluster (0: all here).
    pub cluster_jobs: Option<usize>,
}

impl Outcome {
    /// Its peak memory as the summary shows it: `pool 1.2 GiB  rss 2.0 GiB`.
    fn memory(&self) -> String {
        let pool = format!("pool {:>9}", human(self.peak_pool as u64));
        match self.peak_resident {
            Some(rss) => format!("{pool}  rss {:>9}", human(rss)),
            None => pool,
        }
    }

    /// Where it ran, as the summary shows it after its memory (only for a cluster client).
    fn place(&self) -> String {
        match self.cluster_jobs {
            None => String::new(),
            Some(0) => "  ran here".to_string(),
            Some(1) => "  ran on the cluster (1 job)".to_string(),
            Some(jobs) => format!("  ran on the cluster ({jobs} jobs)"),
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Outcomes in run order.
    pub outcomes: Vec<Outcome>,
    /// Output location.
    pub output: String,
    /// Version folder written by this run.
    pub version: String,
    /// Total seconds.
    pub seconds: f64,
}

impl RunSummary {
    /// Number of failed models.
    pub fn failed(&self) -> usize {
        self.count(|s| matches!(s, Status::Failed { .. }))
    }

    /// Number of skipped models.
    pub fn skipped(&self) -> usize {
        self.count(|s| matches!(s, Status::Skipped { .. }))
    }

    /// Number of models kept for their `every`.
    pub fn kept(&self) -> usize {
        self.count(|s| matches!(s, Status::Kept { .. }))
    }

    fn count(&self, pred: impl Fn(&Status) -> bool) -> usize {
        self.outcomes.iter().filter(|o| pred(&o.status)).count()
    }

    /// The status of a model, if it was part of the run.
    pub fn status(&self, model: &str) -> Option<&Status> {
        self.outcomes
            .iter()
            .find(|o| o.model == model)
            .map(|o| &o.status)
    }

    /// A readable, aligned summary.
    pub fn render(&self) -> String {
        let width = self
            .outcomes
            .iter()
            .map(|o| o.model.len())
            .max()
            .unwrap_or(5);
        let ok = self.outcomes.len() - self.failed() - self.skipped() - self.kept();
        let kept = match self.kept() {
            0 => String::new(),
            n => format!("{n} kept, "),
        };
        let mut text = format!(
            "c360 run: {} models in {:.2}s: {ok} ok, {kept}{} failed, {} skipped\n",
            self.outcomes.len(),
            self.seconds,
            self.failed(),
            self.skipped()
        );
        for o in &self.outcomes {
            let line = match &o.status {
                Status::Ok { rows } => format!(
                    "  ok       {:width$}  {:>12} rows  {:>7.2}s  {}{}",
                    o.model,
                    group_digits(*rows),
                    o.seconds,
                    o.memory(),
                    o.place()
                ),
                Status::Failed { error } => {
                    format!("  FAILED   {:width$}  {error}", o.model)
                }
                Status::Skipped { because } => format!(
                    "  skipped  {:width$}  reads '{because}', which did not build",
                    o.model
                ),
                Status::Kept {
                    published_at,
                    every,
                } => format!(
                    "  kept     {:width$}  built {published_at}, rebuilt every {every} \
                     (--select it to rebuild it now)",
                    o.model
                ),
            };
            let _ = writeln!(text, "{line}");
        }
        let _ = write!(
            text,
            "output: {} (failed models keep their last good version)",
            self.output
        );
        text
    }
}

/// `n` with a comma between groups of three digits (1,234,567).
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Run the workspace's models.
pub async fn run(engine: &Engine, options: &RunOptions) -> Result<RunSummary> {
    let started = Instant::now();
    let workspace = &engine.workspace;
    let ctx = &engine.ctx;
    let discovered = models::discover(
        ctx,
        &workspace.root,
        &workspace.sql_dir(),
        &workspace.config.matching,
        &workspace.config.engine.sql_limits(),
    )?;
    let known: BTreeSet<String> = engine
        .sources
        .keys()
        .chain(engine.broken.keys())
        .cloned()
        .collect();
    let ordered = models::order(&discovered, &known)?;
    let names: BTreeSet<&str> = ordered.iter().map(|m| m.name.as_str()).collect();
    for model in workspace.config.assertions.keys() {
        if !names.contains(model.as_str()) {
            return Err(C360Error::Pipeline(format!(
                "c360.toml [assertions.{model}]: there is no model '{model}' in {}",
                workspace.config.pipeline.sql_dir
            )));
        }
    }
    let selected = select(&ordered, &options.select, &engine.published)?;
    let output = Output::open(ctx, workspace)?;
    let published = output.read_manifest().await?;
    let version = new_version();
    let digests = digests(&ordered, &workspace.config.models);
    tracing::info!(models = selected.len(), %version, "run started");
    // Model files trained by the run become current only when the model that trained them
    // is published; until then they are kept apart (and dropped with the guard otherwise).
    let store = StagedModels::begin(functions::model_store(ctx), &version);
    let mut trained: BTreeMap<String, Vec<std::path::PathBuf>> = BTreeMap::new();

    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut built: BTreeMap<String, Built> = BTreeMap::new();
    let mut not_built: BTreeSet<String> = BTreeSet::new();
    let progress = options.progress.as_deref();
    if let Some(p) = progress {
        p.started(selected.len());
    }
    let peaks = PeakPool::of(ctx);
    // Which models their `every` keeps, decided before anything is built: a partial model is
    // rebuilt whole when a scheduled model downstream of it is not kept.
    let mut keeping: BTreeMap<String, Status> = selected
        .iter()
        .filter_map(|model| {
            kept(
                model,
                engine.workspace.config.models.get(&model.name),
                published.models.get(&model.name),
                &digests[&model.name],
                &options.select,
                &store,
            )
            .map(|status| (model.name.clone(), status))
        })
        .collect();
    let due_below = scheduled_due_downstream(&selected, &workspace.config.models, &keeping);
    for model in &selected {
        let model_started = Instant::now();
        let jobs_before = crate::cluster::jobs(&engine.ctx);
        if let Some(p) = progress {
            p.model_started(&model.name);
        }
        if let Some(peaks) = &peaks {
            peaks.mark();
        }
        memory::mark_resident_peak();
        let blocked = model.references.iter().find(|r| not_built.contains(*r));
        let kept = keeping.remove(&model.name);
        let status = match (kept, blocked) {
            (Some(kept), _) => kept,
            (None, Some(upstream)) => Status::Skipped {
                because: upstream.clone(),
            },
            (None, None) => match (
                store.mark(),
                build(
                    engine,
                    &output,
                    model,
                    &version,
                    published.models.get(&model.name),
                    options.full_refresh,
                    due_below.contains(&model.name),
                )
                .await,
            ) {
                (mark, Ok(mut done)) => {
                    let saved = store.since(mark);
                    done.digest = digests[&model.name].clone();
                    done.model_files = store.relative(&saved);
                    trained.insert(model.name.clone(), saved);
                    let rows = done.rows;
                    built.insert(model.name.clone(), done);
                    Status::Ok { rows }
                }
                (_, Err(error)) => {
                    output.delete_version(&model.name, &version).await.ok();
                    Status::Failed { error }
                }
            },
        };
        match &status {
            Status::Ok { rows } => {
                tracing::info!(model = %model.name, rows, "model built");
            }
            Status::Failed { error } => {
                tracing::warn!(model = %model.name, %error, "model failed");
                not_built.insert(model.name.clone());
            }
            Status::Skipped { .. } => {
                not_built.insert(model.name.clone());
            }
            Status::Kept { .. } => {
                tracing::info!(model = %model.name, "model kept (its every has not passed)");
            }
        }
        if let Some(p) = progress {
            p.model_ended(&model.name, &status);
        }
        outcomes.push(Outcome {
            model: model.name.clone(),
            status,
            seconds: model_started.elapsed().as_secs_f64(),
            peak_pool: peaks.as_ref().map_or(0, |p| p.peak()),
            peak_resident: memory::resident_peak(),
            cluster_jobs: jobs_before
                .map(|before| crate::cluster::jobs(&engine.ctx).unwrap_or(before) - before),
        });
    }

    if let Some(p) = progress {
        p.finished();
    }
    let incomplete = outcomes
        .iter()
        .any(|o| !matches!(o.status, Status::Ok { .. }));
    if options.all_or_nothing && incomplete {
        for model in built.keys() {
            output.delete_version(model, &version).await.ok();
        }
        built.clear();
    }
    if !built.is_empty() {
        publish_versions(
            &output,
            &built,
            &version,
            workspace.config.pipeline.keep_versions,
        )
        .await?;
    }
    let keep: Vec<std::path::PathBuf> = built
        .keys()
        .filter_map(|name| trained.get(name))
        .flatten()
        .cloned()
        .collect();
    store.publish(&keep)?;
    Ok(RunSummary {
        outcomes,
        output: output.location.clone(),
        version,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Each model's digest of what it is built from: its SQL, its `[models.NAME]` settings and
/// the digests of the models it reads (so a change anywhere upstream changes it). `ordered`
/// lists upstream models first.
fn digests(
    ordered: &[Model],
    settings: &BTreeMap<String, ModelConfig>,
) -> BTreeMap<String, String> {
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    for model in ordered {
        let mut text = format!("{}\0{:?}", model.sql, settings.get(&model.name));
        for reference in &model.references {
            if let Some(upstream) = digests.get(reference) {
                text.push_str(&format!("\0{reference}={upstream}"));
            }
        }
        digests.insert(model.name.clone(), md5_hex(text.as_bytes()));
    }
    digests
}

/// The models downstream of which (directly or through others) a model with an `every` is
/// rebuilt by this run, that is, not kept.
fn scheduled_due_downstream(
    selected: &[Model],
    settings: &BTreeMap<String, ModelConfig>,
    keeping: &BTreeMap<String, Status>,
) -> BTreeSet<String> {
    // A model "feeds" a due one when it is one or a model reading it feeds one; readers come
    // after what they read, so one pass from the end decides every model.
    let mut feeds: BTreeSet<&str> = BTreeSet::new();
    let mut below: BTreeSet<String> = BTreeSet::new();
    for (i, model) in selected.iter().enumerate().rev() {
        let name = model.name.as_str();
        let reader_feeds = selected[i + 1..]
            .iter()
            .any(|r| r.references.iter().any(|x| x == name) && feeds.contains(r.name.as_str()));
        if reader_feeds {
            below.insert(model.name.clone());
        }
        let due =
            settings.get(name).is_some_and(|s| s.every.is_some()) && !keeping.contains_key(name);
        if due || reader_feeds {
            feeds.insert(name);
        }
    }
    below
}

/// `Kept` when `model` has an `every`, a published output younger than it, built from what
/// it would be built from now (`digest`), the model files it saved still in the model folder,
/// and is not named in `--select`.
fn kept(
    model: &Model,
    settings: Option<&ModelConfig>,
    published: Option<&PublishedModel>,
    digest: &str,
    select: &[String],
    store: &StagedModels,
) -> Option<Status> {
    let settings = settings?;
    let every = settings.every()?;
    let published = published?;
    if published.digest.as_deref() != Some(digest)
        || select.contains(&model.name)
        || !store.all_present(&published.model_files)
    {
        return None;
    }
    let at = chrono::DateTime::parse_from_rfc3339(&published.published_at).ok()?;
    // Due a twenty-fourth early, so that a weekly model is rebuilt by every seventh nightly
    // run, whether it starts a little earlier than the run that built it or took longer.
    let due = every - every / 24;
    (chrono::Utc::now().signed_duration_since(at) < due).then(|| Status::Kept {
        published_at: at.format("%Y-%m-%d %H:%M UTC").to_string(),
        every: settings.every.clone().unwrap_or_default(),
    })
}

/// The models to run, in order; with a selection, check that what they read exists. A
/// selection names models, or folders of `sql_dir` ending in `/` (`staging/`, `predictions/`),
/// which select every model under them.
fn select(ordered: &[Model], select: &[String], published: &[String]) -> Result<Vec<Model>> {
    if select.is_empty() {
        return Ok(ordered.to_vec());
    }
    let all: BTreeSet<&str> = ordered.iter().map(|m| m.name.as_str()).collect();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for item in select {
        if let Some(folder) = item.strip_suffix('/') {
            let folder = folder.trim_matches('/');
            let under: Vec<&str> = ordered
                .iter()
                .filter(|m| m.folder == folder || m.folder.starts_with(&format!("{folder}/")))
                .map(|m| m.name.as_str())
                .collect();
            if under.is_empty() {
                let mut folders: BTreeSet<String> = BTreeSet::new();
                for m in ordered.iter().filter(|m| !m.folder.is_empty()) {
                    folders.insert(format!("{}/", m.folder));
                }
                return Err(C360Error::Pipeline(format!(
                    "--select {item}: no model is in that folder; the folders are: {}",
                    folders.into_iter().collect::<Vec<_>>().join(", ")
                )));
            }
            names.extend(under);
        } else if all.contains(item.as_str()) {
            names.insert(item);
        } else {
            return Err(C360Error::Pipeline(format!(
                "--select {item}: no such model; the models are: {}",
                all.iter().copied().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let chosen: Vec<Model> = ordered
        .iter()
        .filter(|m| names.contains(m.name.as_str()))
        .cloned()
        .collect();
    for model in &chosen {
        for reference in &model.references {
            let is_model = all.contains(reference.as_str());
            if is_model && !names.contains(reference.as_str()) && !published.contains(reference) {
                return Err(C360Error::Pipeline(format!(
                    "--select {}: it reads model '{reference}', which has never been \
                     published; select it too or run all models",
                    model.name
                )));
            }
        }
    }
    Ok(chosen)
}

/// A sortable, unique version folder name for this run.
fn new_version() -> String {
    let now = chrono::Utc::now();
    format!(
        "v{}-{:04x}",
        now.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id() & 0xffff
    )
}

/// Build one model into its new version folder and check it; the error is user-facing.
async fn build(
    engine: &Engine,
    output: &Output,
    model: &Model,
    version: &str,
    previous: Option<&PublishedModel>,
    full_refresh: bool,
    downstream_due: bool,
) -> std::result::Result<Built, String> {
    let settings = engine.workspace.config.models.get(&model.name);
    let options = settings.map(|s| &s.options).filter(|o| !o.is_empty());
    let earlier = match options {
        Some(options) => Some(set_options(&engine.ctx, options).map_err(|e| {
            format!(
                "{}: c360.toml [models.{}] options: {e}",
                model.file.display(),
                model.name
            )
        })?),
        None => None,
    };
    let built = async {
        let ctx = &engine.ctx;
        let where_ = format!("{}", model.file.display());
        engine
            .check_sources(model.references.iter().map(String::as_str))
            .map_err(|e| format!("{where_}: {e}"))?;
        train_missing_match_models(engine, model)
            .await
            .map_err(|e| format!("{where_}: {e}"))?;
        let what = format!("model {}", model.name);
        let written = crate::cluster::retry::on_lost_connection(
            ctx,
            &what,
            || async {
                let incremental = settings
                    .filter(|s| s.kind != ModelKind::Full)
                    .map(|settings| incremental::Build {
                        engine,
                        output,
                        model,
                        version,
                        settings,
                        previous,
                        full_refresh,
                        downstream_due,
                    });
                match incremental {
                    Some(build) => build.write().await.map(|inc| Built {
                        rows: inc.segments.iter().map(|s| s.rows).sum(),
                        incremental: Some(inc),
                        ..Built::default()
                    }),
                    None => {
                        let frame = ctx.sql(&model.sql).await?;
                        write_frame(output, &model.name, version, frame)
                            .await
                            .map(|rows| Built {
                                rows,
                                ..Built::default()
                            })
                    }
                }
            },
            || async {
                output
                    .delete_version(&model.name, version)
                    .await
                    .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))
            },
        )
        .await;
        let done = match written {
            Ok(done) => done,
            Err(e) => {
                let mut message = format!("{where_}: {}", strip_context(&e));
                let sources = model.references.iter().map(String::as_str);
                if let Some(diagnosis) = engine.diagnose_sources(sources).await {
                    message = format!("{message}\n    cause: {diagnosis}");
                }
                return Err(message);
            }
        };
        publish::register_model(ctx, output, &model.name, version, done.incremental.as_ref())
            .await
            .map_err(|e| format!("{where_}: cannot read back the new output: {e}"))?;
        if let Some(checks) = engine.workspace.config.assertions.get(&model.name) {
            assertions::check(ctx, &model.name, checks)
                .await
                .map_err(|e| format!("{where_}: {e}"))?;
        }
        Ok::<Built, String>(done)
    }
    .await;
    if let Some(earlier) = earlier
        && let Err(e) = set_options(&engine.ctx, &earlier)
    {
        tracing::warn!(model = %model.name, "cannot restore the session settings: {e}");
    }
    built
}

/// Set session settings; returns the values they had (to set back).
fn set_options(
    ctx: &datafusion::prelude::SessionContext,
    options: &BTreeMap<String, String>,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let state = ctx.state_ref();
    let mut state = state.write();
    let entries = state.config().options().entries();
    let mut earlier = BTreeMap::new();
    for (key, value) in options {
        let old = entries
            .iter()
            .find(|e| &e.key == key)
            .and_then(|e| e.value.clone());
        state
            .config_mut()
            .options_mut()
            .set(key, value)
            .map_err(|e| {
                format!(
                    "'{key}' = '{value}': {}; see SHOW ALL for the settings",
                    strip_context(&e)
                )
            })?;
        if let Some(old) = old {
            earlier.insert(key.clone(), old);
        }
    }
    Ok(earlier)
}

/// Train the match model of each `[matching.NAME]` setup `model` uses that is not trained
/// yet or was trained with other comparisons, as `c360 train NAME` would: a new workspace runs
/// end to end from one command. The file is the run's until the model using it publishes.
async fn train_missing_match_models(
    engine: &Engine,
    model: &Model,
) -> datafusion::error::Result<()> {
    let Some(store) = functions::model_store(&engine.ctx) else {
        return Ok(());
    };
    let matching = Matching::new(&engine.workspace, &store);
    for setup in &model.matches_with {
        let Some(why) = matching.why_train(setup)? else {
            continue;
        };
        tracing::info!(setup = %setup, "training the match model: {why}");
        let started = Instant::now();
        let sql = format!("SELECT * FROM train_match_model({})", quote_literal(setup));
        engine.ctx.sql(&sql).await?.collect().await.map_err(|e| {
            e.context(format!(
                "training the match model of [matching.{setup}] ({why})"
            ))
        })?;
        tracing::info!(
            setup = %setup,
            seconds = started.elapsed().as_secs_f64(),
            "match model trained"
        );
    }
    Ok(())
}

/// Write a frame's rows into a model's version folder (beside any already there); a folder
/// left without a file gets an empty one of the frame's schema. Returns the rows written.
pub(super) async fn write_frame(
    output: &Output,
    name: &str,
    version: &str,
    df: datafusion::dataframe::DataFrame,
) -> datafusion::error::Result<u64> {
    let schema = df.schema().inner().clone();
    let result = df
        .write_parquet(
            &output.version_url(name, version),
            DataFrameWriteOptions::new(),
            None,
        )
        .await?;
    let rows = result
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
        .flat_map(|a| (0..a.len()).map(move |i| a.value(i)))
        .sum();
    let files = output
        .count_files(name, version)
        .await
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
    if files == 0 {
        output
            .write_empty(name, version, schema)
            .await
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
    }
    Ok(rows)
}

/// Switch the manifest to the new versions, then remove versions no reader needs.
/// The run's view of the model store: files saved during the run are staged, and published
/// or dropped at its end (dropped too when the run stops early).
struct StagedModels(Option<Arc<ModelStore>>);

impl StagedModels {
    fn begin(store: Option<Arc<ModelStore>>, version: &str) -> Self {
        if let Some(store) = &store {
            store.begin_run(version);
        }
        Self(store)
    }

    fn mark(&self) -> usize {
        self.0.as_ref().map_or(0, |s| s.staged_count())
    }

    fn since(&self, mark: usize) -> Vec<std::path::PathBuf> {
        self.0
            .as_ref()
            .map(|s| s.staged_since(mark))
            .unwrap_or_default()
    }

    /// `paths` (files the run saved) as paths under the model folder.
    fn relative(&self, paths: &[std::path::PathBuf]) -> Vec<String> {
        let Some(store) = &self.0 else {
            return Vec::new();
        };
        paths
            .iter()
            .map(|p| {
                p.strip_prefix(store.dir())
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect()
    }

    /// Whether every one of `files` (under the model folder) is there.
    fn all_present(&self, files: &[String]) -> bool {
        match &self.0 {
            Some(store) => files.iter().all(|f| store.exists(&store.dir().join(f))),
            None => files.is_empty(),
        }
    }

    fn publish(&self, keep: &[std::path::PathBuf]) -> Result<()> {
        match &self.0 {
            Some(store) => store.publish_run(keep).map_err(C360Error::from),
            None => Ok(()),
        }
    }
}

impl Drop for StagedModels {
    fn drop(&mut self) {
        if let Some(store) = &self.0 {
            store.end_run();
        }
    }
}

async fn publish_versions(
    output: &Output,
    built: &BTreeMap<String, Built>,
    version: &str,
    keep: usize,
) -> Result<()> {
    let mut manifest = output.read_manifest().await?;
    let now = chrono::Utc::now().to_rfc3339();
    for (name, done) in built {
        let mut previous = Vec::new();
        if let Some(old) = manifest.models.get(name) {
            previous.push(old.version.clone());
            previous.extend(old.previous.iter().cloned());
        }
        previous.truncate(keep);
        manifest.models.insert(
            name.clone(),
            PublishedModel {
                version: version.to_string(),
                rows: done.rows,
                published_at: now.clone(),
                previous,
                digest: Some(done.digest.clone()),
                model_files: done.model_files.clone(),
                incremental: done.incremental.clone(),
            },
        );
    }
    output.write_manifest(&manifest).await?;
    for name in built.keys() {
        let Some(entry) = manifest.models.get(name) else {
            continue;
        };
        for old in output.versions(name).await? {
            let wanted = entry.folders().contains(&old) || entry.previous.contains(&old);
            // Versions newer than ours may belong to a run still writing them.
            if !wanted && old.as_str() < version {
                output.delete_version(name, &old).await?;
            }
        }
    }
    Ok(())
}
