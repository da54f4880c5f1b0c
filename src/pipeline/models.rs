//! The models of a workspace: one `*.sql` file per model anywhere under `sql_dir` (layer
//! folders such as `staging/` or `predictions/churn/`), the file stem is the table name.
//! Each file is parsed with DataFusion's parser; its table references (CTEs excluded) give the
//! dependency graph (a matching function such as `match_pairs('identity')` reads the records
//! table of its `[matching.NAME]`), which is checked for unknown tables, self references and cycles before
//! anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use datafusion::execution::context::SessionContext;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

use crate::config::MatchingConfig;
use crate::config::is_identifier;
use crate::error::{C360Error, Result, strip_context};
use crate::functions::registry::{self, Names};
use crate::pipeline::references::{first_string_arguments, matching_setups, string_arguments};
use crate::sql_limits::SqlLimits;

/// One SQL model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Table name (the file stem).
    pub name: String,
    /// The folder under `sql_dir` the file is in, with `/` between parts (`""` at the top).
    pub folder: String,
    /// The file, relative to the workspace when possible.
    pub file: PathBuf,
    /// The SQL text.
    pub sql: String,
    /// Names of the tables it reads (models or sources), sorted, without duplicates.
    pub references: Vec<String>,
    /// Names of the model files it fits (`fit_clv_model('clv', ...)`).
    pub fits: Vec<String>,
    /// Names of the model files it scores with (`p_alive('clv', ...)`): it runs after the
    /// model that fits them, when one does.
    pub scores_with: Vec<String>,
    /// The `[matching.NAME]` setups it uses (`match_pairs('identity')`): the run trains a
    /// setup's match model before it when the model is missing or its comparisons changed.
    pub matches_with: Vec<String>,
}

/// Read and parse every model under `sql_dir` (its subfolders too), sorted by path. Two files
/// with one stem are an error naming both.
pub fn discover(
    ctx: &SessionContext,
    root: &Path,
    sql_dir: &Path,
    matching: &BTreeMap<String, MatchingConfig>,
    limits: &SqlLimits,
) -> Result<Vec<Model>> {
    let mut files = Vec::new();
    collect_sql_files(sql_dir, &mut files)?;
    files.sort();
    let mut seen: BTreeMap<String, &PathBuf> = BTreeMap::new();
    for path in &files {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if let Some(stem) = stem
            && let Some(first) = seen.insert(stem.clone(), path)
        {
            let shown = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
            return Err(C360Error::Pipeline(format!(
                "two model files are called '{stem}': {} and {}; a model's name is its file \
                 name, so rename one of them",
                shown(first),
                shown(path)
            )));
        }
    }
    files
        .iter()
        .map(|path| {
            let mut model = parse_model(ctx, root, path, matching, limits)?;
            model.folder = folder_of(sql_dir, path);
            Ok(model)
        })
        .collect()
}

/// The `.sql` files under `dir`, recursively; folders whose name starts with `.` are skipped.
fn collect_sql_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(C360Error::io(format!("reading {}", dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| C360Error::io(format!("reading {}", dir.display()), e))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() {
            if !hidden {
                collect_sql_files(&path, files)?;
            }
        } else if path.extension().is_some_and(|ext| ext == "sql") {
            files.push(path);
        }
    }
    Ok(())
}

