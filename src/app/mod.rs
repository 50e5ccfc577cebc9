//! The application's edge: the command line, the configuration it resolves into plain settings
//! (flags > environment > `--config` file > defaults, validated in one place) and logging.
//! Everything below this layer receives typed settings and never parses user input.

mod build_info;
pub mod cli;
pub mod command;
pub mod config;
pub mod logging;
