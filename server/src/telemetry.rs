//! Logging to stdout: readable on a terminal, JSON when asked.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Where log lines go: the server logs to stdout; operator commands log to stderr, so
/// their stdout carries only their result (a key, a JSON list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// Installs the global subscriber. `RUST_LOG` refines the default `info` level.
pub fn init(format: LogFormat, target: LogTarget) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match (format, target) {
        (LogFormat::Json, LogTarget::Stdout) => builder.json().flatten_event(true).with_writer(std::io::stdout).try_init(),
        (LogFormat::Json, LogTarget::Stderr) => builder.json().flatten_event(true).with_writer(std::io::stderr).try_init(),
        (LogFormat::Text, LogTarget::Stdout) => {
            builder.with_ansi(std::io::stdout().is_terminal()).with_writer(std::io::stdout).try_init()
        }
        (LogFormat::Text, LogTarget::Stderr) => {
            builder.with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr).try_init()
        }
    };
}
