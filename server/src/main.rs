//! `tollgate`: the plan, quota and license server.

use clap::Parser;
use server::config::{Cli, Command};
use std::process::ExitCode;

/// Server-side rendering allocates heavily across threads; glibc's malloc was a quarter of
/// the dashboard's CPU profile under load. mimalloc: see BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The settings file becomes environment variables before the flags are read, so the
    // flags and the environment win over it.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(err) = server::config::apply_config_file(&args) {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    let target = match cli.command {
        Command::Serve(_) => server::telemetry::LogTarget::Stdout,
        _ => server::telemetry::LogTarget::Stderr,
    };
    server::telemetry::init(cli.log_format, target);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => server::serve(args).await,
            Command::Seed(args) => server::seed(args).await,
            Command::Account(command) => server::commands::account(command).await,
            Command::User(command) => server::commands::user(command).await,
            Command::Key(command) => server::commands::key(command).await,
            Command::Audit(command) => server::commands::audit(command).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain: "cannot load … : plan catalog x, line 3, …".
            eprintln!("error: {err:#}");
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}
