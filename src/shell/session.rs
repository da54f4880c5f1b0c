//! One shell session: the engine, the display settings the meta commands change, and the
//! running of what the user typed (SQL statements or a meta command).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::{csv, json};
use datafusion::physical_plan::execute_stream;
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use futures::StreamExt;

use super::display::{Layout, write_rows};
use super::meta;
use super::statements::failure_message;
use crate::Engine;
use crate::error::{C360Error, Result, syntax_error};

/// The formats the shell prints in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellFormat {
    Table,
    Markdown,
    Csv,
    Json,
    Ndjson,
}

impl ShellFormat {
    /// The format named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "table" => Self::Table,
            "markdown" | "md" => Self::Markdown,
            "csv" => Self::Csv,
            "json" => Self::Json,
            "ndjson" => Self::Ndjson,
            _ => return None,
        })
    }

    /// Every format's name, for help and completion.
    pub const NAMES: [&'static str; 5] = ["table", "csv", "json", "ndjson", "markdown"];
}

/// What the meta commands set.
#[derive(Debug, Clone)]
pub struct Settings {
    pub format: ShellFormat,
    /// Print the elapsed time after each statement.
    pub timing: bool,
    /// One "column | value" block per row (table and markdown formats).
    pub expanded: bool,
    /// Rows shown at most by the table, markdown and expanded displays (0: all).
    pub max_rows: usize,
    /// Results go to this file (appended) instead of the screen.
    pub output: Option<PathBuf>,
    /// On a terminal: a progress line for statements running over a second, and results
    /// taller than the terminal through the pager ($PAGER, else less).
    pub terminal: bool,
    pub pager: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            format: ShellFormat::Table,
            timing: false,
            expanded: false,
            max_rows: 40,
            output: None,
            terminal: false,
            pager: true,
        }
    }
}

/// What to do after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// A shell session over an engine.
pub struct Shell {
    pub engine: Engine,
    pub settings: Settings,
}

