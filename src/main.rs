//! The `c360` binary: parse arguments, start logging, dispatch a subcommand, map errors to
//! exit codes (1 for a failed query or run, 2 for bad configuration or usage).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use c360::config::Workspace;
use c360::error::C360Error;
use c360::shell::print::Format;
use c360::shell::statements::{Sink, run_sql};
use c360::sql_limits::PLANNING_STACK;
use c360::{Engine, generate, pipeline};
use clap::{Parser, Subcommand};

/// mimalloc, as datafusion-cli uses: it hands freed memory back to the system, where glibc's
/// allocator kept a big model's peak resident long after the model finished (the memory
/// limit bounds what operators hold, and resident memory must follow it down). Built without
/// transparent huge pages (`no_thp`): with them, every page mimalloc takes back from the system
/// faulted in as 2 MiB zeroed by the kernel — 60% of `next_best_offer`'s time over 10 million
/// pairs, and twice the resident memory of a scoring query.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// c360: an embedded customer-360 query engine on Apache DataFusion.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Workspace folder holding c360.toml (default: the current folder).
    #[arg(short, long, global = true, env = "C360_WORKSPACE")]
    workspace: Option<PathBuf>,

    /// Run queries on this Ballista cluster (`df://host:port`, a `c360 scheduler`); overrides
    /// [engine] cluster.
    #[arg(long, global = true, env = "C360_CLUSTER")]
    cluster: Option<String>,

    /// Log more (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a sample workspace's data (pet-supply shop) with ground truth.
    Generate {
        /// Number of people to simulate.
        #[arg(long, default_value_t = 3000)]
        customers: u64,
        /// Random seed; the same seed gives the same files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output folder (its `truth/` subfolder holds the ground truth).
        #[arg(long)]
        out: PathBuf,
        /// Add the day after the last one generated in --out (new records and events of the
        /// same people, deterministic for the folder's seed) instead of generating the history.
        #[arg(long, conflicts_with_all = ["customers", "seed"])]
        next_day: bool,
    },
    /// Build the SQL models in dependency order and publish them.
    Run {
        /// Only these models, or every model of a folder such as `staging/` (their upstream
        /// models must have been published before); a model named here is rebuilt even when
        /// its [models.NAME] every would keep it.
        #[arg(long, num_args = 1..)]
        select: Vec<String>,
        /// Rebuild incremental models ([models.NAME] kind = "append" or "merge") whole instead
        /// of only their new rows (models kept by their `every` stay, and so do the rows of
        /// partial models they were trained on).
        #[arg(long)]
        full_refresh: bool,
    },
    /// Train the match model of a [matching.NAME] and save it (prints its parameters); the
    /// same as SELECT * FROM train_match_model('NAME').
    Train {
        /// The [matching.NAME] of c360.toml.
        name: String,
    },
    /// Score a published result against ground truth (`identity`: the identity graph).
    Eval {
        /// What to evaluate.
        #[arg(value_enum)]
        what: EvalTarget,
        /// Folder of the truth (Parquet with source, record_id, person_id).
        #[arg(long, default_value = "data/truth/record_person")]
        truth: PathBuf,
    },
    /// The interactive SQL shell (psql-style meta commands: \? lists them); SQL piped into it
    /// runs as a script that stops at the first error.
    Shell,
    /// Serve the workspace over Arrow Flight SQL (BI tools, ADBC, JDBC), with the
    /// [schedules] of c360.toml refreshing the models in the background.
    Serve {
        /// Address to listen on (overrides [server] addr), e.g. 0.0.0.0:50051; port 0 picks
        /// a free one.
        #[arg(long)]
        addr: Option<String>,
    },
    /// Run SQL statements and print the results.
    Query {
        /// SQL text (several statements separated by ';').
        #[arg(short = 'c', long = "command", conflicts_with = "file")]
        command: Option<String>,
        /// A file of SQL statements.
        #[arg(short, long)]
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write results to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// A Ballista scheduler for a c360 cluster (`--cluster df://HOST:PORT` sends queries to
    /// it): every c360 function is known to the sessions it plans in.
    Scheduler(c360::cluster::scheduler::SchedulerOptions),
    /// A Ballista executor for a c360 cluster, with every c360 function, the workspace's
    /// object stores and its memory limit; it registers with the scheduler.
    Executor(c360::cluster::executor::ExecutorOptions),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EvalTarget {
    /// identity_graph: pairwise and cluster precision, recall, F1.
    Identity,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose, matches!(cli.command, Command::Serve { .. }));
    // Every thread that may parse or plan SQL has the planning stack: the main thread (which
    // drives the runtime) and the runtime's workers.
    let main = std::thread::Builder::new()
        .name("c360-main".to_string())
        .stack_size(PLANNING_STACK)
        .spawn(move || run_main(cli));
    match main.map(|thread| thread.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            ExitCode::from(1)
        }
    }
}

