//! `connected_components(a, b)`: an aggregate over the edges of a graph (pairs of record keys
//! judged to be the same person) returning every node with the label of its component.
//!
//! The accumulator is a union-find. Its state is the partition itself (each node with its
//! current root), so partial aggregates from different partitions merge into the same
//! components whatever the order; the label of a component is its smallest node key, which
//! does not depend on the order either.

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, Signature};
use datafusion_macros::user_doc;

use crate::functions::util::{
    for_each_state_row, list_state, list_state_fields, strings_signature,
};
use crate::values::Strings;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Connected components of the graph whose edges are the (a, b) rows: returns \
        a list of {node, component} structs, one per distinct key, where component is the \
        smallest key of the node's component (so labels do not depend on row order or \
        partitioning). A row with one side NULL adds the other side as a node of its own; \
        rows with both NULL are ignored. Unnest the result to get one row per node.",
    syntax_example = "connected_components(a, b)",
    sql_example = r#"```sql
> SELECT c['node'] AS node, c['component'] AS component
  FROM (SELECT unnest(connected_components(a, b)) AS c
        FROM (VALUES ('r1', 'r2'), ('r2', 'r3'), ('r4', NULL)) AS e(a, b));
+------+-----------+
| node | component |
+------+-----------+
| r1   | r1        |
| r2   | r1        |
| r3   | r1        |
| r4   | r4        |
+------+-----------+
```"#,
    argument(name = "a", description = "Key of one record of a matched pair."),
    argument(
        name = "b",
        description = "Key of the other record (NULL for a lone record)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ConnectedComponentsFunc {
    signature: Signature,
}

impl Default for ConnectedComponentsFunc {
    fn default() -> Self {
        Self {
            signature: strings_signature(2),
        }
    }
}

fn node_fields() -> Fields {
    Fields::from(vec![
        Field::new("node", DataType::Utf8, false),
        Field::new("component", DataType::Utf8, false),
    ])
}

impl AggregateUDFImpl for ConnectedComponentsFunc {
    fn name(&self) -> &str {
        "connected_components"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Struct(node_fields()), true))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(list_state_fields(
            args.name,
            &[("nodes", DataType::Utf8), ("roots", DataType::Utf8)],
        ))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<ComponentsAccumulator>::default())
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Union-find over string keys.
#[derive(Debug, Default)]
pub struct ComponentsAccumulator {
    index: HashMap<String, usize>,
    names: Vec<String>,
    parent: Vec<usize>,
    bytes: usize,
}

impl ComponentsAccumulator {
    fn id(&mut self, key: &str) -> usize {
        if let Some(&id) = self.index.get(key) {
            return id;
        }
        let id = self.names.len();
        self.index.insert(key.to_string(), id);
        self.names.push(key.to_string());
        self.parent.push(id);
        self.bytes += 2 * key.len();
        id
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: &str, b: &str) {
        let (a, b) = (self.id(a), self.id(b));
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (keep, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[child] = keep;
        }
    }

    fn add_pairs(&mut self, a: Strings<'_>, b: Strings<'_>, rows: usize) {
        for i in 0..rows {
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) => self.union(x, y),
                (Some(x), None) | (None, Some(x)) => {
                    self.id(x);
                }
                (None, None) => {}
            }
        }
    }

    /// Each node with the smallest key of its component, sorted by node.
    pub fn components(&mut self) -> Vec<(String, String)> {
        let roots: Vec<usize> = (0..self.names.len()).map(|i| self.find(i)).collect();
        let mut label: HashMap<usize, &str> = HashMap::new();
        for (i, root) in roots.iter().enumerate() {
            let name = self.names[i].as_str();
            label
                .entry(*root)
                .and_modify(|l| {
                    if name < *l {
                        *l = name;
                    }
                })
                .or_insert(name);
        }
        let mut out: Vec<(String, String)> = roots
            .iter()
            .enumerate()
            .map(|(i, root)| (self.names[i].clone(), label[root].to_string()))
            .collect();
        out.sort();
        out
    }
}

impl Accumulator for ComponentsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [a, b] = values else {
            return exec_err!("connected_components takes two arguments");
        };
        let (sa, sb) = (
            Strings::try_new(a, "connected_components")?,
            Strings::try_new(b, "connected_components")?,
        );
        self.add_pairs(sa, sb, a.len());
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let roots: Vec<String> = (0..self.names.len())
            .map(|i| {
                let root = self.find(i);
                self.names[root].clone()
            })
            .collect();
        Ok(list_state(vec![
            Arc::new(StringArray::from_iter_values(&self.names)),
            Arc::new(StringArray::from(roots)),
        ]))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for_each_state_row(states, "connected_components", |lists| {
            let [nodes, roots] = lists else {
                return exec_err!("connected_components: expected two state columns");
            };
            let (sn, sr) = (
                Strings::try_new(nodes, "connected_components")?,
                Strings::try_new(roots, "connected_components")?,
            );
            self.add_pairs(sn, sr, nodes.len());
            Ok(())
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let components = self.components();
        let nodes: ArrayRef = Arc::new(StringArray::from_iter_values(
            components.iter().map(|c| c.0.as_str()),
        ));
        let labels: ArrayRef = Arc::new(StringArray::from_iter_values(
            components.iter().map(|c| c.1.as_str()),
        ));
        let structs = StructArray::try_new(node_fields(), vec![nodes, labels], None)?;
        Ok(SingleRowListArrayBuilder::new(Arc::new(structs)).build_list_scalar())
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.bytes
            + self.names.capacity() * size_of::<String>()
            + self.parent.capacity() * size_of::<usize>()
            + self.index.capacity() * (size_of::<String>() + size_of::<usize>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    #[test]
    fn partial_states_merge_to_the_same_components() {
        // All edges in one accumulator ...
        let mut whole = ComponentsAccumulator::default();
        whole
            .update_batch(&[
                strings(&[Some("d"), Some("b"), Some("x"), Some("e")]),
                strings(&[Some("c"), Some("a"), None, Some("d")]),
            ])
            .unwrap();
        whole
            .update_batch(&[strings(&[Some("c")]), strings(&[Some("b")])])
            .unwrap();
        // ... or split over two partitions and merged.
        let mut left = ComponentsAccumulator::default();
        left.update_batch(&[
            strings(&[Some("d"), Some("b")]),
            strings(&[Some("c"), Some("a")]),
        ])
        .unwrap();
        let mut right = ComponentsAccumulator::default();
        right
            .update_batch(&[
                strings(&[Some("x"), Some("e"), Some("c")]),
                strings(&[None, Some("d"), Some("b")]),
            ])
            .unwrap();
        crate::functions::util::merge_partial(&mut left, &mut right);
        let expected: Vec<(String, String)> = [
            ("a", "a"),
            ("b", "a"),
            ("c", "a"),
            ("d", "a"),
            ("e", "a"),
            ("x", "x"),
        ]
        .iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect();
        assert_eq!(whole.components(), expected);
        assert_eq!(left.components(), expected);
    }
}
