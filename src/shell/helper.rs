//! The line editor's helper: a statement is complete at its `;` (see [`super::input`]), and Tab
//! completes from the context: file paths inside quotes, table names after FROM / JOIN / INTO /
//! TABLE / DESCRIBE and `\d`, format names after `\format`, otherwise the columns of the tables
//! the statement names, then functions (shown with their signature), tables and keywords.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::meta::COMMANDS;
use super::print::Format;

/// What completion knows of the session, refreshed after each input.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Table names and their columns.
    pub tables: BTreeMap<String, Vec<String>>,
    /// Function names and their signatures.
    pub functions: Vec<(String, String)>,
}

/// The helper given to rustyline.
pub struct SqlHelper {
    pub vocabulary: Arc<Mutex<Vocabulary>>,
    files: FilenameCompleter,
}

impl SqlHelper {
    pub fn new(vocabulary: Arc<Mutex<Vocabulary>>) -> Self {
        Self {
            vocabulary,
            files: FilenameCompleter::new(),
        }
    }
}

/// Keywords after which a table name comes.
const TABLE_CONTEXT: &[&str] = &["FROM", "JOIN", "INTO", "TABLE", "DESCRIBE", "UPDATE", "\\D"];

impl Completer for SqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        // Inside a string: a file path.
        if before.matches('\'').count() % 2 == 1 {
            return self.files.complete(line, pos, ctx);
        }
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '\\'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        let previous = before[..start]
            .split_whitespace()
            .last()
            .unwrap_or("")
            .to_ascii_uppercase();
        let vocabulary = self
            .vocabulary
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default();
        let lower = word.to_ascii_lowercase();
        let matches = |candidate: &str| candidate.to_ascii_lowercase().starts_with(&lower);
        let plain = |s: &str| Pair {
            display: s.to_string(),
            replacement: s.to_string(),
        };
        let matching_tables = || {
            vocabulary
                .tables
                .keys()
                .filter(move |t| matches(t))
                .map(move |t| plain(t))
        };
        let mut out: Vec<Pair> = Vec::new();
        if word.starts_with('\\') {
            for (command, help) in COMMANDS {
                let name = command.split_whitespace().next().unwrap_or(command);
                if matches(name) && !out.iter().any(|p| p.replacement == name) {
                    out.push(Pair {
                        display: format!("{command}  {help}"),
                        replacement: name.to_string(),
                    });
                }
            }
            return Ok((start, out));
        }
        if previous == "\\FORMAT" {
            out.extend(Format::screen_names().filter(|n| matches(n)).map(plain));
            return Ok((start, out));
        }
        if TABLE_CONTEXT.contains(&previous.as_str()) {
            out.extend(matching_tables());
            return Ok((start, out));
        }
        // Columns of the tables this statement names.
        let named: Vec<&String> = vocabulary
            .tables
            .keys()
            .filter(|t| {
                line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w.eq_ignore_ascii_case(t))
            })
            .collect();
        for table in named {
            for column in &vocabulary.tables[table] {
                if matches(column) && !out.iter().any(|p| &p.replacement == column) {
                    out.push(plain(column));
                }
            }
        }
        if word.is_empty() {
            return Ok((start, out));
        }
        for (name, signature) in &vocabulary.functions {
            if matches(name) {
                out.push(Pair {
                    display: if signature.is_empty() {
                        format!("{name}()")
                    } else {
                        signature.clone()
                    },
                    replacement: format!("{name}("),
                });
            }
        }
        out.extend(matching_tables());
        let upper = word.chars().next().is_some_and(char::is_uppercase);
        for keyword in ALL_KEYWORDS {
            if matches(keyword) {
                out.push(plain(&if upper {
                    keyword.to_string()
                } else {
                    keyword.to_ascii_lowercase()
                }));
            }
        }
        Ok((start, out))
    }
}

impl Validator for SqlHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if super::input::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Hinter for SqlHelper {
    type Hint = String;
}

impl Highlighter for SqlHelper {}

impl Helper for SqlHelper {}
