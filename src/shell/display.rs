//! The shell's on-screen formats: Arrow's pretty table, a Markdown table and the expanded
//! display (one "column | value" block per row, for wide rows such as a customer_360 row).

use std::io::Write;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::error::Result;

/// How rows are shown on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Table,
    Markdown,
    Expanded,
}

/// Write `batches` (of `schema`) in `layout`.
pub fn write_rows(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    layout: Layout,
    out: &mut dyn Write,
) -> Result<()> {
    match layout {
        Layout::Table => {
            let shown = if batches.is_empty() {
                vec![RecordBatch::new_empty(schema.clone())]
            } else {
                batches.to_vec()
            };
            writeln!(out, "{}", pretty_format_batches(&shown)?)?;
        }
        Layout::Markdown => {
            let names: Vec<String> = schema.fields().iter().map(|f| cell(f.name())).collect();
            writeln!(out, "| {} |", names.join(" | "))?;
            writeln!(out, "|{}", " --- |".repeat(names.len()))?;
            for_each_row(batches, |values| {
                let cells: Vec<String> = values.iter().map(|v| cell(v)).collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
                Ok(())
            })?;
        }
        Layout::Expanded => {
            let width = schema
                .fields()
                .iter()
                .map(|f| f.name().chars().count())
                .max()
                .unwrap_or(0);
            let mut record = 0usize;
            for_each_row(batches, |values| {
                record += 1;
                writeln!(out, "-[ RECORD {record} ]{}", "-".repeat(width.max(8)))?;
                for (field, value) in schema.fields().iter().zip(values) {
                    writeln!(out, "{:width$} | {value}", field.name())?;
                }
                Ok(())
            })?;
            if record == 0 {
                writeln!(out, "(no rows)")?;
            }
        }
    }
    Ok(())
}

/// Call `f` with every row's values as text (NULL as empty, as the pretty table shows it).
fn for_each_row(batches: &[RecordBatch], mut f: impl FnMut(&[String]) -> Result<()>) -> Result<()> {
    let options = FormatOptions::default();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let values: Vec<String> = formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect();
            f(&values)?;
        }
    }
    Ok(())
}

/// A Markdown table cell: pipes escaped, line breaks as spaces.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("a|b"), None])),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn shown(layout: Layout) -> String {
        let b = batch();
        let mut out = Vec::new();
        write_rows(&b.schema(), &[b], layout, &mut out).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn markdown_and_expanded() {
        assert_eq!(
            shown(Layout::Markdown),
            "| id | name |\n| --- | --- |\n| 1 | a\\|b |\n| 2 |  |\n"
        );
        assert_eq!(
            shown(Layout::Expanded),
            "-[ RECORD 1 ]--------\nid   | 1\nname | a|b\n-[ RECORD 2 ]--------\nid   | 2\nname | \n"
        );
    }
}
