//! The process exit contract: 0 all acked, 1 runtime failure, 2 bad usage or configuration, 130 a
//! second signal. Every command returns a [`Failure`] so `main` only maps it to a code and one line.

use std::fmt;

/// Why a command did not succeed, carrying the one-line message the user sees.
#[derive(Debug)]
pub enum Failure {
    /// Invalid usage or configuration, found before any network I/O. Exit code 2.
    Usage(String),
    /// Broker or registry unreachable, credentials rejected, or any record failed. Exit code 1.
    Runtime(String),
    /// Stopped at once by a second signal. Exit code 130.
    Interrupted(String),
}

impl Failure {
    pub fn usage(message: impl fmt::Display) -> Self {
        Self::Usage(message.to_string())
    }
    pub fn runtime(message: impl fmt::Display) -> Self {
        Self::Runtime(message.to_string())
    }
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Runtime(_) => 1,
            Self::Interrupted(_) => 130,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Self::Usage(m) | Self::Runtime(m) | Self::Interrupted(m) => m,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Failure {}
