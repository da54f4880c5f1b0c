//! sqllogictest runner: every `tests/sqllogictests/**/*.slt` file runs against the engine facade
//! opened on the embedded sample workspace (with a private, empty output folder so that local
//! `c360 run` outputs never change the results, and a private models folder for the models the
//! tests fit).
//!
//! `cargo test --test sqllogictests` checks; `cargo test --test sqllogictests -- --complete`
//! rewrites the expected output in place. Extra arguments filter files by path substring.

use std::path::{Path, PathBuf};

use c360::{Engine, Workspace};
use datafusion_sqllogictest::{DataFusion, df_value_validator, value_normalizer};
use indicatif::ProgressBar;
use sqllogictest::strict_column_validator;

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

async fn engine(scratch: &Path) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut workspace = Workspace::load(root).expect("the sample workspace loads");
    workspace.config.pipeline.output = scratch.display().to_string();
    // Models fitted by a test go to the scratch folder, never into the repository's models/.
    workspace.config.pipeline.models = scratch.join("models").display().to_string();
    Engine::open(&workspace)
        .await
        .expect("the sample workspace opens")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let complete = args.iter().any(|a| a == "--complete");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sqllogictests");
    let mut files = Vec::new();
    slt_files(&root, &mut files);
    files.sort();
    files.retain(|f| {
        filters.is_empty()
            || filters
                .iter()
                .any(|p| f.to_string_lossy().contains(p.as_str()))
    });

    let mut failures = Vec::new();
    for path in &files {
        let relative = path.strip_prefix(&root).unwrap_or(path).to_path_buf();
        let scratch = tempfile::tempdir().expect("a temp dir");
        let ctx = engine(scratch.path()).await.ctx;
        let make = {
            let relative = relative.clone();
            move || {
                let ctx = ctx.clone();
                let relative = relative.clone();
                async move { Ok(DataFusion::new(ctx, relative, ProgressBar::hidden())) }
            }
        };
        let mut runner = sqllogictest::Runner::new(make);
        runner.with_column_validator(strict_column_validator);
        runner.with_normalizer(value_normalizer);
        runner.with_validator(df_value_validator);
        let result = if complete {
            runner
                .update_test_file(
                    path,
                    " ",
                    df_value_validator,
                    value_normalizer,
                    strict_column_validator,
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            runner.run_file_async(path).await.map_err(|e| e.to_string())
        };
        match result {
            Ok(()) => println!("ok      {}", relative.display()),
            Err(e) => {
                println!("FAILED  {}", relative.display());
                failures.push(format!("{}:\n{e}", relative.display()));
            }
        }
    }
    if files.is_empty() {
        eprintln!("no .slt files found under {}", root.display());
        std::process::exit(1);
    }
    if !failures.is_empty() {
        eprintln!("\n{}", failures.join("\n\n"));
        eprintln!(
            "{} of {} sqllogictest files failed",
            failures.len(),
            files.len()
        );
        std::process::exit(1);
    }
    println!("{} sqllogictest files passed", files.len());
}
