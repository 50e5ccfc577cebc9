//! Log output on stderr: human text or one JSON object per line (`--log-format`), its level from
//! `-v`/`-q` unless `RUST_LOG` says otherwise.
//!
//! Text is coloured as `--color` says; `auto` follows the conventions a user brings: colour on a
//! terminal, none when `NO_COLOR` is present and not empty (no-color.org). JSON is never coloured.
//!
//! stdout is kept for results (the summary, `sample`'s shoes, `register`'s id), so logs never mix
//! with what scripts parse. While a live progress bar is drawn, each log line briefly lifts the bar so
//! the two never garble each other. The final error line goes through [`print_failure`], which
//! prints regardless of the level, in the same format as the logs, and is the last line: a log line
//! that another thread writes after it is dropped, so scripts can read the outcome from the end.
//!
//! Logging never ends a run: a log line that cannot be written (stderr closed, a full disk, a
//! terminal gone with SIGHUP) is dropped, and nothing is reported about it — there is nowhere left
//! to report it, and the run's outcome is in its summary and exit code, not in its logs.

use std::{
    ffi::OsStr,
    io::{self, IsTerminal, Write},
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
};

use indicatif::ProgressBar;
use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

use crate::{
    settings::exit::Failure,
    settings::{ColorChoice, LogFormat},
};

/// The bar drawn on stderr right now, if any; log lines are written around it.
static ACTIVE_BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Set when the final error line is written; later log lines are dropped.
static FINAL_LINE_WRITTEN: AtomicBool = AtomicBool::new(false);

/// Why logging could not be set up (a bad `RUST_LOG`), reported as a usage error.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("RUST_LOG: invalid filter {} ({reason}); write e.g. RUST_LOG=info or RUST_LOG=shoe_producer=debug", crate::support::quoted::quoted(.value))]
    Filter { value: String, reason: String },
    #[error("logging was already set up")]
    AlreadySet,
}

impl From<LoggingError> for Failure {
    fn from(error: LoggingError) -> Self {
        Failure::usage(error)
    }
}

/// The filter directives for `-v`/`-q` counts: our own crate one step chattier than its dependencies.
/// rskafka's own lines (its errors in Rust debug text) only from `-vv`: every failure it reports
/// reaches the user as our one line anyway.
pub(crate) fn default_directives(verbose: u8, quiet: u8) -> &'static str {
    match (verbose, quiet) {
        (_, q) if q >= 2 => "error,rskafka=off",
        (_, 1) => "warn,rskafka=off",
        (0, _) => "warn,rskafka=off,shoe_producer=info",
        (1, _) => "info,rskafka=off,shoe_producer=debug",
        _ => "debug,shoe_producer=trace",
    }
}

/// The filter in force: `RUST_LOG` when set and not empty, else the `-v`/`-q` default.
pub fn filter(rust_log: Option<&str>, verbose: u8, quiet: u8) -> Result<EnvFilter, LoggingError> {
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => EnvFilter::builder()
            .parse(value)
            .map_err(|e| LoggingError::Filter {
                value: value.to_owned(),
                reason: e.to_string(),
            }),
        None => Ok(EnvFilter::new(default_directives(verbose, quiet))),
    }
}

/// Whether text logs are coloured: `auto` when stderr is a terminal and `NO_COLOR` (its value given
/// as `no_color`) is absent or empty; `always` and `never` as they say, whatever `NO_COLOR` holds.
pub(crate) fn use_color(
    choice: ColorChoice,
    stderr_is_terminal: bool,
    no_color: Option<&OsStr>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stderr_is_terminal && no_color.is_none_or(OsStr::is_empty),
    }
}

/// Installs the global subscriber: text (coloured as `color` decides) or JSON on stderr.
pub fn init(
    format: LogFormat,
    color: ColorChoice,
    verbose: u8,
    quiet: u8,
) -> Result<(), LoggingError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = filter(rust_log.as_deref(), verbose, quiet)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Stderr)
        // Its report of a failed write goes to stderr with `eprintln!`, which panics when stderr
        // fails too; a panic aborts the release binary.
        .log_internal_errors(false);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(use_color(
                color,
                io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .with_target(verbose > 0)
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|_| LoggingError::AlreadySet)
}

