//! The workspace's model files: `<models dir>/<name>.json`, each a readable JSON document with
//! a common header (format, version, name, kind, when and from what it was trained, its
//! metrics) around the kind's own parameters. Saved atomically (written aside, renamed into
//! place); read again when the file changes; a missing, corrupt, other-kind or other-version
//! file is an error naming the file and how to retrain.

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use datafusion::common::{DataFusionError, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::Workspace;

/// What the `format` field of a model file says.
pub const FORMAT: &str = "c360 model";
/// The model file version this build reads and writes.
pub const VERSION: u32 = 1;

/// The header every model file starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub name: String,
    /// `clv`, ...
    pub kind: String,
    /// RFC 3339, UTC.
    pub trained_at: String,
    /// The table or query it was trained on.
    pub trained_on: String,
    /// Headline figures of the fit (log-likelihood, AUC, ...), by name.
    pub metrics: Vec<(String, f64)>,
}

#[derive(Serialize, Deserialize)]
struct File<T> {
    #[serde(flatten)]
    header: Header,
    model: T,
}

type Cached = (SystemTime, Arc<dyn Any + Send + Sync>);

/// The model files of a workspace, shared by the SQL functions of a session.
pub struct ModelStore {
    dir: PathBuf,
    /// The folder as the workspace names it (`models`), for messages: clients of a server
    /// never see the server's absolute paths.
    shown: PathBuf,
    /// The workspace's folder: other files (a match model) are shown relative to it.
    root: PathBuf,
    pub(super) cache: Mutex<HashMap<String, Cached>>,
    /// During a pipeline run: where the files the run trains are kept until it publishes.
    staging: Mutex<Option<Staging>>,
}

/// The model files a run saved, apart from the current ones.
struct Staging {
    /// `models/.runs/RUN`.
    dir: PathBuf,
    /// The current paths of the files saved so far, in the order they were saved.
    files: Vec<PathBuf>,
}

impl std::fmt::Debug for ModelStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelStore({})", self.dir.display())
    }
}

fn execution(message: String) -> DataFusionError {
    DataFusionError::Execution(message)
}

impl ModelStore {
    /// The store of `workspace` (its `[pipeline] models` folder).
    pub fn new(workspace: &Workspace) -> Self {
        let models = &workspace.config.pipeline.models;
        Self {
            dir: workspace.root.join(models),
            shown: PathBuf::from(models),
            root: workspace.root.clone(),
            cache: Mutex::new(HashMap::new()),
            staging: Mutex::new(None),
        }
    }

    /// A store over `dir`.
    pub fn in_dir(dir: PathBuf) -> Self {
        Self {
            shown: dir.clone(),
            root: dir.clone(),
            dir,
            cache: Mutex::new(HashMap::new()),
            staging: Mutex::new(None),
        }
    }

    /// `path` (a file of the store) as messages and listings show it: within the folder as
    /// the workspace names it, such as `models/churn.json`; another file of the workspace
    /// relative to its folder.
    pub fn shown(&self, path: &Path) -> PathBuf {
        if let Ok(within) = path.strip_prefix(&self.dir) {
            return self.shown.join(within);
        }
        match path.strip_prefix(&self.root) {
            Ok(within) => within.to_path_buf(),
            Err(_) => path.to_path_buf(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of model `name`; names are letters, digits, `_` and `-`.
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(DataFusionError::Plan(format!(
                "model name '{name}': use letters, digits, '_' and '-' only (it names the file \
                 {}/NAME.json)",
                self.shown.display()
            )));
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Save `model` of `kind` as `name`, returning the file written.
    pub fn save<T: Serialize>(
        &self,
        name: &str,
        kind: &str,
        trained_on: &str,
        metrics: Vec<(String, f64)>,
        model: &T,
    ) -> Result<PathBuf> {
        let path = self.path(name)?;
        self.save_file(&path, name, kind, trained_on, metrics, model)?;
        Ok(path)
    }

    /// Save `model` of `kind`, named `name`, to `path` (a model kept outside the folder, such
    /// as a `[matching.NAME]`'s), written aside and renamed into place; returns its header.
    pub fn save_file<T: Serialize>(
        &self,
        path: &Path,
        name: &str,
        kind: &str,
        trained_on: &str,
        metrics: Vec<(String, f64)>,
        model: &T,
    ) -> Result<Header> {
        let file = File {
            header: Header {
                format: FORMAT.to_string(),
                version: VERSION,
                name: name.to_string(),
                kind: kind.to_string(),
                trained_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                trained_on: trained_on.to_string(),
                metrics,
            },
            model,
        };
        let shown = self.shown(path);
        let io = |e: std::io::Error| execution(format!("saving model {}: {e}", shown.display()));
        let target = self.stage(path);
        let path = target.as_path();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(&file)
            .map_err(|e| execution(format!("encoding model '{name}': {e}")))?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text + "\n").map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)?;
        Ok(file.header)
    }

    /// Model `name` of `kind`, read from its file (again when the file changed). `retrain`
    /// says how to make it, for the error when it is missing or unreadable.
    pub fn load<T>(&self, name: &str, kind: &str, retrain: &str) -> Result<Arc<T>>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        Ok(self.load_file(&self.path(name)?, name, kind, retrain)?.1)
    }

