//! What the binary can be asked to do, one module per command, and the one place that routes a
//! [`Command`] to its code: `produce` (the main job), and the small tools around it that share its
//! configuration — `check`, `register`, `sample`.

pub mod check;
mod instance;
pub mod produce;
pub mod register;
pub mod sample;
mod sections;
mod stdout;

use crate::{app::cli::Command, app::exit::Failure, app::settings::Config};

/// Runs `command` with the resolved configuration.
pub async fn dispatch(command: Command, config: &Config) -> Result<(), Failure> {
    match command {
        Command::Produce => produce::produce(config).await.map(|_outcome| ()),
        Command::Check => check::check(config).await,
        Command::Register => register::register(config).await,
        Command::Sample => sample::sample(config),
    }
}
