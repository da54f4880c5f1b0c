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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::mem::size_of;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray, StructArray};
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

/// One record's row.
#[derive(Debug, Clone)]
struct Row {
    record: String,
    component: String,
    previous: Option<String>,
    since: Option<String>,
}

/// Collects the rows; the assignment runs once, in `evaluate`.
#[derive(Debug, Default)]
pub struct StableIdsAccumulator {
    rows: Vec<Row>,
    bytes: usize,
}

impl StableIdsAccumulator {
    fn add(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let [r, c, p, s] = columns else {
            return exec_err!("stable_ids takes four arguments");
        };
        fn strings(a: &ArrayRef) -> Result<Strings<'_>> {
            Strings::try_new(a, "stable_ids")
        }
        let (r, c, p, s) = (strings(r)?, strings(c)?, strings(p)?, strings(s)?);
        for i in 0..columns[0].len() {
            let (Some(record), Some(component)) = (r.get(i), c.get(i)) else {
                continue;
            };
            let row = Row {
                record: record.to_string(),
                component: component.to_string(),
                previous: p.get(i).map(str::to_string),
                since: s.get(i).map(str::to_string),
            };
            self.bytes += row.record.len() + row.component.len() + 24;
            self.rows.push(row);
        }
        Ok(())
    }

    /// Each record with its customer id and the id's since (None for a new id), by record.
    pub fn assign(&self) -> Vec<(String, String, Option<String>)> {
        // Records per component and, per previous id, its age and its records per component.
        let mut smallest: BTreeMap<&str, &str> = BTreeMap::new();
        let mut ids: HashMap<&str, (Option<&str>, BTreeMap<&str, usize>)> = HashMap::new();
        for row in &self.rows {
            smallest
                .entry(row.component.as_str())
                .and_modify(|s| *s = (*s).min(row.record.as_str()))
                .or_insert(row.record.as_str());
            if let Some(previous) = &row.previous {
                let entry = ids
                    .entry(previous.as_str())
                    .or_insert((None, BTreeMap::new()));
                if let Some(since) = row.since.as_deref() {
                    entry.0 = Some(entry.0.map_or(since, |s| s.min(since)));
                }
                *entry.1.entry(row.component.as_str()).or_insert(0) += 1;
            }
        }
        // Oldest first; an unknown age counts as newest.
        let mut order: Vec<(&str, Option<&str>)> =
            ids.iter().map(|(id, (since, _))| (*id, *since)).collect();
        order.sort_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) => x.cmp(y).then(a.0.cmp(b.0)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.cmp(b.0),
        });
        let mut given: HashMap<&str, (String, Option<String>)> = HashMap::new();
        for (id, since) in &order {
            let components = &ids[id].1;
            // The component with most of its records that has no id yet (ties: smallest).
            let best = components
                .iter()
                .filter(|(c, _)| !given.contains_key(*c))
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
            if let Some((component, _)) = best {
                given.insert(component, (id.to_string(), since.map(str::to_string)));
            }
        }
        let used: HashSet<&str> = ids.keys().copied().collect();
        let mut issued: BTreeSet<String> = BTreeSet::new();
        for (component, first) in &smallest {
            if given.contains_key(component) {
                continue;
            }
            let mut id = new_id(first, 0);
            let mut attempt = 0;
            while used.contains(id.as_str()) || issued.contains(&id) {
                attempt += 1;
                id = new_id(first, attempt);
            }
            issued.insert(id.clone());
            given.insert(component, (id, None));
        }
        let mut out: Vec<(String, String, Option<String>)> = self
            .rows
            .iter()
            .map(|row| {
                let (id, since) = &given[row.component.as_str()];
                (row.record.clone(), id.clone(), since.clone())
            })
            .collect();
        out.sort();
        out
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
        let column = |f: &dyn Fn(&Row) -> Option<&str>| -> ArrayRef {
            Arc::new(StringArray::from_iter(self.rows.iter().map(f)))
        };
        Ok(list_state(vec![
            column(&|r| Some(r.record.as_str())),
            column(&|r| Some(r.component.as_str())),
            column(&|r| r.previous.as_deref()),
            column(&|r| r.since.as_deref()),
        ]))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for_each_state_row(states, "stable_ids", |lists| self.add(lists))
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let assigned = self.assign();
        let records: ArrayRef = Arc::new(StringArray::from_iter_values(
            assigned.iter().map(|a| a.0.as_str()),
        ));
        let ids: ArrayRef = Arc::new(StringArray::from_iter_values(
            assigned.iter().map(|a| a.1.as_str()),
        ));
        let since: ArrayRef = Arc::new(StringArray::from_iter(
            assigned.iter().map(|a| a.2.as_deref()),
        ));
        let structs = StructArray::try_new(out_fields(), vec![records, ids, since], None)?;
        Ok(SingleRowListArrayBuilder::new(Arc::new(structs)).build_list_scalar())
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.bytes + self.rows.capacity() * size_of::<Row>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: &[(&str, &str, Option<&str>, Option<&str>)]) -> HashMap<String, String> {
        let mut acc = StableIdsAccumulator::default();
        for (r, c, p, s) in rows {
            acc.rows.push(Row {
                record: r.to_string(),
                component: c.to_string(),
                previous: p.map(str::to_string),
                since: s.map(str::to_string),
            });
        }
        acc.assign().into_iter().map(|(r, id, _)| (r, id)).collect()
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
