//! A generated table: Arrow column builders filled row by row and flushed in batches to one
//! part file written with Arrow's Parquet, CSV or JSON-lines writer.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::{csv, json};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{C360Error, Result};

/// Column kinds the generator writes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// UTF-8 text.
    Str,
    /// 64-bit integer.
    I64,
    /// 32-bit integer.
    I32,
    /// 64-bit float.
    F64,
    /// Boolean.
    Bool,
    /// Date (days since the epoch).
    Date,
    /// Timestamp in microseconds, no time zone.
    Ts,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Str => DataType::Utf8,
            Kind::I64 => DataType::Int64,
            Kind::I32 => DataType::Int32,
            Kind::F64 => DataType::Float64,
            Kind::Bool => DataType::Boolean,
            Kind::Date => DataType::Date32,
            Kind::Ts => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }
}

/// File format of a generated table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Parquet with zstd.
    Parquet,
    /// CSV with a header.
    Csv,
    /// Newline-delimited JSON.
    Json,
}

impl FileKind {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Parquet => "parquet",
            FileKind::Csv => "csv",
            FileKind::Json => "json",
        }
    }
}

enum Writer {
    Parquet(ArrowWriter<BufWriter<File>>),
    Csv(csv::Writer<BufWriter<File>>),
    Json(json::LineDelimitedWriter<BufWriter<File>>),
    /// Rows are built and dropped: the simulation of days before the one being written.
    Discard,
}

enum Column {
    Str(StringBuilder),
    I64(Int64Builder),
    I32(Int32Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
}

impl Column {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Str => Column::Str(StringBuilder::new()),
            Kind::I64 => Column::I64(Int64Builder::new()),
            Kind::I32 => Column::I32(Int32Builder::new()),
            Kind::F64 => Column::F64(Float64Builder::new()),
            Kind::Bool => Column::Bool(BooleanBuilder::new()),
            Kind::Date => Column::Date(Date32Builder::new()),
            Kind::Ts => Column::Ts(TimestampMicrosecondBuilder::new()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Str(b) => Arc::new(b.finish()),
            Column::I64(b) => Arc::new(b.finish()),
            Column::I32(b) => Arc::new(b.finish()),
            Column::F64(b) => Arc::new(b.finish()),
            Column::Bool(b) => Arc::new(b.finish()),
            Column::Date(b) => Arc::new(b.finish()),
            Column::Ts(b) => Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Str(b) => b.len(),
            Column::I64(b) => b.len(),
            Column::I32(b) => b.len(),
            Column::F64(b) => b.len(),
            Column::Bool(b) => b.len(),
            Column::Date(b) => b.len(),
            Column::Ts(b) => b.len(),
        }
    }
}

/// One part file of a table being generated.
pub struct Table {
    schema: SchemaRef,
    columns: Vec<Column>,
    writer: Writer,
    cursor: usize,
    rows: u64,
    path: String,
}

const FLUSH_ROWS: usize = 65_536;

fn schema_of(columns: &[(&str, Kind)]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, kind)| Field::new(*name, kind.data_type(), true))
            .collect::<Vec<_>>(),
    ))
}