impl Shell {
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            settings: Settings::default(),
        }
    }

    /// Run one input: a meta command (a line starting with a backslash) or SQL statements.
    /// Results and messages go to `out`, or results to the `\o` file.
    pub async fn run(&mut self, input: &str, out: &mut dyn Write) -> Result<Flow> {
        let trimmed = input.trim();
        if trimmed.starts_with('\\') {
            return Box::pin(meta::run(self, trimmed, out)).await;
        }
        if !trimmed.is_empty() {
            self.run_sql(trimmed, out).await?;
        }
        Ok(Flow::Continue)
    }

    /// Run every SQL statement of `sql`, printing each result; stops at the first error.
    pub async fn run_sql(&mut self, sql: &str, out: &mut dyn Write) -> Result<()> {
        let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})
            .map_err(|e| syntax_error(&e, sql))?;
        let count = statements.len();
        for (index, statement) in statements.into_iter().enumerate() {
            let started = Instant::now();
            let state = self.engine.ctx.state();
            let tables: Vec<String> = state
                .resolve_table_references(&statement)
                .map(|refs| refs.into_iter().map(|r| r.table().to_string()).collect())
                .unwrap_or_default();
            self.engine
                .check_sources(tables.iter().map(String::as_str))?;
            let result = async {
                let plan = state.statement_to_plan(statement).await?;
                let df = self.engine.ctx.execute_logical_plan(plan).await?;
                let has_columns = !df.schema().fields().is_empty();
                let physical = df.create_physical_plan().await?;
                let stream = execute_stream(Arc::clone(&physical), self.engine.ctx.task_ctx())?;
                Ok::<_, datafusion::error::DataFusionError>((has_columns, physical, stream))
            }
            .await;
            let shown = match result {
                Ok((false, _, mut stream)) => {
                    // Statements without rows (CREATE ...) still run to their end.
                    let mut done = Ok(None);
                    while let Some(batch) = stream.next().await {
                        if let Err(e) = batch {
                            done = Err(e);
                            break;
                        }
                    }
                    done
                }
                Ok((true, physical, stream)) => {
                    let ticker = self
                        .settings
                        .terminal
                        .then(|| super::progress::start(physical, started));
                    self.print(stream, ticker, out).await.map(Some)
                }
                Err(e) => Err(e),
            };
            match shown {
                Ok(rows) => {
                    if let Some(rows) = rows {
                        writeln!(out, "{rows}").map_err(io)?;
                    }
                    if self.settings.timing {
                        writeln!(out, "Time: {:.3} s", started.elapsed().as_secs_f64())
                            .map_err(io)?;
                    }
                }
                Err(e) => {
                    let message = failure_message(&self.engine, &e, &tables, index, count).await;
                    return Err(C360Error::Query(message));
                }
            }
        }
        Ok(())
    }

    /// Print a result in the session's format; returns the row-count line.
    async fn print(
        &self,
        mut stream: datafusion::physical_plan::SendableRecordBatchStream,
        ticker: Option<super::progress::Ticker>,
        screen: &mut dyn Write,
    ) -> datafusion::error::Result<String> {
        let schema = stream.schema();
        let limit = match self.settings.format {
            ShellFormat::Table | ShellFormat::Markdown if self.settings.max_rows > 0 => {
                Some(self.settings.max_rows)
            }
            _ => None,
        };
        let mut batches: Vec<RecordBatch> = Vec::new();
        let mut rows = 0usize;
        let mut more = false;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            if let Some(limit) = limit
                && rows + batch.num_rows() > limit
            {
                batches.push(batch.slice(0, limit - rows));
                rows = limit;
                more = true;
                break;
            }
            rows += batch.num_rows();
            batches.push(batch);
        }
        // Stop the query: what is not shown is not read.
        drop(stream);
        if let Some(ticker) = ticker {
            ticker.stop();
        }
        let paged = self.settings.terminal && self.settings.pager && self.settings.output.is_none();
        let mut buffer: Vec<u8> = Vec::new();
        let mut file;
        let out: &mut dyn Write = match &self.settings.output {
            Some(path) => {
                file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| {
                        datafusion::error::DataFusionError::Execution(format!(
                            "opening output file {}: {e}",
                            path.display()
                        ))
                    })?;
                &mut file
            }
            None if paged => &mut buffer,
            None => &mut *screen,
        };
        match self.settings.format {
            ShellFormat::Table | ShellFormat::Markdown => {
                let layout = if self.settings.expanded {
                    Layout::Expanded
                } else if self.settings.format == ShellFormat::Table {
                    Layout::Table
                } else {
                    Layout::Markdown
                };
                write_rows(&schema, &batches, layout, out)?;
            }
            ShellFormat::Csv => {
                let mut writer = csv::WriterBuilder::new().with_header(true).build(&mut *out);
                if batches.is_empty() {
                    writer.write(&RecordBatch::new_empty(schema.clone()))?;
                }
                for b in &batches {
                    writer.write(b)?;
                }
            }
            ShellFormat::Json => {
                let mut writer = json::ArrayWriter::new(&mut *out);
                for b in &batches {
                    writer.write(b)?;
                }
                writer.finish()?;
                writeln!(out)?;
            }
            ShellFormat::Ndjson => {
                let mut writer = json::LineDelimitedWriter::new(&mut *out);
                for b in &batches {
                    writer.write(b)?;
                }
                writer.finish()?;
            }
        }
        out.flush()?;
        if paged {
            super::pager::show(&buffer, screen)?;
        }
        Ok(match (rows, more) {
            (_, true) => format!("{rows} rows shown, more not read (\\maxrows N or 0 for all)"),
            (1, _) => "1 row".to_string(),
            (n, _) => format!("{n} rows"),
        })
    }
}

fn io(e: std::io::Error) -> C360Error {
    C360Error::io("writing to the terminal".to_string(), e)
}
