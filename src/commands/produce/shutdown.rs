//! SIGINT, SIGTERM and SIGHUP as a type: the first signal asks the run to stop, a second one ends
//! the process at once.
//!
//! The handler is installed before the run does anything else, and every phase races the stop
//! request: a lookup in the registry, connecting to Kafka or creating the topic is abandoned at once,
//! the generator stops at its next record, and what is buffered gets `GRACE` to be delivered
//! before the run ends with the summary (records still without an answer are counted as
//! unresolved). SIGHUP — the terminal went away — is treated as SIGTERM, so a run started from a
//! closed terminal still ends with its summary and the usual exit code. Someone who presses Ctrl-C
//! twice wants out now: the second signal prints how many records were still unresolved (sent,
//! neither acked nor failed) and exits at once with 128 + that signal's number, as a shell reports a
//! process the signal killed (130 SIGINT, 143 SIGTERM, 129 SIGHUP).

use std::{
    future::Future,
    sync::{Arc, OnceLock},
    time::Duration,
};

use tokio::{
    sync::{mpsc, watch},
    time::Instant,
};

use crate::{settings::exit::Failure, settings::LogFormat};

/// How long what is buffered may still be delivered after a signal, so one signal ends any run
/// within a couple of seconds however slow the brokers are.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// Counts records sent but not yet acked or failed, for the second-signal message.
type UnresolvedCounter = Arc<dyn Fn() -> u64 + Send + Sync>;

/// What the second signal does, given that signal and the number of unresolved records.
type ForceAction = Box<dyn FnOnce(Signal, u64) + Send>;

/// A signal that asks the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        }
    }

    /// The signal's number, the same on every Unix (POSIX fixes these three).
    fn number(self) -> u8 {
        match self {
            Self::Interrupt => 2,
            Self::Terminate => 15,
            Self::Hangup => 1,
        }
    }
}

/// A cloneable view of the stop request. Cheap to check in a hot loop.
#[derive(Clone)]
pub struct Shutdown {
    /// When the stop was asked for; `None` while the run goes on.
    requested: watch::Receiver<Option<Instant>>,
    trigger: Arc<watch::Sender<Option<Instant>>>,
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
    /// Listens for SIGINT, SIGTERM and SIGHUP (needs a Tokio runtime). The first asks for a stop;
    /// the second prints the unresolved count in `format` and exits with 128 + its number.
    pub(crate) fn install(format: LogFormat) -> std::io::Result<Self> {
        let (signal_tx, signal_rx) = mpsc::unbounded_channel();
        forward_signals(signal_tx)?;
        let force: ForceAction = Box::new(move |signal, unresolved| {
            let failure = Failure::interrupted(signal.number(), interrupted_message(unresolved));
            crate::app::logging::print_failure(format, &failure);
            std::process::exit(i32::from(failure.exit_code()));
        });
        Ok(Self::from_signals(signal_rx, force))
    }

    /// A shutdown that only [`Shutdown::request`] triggers: for tests and for callers that own signals.
    pub fn manual() -> Self {
        let (_tx, rx) = mpsc::unbounded_channel();
        Self::from_signals(rx, Box::new(|_, _| {}))
    }