    /// Model `name` of `kind` read from `path` with its header, again when the file changed.
    pub fn load_file<T>(
        &self,
        path: &Path,
        name: &str,
        kind: &str,
        retrain: &str,
    ) -> Result<(Header, Arc<T>)>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let staged = self.current(path);
        let path = staged.as_path();
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(|e| {
                execution(format!(
                    "model '{name}' is not trained: cannot read {} ({e}); {retrain}",
                    self.shown(path).display()
                ))
            })?;
        // Keyed by kind too: asking for another kind must read the file (and refuse it).
        let key = format!("{kind}/{}", path.display());
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, stored)) = cache.get(&key)
            && *at == modified
            && let Some((header, model)) = stored.downcast_ref::<(Header, Arc<T>)>()
        {
            return Ok((header.clone(), Arc::clone(model)));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| execution(format!("model file {}: {e}", self.shown(path).display())))?;
        let (header, model) = parse::<T>(&self.shown(path), &text, kind, retrain)?;
        let model = Arc::new(model);
        let stored: Arc<dyn Any + Send + Sync> = Arc::new((header.clone(), Arc::clone(&model)));
        cache.insert(key, (modified, stored));
        Ok((header, model))
    }

    /// Keep the model files saved from now on apart (under `models/.runs/RUN`) until
    /// [`publish_run`](Self::publish_run): a run that fails leaves the current models as they
    /// were, while its own later models already score with what it trained.
    pub fn begin_run(&self, run: &str) {
        let mut staging = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        *staging = Some(Staging {
            dir: self.dir.join(".runs").join(run),
            files: Vec::new(),
        });
    }

    /// How many files the run has saved so far (to tell which a model's build saved).
    pub fn staged_count(&self) -> usize {
        let staging = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        staging.as_ref().map_or(0, |s| s.files.len())
    }

    /// The files the run saved after the first `from`.
    pub fn staged_since(&self, from: usize) -> Vec<PathBuf> {
        let staging = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        staging
            .as_ref()
            .map(|s| s.files.iter().skip(from).cloned().collect())
            .unwrap_or_default()
    }

    /// Make the run's files `keep` current (each renamed over the current one, atomically),
    /// then forget the run and delete what it saved besides.
    pub fn publish_run(&self, keep: &[PathBuf]) -> Result<()> {
        let dir = {
            let staging = self.staging.lock().unwrap_or_else(|e| e.into_inner());
            staging.as_ref().map(|s| s.dir.clone())
        };
        if let Some(dir) = dir {
            for path in keep {
                let staged = staged_path(&dir, &self.root, path);
                if !staged.exists() {
                    continue;
                }
                let io = |e: std::io::Error| {
                    execution(format!(
                        "publishing model {}: {e}",
                        self.shown(path).display()
                    ))
                };
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                std::fs::rename(&staged, path).map_err(io)?;
            }
        }
        self.end_run();
        Ok(())
    }

    /// Forget the run and delete the files it saved that were not published.
    pub fn end_run(&self) {
        let staging = self
            .staging
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(staging) = staging
            && staging.dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&staging.dir)
        {
            tracing::warn!("removing {}: {e}", self.shown(&staging.dir).display());
        }
    }

    /// Where a file saved now at `path` is written: its staged place during a run.
    fn stage(&self, path: &Path) -> PathBuf {
        let mut staging = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        match staging.as_mut() {
            Some(s) => {
                if !s.files.iter().any(|f| f == path) {
                    s.files.push(path.to_path_buf());
                }
                staged_path(&s.dir, &self.root, path)
            }
            None => path.to_path_buf(),
        }
    }

    /// Whether the model file at `path` exists (as this run sees it: staged files count).
    pub fn exists(&self, path: &Path) -> bool {
        self.current(path).exists()
    }

    /// Where the current model of `path` is read: the run's own when it saved one.
    pub(super) fn current(&self, path: &Path) -> PathBuf {
        let staging = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        match staging.as_ref() {
            Some(s) if s.files.iter().any(|f| f == path) => staged_path(&s.dir, &self.root, path),
            _ => path.to_path_buf(),
        }
    }

    /// The headers of every model file in the folder, by name; files that are not c360
    /// models are listed with the reason in `Err`.
    pub fn list(&self) -> Result<Vec<(PathBuf, std::result::Result<Header, String>)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(execution(format!(
                    "listing models in {}: {e}",
                    self.shown.display()
                )));
            }
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let header = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| header(&text));
            out.push((path, header));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// The staged place under `dir` of the model file `path` (a file of the workspace `root`).
