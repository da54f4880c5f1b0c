//! The shell's meta commands, psql-style: `\d`, `\d NAME`, `\df [PATTERN]`, `\h FUNCTION`,
//! `\timing`, `\format`, `\x`, `\o`, `\i`, `\maxrows`, `\q`, `\?`.

use std::io::Write;
use std::path::PathBuf;

use datafusion::logical_expr::Documentation;

use super::print::Format;
use super::session::{Flow, Shell};
use crate::error::{C360Error, Result};
use crate::values::quote_literal;

/// The commands with their help line.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "\\d",
        "list tables (sources, published models, tables made here) with row counts",
    ),
    (
        "\\d NAME",
        "columns and types of a table, and where it is read from",
    ),
    (
        "\\df [PATTERN]",
        "functions whose name contains PATTERN, with their description",
    ),
    ("\\h FUNCTION", "a function's syntax, arguments and example"),
    ("\\timing [on|off]", "print each statement's elapsed time"),
    ("\\format NAME", "table, csv, json, ndjson or markdown"),
    (
        "\\x [on|off]",
        "expanded display: one column | value block per row",
    ),
    (
        "\\maxrows N",
        "rows shown at most by the table displays (0: all)",
    ),
    (
        "\\o [FILE]",
        "send results to FILE (appended); without FILE back to the screen",
    ),
    ("\\i FILE", "run the statements and commands of FILE"),
    ("\\q", "quit (also Ctrl-D)"),
    ("\\?", "this help"),
];

