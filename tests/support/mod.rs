//! Shared helpers for the integration tests: the local stack's settings from the environment, and
//! unique names so tests running in parallel never share a topic or subject.
//!
//! The tests need a real broker and registry: run them through `scripts/test.sh`, or bring the stack
//! up and `eval "$(scripts/local-stack.sh env)"` first. A missing variable fails the test, never skips it.

#![allow(dead_code)] // each test binary uses its own subset

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// Reads a variable that `scripts/local-stack.sh env` exports, failing the test when it is missing.
pub fn stack_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the local stack. Run scripts/test.sh, or \
             `scripts/local-stack.sh up && eval \"$(scripts/local-stack.sh env)\"` first"
        )
    })
}

/// A name no other test (in this run or an earlier one) uses: `<prefix>-<time>-<counter>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", nanos % 1_000_000_000_000)
}
