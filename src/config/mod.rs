//! Workspace configuration: `c360.toml`, parsed with serde, defaults filled in and validated.
//! This module is the bottom of the crate: it imports nothing of c360 but [`crate::error`]
//! (checked by `config_imports_nothing_above_it`).
//!
//! Unknown keys are errors (every struct is `deny_unknown_fields`), so a typo such as
//! `delimeter` is reported with the file, line and key instead of being silently ignored.

use datafusion::arrow::compute::kernels::cast_utils::parse_interval_month_day_nano;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod matching;
pub mod parse;
pub mod server;

pub use self::matching::MatchingConfig;
pub use self::parse::{is_identifier, parse_bytes, parse_cron, parse_sql_type};
pub use self::server::{ScheduleConfig, ServerConfig};
use crate::error::{C360Error, Result};
use crate::sql_limits::{DEFAULT_MAX_EXPRESSION_DEPTH, DEFAULT_MAX_STATEMENT_BYTES, SqlLimits};

/// The name of the workspace configuration file.
pub const CONFIG_FILE: &str = "c360.toml";

/// A loaded workspace: its root directory and its parsed configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory that relative locations are resolved against (the folder holding `c360.toml`).
    pub root: PathBuf,
    /// The parsed configuration.
    pub config: Config,
}

/// The whole `c360.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Engine settings (memory, parallelism).
    #[serde(default)]
    pub engine: EngineConfig,
    /// Where the SQL models live and where their materialised outputs go.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// Source tables by name.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    /// Assertions checked on a model's new output before it is published, by model name.
    #[serde(default)]
    pub assertions: BTreeMap<String, AssertionConfig>,
    /// Probabilistic record-matching setups by name.
    #[serde(default)]
    pub matching: BTreeMap<String, MatchingConfig>,
    /// The Flight SQL endpoint of `c360 serve`.
    #[serde(default)]
    pub server: ServerConfig,
    /// Cron schedules of the pipeline inside `c360 serve`, by name.
    #[serde(default)]
    pub schedules: BTreeMap<String, ScheduleConfig>,
    /// How each model is built, by model name (default: rebuilt whole on every run).
    #[serde(default)]
    pub models: BTreeMap<String, ModelConfig>,
}

/// `[models.NAME]`: how a model is built.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `full` (the default: rebuilt whole on every run), `append` (each run rebuilds only
    /// the rows whose `event_time` is at or after the latest one published less `lookback`,
    /// and keeps the older rows as they are), `merge` (each run builds only the rows whose
    /// `updated_at` is at or after the latest one published less `lookback`, and they replace
    /// the published rows of the same `unique_key`) or `partial` (each run rebuilds the rows
    /// that match `rebuild` and keeps the others until a model downstream of it that has an
    /// `every` is due).
    #[serde(default)]
    pub kind: ModelKind,
    /// The column of the model's output that says when each row happened (`append`); it must
    /// never be NULL.
    pub event_time: Option<String>,
    /// How late an event or a change may arrive, as a SQL interval (`append`, `merge`;
    /// default `0 seconds`): a run rebuilds the rows of this much time before the latest one
    /// published.
    pub lookback: Option<String>,
    /// The columns that identify a row (`merge`): a new row replaces the published row with
    /// the same values; they must be unique and never NULL.
    pub unique_key: Option<Vec<String>>,
    /// The column of the model's output that says when each row last changed (`merge`); it
    /// must never be NULL.
    pub updated_at: Option<String>,
    /// The rows a `partial` model rebuilds on every run, as a SQL condition over its output
    /// columns (`snapshot = 'score'`); the other rows are what the models downstream of it
    /// train on, rebuilt with them.
    pub rebuild: Option<String>,
    /// The most segments (one folder per run) an append model keeps (default 30): the run
    /// that would make one more rebuilds it whole into one, so reads list few folders however
    /// many nightly runs there were.
    pub max_segments: Option<usize>,
    /// How often the model is rebuilt at most, as a SQL interval such as `7 days` (default:
    /// on every run): a run keeps its published output while it is younger than this and
    /// neither its SQL, its settings nor any model upstream of it changed. For models that
    /// train (a churn model retrained weekly, scored every night); naming the model in
    /// `c360 run --select` rebuilds it anyway.
    pub every: Option<String>,
    /// DataFusion settings for this model only (`"datafusion.optimizer.join_reordering" =
    /// "false"` keeps the join order its SQL gives), as `[engine.options]` sets them for all.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// How a model is built.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Rebuilt whole on every run.
    #[default]
    Full,
    /// Appended to by event time, with a lookback window for late events.
    Append,
    /// Changed rows replace the published ones of the same unique key (an upsert).
    Merge,
    /// The rows that match `rebuild` are rebuilt on every run, the others with the scheduled
    /// models downstream.
    Partial,
}

