//! `stable_ids(record, component, previous_id, previous_since)`: customer ids that survive
//! reclustering. Given this run's components and each record's id from the last run, it hands
//! out ids by documented rules:
//!
//! - a component whose records all had one id keeps it (an unchanged customer keeps its id, and
//!   a new record that joins a customer inherits its id);
//! - ids are handed out oldest first (smallest `previous_since`, then smallest id), each to the
//!   component holding most of its records: when customers merge the older id survives, when a
//!   customer splits the larger part keeps the id;
//! - a component left without an id gets a new one, 'C' and 12 hex digits of the MD5 of its
//!   smallest record key, never one an earlier run used.

use std::collections::{HashMap, HashSet};
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray, StructArray};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, Signature};
use datafusion_macros::user_doc;

use crate::functions::util::{
    for_each_state_row, list_state, list_state_fields, strings_signature,
};
use crate::text::md5_hex;
use crate::values::Strings;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Stable customer ids across runs. Takes each record with its component in this \
        run and its id and id age (any string that sorts oldest first, such as the ISO time the \
        id was issued) from the last run, NULL for a new record. Returns a list of {record, \
        customer_id, since} structs: a component whose records all had one id keeps it (so new \
        records joining a customer inherit its id); ids are handed out oldest first, each to \
        the component holding most of its records, so a merge keeps the older id and a split \
        leaves the id on the larger part; other components get a new id ('C' + 12 hex digits \
        of md5 of the smallest record key, never an id used before), with since NULL.",
    syntax_example = "stable_ids(record, component, previous_id, previous_since)",
    sql_example = r#"```sql
> SELECT s['record'] AS record, s['customer_id'] AS customer_id
  FROM (SELECT unnest(stable_ids(r, c, p, t)) AS s
        FROM (VALUES ('a', 'a', 'C1', '2024'), ('b', 'a', 'C2', '2025'), ('c', 'c', NULL, NULL))
             AS e(r, c, p, t));
