//! `c360 shell`: SQL piped in runs as a script (meta commands and formats), the first error
//! ends it with a non-zero exit; on a terminal (a pseudo-terminal here) multi-line statements,
//! Tab completion, Ctrl-C cancelling a running query, Ctrl-D and the history file.

use std::io::Write;
use std::process::{Command, Stdio};

use super::common::repo;

/// Run `c360 shell` on the sample workspace with `script` on standard input.
fn piped(script: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_c360"))
        .args(["--workspace", &repo().display().to_string(), "shell"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("c360 shell starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script written");
    let output = child.wait_with_output().expect("c360 shell ends");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_piped_script_runs_meta_commands_and_formats() {
    let (code, out, err) = piped(
        "SELECT offer_id, name FROM offers\n  WHERE offer_id <= 2 ORDER BY offer_id;\n\
         \\format markdown\nSELECT offer_id, kind FROM offers WHERE offer_id = 3;\n\
         \\format csv\nSELECT 'a;b' AS text;\n\\format table\n\
         \\x\nSELECT offer_id, name, cost FROM offers WHERE offer_id = 1;\n\\x off\n\
         \\maxrows 2\nSELECT offer_id FROM offers ORDER BY offer_id;\n\
         \\d\n\\d offers\n\\df offer_up\n\\h allocate_offers\n\\h offer_uplift\n\\?\n\\q\nSELECT 'never';\n",
    );
    assert_eq!(code, 0, "{err}");
    for expected in [
        "| 1        | 15% off dry food      |",
        "+\n2 rows\n",
        "| offer_id | kind |\n| --- | --- |\n| 3 | sample |",
        "text\na;b\n",
        "-[ RECORD 1 ]",
        "name     | 15% off dry food",
        "2 rows shown, more not read",
        "| discount_pct | Float64",
        "offers: source, read from data/marketing/offers.csv",
        "offer_uplift  scalar",
        "offer_uplift(model, feature_1, ..., feature_n)\n",
        "Syntax: offer_uplift(model, feature_1, ..., feature_n)",
        "allocate_offers (table function)\n\nallocate_offers(candidates, budget [, max_offers])",
        "\\timing [on|off]",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // \d lists the sources (and whatever models this checkout has published).
    assert!(
        out.lines()
            .any(|l| l.starts_with("| offers ") && l.contains("| source ")),
        "no offers source in \\d:\n{out}"
    );
    assert!(!out.contains("never"), "ran past \\q:\n{out}");
}

#[test]
fn results_go_to_a_file_and_files_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let results = dir.path().join("results.csv");
    let script = dir.path().join("script.sql");
    std::fs::write(&script, "\\format csv\nSELECT 'from the file' AS origin;\n").expect("script");
    let (code, out, err) = piped(&format!(
        "\\o {}\n\\format csv\nSELECT 7 AS seven;\n\\o\n\\i {}\n",
        results.display(),
        script.display()
    ));
    assert_eq!(code, 0, "{err}");
    let written = std::fs::read_to_string(&results).expect("results file");
    assert_eq!(written, "seven\n7\n");
    assert!(!out.contains("seven\n7"), "{out}");
    assert!(out.contains("origin\nfrom the file\n"), "{out}");
}

#[test]
fn a_piped_script_stops_at_the_first_error() {
    let (code, out, err) = piped("SELECT 1 AS one;\nSELECT nope FROM offers;\nSELECT 2 AS two;\n");
    assert_eq!(code, 1);
    assert!(out.contains("one"), "{out}");
    assert!(!out.contains("two"), "{out}");
    assert!(err.contains("nope"), "{err}");
    let (code, _, err) = piped("\\frobnicate\n");
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown command \\frobnicate; \\? lists the commands"),
        "{err}"
    );
}

#[test]
fn on_a_terminal_lines_complete_cancel_and_are_remembered() {
    let history = tempfile::NamedTempFile::new().expect("history file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_c360"));
    command
        .args(["--workspace", &repo().display().to_string(), "shell"])
        .env("C360_HISTORY", history.path())
        .env("PAGER", "sed s/^/paged:/")
        .env("TERM", "xterm");
    let mut p = rexpect::session::spawn_command(command, Some(60_000)).expect("pty");
    p.exp_string("c360>").expect("prompt");
    // A statement over two lines.
    p.send_line("SELECT 40 +").expect("send");
    p.send_line("2 AS answer;").expect("send");
    p.exp_string("42").expect("the answer");
    p.exp_string("c360>").expect("prompt");
    // Tab completes a table name after FROM.
    p.send("SELECT contact_id FROM crm").expect("send");
    p.flush().expect("flush");
    p.send("\t").expect("tab");
    p.flush().expect("flush");
    p.exp_string("crm_contacts").expect("the completion shown");
    p.send_line(" LIMIT 0;").expect("send");
    p.exp_string("contact_id")
        .expect("completed to crm_contacts");
    p.exp_string("0 rows").expect("ran");
    p.exp_string("c360>").expect("prompt");
    // Ctrl-C cancels a long query and the shell stays.
    p.send_line("SELECT count(*) FROM generate_series(1, 100000000000);")
        .expect("send");
    // Past a second it shows its progress.
    p.exp_string("rows read").expect("a progress line");
    p.send_control('c').expect("ctrl-c");
    p.exp_string("Cancelled.").expect("cancelled");
    p.exp_string("c360>").expect("prompt");
    p.send_line("SELECT 'still here' AS status;").expect("send");
    p.exp_string("still here").expect("the shell stayed");
    // A result taller than the terminal goes through the pager; a parse error points at
    // its column.
    // (The editor drops what is typed ahead while a statement runs: wait for each prompt.)
    p.exp_string("c360>").expect("prompt");
    p.send_line("\\maxrows 0").expect("send");
    p.exp_string("Showing at most 0 rows").expect("maxrows");
    p.exp_string("c360>").expect("prompt");
    p.send_line("SELECT value FROM generate_series(1, 200) AS g(value);")
        .expect("send");
    p.exp_string("paged:| 200").expect("paged");
    p.exp_string("c360>").expect("prompt");
    p.send_line("SELECT 1 FROM offers x y;").expect("send");
    p.exp_string("found: y at Line: 1, Column: 24")
        .expect("the error");
    p.exp_string("^").expect("a caret");
    // Ctrl-D quits.
    p.exp_string("c360>").expect("prompt");
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("exit");
    let remembered = std::fs::read_to_string(history.path()).expect("history");
    assert!(remembered.contains("AS answer;"), "{remembered}");
    assert!(remembered.contains("still here"), "{remembered}");
}
