//! `decision_tree_rules(table, label, key [, max_depth])`: one shallow decision tree (linfa-trees,
//! Gini) over the same kind of table `train_classifier` reads, printed as the rules of its
//! leaves with how many rows each holds and their rate of the label, highest rate first: the
//! explanation a person can read in one glance, beside the more accurate boosted model.
//!
//! Numbers and booleans are used as they are, a missing value replaced by the column's median
//! (trees in linfa take no missing values); strings with at most 20 levels become one 0/1
//! column per level (`plan = 'premium'`), longer ones are left out.

use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::prelude::SessionContext;
use linfa::prelude::*;
use linfa_trees::{DecisionTree, TreeNode};
use ndarray::{Array1, Array2};

use crate::functions::deferred::DeferredTable;
use crate::models::classifier::{FeatureKind, levels};
use crate::models::training::rows::{Labelled, check_labels, features_of, read_labelled};
use crate::values::quote_literal;
use crate::values::{integer, text};

const NAME: &str = "decision_tree_rules";
pub const USAGE: &str = "decision_tree_rules(table, label, key [, max_depth]) with the table, its \
    boolean label and key columns as strings and the depth (1 to 8, default 3), such as \
    decision_tree_rules('churn_training', 'churned', 'customer_id', 3)";

/// Most levels a string feature may have to be spread into 0/1 columns.
const MAX_ONE_HOT: usize = 20;

/// The table function.
#[derive(Debug)]
pub struct DecisionTreeRules;

#[derive(Debug, Clone)]
struct Spec {
    table: String,
    label: String,
    key: String,
    depth: usize,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("rule", DataType::Utf8, false),
        Field::new("rows", DataType::Int64, false),
        Field::new("label_rate", DataType::Float64, false),
        Field::new("prediction", DataType::Boolean, false),
    ]))
}

impl TableFunctionImpl for DecisionTreeRules {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(3..=4).contains(&exprs.len()) {
            return plan_err!("{NAME} takes three or four arguments: {USAGE}");
        }
        let (Some(table), Some(label), Some(key)) =
            (text(&exprs[0]), text(&exprs[1]), text(&exprs[2]))
        else {
            return plan_err!("{NAME}: {USAGE}");
        };
        let depth = match exprs.get(3) {
            None => 3,
            Some(e) => match integer(e) {
                Some(d) if (1..=8).contains(&d) => d as usize,
                _ => return plan_err!("{NAME}: max_depth must be an integer from 1 to 8: {USAGE}"),
            },
        };
        let spec = Spec {
            table,
            label,
            key,
            depth,
        };
        Ok(DeferredTable::one_batch(
            format!("{NAME}('{}')", spec.table),
            schema(),
            move |ctx, schema| {
                let spec = spec.clone();
                Box::pin(async move { rules(&ctx, &spec, &schema).await })
            },
        ))
    }
}

/// The tree's input columns: name (as a condition reads) and values.
fn columns(spec: &Spec, data: &Labelled) -> Result<Vec<(String, bool, Vec<f64>)>> {
    let features = features_of(&data.columns, Some(&data.labels), NAME)?;
    let mut out = Vec::new();
    for (feature, (_, array)) in features.iter().zip(&data.columns) {
        match &feature.kind {
            FeatureKind::Category(_) => {
                let levels = levels(array, None, NAME)?;
                if levels.len() > MAX_ONE_HOT {
                    continue;
                }
                let mut codes = Vec::new();
                feature.encode(array, NAME, &mut codes)?;
                for (i, level) in levels.iter().enumerate() {
                    let values = codes
                        .iter()
                        .map(|c| f64::from(u8::from(*c == i as f64)))
                        .collect();
                    out.push((
                        format!("{} = {}", feature.name, quote_literal(level)),
                        true,
                        values,
                    ));
                }
            }
            kind => {
                let mut values = Vec::new();
                feature.encode(array, NAME, &mut values)?;
                let mut known: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
                known.sort_by(f64::total_cmp);
                let median = known.get(known.len() / 2).copied().unwrap_or(0.0);
                for v in &mut values {
                    if v.is_nan() {
                        *v = median;
                    }
                }
                out.push((feature.name.clone(), *kind == FeatureKind::Boolean, values));
            }
        }
    }
    if out.is_empty() {
        return plan_err!(
            "{NAME}: '{}' has no column the tree can split on",
            spec.table
        );
    }
    Ok(out)
}

