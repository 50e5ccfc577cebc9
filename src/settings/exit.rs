//! The process exit contract: 0 all acked, 1 runtime failure, 2 bad usage or configuration, and
//! 128 + the signal's number when a second signal cuts the run short (130 SIGINT, 143 SIGTERM,
//! 129 SIGHUP: the code a shell reports for a process that signal killed). Every command returns a
//! [`Failure`] so `main` only maps it to a code and one line.

use std::fmt;

/// Why a command did not succeed, carrying the one-line message the user sees.
#[derive(Debug)]
pub enum Failure {
    /// Invalid usage or configuration, found before any network I/O. Exit code 2.
    Usage(String),
    /// Broker or registry unreachable, credentials rejected, or any record failed. Exit code 1.
    Runtime(String),
    /// Stopped at once by a second signal, whose number is given. Exit code 128 + that number.
    Interrupted { signal_number: u8, message: String },
}

impl Failure {
    pub fn usage(message: impl fmt::Display) -> Self {
        Self::Usage(message.to_string())
    }
    pub fn runtime(message: impl fmt::Display) -> Self {
        Self::Runtime(message.to_string())
    }
    /// A second signal (`signal_number`: 2 SIGINT, 15 SIGTERM, 1 SIGHUP) ended the run at once.
    pub fn interrupted(signal_number: u8, message: impl fmt::Display) -> Self {
        Self::Interrupted {
            signal_number,
            message: message.to_string(),
        }
    }
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Runtime(_) => 1,
            Self::Interrupted { signal_number, .. } => 128u8.saturating_add(*signal_number),
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Self::Usage(m) | Self::Runtime(m) | Self::Interrupted { message: m, .. } => m,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_maps_to_its_code() {
        assert_eq!(Failure::usage("x").exit_code(), 2);
        assert_eq!(Failure::runtime("x").exit_code(), 1);
        assert_eq!(Failure::interrupted(2, "x").exit_code(), 130);
        assert_eq!(Failure::interrupted(15, "x").exit_code(), 143);
        assert_eq!(Failure::interrupted(1, "x").exit_code(), 129);
        assert_eq!(Failure::interrupted(1, "gone").message(), "gone");
    }
}