/// `[engine]`: resources of the query engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Memory pool limit such as `"2GiB"` or `"512MB"`; queries that need more spill or fail.
    #[serde(default)]
    pub memory_limit: Option<String>,
    /// Number of partitions a query is split into; defaults to the number of cores.
    #[serde(default)]
    pub target_partitions: Option<usize>,
    /// Rows per Arrow batch.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// The most bytes of SQL text planned in one call (a query, a shell line, a model file).
    #[serde(default = "default_max_statement_bytes")]
    pub max_statement_bytes: usize,
    /// The deepest nesting of expressions, subqueries and joins a statement may have.
    #[serde(default = "default_max_expression_depth")]
    pub max_expression_depth: usize,
    /// Any DataFusion setting by its full name, e.g.
    /// `"datafusion.execution.parquet.compression" = "snappy"`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// A Ballista scheduler (`df://host:port`) to run queries on; unset runs them embedded.
    /// The global `--cluster` flag (or `C360_CLUSTER`) overrides it.
    #[serde(default)]
    pub cluster: Option<String>,
}

impl EngineConfig {
    /// The limits every statement is checked against before it is planned.
    pub fn sql_limits(&self) -> SqlLimits {
        SqlLimits {
            max_statement_bytes: self.max_statement_bytes,
            max_expression_depth: self.max_expression_depth,
        }
    }
}

fn default_max_statement_bytes() -> usize {
    DEFAULT_MAX_STATEMENT_BYTES
}

fn default_max_expression_depth() -> usize {
    DEFAULT_MAX_EXPRESSION_DEPTH
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            memory_limit: None,
            target_partitions: None,
            batch_size: default_batch_size(),
            max_statement_bytes: default_max_statement_bytes(),
            max_expression_depth: default_max_expression_depth(),
            options: BTreeMap::new(),
            cluster: None,
        }
    }
}

fn default_batch_size() -> usize {
    8192
}

/// `[pipeline]`: the SQL models and their published outputs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Folder of `*.sql` model files (one model per file, the file stem is the table name).
    #[serde(default = "default_sql_dir")]
    pub sql_dir: String,
    /// Where materialised models are published: a local folder or an object-store URL.
    #[serde(default = "default_output")]
    pub output: String,
    /// How many earlier versions of each model to keep after a publish, for readers that
    /// are still scanning them.
    #[serde(default = "default_keep_versions")]
    pub keep_versions: usize,
    /// Folder of the trained model files (`NAME.json`), relative to the workspace.
    #[serde(default = "default_models")]
    pub models: String,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            sql_dir: default_sql_dir(),
            output: default_output(),
            keep_versions: default_keep_versions(),
            models: default_models(),
        }
    }
}

fn default_sql_dir() -> String {
    "sql".to_string()
}

fn default_output() -> String {
    "output".to_string()
}

fn default_models() -> String {
    "models".to_string()
}

fn default_keep_versions() -> usize {
    1
}

/// File format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// Apache Parquet.
    Parquet,
    /// Comma (or otherwise) separated values.
    Csv,
    /// Newline-delimited JSON (one object per line).
    Json,
}

impl SourceFormat {
    /// The usual file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Parquet => ".parquet",
            Self::Csv => ".csv",
            Self::Json => ".json",
        }
    }
}