/// The folder of `path` under `sql_dir`, parts joined by `/`.
fn folder_of(sql_dir: &Path, path: &Path) -> String {
    path.parent()
        .and_then(|parent| parent.strip_prefix(sql_dir).ok())
        .map(|folder| {
            folder
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

fn parse_model(
    ctx: &SessionContext,
    root: &Path,
    path: &Path,
    matching: &BTreeMap<String, MatchingConfig>,
    limits: &SqlLimits,
) -> Result<Model> {
    let shown = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let err = |message: String| C360Error::Pipeline(format!("{}: {message}", shown.display()));
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if !is_identifier(&name) {
        return Err(err(format!(
            "'{name}' is not a valid model name; name the file after the table it builds \
             (lowercase letters, digits and '_')"
        )));
    }
    let reading = |e| C360Error::io(format!("reading {}", shown.display()), e);
    // A file larger than any statement c360 plans is refused before it is read whole.
    let bytes = std::fs::metadata(path).map_err(reading)?.len();
    if bytes > limits.max_statement_bytes as u64 {
        return Err(err(format!(
            "the file is {bytes} bytes, more than the {} bytes of SQL c360 plans in one go \
             ([engine] max_statement_bytes); a model is one query",
            limits.max_statement_bytes
        )));
    }
    let sql = std::fs::read_to_string(path).map_err(reading)?;
    let mut statements = limits.parse(&sql).map_err(|e| err(e.to_string()))?;
    if statements.len() != 1 {
        return Err(err(format!(
            "a model file holds exactly one query, found {} statements",
            statements.len()
        )));
    }
    let Some(statement) = statements.pop_front() else {
        return Err(err("the file is empty; write one SELECT query".to_string()));
    };
    if !matches!(&statement, Statement::Statement(s) if matches!(**s, SqlStatement::Query(_))) {
        return Err(err(
            "a model must be a query (SELECT or WITH ... SELECT), not DDL or DML".to_string(),
        ));
    }
    let state = ctx.state();
    let table_functions = state.table_functions();
    let mut references = state
        .resolve_table_references(&statement)
        .map_err(|e| err(strip_context(&e)))?
        .into_iter()
        .map(|r| r.table().to_string())
        .filter(|name| !table_functions.contains_key(name))
        .collect::<BTreeSet<_>>();
    let mut fits = BTreeSet::new();
    let mut scores_with = BTreeSet::new();
    let mut matches_with = BTreeSet::new();
    if let Statement::Statement(query) = &statement {
        for used in matching_setups(query.as_ref()) {
            let config = matching.get(&used).ok_or_else(|| {
                err(format!(
                    "uses [matching.{used}], which c360.toml does not configure"
                ))
            })?;
            references.insert(config.records.clone());
            matches_with.insert(used);
        }
        // Table functions that read a table named by one of their arguments.
        for entry in registry::ENTRIES {
            for index in entry.reads {
                references.extend(string_arguments(query.as_ref(), &[entry.name], *index));
            }
        }
        fits.extend(first_string_arguments(
            query.as_ref(),
            &registry::first_argument_names(Names::FittedModel),
        ));
        scores_with.extend(first_string_arguments(
            query.as_ref(),
            &registry::first_argument_names(Names::ScoredModel),
        ));
    }
    Ok(Model {
        name,
        folder: String::new(),
        file: shown,
        sql,
        references: references.into_iter().collect(),
        fits: fits.into_iter().collect(),
        scores_with: scores_with.into_iter().collect(),
        matches_with: matches_with.into_iter().collect(),
    })
}

/// Check references and order the models so that each comes after the models it reads.
/// `known_tables` are the tables available besides the models (sources, system tables).
pub fn order(models: &[Model], known_tables: &BTreeSet<String>) -> Result<Vec<Model>> {
    let by_name: BTreeMap<&str, &Model> = models.iter().map(|m| (m.name.as_str(), m)).collect();
    for model in models {
        if known_tables.contains(&model.name) {
            return Err(C360Error::Pipeline(format!(
                "{}: model '{}' has the name of a source; rename the file",
                model.file.display(),
                model.name
            )));
        }
        for reference in &model.references {
            if reference == &model.name {
                return Err(C360Error::Pipeline(format!(
                    "{}: model '{}' references itself; a model cannot read its own output \
                     (read the source or an upstream model instead)",
                    model.file.display(),
                    model.name
                )));
            }
            if !by_name.contains_key(reference.as_str()) && !known_tables.contains(reference) {
                return Err(C360Error::Pipeline(format!(
                    "{}: model '{}' references unknown table '{reference}'; it is neither a \
                     source in c360.toml nor a model in the SQL folder",
                    model.file.display(),
                    model.name
                )));
            }
        }
    }
    // Who fits each model file, so that scoring runs after fitting.
    let fitted_by: BTreeMap<&str, &str> = models
        .iter()
        .flat_map(|m| m.fits.iter().map(move |f| (f.as_str(), m.name.as_str())))
        .collect();
    // Kahn's algorithm; ties broken by name so the order is stable.
    let mut remaining: BTreeMap<&str, BTreeSet<&str>> = models
        .iter()
        .map(|m| {
            let deps = m
                .references
                .iter()
                .map(String::as_str)
                .filter(|r| by_name.contains_key(r))
                .chain(
                    m.scores_with
                        .iter()
                        .filter_map(|f| fitted_by.get(f.as_str()).copied())
                        .filter(|fitter| *fitter != m.name),
                )
                .collect();
            (m.name.as_str(), deps)
        })
        .collect();
    let mut ordered = Vec::with_capacity(models.len());
    while !remaining.is_empty() {
        let ready: Vec<&str> = remaining
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(name, _)| *name)
            .collect();
        if ready.is_empty() {
            return Err(C360Error::Pipeline(format!(
                "the models form a cycle: {}; break it by removing one of these references",
                find_cycle(&remaining).join(" -> ")
            )));
        }
        for name in ready {
            remaining.remove(name);
            for deps in remaining.values_mut() {
                deps.remove(name);
            }
            ordered.push(by_name[name].clone());
        }
    }
    Ok(ordered)
}

/// A cycle among models that all still have unmet dependencies.
fn find_cycle(remaining: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<String> {
    let Some(start) = remaining.keys().next() else {
        return Vec::new();
    };
    let mut path = vec![*start];
    let mut current = *start;
    loop {
        let Some(next) = remaining[current].iter().next().copied() else {
            return path.iter().map(|s| s.to_string()).collect();
        };
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            cycle.push(next.to_string());
            return cycle;
        }
        path.push(next);
        current = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, refs: &[&str]) -> Model {
        Model {
            name: name.to_string(),
            folder: String::new(),
            file: PathBuf::from(format!("sql/{name}.sql")),
            sql: String::new(),
            references: refs.iter().map(|s| s.to_string()).collect(),
            fits: Vec::new(),
            scores_with: Vec::new(),
            matches_with: Vec::new(),
        }
    }

    fn known() -> BTreeSet<String> {
        ["orders".to_string()].into_iter().collect()
    }

    #[test]
    fn orders_by_dependency() {
        let models = [
            model("c", &["b"]),
            model("b", &["a"]),
            model("a", &["orders"]),
        ];
        let names: Vec<_> = order(&models, &known())
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn cycle_is_named() {
        let models = [model("a", &["b"]), model("b", &["a"])];
        let err = order(&models, &known()).unwrap_err().to_string();
        assert!(err.contains("cycle: a -> b -> a"), "{err}");
    }

    #[test]
    fn unknown_and_self_references() {
        let err = order(&[model("a", &["nope"])], &known())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown table 'nope'") && err.contains("sql/a.sql"),
            "{err}"
        );
        let err = order(&[model("a", &["a"])], &known())
            .unwrap_err()
            .to_string();
        assert!(err.contains("references itself"), "{err}");
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;

    #[test]
    fn table_functions_name_the_tables_they_read_and_the_models_they_fit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("churn_model.sql");
        std::fs::write(
            &path,
            "SELECT * FROM train_classifier('churn',\n  'churn_training', 'churned', 'customer_id', 'churn_holdout')",
        )
        .expect("writes");
        let ctx = SessionContext::new();
        let model = parse_model(
            &ctx,
            dir.path(),
            &path,
            &BTreeMap::new(),
            &SqlLimits::default(),
        )
        .expect("parses");
        assert_eq!(
            model.references,
            ["churn_holdout", "churn_training", "train_classifier"]
        );
        assert_eq!(model.fits, ["churn"]);
        std::fs::write(&path, "SELECT p_alive('clv', 1, 1, 2) AS p FROM fit_report")
            .expect("writes");
        let model = parse_model(
            &ctx,
            dir.path(),
            &path,
            &BTreeMap::new(),
            &SqlLimits::default(),
        )
        .expect("parses");
        assert_eq!(model.references, ["fit_report"]);
        // (A session without the c360 table functions counts the call itself as a table.)
        assert_eq!(model.scores_with, ["clv"]);
    }
}
