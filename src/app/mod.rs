//! The application's edge: the command line, the configuration it resolves into plain settings,
//! the exit-code contract and logging. Everything below this layer receives typed settings and never
//! parses user input.

mod build_info;
pub mod cli;
pub mod config;
pub mod exit;
pub mod logging;
pub mod settings;
pub mod values;
