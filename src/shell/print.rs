//! The one output path of the shell and `c360 query` (as datafusion-cli's `print_format` and
//! `print_options`): a [`Format`] with its [`PrintOptions`], and the printing of a result
//! stream with Arrow's writers. The on-screen layouts (table, Markdown, expanded) gather the
//! rows they show first, at most `max_rows` (what is not shown is not read); CSV, JSON and
//! NDJSON stream batch by batch; Parquet goes to a file ([`write_parquet`]).

use std::io::Write;
use std::str::FromStr;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::{csv, json};
use datafusion::error::Result;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

use super::display::{Layout, write_rows};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A boxed table.
    Table,
    /// A Markdown table.
    #[value(alias = "md")]
    Markdown,
    /// CSV with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet (to a file).
    Parquet,
}

impl Format {
    /// Every format's name, for help and completion.
    pub const NAMES: [&'static str; 6] = ["table", "csv", "json", "ndjson", "markdown", "parquet"];

    /// The names of the formats that print to a screen (all but Parquet): the shell's.
    pub fn screen_names() -> impl Iterator<Item = &'static str> {
        Self::NAMES.into_iter().filter(|n| *n != "parquet")
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Self as clap::ValueEnum>::from_str(s, true)
            .map_err(|_| format!("unknown format '{s}'; expected {}", Self::NAMES.join(", ")))
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOptions {
    /// The format.
    pub format: Format,
    /// One "column | value" block per row (table and Markdown formats).
    pub expanded: bool,
    /// Rows shown at most by the table, Markdown and expanded layouts (0: all).
    pub max_rows: usize,
}

impl PrintOptions {
    /// Every row, in `format`.
    pub fn all_rows(format: Format) -> Self {
        Self {
            format,
            expanded: false,
            max_rows: 0,
        }
    }

    /// Print `stream` to `out`. `before_output` runs once, right before the first byte is
    /// written (after the rows of an on-screen layout are gathered). Parquet is refused here:
    /// it is binary and goes to a file through [`write_parquet`].
    pub async fn print(
        &self,
        mut stream: SendableRecordBatchStream,
        out: &mut dyn Write,
        before_output: impl FnOnce(),
    ) -> Result<Printed> {
        let schema = stream.schema();
        let mut printed = Printed::default();
        let layout = match self.format {
            Format::Table | Format::Markdown if self.expanded => Layout::Expanded,
            Format::Table => Layout::Table,
            Format::Markdown => Layout::Markdown,
            Format::Csv | Format::Json | Format::Ndjson | Format::Parquet => {
                return self.stream(stream, &schema, out, before_output).await;
            }
        };
        let batches = gather(&mut stream, self.max_rows, &mut printed).await?;
        // Stop the query: what is not shown is not read.
        drop(stream);
        before_output();
        write_rows(&schema, &batches, layout, out)?;
        out.flush()?;
        Ok(printed)
    }

    /// The streamed formats: written batch by batch as the query runs.
    async fn stream(
        &self,
        mut stream: SendableRecordBatchStream,
        schema: &SchemaRef,
        out: &mut dyn Write,
        before_output: impl FnOnce(),
    ) -> Result<Printed> {
        let mut printed = Printed::default();
        before_output();
        match self.format {
            Format::Csv => {
                let mut writer = csv::WriterBuilder::new().with_header(true).build(&mut *out);
                // The header line even when there are no rows.
                let first = next_or_empty(&mut stream, schema).await?;
                printed.rows += first.num_rows() as u64;
                writer.write(&first)?;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    printed.rows += batch.num_rows() as u64;
                    writer.write(&batch)?;
                }
            }
            Format::Json => {
                let mut writer = json::ArrayWriter::new(&mut *out);
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    printed.rows += batch.num_rows() as u64;
                    writer.write(&batch)?;
                }
                writer.finish()?;
                writeln!(out)?;
            }
            Format::Ndjson => {
                let mut writer = json::LineDelimitedWriter::new(&mut *out);
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    printed.rows += batch.num_rows() as u64;
                    writer.write(&batch)?;
                }
                writer.finish()?;
            }
            Format::Parquet => {
                return Err(datafusion::error::DataFusionError::Plan(
                    "Parquet is binary: write it to a file (c360 query --format parquet --output \
                     FILE)"
                        .to_string(),
                ));
            }
            Format::Table | Format::Markdown => {
                return Err(datafusion::error::DataFusionError::Internal(format!(
                    "{:?} is an on-screen layout, not a streamed format",
                    self.format
                )));
            }
        }
        out.flush()?;
        Ok(printed)
    }
}