/// `[sources.NAME]`: one table read from files where they lie.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `parquet`, `csv` or `json`.
    pub format: SourceFormat,
    /// A file, a folder (all its files are one table) or a glob, as a local path relative to
    /// the workspace or a URL (`s3://`, `gs://`, `az://`, `abfs://`, `http(s)://`, `file://`).
    pub location: String,
    /// Only files with this extension are read from a folder; defaults to the format's
    /// extension (`.parquet`, `.csv`, `.json`), plus a compression suffix if one is set.
    #[serde(default)]
    pub file_extension: Option<String>,
    /// Compression of CSV/JSON files: `gzip`, `bzip2`, `xz`, `zstd` or none.
    #[serde(default)]
    pub compression: Option<String>,
    /// CSV options.
    #[serde(default)]
    pub csv: CsvOptions,
    /// Declared column types, in file order; when absent the schema is inferred.
    #[serde(default)]
    pub schema: Option<Vec<ColumnConfig>>,
}

/// `[sources.NAME.csv]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Whether the first line holds column names.
    #[serde(default = "default_true")]
    pub header: bool,
    /// One-character field delimiter.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// One-character quote.
    #[serde(default = "default_quote")]
    pub quote: char,
    /// Text that stands for NULL (a regular expression, as DataFusion takes it).
    #[serde(default)]
    pub null_regex: Option<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            header: true,
            delimiter: ',',
            quote: '"',
            null_regex: None,
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_delimiter() -> char {
    ','
}

fn default_quote() -> char {
    '"'
}

/// One declared column: `{ name = "amount", type = "double" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    /// Column name as it appears in the file.
    pub name: String,
    /// SQL type name (`bigint`, `double`, `varchar`, `boolean`, `date`, `timestamp`, ...).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether NULLs are allowed.
    #[serde(default = "default_true")]
    pub nullable: bool,
}

/// `[assertions.MODEL]`: checks on a model's new output, run before it is published.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionConfig {
    /// Column sets that must be unique (each entry is one column or a comma-separated list).
    #[serde(default)]
    pub unique: Vec<String>,
    /// Columns that must never be NULL.
    #[serde(default)]
    pub not_null: Vec<String>,
    /// Queries that must return no rows; they see the new output under the model's name.
    #[serde(default)]
    pub sql: Vec<String>,
}

impl Workspace {
    /// Load `c360.toml` from `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let file = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&file).map_err(|e| C360Error::Config {
            file: file.clone(),
            message: format!(
                "cannot read it: {e}; run c360 in a workspace folder or pass --workspace DIR"
            ),
        })?;
        let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        Self::from_toml(&root, &file, &text)
    }

    /// Parse and validate configuration text; `file` is only used in error messages.
    pub fn from_toml(root: &Path, file: &Path, text: &str) -> Result<Self> {
        let config: Config = toml::from_str(text).map_err(|e| C360Error::Config {
            file: file.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.validate().map_err(|message| C360Error::Config {
            file: file.to_path_buf(),
            message,
        })?;
        Ok(Self {
            root: root.to_path_buf(),
            config,
        })
    }

    /// A workspace with no configuration file: no sources, default settings.
    pub fn empty(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            config: Config::default(),
        }
    }

    /// The folder of SQL model files.
    pub fn sql_dir(&self) -> PathBuf {
        self.root.join(&self.config.pipeline.sql_dir)
    }
}

impl ModelConfig {
    /// The lookback as SQL interval text.
    pub fn lookback(&self) -> &str {
        self.lookback.as_deref().unwrap_or("0 seconds")
    }

    /// How long a published output is kept before the model is rebuilt, if it is kept at all.
    pub fn every(&self) -> Option<chrono::Duration> {
        let interval = parse_interval_month_day_nano(self.every.as_deref()?).ok()?;
        Some(
            chrono::Duration::days(i64::from(interval.months) * 30 + i64::from(interval.days))
                + chrono::Duration::nanoseconds(interval.nanoseconds),
        )
    }

    /// The most segments an append model keeps.
    pub fn max_segments(&self) -> usize {
        self.max_segments.unwrap_or(30)
    }

