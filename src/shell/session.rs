//! One shell session: the engine, the display settings the meta commands change, and the
//! running of what the user typed (SQL statements or a meta command).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use datafusion::physical_plan::execute_stream;
use futures::StreamExt;

use super::meta;
use super::print::{Format, PrintOptions};
use super::statements::failure_message;
use crate::Engine;
use crate::error::{C360Error, Result};

/// What the meta commands set.
#[derive(Debug, Clone)]
pub struct Settings {
    pub format: Format,
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
            format: Format::Table,
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
        let statements = self
            .engine
            .workspace
            .config
            .engine
            .sql_limits()
            .parse(sql)?;
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
        stream: datafusion::physical_plan::SendableRecordBatchStream,
        ticker: Option<super::progress::Ticker>,
        screen: &mut dyn Write,
    ) -> datafusion::error::Result<String> {
        let options = PrintOptions {
            format: self.settings.format,
            expanded: self.settings.expanded,
            max_rows: self.settings.max_rows,
        };
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
        let printed = options
            .print(stream, out, || {
                if let Some(ticker) = ticker {
                    ticker.stop();
                }
            })
            .await?;
        if paged {
            super::pager::show(&buffer, screen)?;
        }
        Ok(printed.summary())
    }
}

fn io(e: std::io::Error) -> C360Error {
    C360Error::io("writing to the terminal".to_string(), e)
}