/// Draws log lines around `bar` until [`clear_active_bar`].
pub(crate) fn set_active_bar(bar: ProgressBar) {
    *ACTIVE_BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
}

pub(crate) fn clear_active_bar() {
    ACTIVE_BAR.lock().unwrap_or_else(|e| e.into_inner()).take();
}

/// Writes `bytes` to stderr, lifting the live progress bar (if any) while doing so; nothing once
/// the final line is out. `last` makes these bytes that final line. The check and the write hold
/// stderr's lock, so no line can slip in after the final one.
fn write_stderr(bytes: &[u8], last: bool) -> io::Result<()> {
    let write = || {
        let mut stderr = io::stderr().lock();
        if FINAL_LINE_WRITTEN.load(Ordering::Acquire) {
            return Ok(());
        }
        if last {
            FINAL_LINE_WRITTEN.store(true, Ordering::Release);
        }
        stderr.write_all(bytes)
    };
    let bar = ACTIVE_BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// stderr for tracing: each formatted event arrives in one `write`, so it can lift the bar once.
/// What cannot be written is dropped: the writer always reports success.
#[derive(Clone, Copy)]
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _dropped_if_unwritable = write_stderr(buf, false);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        let _dropped_if_unwritable = io::stderr().flush();
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Stderr;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// The line `main` prints when a command fails: `error: …` in text, or a JSON object with the exit code.
pub(crate) fn failure_line(format: LogFormat, failure: &Failure) -> String {
    match format {
        LogFormat::Text => format!("error: {}", failure.message()),
        LogFormat::Json => serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "ERROR",
            "event": "error",
            "exit_code": failure.exit_code(),
            "message": failure.message(),
        })
        .to_string(),
    }
}

/// Prints [`failure_line`] on stderr, whatever the log level (dropped if stderr cannot take it).
pub fn print_failure(format: LogFormat, failure: &Failure) {
    let mut line = failure_line(format, failure);
    line.push('\n');
    let _ = write_stderr(line.as_bytes(), true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(
            default_directives(0, 0),
            "warn,rskafka=off,shoe_producer=info"
        );
        assert_eq!(
            default_directives(1, 0),
            "info,rskafka=off,shoe_producer=debug"
        );
        assert_eq!(default_directives(3, 0), "debug,shoe_producer=trace");
        assert_eq!(default_directives(0, 1), "warn,rskafka=off");
        assert_eq!(default_directives(0, 2), "error,rskafka=off");
    }

    #[test]
    fn rust_log_overrides_and_bad_filters_name_the_variable() {
        let chosen = filter(Some("shoe_producer=trace"), 0, 2).unwrap();
        assert_eq!(chosen.to_string(), "shoe_producer=trace");
        assert_eq!(
            filter(Some("  "), 0, 1).unwrap().to_string(),
            "rskafka=off,warn"
        );
        let error = filter(Some("shoe_producer=loud"), 0, 0)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("RUST_LOG: invalid filter 'shoe_producer=loud'"),
            "{error}"
        );
    }

    #[test]
    fn color_follows_the_choice_the_terminal_and_no_color() {
        fn set(value: &str) -> Option<&OsStr> {
            Some(OsStr::new(value))
        }
        // auto: a terminal, and NO_COLOR absent or empty (no-color.org).
        assert!(use_color(ColorChoice::Auto, true, None));
        assert!(use_color(ColorChoice::Auto, true, set("")));
        assert!(!use_color(ColorChoice::Auto, true, set("1")));
        assert!(!use_color(ColorChoice::Auto, true, set("0")));
        assert!(!use_color(ColorChoice::Auto, false, None));
        // An explicit choice overrides both.
        assert!(use_color(ColorChoice::Always, false, set("1")));
        assert!(!use_color(ColorChoice::Never, true, None));
    }

    #[test]
    fn failure_lines_in_both_formats() {
        let failure = Failure::usage("--rate: bad");
        assert_eq!(
            failure_line(LogFormat::Text, &failure),
            "error: --rate: bad"
        );
        let json: serde_json::Value =
            serde_json::from_str(&failure_line(LogFormat::Json, &failure)).unwrap();
        assert_eq!(json["event"], "error");
        assert_eq!(json["exit_code"], 2);
        assert_eq!(json["message"], "--rate: bad");
    }
}