/// Run meta command `line` (starting with a backslash).
pub async fn run(shell: &mut Shell, line: &str, out: &mut dyn Write) -> Result<Flow> {
    let line = line.trim_end_matches(';').trim();
    let (command, argument) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    let say = |out: &mut dyn Write, text: &str| -> Result<()> {
        writeln!(out, "{text}").map_err(|e| C360Error::io("writing to the terminal", e))
    };
    match command {
        "\\q" | "\\quit" => return Ok(Flow::Quit),
        "\\?" | "\\help" => {
            let width = COMMANDS.iter().map(|c| c.0.len()).max().unwrap_or(0);
            let mut text = String::from("Meta commands (SQL statements end with ;):\n");
            for (c, help) in COMMANDS {
                text.push_str(&format!("  {c:width$}  {help}\n"));
            }
            say(out, text.trim_end())?;
        }
        "\\timing" => {
            shell.settings.timing = toggle(command, argument, shell.settings.timing)?;
            say(
                out,
                &format!("Timing is {}.", on_off(shell.settings.timing)),
            )?;
        }
        "\\x" => {
            shell.settings.expanded = toggle(command, argument, shell.settings.expanded)?;
            say(
                out,
                &format!("Expanded display is {}.", on_off(shell.settings.expanded)),
            )?;
        }
        "\\format" => {
            if argument.is_empty() {
                say(
                    out,
                    &format!("Format is {:?}.", shell.settings.format).to_lowercase(),
                )?;
            } else {
                let format = argument
                    .parse::<Format>()
                    .ok()
                    .filter(|f| *f != Format::Parquet);
                shell.settings.format = format.ok_or_else(|| {
                    C360Error::Query(format!(
                        "\\format {argument}: unknown format; use one of {} (Parquet is \
                         written to a file by c360 query --format parquet --output FILE)",
                        Format::screen_names().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                say(out, &format!("Format is {}.", argument.to_lowercase()))?;
            }
        }
        "\\pager" => {
            shell.settings.pager = toggle(command, argument, shell.settings.pager)?;
            say(out, &format!("Pager is {}.", on_off(shell.settings.pager)))?;
        }
        "\\maxrows" => {
            let n: usize = argument.parse().map_err(|_| {
                C360Error::Query(format!(
                    "\\maxrows {argument}: give a whole number of rows (0 shows all)"
                ))
            })?;
            shell.settings.max_rows = n;
            say(out, &format!("Showing at most {n} rows (0: all)."))?;
        }
        "\\o" => {
            if argument.is_empty() {
                shell.settings.output = None;
                say(out, "Results go to the screen.")?;
            } else {
                let path = PathBuf::from(argument);
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| C360Error::io(format!("opening output file {argument}"), e))?;
                say(out, &format!("Results go to {argument}."))?;
                shell.settings.output = Some(path);
            }
        }
        "\\i" => {
            if argument.is_empty() {
                return Err(C360Error::Query("\\i needs a file: \\i FILE".into()));
            }
            let text = std::fs::read_to_string(argument)
                .map_err(|e| C360Error::io(format!("reading {argument}"), e))?;
            for input in super::input::split(&text) {
                if shell.run(&input, out).await? == Flow::Quit {
                    return Ok(Flow::Quit);
                }
            }
        }
        "\\d" => {
            if argument.is_empty() {
                list_tables(shell, out).await?;
            } else {
                describe_table(shell, argument, out).await?;
            }
        }
        "\\df" => say(out, &list_functions(shell, argument))?,
        "\\h" => {
            if argument.is_empty() {
                return Err(C360Error::Query(
                    "\\h needs a function name: \\h FUNCTION (\\df lists them)".into(),
                ));
            }
            say(out, &function_help(shell, argument)?)?;
        }
        other => {
            return Err(C360Error::Query(format!(
                "unknown command {other}; \\? lists the commands"
            )));
        }
    }
    Ok(Flow::Continue)
}

fn on_off(v: bool) -> &'static str {
    if v { "on" } else { "off" }
}

fn toggle(command: &str, argument: &str, current: bool) -> Result<bool> {
    match argument.to_ascii_lowercase().as_str() {
        "" => Ok(!current),
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(C360Error::Query(format!(
            "{command} {other}: use on or off (or nothing to switch)"
        ))),
    }
}

async fn list_tables(shell: &mut Shell, out: &mut dyn Write) -> Result<()> {
    let rows = crate::pipeline::publish::published_rows(&shell.engine).await;
    let mut values = Vec::new();
    for name in table_names(shell) {
        let kind = if shell.engine.sources.contains_key(&name) {
            "source"
        } else if shell.engine.published.contains(&name) {
            "model"
        } else {
            "table"
        };
        let count = rows
            .get(&name)
            .map_or("NULL".to_string(), |n| n.to_string());
        values.push(format!("({}, '{kind}', {count})", quote_literal(&name)));
    }
    if values.is_empty() {
        writeln!(out, "No tables.").map_err(|e| C360Error::io("writing", e))?;
        return Ok(());
    }
    let sql = format!(
        "SELECT name, kind, CAST(rows AS BIGINT) AS rows FROM (VALUES {}) AS t(name, kind, rows) \
         ORDER BY kind DESC, name",
        values.join(", ")
    );
    all_rows(shell, &sql, out).await
}

/// Run `sql` showing every row whatever `\maxrows` says.
async fn all_rows(shell: &mut Shell, sql: &str, out: &mut dyn Write) -> Result<()> {
    let rows = shell.settings.max_rows;
    shell.settings.max_rows = 0;
    let result = shell.run_sql(sql, out).await;
    shell.settings.max_rows = rows;
    result
}

/// The tables of the session's default schema.
pub fn table_names(shell: &Shell) -> Vec<String> {
    let ctx = &shell.engine.ctx;
    let state = ctx.state();
    let options = state.config_options();
    let (catalog, schema) = (
        options.catalog.default_catalog.clone(),
        options.catalog.default_schema.clone(),
    );
    let mut names = ctx
        .catalog(&catalog)
        .and_then(|c| c.schema(&schema))
        .map(|s| s.table_names())
        .unwrap_or_default();
    names.sort();
    names
}

async fn describe_table(shell: &mut Shell, name: &str, out: &mut dyn Write) -> Result<()> {
    let provider = shell.engine.ctx.table_provider(name).await.map_err(|_| {
        C360Error::Query(format!("\\d {name}: no such table; \\d lists the tables"))
    })?;
    let schema = provider.schema();
    let values: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "({}, {}, {})",
                quote_literal(f.name()),
                quote_literal(&f.data_type().to_string()),
                f.is_nullable()
            )
        })
        .collect();
    let sql = format!(
        "SELECT column_name, data_type, is_nullable FROM (VALUES {}) AS t(column_name, data_type, is_nullable)",
        values.join(", ")
    );
    all_rows(shell, &sql, out).await?;
    let location = match shell.engine.sources.get(name) {
        Some(source) => format!("source, read from {}", source.location),
        None if shell.engine.published.iter().any(|p| p == name) => format!(
            "model sql/{name}.sql, published in {}",
            shell.engine.workspace.config.pipeline.output
        ),
        None => "a table made in this session".to_string(),
    };
    writeln!(out, "{name}: {location}").map_err(|e| C360Error::io("writing", e))
}

