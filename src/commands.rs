//! The subcommands besides the main job, and the one place that routes a [`Command`] to its code.
//!
//! `produce` lives in `run` (the engine's job); `check`, `register` and `sample` are small tools
//! around it that share its configuration.

pub mod check;
pub mod register;
pub mod sample;

use crate::{cli::Command, exit::Failure, settings::Config};

/// Runs `command` with the resolved configuration.
pub async fn dispatch(command: Command, config: &Config) -> Result<(), Failure> {
    match command {
        Command::Produce => crate::run::produce(config).await.map(|_outcome| ()),
        Command::Check => check::check(config).await,
        Command::Register => register::register(config).await,
        Command::Sample => sample::sample(config),
    }
}
