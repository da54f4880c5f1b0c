//! Where an input ends: a meta command is one line starting with a backslash; SQL runs until a
//! `;` outside strings, quoted names and comments (SQL's tokenizer decides, so a `;` inside a
//! string does not end a statement).

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// Whether `buffer` is a whole input: a meta command, nothing but blanks, or SQL whose last
/// token is a `;`.
pub fn is_complete(buffer: &str) -> bool {
    let trimmed = buffer.trim();
    if trimmed.is_empty() || trimmed.starts_with('\\') {
        return true;
    }
    match Tokenizer::new(&GenericDialect {}, buffer).tokenize() {
        // An unterminated string or quoted name: more is coming.
        Err(_) => false,
        Ok(tokens) => tokens
            .iter()
            .rev()
            .find(|t| !matches!(t, Token::Whitespace(_)))
            .is_some_and(|t| matches!(t, Token::SemiColon)),
    }
}

/// The inputs of a script (a file for `\i`, or what was piped in): each meta command line, and
/// the SQL between them as it comes, cut after each complete statement; a last statement
/// without its `;` is kept.
pub fn split(text: &str) -> Vec<String> {
    let mut inputs = Vec::new();
    let mut buffer = String::new();
    for line in text.lines() {
        if buffer.trim().is_empty() && line.trim_start().starts_with('\\') {
            inputs.push(line.trim().to_string());
            buffer.clear();
            continue;
        }
        buffer.push_str(line);
        buffer.push('\n');
        if is_complete(&buffer) {
            if !buffer.trim().is_empty() {
                inputs.push(std::mem::take(&mut buffer));
            }
            buffer.clear();
        }
    }
    if !buffer.trim().is_empty() {
        inputs.push(buffer);
    }
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_a_semicolon_outside_strings() {
        assert!(is_complete("SELECT 1;"));
        assert!(is_complete("SELECT 1; -- done"));
        assert!(!is_complete("SELECT 1"));
        assert!(!is_complete("SELECT ';"));
        assert!(!is_complete("SELECT 'a;b'"));
        assert!(is_complete("SELECT 'a;b';"));
        assert!(is_complete("\\d"));
        assert!(is_complete("   "));
        assert_eq!(
            split("\\timing\nSELECT 1;\nSELECT\n 2;\n\\x\nSELECT 'x;\ny';\n\\q\nSELECT 3"),
            vec![
                "\\timing".to_string(),
                "SELECT 1;\n".to_string(),
                "SELECT\n 2;\n".to_string(),
                "\\x".to_string(),
                "SELECT 'x;\ny';\n".to_string(),
                "\\q".to_string(),
                "SELECT 3\n".to_string(),
            ]
        );
    }
}