async fn rules(ctx: &SessionContext, spec: &Spec, schema: &SchemaRef) -> Result<RecordBatch> {
    let data = read_labelled(ctx, NAME, &spec.table, &spec.label, &spec.key, &[]).await?;
    check_labels(NAME, &spec.table, &data.labels)?;
    let columns = columns(spec, &data)?;
    let rows = data.labels.len();
    let mut x = Array2::<f64>::zeros((rows, columns.len()));
    for (j, (_, _, values)) in columns.iter().enumerate() {
        for (i, v) in values.iter().enumerate() {
            x[[i, j]] = *v;
        }
    }
    let y: Array1<usize> = data.labels.iter().map(|&l| usize::from(l)).collect();
    let names: Vec<String> = columns.iter().map(|c| c.0.clone()).collect();
    let dataset = Dataset::new(x.clone(), y).with_feature_names(names);
    let tree = DecisionTree::params()
        .max_depth(Some(spec.depth))
        .min_weight_leaf(((rows / 100).max(5)) as f32)
        .fit(&dataset)
        .map_err(|e| DataFusionError::Execution(format!("{NAME}: {e}")))?;
    let mut leaves = Vec::new();
    let all: Vec<usize> = (0..rows).collect();
    walk(
        tree.root_node(),
        &columns,
        &x,
        &all,
        &data.labels,
        &mut Vec::new(),
        &mut leaves,
    );
    leaves.sort_by(|a, b| b.2.total_cmp(&a.2).then(b.1.cmp(&a.1)));
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                leaves.iter().map(|l| l.0.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                leaves.iter().map(|l| l.1 as i64),
            )),
            Arc::new(Float64Array::from_iter_values(leaves.iter().map(|l| l.2))),
            Arc::new(BooleanArray::from(
                leaves.iter().map(|l| l.3).collect::<Vec<_>>(),
            )),
        ],
    )?)
}

/// Route `rows` down the tree (left when the value is below the split, as linfa predicts),
/// collecting each leaf's conditions, row count, label rate and predicted class.
fn walk(
    node: &TreeNode<f64, usize>,
    columns: &[(String, bool, Vec<f64>)],
    x: &Array2<f64>,
    rows: &[usize],
    labels: &[bool],
    path: &mut Vec<String>,
    leaves: &mut Vec<(String, usize, f64, bool)>,
) {
    if node.is_leaf() || rows.is_empty() {
        let positives = rows.iter().filter(|&&i| labels[i]).count();
        let rate = if rows.is_empty() {
            0.0
        } else {
            positives as f64 / rows.len() as f64
        };
        let rule = if path.is_empty() {
            "all rows".to_string()
        } else {
            path.join(" AND ")
        };
        leaves.push((
            rule,
            rows.len(),
            rate,
            node.prediction().unwrap_or(usize::from(rate > 0.5)) == 1,
        ));
        return;
    }
    let (feature, split, _) = node.split();
    let (name, boolean, _) = &columns[feature];
    let (below, above): (Vec<usize>, Vec<usize>) =
        rows.iter().partition(|&&i| x[[i, feature]] < split);
    let (left, right) = if *boolean {
        (format!("NOT {name}"), name.clone())
    } else {
        (
            format!("{name} < {}", round(split)),
            format!("{name} >= {}", round(split)),
        )
    };
    let children = node.children();
    for (child, condition, subset) in [(children[0], left, below), (children[1], right, above)] {
        if let Some(child) = child {
            path.push(condition);
            walk(child, columns, x, &subset, labels, path, leaves);
            path.pop();
        }
    }
}

fn round(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    format!("{r}")
}
