//! `c360 shell`: the interactive loop on a terminal (line editing, multi-line statements,
//! completion, persistent history, Ctrl-C cancels the running query, Ctrl-D quits), or, when
//! standard input is not a terminal, the script it carries, stopping at the first error.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use super::helper::{SqlHelper, Vocabulary};
use super::meta::{function_signatures, table_names};
use super::session::{Flow, Shell};
use crate::error::{C360Error, Result};

/// Run the shell on standard input; the result is an error when a piped script failed.
pub fn run(shell: Shell, runtime: &tokio::runtime::Runtime) -> Result<()> {
    if std::io::stdin().is_terminal() {
        interactive(shell, runtime)
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| C360Error::io("reading standard input", e))?;
        script(shell, runtime, &text)
    }
}

/// Run a script: every input in turn; the first error ends it.
pub fn script(mut shell: Shell, runtime: &tokio::runtime::Runtime, text: &str) -> Result<()> {
    let mut out = std::io::stdout();
    for input in super::input::split(text) {
        if runtime.block_on(shell.run(&input, &mut out))? == Flow::Quit {
            break;
        }
    }
    Ok(())
}

/// Where the history is kept: `C360_HISTORY`, else the user's data folder.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("C360_HISTORY") {
        return Some(PathBuf::from(path));
    }
    let dir = dirs::data_dir()?.join("c360");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history.txt"))
}

/// What completion should know now.
fn refresh(shell: &Shell, runtime: &tokio::runtime::Runtime, vocabulary: &Mutex<Vocabulary>) {
    let mut tables = std::collections::BTreeMap::new();
    for name in table_names(shell) {
        let columns = runtime
            .block_on(shell.engine.ctx.table_provider(name.as_str()))
            .map(|p| {
                p.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect()
            })
            .unwrap_or_default();
        tables.insert(name, columns);
    }
    let functions = function_signatures(shell);
    if let Ok(mut v) = vocabulary.lock() {
        *v = Vocabulary { tables, functions };
    }
}

fn interactive(mut shell: Shell, runtime: &tokio::runtime::Runtime) -> Result<()> {
    shell.settings.terminal = std::io::stdout().is_terminal();
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<SqlHelper, DefaultHistory> = Editor::with_config(config)
        .map_err(|e| C360Error::Query(format!("cannot start the line editor: {e}")))?;
    let vocabulary = Arc::new(Mutex::new(Vocabulary::default()));
    editor.set_helper(Some(SqlHelper::new(Arc::clone(&vocabulary))));
    let history = history_path();
    if let Some(path) = &history {
        // A first session has no history yet.
        let _ = editor.load_history(path);
    }
    println!(
        "c360 shell on {} — statements end with ;, \\? lists the commands, Ctrl-D quits.",
        shell.engine.workspace.root.display()
    );
    loop {
        refresh(&shell, runtime, &vocabulary);
        match editor.readline("c360> ") {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                if let Some(path) = &history {
                    let _ = editor.append_history(path);
                }
                let mut out = std::io::stdout();
                let outcome = runtime.block_on(async {
                    tokio::select! {
                        result = shell.run(&line, &mut out) => Some(result),
                        _ = tokio::signal::ctrl_c() => None,
                    }
                });
                match outcome {
                    None => eprintln!("Cancelled."),
                    Some(Ok(Flow::Quit)) => break,
                    Some(Ok(Flow::Continue)) => {}
                    Some(Err(e)) => eprintln!("error: {e}"),
                }
                let _ = out.flush();
            }
            // Ctrl-C at the prompt clears the line, as in psql.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(C360Error::Query(format!("reading the terminal: {e}"))),
        }
    }
    Ok(())
}