    fn validate(&self, model: &str) -> std::result::Result<(), String> {
        let append = self.kind == ModelKind::Append;
        let merge = self.kind == ModelKind::Merge;
        let partial = self.kind == ModelKind::Partial;
        let misplaced = [
            ("rebuild", self.rebuild.is_some() && !partial, "partial"),
            ("event_time", self.event_time.is_some() && !append, "append"),
            (
                "max_segments",
                self.max_segments.is_some() && !append,
                "append",
            ),
            ("unique_key", self.unique_key.is_some() && !merge, "merge"),
            ("updated_at", self.updated_at.is_some() && !merge, "merge"),
            (
                "lookback",
                self.lookback.is_some() && !append && !merge,
                "append\" or kind = \"merge",
            ),
        ];
        if let Some((key, _, kind)) = misplaced.iter().find(|(_, wrong, _)| *wrong) {
            return Err(format!(
                "[models.{model}] {key}: it is for kind = \"{kind}\"; set the kind or remove it"
            ));
        }
        let blank = |c: &Option<String>| c.as_deref().is_none_or(|c| c.trim().is_empty());
        if append && blank(&self.event_time) {
            return Err(format!(
                "[models.{model}] event_time: an append model needs the column that says when \
                 each row happened"
            ));
        }
        if partial && blank(&self.rebuild) {
            return Err(format!(
                "[models.{model}] rebuild: a partial model needs the condition that picks the \
                 rows every run rebuilds, such as rebuild = \"snapshot = 'score'\""
            ));
        }
        if partial && self.every.is_some() {
            return Err(format!(
                "[models.{model}] every: a partial model is rebuilt on every run (the rows of \
                 `rebuild`) and whole when a model downstream of it is due; put the `every` on \
                 the model that trains"
            ));
        }
        if merge && blank(&self.updated_at) {
            return Err(format!(
                "[models.{model}] updated_at: a merge model needs the column that says when \
                 each row last changed"
            ));
        }
        if merge
            && self
                .unique_key
                .as_ref()
                .is_none_or(|k| k.is_empty() || k.iter().any(|c| c.trim().is_empty()))
        {
            return Err(format!(
                "[models.{model}] unique_key: a merge model needs the columns that identify a \
                 row, such as unique_key = [\"contact_id\"]"
            ));
        }
        if self.max_segments == Some(0) {
            return Err(format!(
                "[models.{model}] max_segments: must be at least 1 (1 rebuilds the model whole \
                 on every run)"
            ));
        }
        if let Some(every) = &self.every {
            let interval = parse_interval_month_day_nano(every).map_err(|e| {
                format!(
                    "[models.{model}] every: '{every}' is not an interval such as '7 days' ({e})"
                )
            })?;
            if interval.months < 0
                || interval.days < 0
                || interval.nanoseconds < 0
                || (interval.months, interval.days, interval.nanoseconds) == (0, 0, 0)
            {
                return Err(format!(
                    "[models.{model}] every: '{every}' must be longer than nothing (remove it to \
                     rebuild the model on every run)"
                ));
            }
        }
        if append || merge {
            let interval = parse_interval_month_day_nano(self.lookback()).map_err(|e| {
                format!(
                    "[models.{model}] lookback: '{}' is not an interval such as '3 days' ({e})",
                    self.lookback()
                )
            })?;
            if interval.months < 0 || interval.days < 0 || interval.nanoseconds < 0 {
                return Err(format!(
                    "[models.{model}] lookback: '{}' must not be negative",
                    self.lookback()
                ));
            }
        }
        Ok(())
    }
}