    /// The state machine over a stream of signals: first → request, second → `force(it, unresolved)`.
    fn from_signals(mut signals: mpsc::UnboundedReceiver<Signal>, force: ForceAction) -> Self {
        let (tx, rx) = watch::channel(None);
        let shutdown = Self {
            requested: rx,
            trigger: Arc::new(tx),
            unresolved: Arc::default(),
        };
        let watcher = shutdown.clone();
        tokio::spawn(async move {
            let Some(signal) = signals.recv().await else {
                return;
            };
            tracing::warn!(
                "{} received: stopping the run; a second signal exits at once",
                signal.name()
            );
            watcher.request();
            if let Some(second) = signals.recv().await {
                force(second, watcher.unresolved());
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

    /// Asks for a stop, as a first signal does. Asking again changes nothing.
    pub fn request(&self) {
        self.trigger.send_if_modified(|requested| {
            let first = requested.is_none();
            if first {
                *requested = Some(Instant::now());
            }
            first
        });
    }

    /// Whether a stop was asked for.
    pub(crate) fn requested(&self) -> bool {
        self.requested.borrow().is_some()
    }

    /// Resolves once a stop is asked for (at once if it already was).
    pub(crate) async fn wait(&self) {
        let mut requested = self.requested.clone();
        // The sender lives in `self.trigger`, so `wait_for` can only end by seeing a request.
        let _ = requested.wait_for(Option::is_some).await;
    }

    /// Resolves [`GRACE`] after the stop was asked for: when what is still buffered is given up on.
    pub(crate) async fn grace_over(&self) {
        self.wait().await;
        let asked_at = (*self.requested.borrow()).unwrap_or_else(Instant::now);
        tokio::time::sleep_until(asked_at + GRACE).await;
    }

    /// Runs `work` unless a stop is asked for first: `None` when the stop came first (`work` is
    /// dropped where it stands).
    pub(crate) async fn unless_stopped<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            biased;
            () = self.wait() => None,
            done = work => Some(done),
        }
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
fn forward_signals(tx: mpsc::UnboundedSender<Signal>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                Some(()) = interrupt.recv() => Signal::Interrupt,
                Some(()) = terminate.recv() => Signal::Terminate,
                Some(()) = hangup.recv() => Signal::Hangup,
                else => return,
            };
            if tx.send(received).is_err() {
                return;
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn forward_signals(tx: mpsc::UnboundedSender<Signal>) -> std::io::Result<()> {
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(Signal::Interrupt).is_err() {
                return;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn first_signal_requests_and_second_forces_with_the_unresolved_count() {
        let (signal_tx, signal_rx) = mpsc::unbounded_channel();
        let (forced_tx, forced_rx) = oneshot::channel();
        let shutdown = Shutdown::from_signals(
            signal_rx,
            Box::new(move |signal, unresolved| {
                let _ = forced_tx.send((signal, unresolved));
            }),
        );
        shutdown.track_unresolved(|| 17);
        assert!(!shutdown.requested());

        signal_tx.send(Signal::Hangup).unwrap();
        tokio::time::timeout(Duration::from_secs(5), shutdown.wait())
            .await
            .unwrap();
        assert!(shutdown.requested());

        signal_tx.send(Signal::Terminate).unwrap();
        let forced = tokio::time::timeout(Duration::from_secs(5), forced_rx)
            .await
            .unwrap()
            .unwrap();
        // The second signal, not the first, names the exit code.
        assert_eq!(forced, (Signal::Terminate, 17));
    }

    #[test]
    fn each_signal_exits_with_128_plus_its_number() {
        let code = |signal: Signal| Failure::interrupted(signal.number(), "").exit_code();
        assert_eq!(code(Signal::Interrupt), 130);
        assert_eq!(code(Signal::Terminate), 143);
        assert_eq!(code(Signal::Hangup), 129);
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

    #[tokio::test(start_paused = true)]
    async fn a_request_abandons_work_in_progress_and_the_grace_counts_from_it() {
        let shutdown = Shutdown::manual();
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            stopper.request();
        });
        let start = Instant::now();
        let never = shutdown.unless_stopped(std::future::pending::<()>()).await;
        assert_eq!(never, None);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        // A second request does not move the grace's start.
        tokio::time::sleep(Duration::from_secs(1)).await;
        shutdown.request();
        shutdown.grace_over().await;
        assert_eq!(start.elapsed(), Duration::from_secs(3) + GRACE);
        assert_eq!(shutdown.unless_stopped(async { 5 }).await, None);
    }

    #[tokio::test]
    async fn work_that_ends_first_gives_its_result() {
        let shutdown = Shutdown::manual();
        assert_eq!(shutdown.unless_stopped(async { 5 }).await, Some(5));
    }

    #[test]
    fn the_message_gives_the_count() {
        assert!(interrupted_message(42).contains("42 record(s) unresolved"));
    }
}
