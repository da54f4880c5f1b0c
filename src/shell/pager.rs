//! Results taller than the terminal go through a pager: $PAGER, else `less -FRSX` (which
//! quits at once when the text fits after all); without either they are printed as they are.

use std::io::Write;
use std::process::{Command, Stdio};

/// Show `text` on `screen`, through the pager when it is taller than the terminal.
pub fn show(text: &[u8], screen: &mut dyn Write) -> std::io::Result<()> {
    // A terminal that does not tell its size (some pseudo-terminals) is taken as 24 lines.
    let height = terminal_size::terminal_size()
        .map(|(_, h)| usize::from(h.0))
        .filter(|h| *h > 0)
        .or_else(|| std::env::var("LINES").ok()?.parse().ok())
        .unwrap_or(24);
    let lines = text.iter().filter(|b| **b == b'\n').count();
    if lines + 2 < height {
        return screen.write_all(text);
    }
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less -FRSX".to_string());
    let child = Command::new("sh")
        .arg("-c")
        .arg(&pager)
        .stdin(Stdio::piped())
        .spawn();
    match child {
        Ok(mut child) => {
            if let Some(mut stdin) = child.stdin.take() {
                // The user may quit the pager before reading everything.
                let _ = stdin.write_all(text);
            }
            child.wait().map(|_| ())
        }
        Err(_) => screen.write_all(text),
    }
}
