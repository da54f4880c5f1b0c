//! `list_models()`: the model files of the workspace with their kind, when and from what they
//! were trained and their headline metrics; a file that cannot be read says why.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::datasource::MemTable;

use crate::models::store::ModelStore;

/// How `list_models` is called.
pub const USAGE: &str = "list_models(): one row per model file of the workspace's models folder \
    with its name, kind, when and on what it was trained, its headline metrics, and why a file \
    that cannot be read is unusable";

/// The table function over `store`.
#[derive(Debug)]
pub struct ListModels {
    pub store: Arc<ModelStore>,
}

impl TableFunctionImpl for ListModels {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!("list_models takes no arguments: {USAGE}");
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, true),
            Field::new("trained_at", DataType::Utf8, true),
            Field::new("trained_on", DataType::Utf8, true),
            Field::new("metrics", DataType::Utf8, true),
            Field::new("file", DataType::Utf8, false),
            Field::new("problem", DataType::Utf8, true),
        ]));
        let listed = self.store.list()?;
        let mut columns: [Vec<Option<String>>; 7] = Default::default();
        for (path, header) in listed {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (name, kind, at, on, metrics, problem) = match header {
                Ok(h) => {
                    let metrics = h
                        .metrics
                        .iter()
                        .map(|(k, v)| format!("{k}={v:.6}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    (
                        if h.name.is_empty() { stem } else { h.name },
                        Some(h.kind),
                        Some(h.trained_at),
                        (!h.trained_on.is_empty()).then_some(h.trained_on),
                        (!metrics.is_empty()).then_some(metrics),
                        None,
                    )
                }
                Err(e) => (stem, None, None, None, None, Some(e)),
            };
            for (column, value) in columns.iter_mut().zip([
                Some(name),
                kind,
                at,
                on,
                metrics,
                Some(self.store.shown(&path).display().to_string()),
                problem,
            ]) {
                column.push(value);
            }
        }
        let arrays = columns
            .into_iter()
            .map(|c| Arc::new(StringArray::from(c)) as _)
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
