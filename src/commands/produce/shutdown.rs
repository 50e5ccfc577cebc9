//! SIGINT/SIGTERM as a type: the first signal asks the run to stop gracefully, a second one ends the
//! process at once.
//!
//! A graceful stop lets the produce loop stop generating, flush what is buffered within the delivery
//! timeout and print the summary; the loop observes it through [`Shutdown::requested`] or
//! [`Shutdown::wait`]. Someone who presses Ctrl-C twice wants out now: the second signal prints how many
//! records were still unresolved (sent, neither acked nor failed) and exits with code 130, without
//! waiting for anything.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, watch};

use crate::{app::exit::Failure, app::settings::LogFormat};

/// Counts records sent but not yet acked or failed, for the second-signal message.
type UnresolvedCounter = Arc<dyn Fn() -> u64 + Send + Sync>;

/// What the second signal does with the number of unresolved records.
type ForceAction = Box<dyn FnOnce(u64) + Send>;

/// A cloneable view of the stop request. Cheap to check in a hot loop.
#[derive(Clone)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
    trigger: Arc<watch::Sender<bool>>,
    /// Set once the producer runs; until then nothing can be unresolved.
    unresolved: Arc<OnceLock<UnresolvedCounter>>,
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("requested", &self.requested())
            .finish()
    }
}

impl Shutdown {
    /// Listens for SIGINT and SIGTERM (needs a Tokio runtime). The first asks for a graceful stop;
    /// the second prints the unresolved count in `format` and exits with code 130.
    pub(crate) fn install(format: LogFormat) -> std::io::Result<Self> {
        let (signal_tx, signal_rx) = mpsc::unbounded_channel();
        forward_signals(signal_tx)?;
        let force: ForceAction = Box::new(move |unresolved| {
            let failure = Failure::Interrupted(interrupted_message(unresolved));
            crate::app::logging::print_failure(format, &failure);
            std::process::exit(i32::from(failure.exit_code()));
        });
        Ok(Self::from_signals(signal_rx, force))
    }

    /// A shutdown that only [`Shutdown::request`] triggers: for tests and for callers that own signals.
    pub fn manual() -> Self {
        let (_tx, rx) = mpsc::unbounded_channel();
        Self::from_signals(rx, Box::new(|_| {}))
    }

    /// The state machine over a stream of signals: first → request, second → `force(unresolved)`.
    fn from_signals(mut signals: mpsc::UnboundedReceiver<()>, force: ForceAction) -> Self {
        let (tx, rx) = watch::channel(false);
        let shutdown = Self {
            requested: rx,
            trigger: Arc::new(tx),
            unresolved: Arc::default(),
        };
        let watcher = shutdown.clone();
        tokio::spawn(async move {
            if signals.recv().await.is_none() {
                return;
            }
            tracing::warn!(
                "signal received: stopping the generator and flushing; a second signal exits at once"
            );
            watcher.request();
            if signals.recv().await.is_some() {
                force(watcher.unresolved());
            }
        });
        shutdown
    }

    /// Tells the second-signal handler how to count unresolved records (the engine's in-flight
    /// count), once the engine runs; a later call is ignored. Until then it reports 0.
    pub(crate) fn track_unresolved(&self, counter: impl Fn() -> u64 + Send + Sync + 'static) {
        let _ = self.unresolved.set(Arc::new(counter));
    }

    fn unresolved(&self) -> u64 {
        self.unresolved.get().map_or(0, |count| count())
    }

    /// Asks for a graceful stop, as a first signal does.
    pub(crate) fn request(&self) {
        self.trigger.send_replace(true);
    }

    /// Whether a stop was asked for.
    pub(crate) fn requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Resolves once a stop is asked for (at once if it already was).
    pub(crate) async fn wait(&self) {
        let mut requested = self.requested.clone();
        // The sender lives in `self.trigger`, so `wait_for` can only end by seeing `true`.
        let _ = requested.wait_for(|&stop| stop).await;
    }
}

/// The second-signal line: how many records were left without an outcome.
fn interrupted_message(unresolved: u64) -> String {
    format!(
        "interrupted by a second signal: exiting at once with {unresolved} record(s) unresolved \
         (sent but neither acknowledged nor failed; they may or may not be on the topic)"
    )
}

#[cfg(unix)]
fn forward_signals(tx: mpsc::UnboundedSender<()>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = interrupt.recv() => {}
                Some(()) = terminate.recv() => {}
                else => return,
            }
            if tx.send(()).is_err() {
                return;
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn forward_signals(tx: mpsc::UnboundedSender<()>) -> std::io::Result<()> {
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(()).is_err() {
                return;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn first_signal_requests_and_second_forces_with_the_unresolved_count() {
        let (signal_tx, signal_rx) = mpsc::unbounded_channel();
        let (forced_tx, forced_rx) = oneshot::channel();
        let shutdown = Shutdown::from_signals(
            signal_rx,
            Box::new(move |unresolved| {
                let _ = forced_tx.send(unresolved);
            }),
        );
        shutdown.track_unresolved(|| 17);
        assert!(!shutdown.requested());

        signal_tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), shutdown.wait())
            .await
            .unwrap();
        assert!(shutdown.requested());

        signal_tx.send(()).unwrap();
        let unresolved = tokio::time::timeout(Duration::from_secs(5), forced_rx)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unresolved, 17);
    }

    #[tokio::test]
    async fn manual_request_reaches_every_clone() {
        let shutdown = Shutdown::manual();
        let clone = shutdown.clone();
        let waiter = tokio::spawn(async move { clone.wait().await });
        shutdown.request();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn the_message_gives_the_count() {
        assert!(interrupted_message(42).contains("42 record(s) unresolved"));
    }
}