impl Table {
    /// Create `path` and write rows with these columns to it.
    pub fn create(path: &Path, kind: FileKind, columns: &[(&str, Kind)]) -> Result<Self> {
        let schema = schema_of(columns);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| C360Error::io(format!("creating {}", dir.display()), e))?;
        }
        let file = BufWriter::with_capacity(
            1 << 20,
            File::create(path)
                .map_err(|e| C360Error::io(format!("creating {}", path.display()), e))?,
        );
        let writer = match kind {
            FileKind::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
                    .build();
                Writer::Parquet(
                    ArrowWriter::try_new(file, schema.clone(), Some(props))
                        .map_err(|e| C360Error::Generate(format!("{}: {e}", path.display())))?,
                )
            }
            FileKind::Csv => Writer::Csv(
                csv::WriterBuilder::new()
                    .with_header(true)
                    .with_timestamp_format("%Y-%m-%d %H:%M:%S".to_string())
                    .build(file),
            ),
            FileKind::Json => Writer::Json(json::LineDelimitedWriter::new(file)),
        };
        Ok(Self {
            schema,
            columns: columns.iter().map(|(_, kind)| Column::new(*kind)).collect(),
            writer,
            cursor: 0,
            rows: 0,
            path: path.display().to_string(),
        })
    }

    fn next(&mut self) -> &mut Column {
        let i = self.cursor;
        self.cursor += 1;
        &mut self.columns[i]
    }

    /// Append a text value to the current row.
    pub fn s(&mut self, value: Option<&str>) -> &mut Self {
        match self.next() {
            Column::Str(b) => b.append_option(value),
            _ => unreachable!("generator bug: column is not text"),
        }
        self
    }

    /// Append a 64-bit integer.
    pub fn i(&mut self, value: Option<i64>) -> &mut Self {
        match self.next() {
            Column::I64(b) => b.append_option(value),
            _ => unreachable!("generator bug: column is not i64"),
        }
        self
    }

    /// Append a 32-bit integer.
    pub fn i32(&mut self, value: Option<i32>) -> &mut Self {
        match self.next() {
            Column::I32(b) => b.append_option(value),
            _ => unreachable!("generator bug: column is not i32"),
        }
        self
    }

    /// Append a float.
    pub fn f(&mut self, value: Option<f64>) -> &mut Self {
        match self.next() {
            Column::F64(b) => b.append_option(value),
            _ => unreachable!("generator bug: column is not f64"),
        }
        self
    }

    /// Append a boolean.
    pub fn b(&mut self, value: Option<bool>) -> &mut Self {
        match self.next() {
            Column::Bool(b) => b.append_option(value),
            _ => unreachable!("generator bug: column is not bool"),
        }
        self
    }

    /// Append a date as days since the epoch.
    pub fn d(&mut self, value: Option<i32>) -> &mut Self {
        match self.next() {
            Column::Date(b) => b.append_option(value),
            _ => unreachable!("generator bug: column is not a date"),
        }
        self
    }

    /// Append a timestamp in microseconds since the epoch.
    pub fn t(&mut self, value: Option<i64>) -> &mut Self {
        match self.next() {
            Column::Ts(b) => b.append_option(value),
            _ => unreachable!("generator bug: column is not a timestamp"),
        }
        self
    }

    /// A table that builds its rows and drops them (nothing is written).
    pub fn discard(columns: &[(&str, Kind)]) -> Self {
        Self {
            schema: schema_of(columns),
            columns: columns.iter().map(|(_, kind)| Column::new(*kind)).collect(),
            writer: Writer::Discard,
            cursor: 0,
            rows: 0,
            path: "(discarded)".to_string(),
        }
    }

    /// Finish the current row; flushes a batch every 64k rows.
    pub fn end(&mut self) -> Result<()> {
        debug_assert_eq!(self.cursor, self.columns.len(), "row of {}", self.path);
        self.cursor = 0;
        self.rows += 1;
        if self.columns[0].len() >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.columns[0].len() == 0 {
            return Ok(());
        }
        let arrays = self.columns.iter_mut().map(Column::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| C360Error::Generate(format!("{}: {e}", self.path)))?;
        let written = match &mut self.writer {
            Writer::Parquet(w) => w.write(&batch).map_err(|e| e.to_string()),
            Writer::Csv(w) => w.write(&batch).map_err(|e| e.to_string()),
            Writer::Json(w) => w.write(&batch).map_err(|e| e.to_string()),
            Writer::Discard => Ok(()),
        };
        written.map_err(|e| C360Error::Generate(format!("{}: {e}", self.path)))
    }

    /// Flush and close the file; returns the number of rows written.
    pub fn close(mut self) -> Result<u64> {
        self.flush()?;
        if self.rows == 0
            && let Writer::Csv(w) = &mut self.writer
        {
            // An empty CSV part still gets its header line, so the schema can be read.
            w.write(&RecordBatch::new_empty(self.schema.clone()))
                .map_err(|e| C360Error::Generate(format!("{}: {e}", self.path)))?;
        }
        let path = self.path.clone();
        let err = |e: String| C360Error::Generate(format!("{path}: {e}"));
        match self.writer {
            Writer::Parquet(w) => {
                w.close().map_err(|e| err(e.to_string()))?;
            }
            Writer::Csv(w) => {
                use std::io::Write;
                w.into_inner().flush().map_err(|e| err(e.to_string()))?;
            }
            Writer::Json(mut w) => {
                use std::io::Write;
                w.finish().map_err(|e| err(e.to_string()))?;
                w.into_inner().flush().map_err(|e| err(e.to_string()))?;
            }
            Writer::Discard => {}
        }
        Ok(self.rows)
    }
}