+--------+---------------+
| record | customer_id   |
+--------+---------------+
| a      | C1            |
| b      | C1            |
| c      | C4a8a08f09d37 |
+--------+---------------+
```"#,
    argument(name = "record", description = "The record key."),
    argument(
        name = "component",
        description = "Its component (cluster) in this run."
    ),
    argument(
        name = "previous_id",
        description = "Its customer id in the last run, or NULL."
    ),
    argument(
        name = "previous_since",
        description = "When that id was first issued, sortable."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StableIdsFunc {
    signature: Signature,
}

impl Default for StableIdsFunc {
    fn default() -> Self {
        Self {
            signature: strings_signature(4),
        }
    }
}

fn out_fields() -> Fields {
    Fields::from(vec![
        Field::new("record", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("since", DataType::Utf8, true),
    ])
}

impl AggregateUDFImpl for StableIdsFunc {
    fn name(&self) -> &str {
        "stable_ids"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Struct(out_fields()), true))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(list_state_fields(
            args.name,
            &[
                ("records", DataType::Utf8),
                ("components", DataType::Utf8),
                ("previous_ids", DataType::Utf8),
                ("previous_since", DataType::Utf8),
            ],
        ))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<StableIdsAccumulator>::default())
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// One record's row: its key, its component, its previous id and that id's age.
type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// Collects the input columns as they come (the arrays, not a copy of each value: at a million
/// customers that was 23 million small strings); the assignment runs once, in `evaluate`.
#[derive(Debug, Default)]
pub struct StableIdsAccumulator {
    /// Record, component, previous id and since, batch by batch.
    chunks: Vec<[ArrayRef; 4]>,
    bytes: usize,
}

fn strings(a: &ArrayRef) -> Result<Strings<'_>> {
    Strings::try_new(a, "stable_ids")
}

/// How `assign` gave out the ids: each row's component, each component's id and since (None
/// for a new id).
struct Assignment<'a> {
    component_of: Vec<usize>,
    ids: Vec<(String, Option<&'a str>)>,
}

impl StableIdsAccumulator {
    fn add(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let [r, c, p, s] = columns else {
            return exec_err!("stable_ids takes four arguments");
        };
        for column in columns {
            strings(column)?;
            self.bytes += column.get_array_memory_size();
        }
        self.chunks
            .push([r.clone(), c.clone(), p.clone(), s.clone()]);
        Ok(())
    }

    /// The rows, those without a record or a component left out.
    fn rows(&self) -> Result<Vec<Row<'_>>> {
        let mut rows = Vec::with_capacity(self.chunks.iter().map(|c| c[0].len()).sum());
        for [records, c, p, s] in &self.chunks {
            let (r, c, p, s) = (strings(records)?, strings(c)?, strings(p)?, strings(s)?);
            for i in 0..records.len() {
                if let (Some(record), Some(component)) = (r.get(i), c.get(i)) {
                    rows.push((record, component, p.get(i), s.get(i)));
                }
            }
        }
        Ok(rows)
    }
}

/// Give each component its id.
fn assign<'a>(rows: &[Row<'a>]) -> Assignment<'a> {
    // The components (numbered as first seen) with their smallest record, and per previous
    // id its age and its records per component.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut components: Vec<(&str, &str)> = Vec::new();
    let mut component_of = Vec::with_capacity(rows.len());
    let mut ids: HashMap<&str, (Option<&str>, HashMap<usize, usize>)> = HashMap::new();
    for &(record, component, previous, since) in rows {
        let c = *index.entry(component).or_insert_with(|| {
            components.push((component, record));
            components.len() - 1
        });
        let smallest = &mut components[c].1;
        *smallest = (*smallest).min(record);
        component_of.push(c);
        if let Some(previous) = previous {
            let entry = ids.entry(previous).or_default();
            if let Some(since) = since {
                entry.0 = Some(entry.0.map_or(since, |s| s.min(since)));
            }
            *entry.1.entry(c).or_insert(0) += 1;
        }
    }
    // Oldest first; an unknown age counts as newest.
    let mut order: Vec<(&str, Option<&str>)> =
        ids.iter().map(|(id, (since, _))| (*id, *since)).collect();
    order.sort_unstable_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => x.cmp(y).then(a.0.cmp(b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(b.0),
    });
    let mut given: Vec<Option<(String, Option<&str>)>> = vec![None; components.len()];
    for (id, since) in &order {
        // The component with most of its records that has no id yet (ties: smallest).
        let best = ids[id]
            .1
            .iter()
            .filter(|(c, _)| given[**c].is_none())
            .max_by(|a, b| {
                a.1.cmp(b.1)
                    .then(components[*b.0].0.cmp(components[*a.0].0))
            });
        if let Some((&c, _)) = best {
            given[c] = Some((id.to_string(), *since));
        }
    }
    // New ids, components in order of their names (so that which one of two colliding
    // digests gets the counter does not depend on the order rows came in).
    let mut unnamed: Vec<usize> = (0..components.len())
        .filter(|&c| given[c].is_none())
        .collect();
    unnamed.sort_unstable_by(|a, b| components[*a].0.cmp(components[*b].0));
    let used: HashSet<&str> = ids.keys().copied().collect();
    let mut issued: HashSet<String> = HashSet::new();
    for c in unnamed {
        let first = components[c].1;
        let mut id = new_id(first, 0);
        let mut attempt = 0;
        while used.contains(id.as_str()) || issued.contains(&id) {
            attempt += 1;
            id = new_id(first, attempt);
        }
        issued.insert(id.clone());
        given[c] = Some((id, None));
    }
    Assignment {
        component_of,
        ids: given.into_iter().map(Option::unwrap_or_default).collect(),
    }
}

/// A new id from the smallest record key of a component (and a counter on collision).
fn new_id(first: &str, attempt: usize) -> String {
    let input = if attempt == 0 {
        first.to_string()
    } else {
        format!("{first}#{attempt}")
    };
    let digest = md5_hex(input.as_bytes());
    format!("C{}", &digest[..12])
}

impl Accumulator for StableIdsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(values)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut columns = Vec::with_capacity(4);
        for i in 0..4 {
            let parts = self
                .chunks
                .iter()
                .map(|chunk| cast(&chunk[i], &DataType::Utf8))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let parts: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
            columns.push(if parts.is_empty() {
                Arc::new(StringArray::from(Vec::<Option<&str>>::new())) as ArrayRef
            } else {
                concat(&parts)?
            });
        }
        Ok(list_state(columns))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for_each_state_row(states, "stable_ids", |lists| self.add(lists))
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let rows = self.rows()?;
        let assignment = assign(&rows);
        // In record order (then id), whatever order the rows came in.
        let id_of = |i: usize| &assignment.ids[assignment.component_of[i]];
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            rows[a]
                .0
                .cmp(rows[b].0)
                .then_with(|| id_of(a).cmp(id_of(b)))
        });
        let records: ArrayRef = Arc::new(StringArray::from_iter_values(
            order.iter().map(|&i| rows[i].0),
        ));
        let ids: ArrayRef = Arc::new(StringArray::from_iter_values(
            order.iter().map(|&i| id_of(i).0.as_str()),
        ));
        let since: ArrayRef = Arc::new(StringArray::from_iter(order.iter().map(|&i| id_of(i).1)));
        let structs = StructArray::try_new(out_fields(), vec![records, ids, since], None)?;
        Ok(SingleRowListArrayBuilder::new(Arc::new(structs)).build_list_scalar())
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.bytes + self.chunks.capacity() * size_of::<[ArrayRef; 4]>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: &[Row<'_>]) -> HashMap<String, String> {
        let mut acc = StableIdsAccumulator::default();
        // Two batches, through a partial state, as the engine feeds a final aggregate.
        let (first, second) = rows.split_at(rows.len() / 2);
        for part in [first, second] {
            let column = |f: &dyn Fn(&Row<'_>) -> Option<String>| {
                Arc::new(StringArray::from_iter(part.iter().map(f))) as ArrayRef
            };
            let mut partial = StableIdsAccumulator::default();
            partial
                .update_batch(&[
                    column(&|r| Some(r.0.to_string())),
                    column(&|r| Some(r.1.to_string())),
                    column(&|r| r.2.map(str::to_string)),
                    column(&|r| r.3.map(str::to_string)),
                ])
                .unwrap();
            crate::functions::util::merge_partial(&mut acc, &mut partial);
        }
        let value = acc.evaluate().unwrap();
        let ScalarValue::List(list) = value else {
            panic!("a list")
        };
        let structs = list.value(0);
        let structs = structs.as_any().downcast_ref::<StructArray>().unwrap();
        let records = structs
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let ids = structs
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        (0..structs.len())
            .map(|i| (records.value(i).to_string(), ids.value(i).to_string()))
            .collect()
    }

    #[test]
    fn unchanged_and_joining_records_keep_the_id() {
        let ids = run(&[
            ("a", "a", Some("C1"), Some("2024")),
            ("b", "a", Some("C1"), Some("2024")),
            ("new", "a", None, None),
        ]);
        assert_eq!(ids["a"], "C1");
        assert_eq!(ids["new"], "C1");
    }

    #[test]
    fn merge_keeps_the_older_id_and_split_the_larger_part() {
        let ids = run(&[
            ("a", "x", Some("C_new"), Some("2025")),
            ("b", "x", Some("C_old"), Some("2023")),
        ]);
        assert_eq!(ids["a"], "C_old");
        assert_eq!(ids["b"], "C_old");
        let ids = run(&[
            ("a", "x", Some("C1"), Some("2024")),
            ("b", "y", Some("C1"), Some("2024")),
            ("c", "y", Some("C1"), Some("2024")),
        ]);
        assert_eq!(ids["b"], "C1");
        assert_eq!(ids["c"], "C1");
        assert_ne!(ids["a"], "C1");
        assert!(ids["a"].starts_with('C') && ids["a"].len() == 13);
    }

    #[test]
    fn new_ids_never_reuse_an_old_one() {
        let taken = new_id("a", 0);
        let ids = run(&[
            ("a", "a", None, None),
            ("b", "b", Some(&taken), Some("2020")),
        ]);
        assert_eq!(ids["b"], taken);
        assert_ne!(ids["a"], taken);
    }
}