/// What was printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Printed {
    /// Rows written.
    pub rows: u64,
    /// Whether the result had more rows than were shown (and read).
    pub more: bool,
}

impl Printed {
    /// The row-count line the shell shows under a result.
    pub fn summary(&self) -> String {
        match (self.rows, self.more) {
            (rows, true) => format!("{rows} rows shown, more not read (\\maxrows N or 0 for all)"),
            (1, _) => "1 row".to_string(),
            (n, _) => format!("{n} rows"),
        }
    }
}

/// Write `stream` as one Parquet file to `out`; returns the number of rows.
pub async fn write_parquet(
    mut stream: SendableRecordBatchStream,
    out: impl Write + Send,
) -> Result<u64> {
    let mut writer = parquet::arrow::ArrowWriter::try_new(out, stream.schema(), None)?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        writer.write(&batch)?;
    }
    writer.close()?;
    Ok(rows)
}

/// The batches of `stream`, at most `max_rows` rows (0: all); `printed` counts them and says
/// whether rows were left unread.
async fn gather(
    stream: &mut SendableRecordBatchStream,
    max_rows: usize,
    printed: &mut Printed,
) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    let mut rows = 0usize;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if max_rows > 0 && rows + batch.num_rows() > max_rows {
            batches.push(batch.slice(0, max_rows - rows));
            rows = max_rows;
            printed.more = true;
            break;
        }
        rows += batch.num_rows();
        batches.push(batch);
    }
    printed.rows = rows as u64;
    Ok(batches)
}

/// The first batch, or an empty one carrying the schema.
async fn next_or_empty(
    stream: &mut SendableRecordBatchStream,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    match stream.next().await {
        Some(batch) => batch,
        None => Ok(RecordBatch::new_empty(schema.clone())),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn print_sql(options: PrintOptions, sql: &str) -> (Result<Printed>, String) {
        let ctx = SessionContext::new();
        let df = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{e}"));
        let stream = df.execute_stream().await.unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        let mut before = 0;
        let result = options.print(stream, &mut out, || before += 1).await;
        assert_eq!(before, 1, "before_output runs once");
        (result, String::from_utf8(out).unwrap_or_default())
    }

    const THREE: &str = "SELECT * FROM (VALUES (1), (2), (3)) t(x) ORDER BY x";

    #[tokio::test]
    async fn on_screen_layouts_stop_at_max_rows_and_streams_print_everything() {
        let options = PrintOptions {
            max_rows: 2,
            ..PrintOptions::all_rows(Format::Markdown)
        };
        let (result, text) = print_sql(options, THREE).await;
        let printed = result.expect("printed");
        assert_eq!(text, "| x |\n| --- |\n| 1 |\n| 2 |\n");
        assert_eq!(
            printed.summary(),
            "2 rows shown, more not read (\\maxrows N or 0 for all)"
        );
        let csv = PrintOptions {
            max_rows: 2,
            ..PrintOptions::all_rows(Format::Csv)
        };
        let (result, text) = print_sql(csv, THREE).await;
        assert_eq!(text, "x\n1\n2\n3\n");
        assert_eq!(result.expect("printed").summary(), "3 rows");
        let (_, text) = print_sql(
            PrintOptions::all_rows(Format::Csv),
            "SELECT 1 AS x WHERE false",
        )
        .await;
        assert_eq!(text, "x\n", "the header without rows");
        let (result, _) = print_sql(PrintOptions::all_rows(Format::Parquet), THREE).await;
        assert!(
            result
                .expect_err("binary")
                .to_string()
                .contains("--output FILE")
        );
    }

    #[test]
    fn names_parse_and_the_screen_has_no_parquet() {
        for name in Format::NAMES {
            assert!(name.parse::<Format>().is_ok(), "{name}");
        }
        assert_eq!("MD".parse::<Format>(), Ok(Format::Markdown));
        assert!("xlsx".parse::<Format>().unwrap_err().contains("table, csv"));
        assert!(!Format::screen_names().any(|n| n == "parquet"));
    }
}
