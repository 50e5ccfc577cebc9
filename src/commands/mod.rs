//! What the binary can be asked to do, one module per command, and the one place that routes a
//! [`Command`] to its code: `produce` (the main job), the small tools around it that share its
//! configuration — `check`, `register`, `sample` — and `completions`/`man`, which need none.

mod check;
mod completions;
mod instance;
pub mod produce;
mod register;
mod sample;
mod stdout;

use crate::{app::command::Command, settings::exit::Failure, settings::Config};

/// Runs `command` with the resolved configuration.
pub async fn dispatch(command: Command, config: &Config) -> Result<(), Failure> {
    match command {
        Command::Produce => produce::produce(config).await.map(|_summary| ()),
        Command::Check => check::check(config).await,
        Command::Register => register::register(config).await,
        Command::Sample => sample::sample(config),
        Command::Completions(shell) => completions::completions(shell),
        Command::Man => completions::man(),
    }
}