fn staged_path(dir: &Path, root: &Path, path: &Path) -> PathBuf {
    match path.strip_prefix(root) {
        Ok(within) => dir.join(within),
        Err(_) => dir
            .join("outside")
            .join(path.file_name().unwrap_or_default()),
    }
}

/// The header of a model file's text.
fn header(text: &str) -> std::result::Result<Header, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    serde_json::from_value(value).map_err(|e| format!("not a c360 model file ({e})"))
}

/// A model file's text as its header and the model of `kind`; `path` is named in errors and
/// `retrain` says how to make a good one.
pub fn parse<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    kind: &str,
    retrain: &str,
) -> Result<(Header, T)> {
    let shown = path.display();
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        execution(format!(
            "model file {shown} is not valid JSON ({e}); {retrain}"
        ))
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(execution(format!(
            "model file {shown} is not a c360 model (no \"format\": \"{FORMAT}\"); {retrain}"
        )));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version != u64::from(VERSION) {
        return Err(execution(format!(
            "model file {shown} is version {version}; this c360 reads version {VERSION}: {retrain}"
        )));
    }
    let found = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    if found != kind {
        return Err(execution(format!(
            "model file {shown} holds a '{found}' model, not a '{kind}' model"
        )));
    }
    let file: File<T> = serde_json::from_value(value)
        .map_err(|e| execution(format!("model file {shown} is damaged ({e}); {retrain}")))?;
    Ok((file.header, file.model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Toy {
        weight: f64,
    }

    #[test]
    fn saves_loads_and_refuses_bad_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = ModelStore::in_dir(dir.path().join("models"));
        let retrain = "refit it";
        let e = store
            .load::<Toy>("toy", "toy", retrain)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("is not trained") && e.contains("refit it"),
            "{e}"
        );
        store
            .save(
                "toy",
                "toy",
                "t",
                vec![("ll".into(), -1.0)],
                &Toy { weight: 2.0 },
            )
            .expect("saves");
        assert_eq!(
            store
                .load::<Toy>("toy", "toy", retrain)
                .expect("loads")
                .weight,
            2.0
        );
        let e = store
            .load::<Toy>("toy", "churn", retrain)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("holds a 'toy' model, not a 'churn' model"),
            "{e}"
        );
        let path = store.path("toy").expect("a path");
        for (text, want) in [
            ("{not json", "is not valid JSON"),
            ("{\"format\": \"other\"}", "is not a c360 model"),
            (
                "{\"format\": \"c360 model\", \"version\": 9}",
                "is version 9",
            ),
            (
                "{\"format\": \"c360 model\", \"version\": 1, \"kind\": \"toy\"}",
                "is damaged",
            ),
        ] {
            std::fs::write(&path, text).expect("writes");
            // A new store, so the cache of the good file is not what answers.
            let fresh = ModelStore::in_dir(dir.path().join("models"));
            let e = fresh
                .load::<Toy>("toy", "toy", retrain)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want) && e.contains("toy.json"), "{text}: {e}");
        }
        assert!(store.path("../etc").is_err());
        let listed = store.list().expect("lists");
        assert_eq!(listed.len(), 1);
    }
}