impl Config {
    /// Checks serde cannot express; the message names the key and what is expected.
    fn validate(&self) -> std::result::Result<(), String> {
        if let Some(url) = &self.engine.cluster {
            crate::cluster::scheduler_url(url).map_err(|e| format!("[engine] cluster: {e}"))?;
        }
        for (name, schedule) in &self.schedules {
            parse_cron(&schedule.cron).map_err(|e| format!("[schedules.{name}] cron: {e}"))?;
        }
        for (name, source) in &self.sources {
            if !is_identifier(name) {
                return Err(format!(
                    "[sources.{name}]: the name must be a SQL identifier \
                     (lowercase letters, digits and '_', not starting with a digit)"
                ));
            }
            if source.location.trim().is_empty() {
                return Err(format!("[sources.{name}] location: must not be empty"));
            }
            if let Some(compression) = &source.compression {
                if source.format == SourceFormat::Parquet {
                    return Err(format!(
                        "[sources.{name}] compression: parquet files carry their own \
                         compression; remove this key"
                    ));
                }
                if !matches!(compression.as_str(), "gzip" | "bzip2" | "xz" | "zstd") {
                    return Err(format!(
                        "[sources.{name}] compression: '{compression}' is not supported; \
                         expected gzip, bzip2, xz or zstd"
                    ));
                }
            }
            if let Some(columns) = &source.schema {
                if columns.is_empty() {
                    return Err(format!(
                        "[sources.{name}] schema: must list at least one column or be removed"
                    ));
                }
                for column in columns {
                    parse_sql_type(&column.data_type).map_err(|e| {
                        format!("[sources.{name}] schema column '{}': {e}", column.name)
                    })?;
                }
            }
        }
        for (name, matching) in &self.matching {
            if !is_identifier(name) {
                return Err(format!(
                    "[matching.{name}]: the name must be a SQL identifier \
                     (lowercase letters, digits and '_', not starting with a digit)"
                ));
            }
            matching.validate(name)?;
        }
        for model in self.assertions.keys() {
            if !is_identifier(model) {
                return Err(format!(
                    "[assertions.{model}]: the name must be a model name (a SQL identifier)"
                ));
            }
        }
        for (model, settings) in &self.models {
            if !is_identifier(model) {
                return Err(format!(
                    "[models.{model}]: the name must be a model name (a SQL identifier)"
                ));
            }
            settings.validate(model)?;
        }
        if let Some(limit) = &self.engine.memory_limit {
            parse_bytes(limit).map_err(|e| format!("[engine] memory_limit: {e}"))?;
        }
        if self.engine.max_statement_bytes < 1024 {
            return Err("[engine] max_statement_bytes: must be at least 1024".to_string());
        }
        if !(16..=10_000).contains(&self.engine.max_expression_depth) {
            return Err("[engine] max_expression_depth: must be between 16 and 10000".to_string());
        }
        if self.engine.batch_size == 0 {
            return Err("[engine] batch_size: must be at least 1".to_string());
        }
        if self.engine.target_partitions == Some(0) {
            return Err("[engine] target_partitions: must be at least 1".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Workspace> {
        Workspace::from_toml(Path::new("/ws"), Path::new("/ws/c360.toml"), text)
    }

    #[test]
    fn unknown_key_names_the_key_and_line() {
        let err =
            parse("[sources.orders]\nformat = \"csv\"\nlocation = \"x\"\ndelimeter = \";\"\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("/ws/c360.toml"), "{err}");
        assert!(err.contains("delimeter"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn wrong_format_is_reported() {
        let err = parse("[sources.orders]\nformat = \"xlsx\"\nlocation = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("xlsx") && err.contains("parquet"), "{err}");
    }

    #[test]
    fn defaults_are_filled() {
        let ws = parse("[sources.orders]\nformat = \"csv\"\nlocation = \"data/o.csv\"\n").unwrap();
        let source = &ws.config.sources["orders"];
        assert!(source.csv.header);
        assert_eq!(source.csv.delimiter, ',');
        assert_eq!(ws.config.pipeline.sql_dir, "sql");
    }

    #[test]
    fn bad_memory_limit_and_type_are_reported() {
        let err = parse("[engine]\nmemory_limit = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("memory_limit"), "{err}");
        let err = parse(
            "[sources.o]\nformat = \"csv\"\nlocation = \"x\"\nschema = [{ name = \"a\", type = \"money\" }]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("money") && err.contains("'a'"), "{err}");
    }

    /// The bottom of the crate: `config/`, `error.rs`, `values.rs` and `text.rs` import nothing of c360
    /// above them (config may use error; the others nothing).
    #[test]
    fn config_imports_nothing_above_it() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files: Vec<PathBuf> = std::fs::read_dir(src.join("config"))
            .expect("src/config")
            .map(|entry| entry.expect("entry").path())
            .collect();
        files.extend([
            src.join("error.rs"),
            src.join("values.rs"),
            src.join("text.rs"),
            src.join("sql_limits.rs"),
        ]);
        for path in &files {
            let text = std::fs::read_to_string(path).expect("source");
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or_default();
                for above in [
                    "flight",
                    "matching",
                    "models",
                    "pipeline",
                    "shell",
                    "sources",
                    "functions",
                    "generate",
                    "eval",
                    "Engine",
                ] {
                    assert!(
                        !code.contains(&format!("crate::{above}")),
                        "{}: imports crate::{above}: {line}",
                        path.display()
                    );
                }
            }
        }
        assert!(files.len() >= 7, "read {files:?}");
    }
}
