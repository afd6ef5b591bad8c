//! The CLI's errors. Every one exits with code 2 and names the file (and line, when known).

use thiserror::Error;

/// A failure to read or analyze an input.
#[derive(Debug, Error)]
pub enum CliError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        file: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{0}")]
    Option(leaksense_core::InputError),
}
