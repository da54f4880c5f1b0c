//! Running SQL text against the engine: statements are split by DataFusion's parser (a `;`
//! inside a string does not end a statement), planned and executed one by one, and results
//! are streamed to the chosen writer.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::print::{Format, PrintOptions, write_parquet};
use crate::Engine;
use crate::error::{C360Error, Result, strip_context};

/// Where results go.
pub enum Sink<'a> {
    /// Standard output.
    Stdout,
    /// A file, created or truncated.
    File(&'a Path),
}

impl Sink<'_> {
    /// Open for the `index`-th result: a file is truncated for the first and appended to after.
    fn open_for(&self, index: usize) -> Result<Box<dyn Write + Send>> {
        let Sink::File(path) = self else {
            return Ok(Box::new(BufWriter::new(std::io::stdout())));
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .append(index > 0)
            .truncate(index == 0)
            .open(path)
            .map_err(|e| {
                let action = if index == 0 { "creating" } else { "opening" };
                C360Error::io(format!("{action} output file {}", path.display()), e)
            })?;
        Ok(Box::new(BufWriter::new(file)))
    }
}

/// Run every statement in `sql`, printing each result that has columns; stops at the first
/// error, which names the statement and, when a source file is at fault, the file.
pub async fn run_sql(engine: &Engine, sql: &str, format: Format, sink: Sink<'_>) -> Result<()> {
    let statements = engine.workspace.config.engine.sql_limits().parse(sql)?;
    if format == Format::Parquet && matches!(sink, Sink::Stdout) {
        return Err(C360Error::Pipeline(
            "--format parquet needs --output FILE (Parquet is binary)".to_string(),
        ));
    }
    let count = statements.len();
    let mut written_parquet = false;
    let mut outputs = 0usize;
    for (index, statement) in statements.into_iter().enumerate() {
        let state = engine.ctx.state();
        let tables: Vec<String> = state
            .resolve_table_references(&statement)
            .map(|refs| refs.into_iter().map(|r| r.table().to_string()).collect())
            .unwrap_or_default();
        engine.check_sources(tables.iter().map(String::as_str))?;
        let outcome = async {
            let plan = state.statement_to_plan(statement).await?;
            let df = engine.ctx.execute_logical_plan(plan).await?;
            let has_columns = !df.schema().fields().is_empty();
            let stream = df.execute_stream().await?;
            Ok::<_, datafusion::error::DataFusionError>((has_columns, stream))
        }
        .await;
        let result = match outcome {
            Ok((false, _)) => Ok(()),
            Ok((true, stream)) => {
                if format == Format::Parquet && written_parquet {
                    return Err(C360Error::Pipeline(
                        "--format parquet writes one result; give one query".to_string(),
                    ));
                }
                written_parquet = format == Format::Parquet;
                let mut out = sink.open_for(outputs)?;
                outputs += 1;
                if format == Format::Parquet {
                    write_parquet(stream, out).await.map(|_| ())
                } else {
                    let options = PrintOptions::all_rows(format);
                    options.print(stream, &mut out, || ()).await.map(|_| ())
                }
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let message = failure_message(engine, &e, &tables, index, count).await;
            return Err(C360Error::Query(message));
        }
    }
    Ok(())
}

/// What to tell about a failed statement: DataFusion's message without its context chain,
/// which statement it was when there were several, and the source file at fault if one is.
pub async fn failure_message(
    engine: &Engine,
    error: &datafusion::error::DataFusionError,
    tables: &[String],
    index: usize,
    count: usize,
) -> String {
    let mut message = strip_context(error);
    if count > 1 {
        message = format!("statement {}: {message}", index + 1);
    }
    if let Some(diagnosis) = engine
        .diagnose_sources(tables.iter().map(String::as_str))
        .await
    {
        message = format!("{message}\n  cause: {diagnosis}");
    }
    message
}