fn run_main(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(PLANNING_STACK)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = if matches!(cli.command, Command::Shell) {
        // The shell drives the runtime itself, between reading lines.
        shell(&cli, &runtime).map(|()| ExitCode::SUCCESS)
    } else {
        runtime.block_on(dispatch(cli))
    };
    // Work still on the blocking threads (a training cancelled mid-way) does not hold up the
    // exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", said_once(&e));
            let config_error = e
                .downcast_ref::<C360Error>()
                .is_some_and(|e| matches!(e, C360Error::Config { .. }));
            ExitCode::from(if config_error { 2 } else { 1 })
        }
    }
}

/// The last line of a server; standard output may be gone by then (a closed pipe), which is
/// no reason to fail.
fn say_stopped(line: &str) {
    use std::io::Write as _;
    writeln!(std::io::stdout(), "{line}").ok();
}

/// SIGINT (Ctrl-C) or SIGTERM, whichever comes first.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    tokio::signal::ctrl_c().await.ok();
}

/// The error with its causes, each said once: a cause whose text the message already holds
/// (DataFusion's and the SQL parser's errors repeat their source in their own text) is left out.
fn said_once(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn init_tracing(verbose: u8, serving: bool) {
    let default = match verbose {
        // A server logs one line per query and per scheduled run.
        0 if serving => "warn,c360::query=info,c360::flight=info",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| pipeline::progress::LogWriter)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn shell(cli: &Cli, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    let workspace = open_workspace(&workspace_dir(cli)?, &cli.cluster, Optional::Yes)?;
    let engine = runtime.block_on(Engine::open(&workspace))?;
    c360::shell::repl::run(c360::shell::session::Shell::new(engine), runtime)?;
    Ok(())
}

/// Whether a folder without c360.toml is a workspace with default settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Optional {
    Yes,
    No,
}

/// The workspace of `dir` (absolute: cluster nodes read the same paths), with `--cluster`
/// applied.
fn open_workspace(
    dir: &std::path::Path,
    cluster: &Option<String>,
    optional: Optional,
) -> anyhow::Result<Workspace> {
    let mut workspace =
        if optional == Optional::Yes && !dir.join(c360::config::CONFIG_FILE).exists() {
            let root = std::path::absolute(dir)
                .with_context(|| format!("cannot resolve the folder {}", dir.display()))?;
            Workspace::empty(&root)
        } else {
            Workspace::load(dir)?
        };
    if let Some(url) = cluster {
        c360::cluster::scheduler_url(url).map_err(|message| C360Error::Config {
            file: workspace.root.join(c360::config::CONFIG_FILE),
            message: format!("--cluster: {message}"),
        })?;
        workspace.config.engine.cluster = Some(url.clone());
    }
    Ok(workspace)
}

fn workspace_dir(cli: &Cli) -> anyhow::Result<PathBuf> {
    match &cli.workspace {
        Some(dir) => Ok(dir.clone()),
        None => std::env::current_dir().context("cannot read the current folder"),
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let dir = workspace_dir(&cli)?;
    match cli.command {
        Command::Generate {
            customers,
            seed,
            out,
            next_day,
        } => {
            let stats = if next_day {
                generate::next_day(&out)?
            } else {
                generate::generate(&generate::GenerateOptions {
                    customers,
                    seed,
                    out: out.clone(),
                })?
            };
            println!("{}", stats.render(&out));
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            select,
            full_refresh,
        } => {
            let workspace = open_workspace(&dir, &cli.cluster, Optional::No)?;
            let engine = Engine::open(&workspace).await?;
            let pool = engine.ctx.runtime_env().memory_pool.clone();
            let progress = pipeline::progress::TerminalProgress::on_stderr(pool)
                .map(|p| Arc::new(p) as Arc<dyn pipeline::progress::Progress>);
            let summary = pipeline::run(
                &engine,
                &pipeline::RunOptions {
                    select,
                    all_or_nothing: false,
                    progress,
                    full_refresh,
                },
            )
            .await?;
            println!("{}", summary.render());
            Ok(if summary.failed() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Serve { addr } => {
            let workspace = open_workspace(&dir, &cli.cluster, Optional::No)?;
            let running = c360::flight::serve(&workspace, addr.as_deref()).await?;
            let scheme = if running.tls { "grpc+tls" } else { "grpc" };
            // The first line of standard output names the address (tests and scripts read it).
            println!("c360 serve: listening on {scheme}://{}", running.addr);
            use std::io::Write as _;
            std::io::stdout().flush().ok();
            stop_signal().await;
            let (pending, queries) = running.server.counts();
            tracing::info!(queries, pending, "c360 serve: stopping");
            // Every query is cancelled (its client gets CANCELLED), then the listener closes.
            running.server.cancel_all();
            if tokio::time::timeout(std::time::Duration::from_secs(3), running.stop())
                .await
                .is_err()
            {
                tracing::warn!("c360 serve: calls still open after 3 s are dropped");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Train { name } => {
            let workspace = open_workspace(&dir, &cli.cluster, Optional::No)?;
            let engine = Engine::open(&workspace).await?;
            let sql = format!(
                "SELECT * FROM train_match_model({})",
                c360::values::quote_literal(&name)
            );
            run_sql(&engine, &sql, Format::Table, Sink::Stdout).await?;
            let path = workspace
                .root
                .join(&engine.workspace.config.matching[&name].model);
            println!("model saved to {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { what, truth } => {
            let workspace = open_workspace(&dir, &cli.cluster, Optional::No)?;
            let engine = Engine::open(&workspace).await?;
            let truth = if truth.is_absolute() {
                truth
            } else {
                workspace.root.join(truth)
            };
            match what {
                EvalTarget::Identity => {
                    print!("{}", c360::eval::identity(&engine, &truth).await?);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Scheduler(options) => {
            let workspace = open_workspace(&dir, &None, Optional::Yes)?;
            c360::cluster::scheduler::serve(
                &workspace,
                &options,
                |addr| {
                    // The first line of standard output names the address.
                    println!(
                        "c360 scheduler: listening on df://{addr} (Ballista {}, DataFusion {})",
                        ballista_core::BALLISTA_VERSION,
                        datafusion::DATAFUSION_VERSION
                    );
                    use std::io::Write as _;
                    std::io::stdout().flush().ok();
                },
                stop_signal(),
            )
            .await?;
            say_stopped("c360 scheduler: stopped");
            Ok(ExitCode::SUCCESS)
        }
        Command::Executor(options) => {
            let workspace = open_workspace(&dir, &None, Optional::Yes)?;
            let tasks = c360::cluster::executor::run(&workspace, &options, |started| {
                let memory = started.memory_limit.map_or_else(
                    || "Ballista's default memory pool".to_string(),
                    |bytes| format!("memory pool {}", c360::memory::human(bytes)),
                );
                println!(
                    "c360 executor: listening on {} (Arrow Flight) and port {} (tasks), \
                     scheduler {}, {} task slots, {memory}, work folder {}",
                    started.flight,
                    started.grpc_port,
                    started.scheduler,
                    started.slots,
                    started.work_dir.display()
                );
                use std::io::Write as _;
                std::io::stdout().flush().ok();
            })
            .await?;
            say_stopped(&format!("c360 executor: stopped after {tasks} tasks"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Shell => unreachable!("the shell runs outside dispatch"),
        Command::Query {
            command,
            file,
            format,
            output,
        } => {
            let sql = match (command, file) {
                (Some(sql), _) => sql,
                (None, Some(file)) => std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read SQL file {}", file.display()))?,
                (None, None) => anyhow::bail!("give the SQL with -c 'SQL' or -f FILE"),
            };
            let workspace = open_workspace(&dir, &cli.cluster, Optional::Yes)?;
            let engine = Engine::open(&workspace).await?;
            let sink = match &output {
                Some(path) => Sink::File(path),
                None => Sink::Stdout,
            };
            run_sql(&engine, &sql, format, sink).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
