//! Printing query results with Arrow's writers: a pretty table, CSV, JSON, NDJSON or Parquet.
//! Everything but the table streams batch by batch.

use std::io::Write;
use std::str::FromStr;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::arrow::{csv, json};
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A boxed table (all rows are gathered first).
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet (needs an output file).
    Parquet,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <Self as clap::ValueEnum>::from_str(s, true).map_err(|_| {
            format!("unknown format '{s}'; expected table, csv, json, ndjson or parquet")
        })
    }
}

/// Write a result stream to `out` in `format`; returns the number of rows.
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: Format,
    out: Box<dyn Write + Send>,
) -> Result<u64> {
    let schema = stream.schema();
    let mut rows = 0u64;
    match format {
        Format::Table => {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                batches.push(batch);
            }
            write_table(&schema, &batches, out)?;
        }
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new().with_header(true).build(out);
            if let Some(first) = next_or_empty(&mut stream, &schema).await? {
                rows += first.num_rows() as u64;
                writer.write(&first)?;
            }
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
            }
            writer.into_inner().flush()?;
        }
        Format::Json => {
            let mut writer = json::ArrayWriter::new(out);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
            }
            writer.finish()?;
            let mut out = writer.into_inner();
            writeln!(out)?;
            out.flush()?;
        }
        Format::Ndjson => {
            let mut writer = json::LineDelimitedWriter::new(out);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
            }
            writer.finish()?;
            writer.into_inner().flush()?;
        }
        Format::Parquet => {
            let mut writer = parquet::arrow::ArrowWriter::try_new(out, schema, None)?;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(&batch)?;
            }
            writer.close()?;
        }
    }
    Ok(rows)
}

/// The first batch, or an empty one carrying the schema so a CSV header is still written.
async fn next_or_empty(
    stream: &mut SendableRecordBatchStream,
    schema: &SchemaRef,
) -> Result<Option<RecordBatch>> {
    match stream.next().await {
        Some(batch) => batch.map(Some),
        None => Ok(Some(RecordBatch::new_empty(schema.clone()))),
    }
}

fn write_table(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    mut out: Box<dyn Write + Send>,
) -> Result<()> {
    let shown = if batches.is_empty() {
        vec![RecordBatch::new_empty(schema.clone())]
    } else {
        batches.to_vec()
    };
    let table = pretty_format_batches(&shown)?;
    writeln!(out, "{table}").map_err(DataFusionError::from)?;
    out.flush()?;
    Ok(())
}