/// Every function of the session with its kind and documentation.
fn functions(shell: &Shell) -> Vec<(String, &'static str, Option<Documentation>)> {
    let state = shell.engine.ctx.state();
    let mut all: Vec<(String, &'static str, Option<Documentation>)> = Vec::new();
    for (name, f) in state.scalar_functions() {
        all.push((name.clone(), "scalar", f.documentation().cloned()));
    }
    for (name, f) in state.aggregate_functions() {
        all.push((name.clone(), "aggregate", f.documentation().cloned()));
    }
    for (name, f) in state.window_functions() {
        all.push((name.clone(), "window", f.documentation().cloned()));
    }
    for name in state.table_functions().keys() {
        all.push((name.clone(), "table", None));
    }
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    all.dedup_by(|a, b| a.0 == b.0);
    all
}

/// The name and signature of every function, for completion.
pub fn function_signatures(shell: &Shell) -> Vec<(String, String)> {
    functions(shell)
        .into_iter()
        .map(|(name, _, doc)| {
            let syntax = doc.map(|d| d.syntax_example).unwrap_or_default();
            (name, syntax)
        })
        .collect()
}

fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ") {
        Some(i) => text[..=i].to_string(),
        None => text,
    }
}

fn list_functions(shell: &Shell, pattern: &str) -> String {
    let pattern = pattern.to_ascii_lowercase();
    let found: Vec<_> = functions(shell)
        .into_iter()
        .filter(|(name, _, _)| name.to_ascii_lowercase().contains(&pattern))
        .collect();
    if found.is_empty() {
        return format!("No function matches '{pattern}'.");
    }
    let width = found.iter().map(|f| f.0.len()).max().unwrap_or(0);
    let mut text = String::new();
    for (name, kind, doc) in &found {
        let syntax = doc
            .as_ref()
            .map(|d| d.syntax_example.clone())
            .unwrap_or_default();
        let description = match doc {
            Some(d) => first_sentence(&d.description),
            None => crate::functions::registry::entry(name)
                .and_then(|e| e.usage)
                .map(|u| {
                    let text = first_sentence(u);
                    match text.char_indices().nth(120) {
                        Some((i, _)) => format!("{}...", &text[..i]),
                        None => text,
                    }
                })
                .unwrap_or_default(),
        };
        text.push_str(&format!("{name:width$}  {kind:9}  {description}\n"));
        if !syntax.is_empty() {
            text.push_str(&format!("{:width$}             {syntax}\n", ""));
        }
    }
    text.push_str(&format!(
        "{} function{}; \\h NAME shows one with its example.",
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    ));
    text
}

fn function_help(shell: &Shell, name: &str) -> Result<String> {
    let wanted = name.trim_end_matches("()").to_ascii_lowercase();
    let Some((name, kind, doc)) = functions(shell).into_iter().find(|f| f.0 == wanted) else {
        return Err(C360Error::Query(format!(
            "\\h {name}: no such function; \\df {name} searches for similar names"
        )));
    };
    let Some(doc) = doc else {
        let usage = crate::functions::registry::entry(&name)
            .and_then(|e| e.usage)
            .map_or("no documentation".to_string(), |u| {
                u.split_whitespace().collect::<Vec<_>>().join(" ")
            });
        return Ok(format!("{name} ({kind} function)\n\n{usage}"));
    };
    let mut text = format!(
        "{name} ({kind} function)\n\n{}\n\nSyntax: {}\n",
        doc.description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        doc.syntax_example
    );
    if let Some(arguments) = &doc.arguments {
        text.push_str("\nArguments:\n");
        for (argument, description) in arguments {
            text.push_str(&format!("  {argument}: {description}\n"));
        }
    }
    if let Some(example) = &doc.sql_example {
        text.push_str(&format!(
            "\nExample:\n{}\n",
            example
                .trim_start_matches("```sql")
                .trim_end_matches("```")
                .trim()
        ));
    }
    Ok(text.trim_end().to_string())
}
