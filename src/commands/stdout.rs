//! Results on stdout, under one rule for every command.
//!
//! stdout carries what a command was asked for: `produce`'s summary, `check`'s lines, `register`'s
//! schema id, `sample`'s shoes. Output that cannot be written — the reader went away (`| head -1`,
//! `| true`), the terminal hung up, the disk is full — is dropped, and the command finishes its
//! work and exits with the code that work earned: producing, checking or registering does not become
//! a failure because nobody read the report. `sample`, whose output is its only work, stops at the
//! first write that fails instead: exit 0 when the reader went away, 1 when its output was lost
//! otherwise. A failure other than a closed pipe is named once on stderr.

use std::{
    io::{self, Write},
    sync::atomic::{AtomicBool, Ordering},
};

/// Writes `text` to stdout and flushes it; drops it if stdout cannot take it (see the module).
/// `what` names the output in the warning.
pub(crate) fn print(text: &str, what: &str) {
    let mut out = io::stdout().lock();
    if let Err(error) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        dropped(what, &error);
    }
}

/// Whether a write failed because the reader of stdout went away.
pub(crate) fn is_closed(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

/// Says once on stderr that output was dropped, unless the reader simply went away.
fn dropped(what: &str, error: &io::Error) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !is_closed(error) && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!("cannot write {what} to stdout ({error}); output to stdout is dropped");
    }
}
