//! The commands the binary knows, as plain values: the command line parses one, the configuration
//! asks which settings it takes, and `commands` runs it.

use clap_complete::Shell;

/// What to do; `produce` when no command is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Generate, serialize and produce shoes (the default command).
    Produce,
    /// Connect to Kafka and the Schema Registry and print what was reached.
    Check,
    /// Register (or look up) the schema for the subject and print its id.
    Register,
    /// Print generated shoes as JSON lines; no network.
    Sample,
    /// Print a shell completion script.
    Completions(Shell),
    /// Print the man page (roff), for packaging.
    Man,
}

impl Command {
    /// The commands that take settings, in the order `--help` lists them.
    pub(crate) const WITH_SETTINGS: [Command; 4] = [
        Command::Produce,
        Command::Check,
        Command::Register,
        Command::Sample,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Produce => "produce",
            Self::Check => "check",
            Self::Register => "register",
            Self::Sample => "sample",
            Self::Completions(_) => "completions",
            Self::Man => "man",
        }
    }
}
