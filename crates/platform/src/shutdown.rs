//! One shutdown signal for a whole process: the first SIGTERM or SIGINT asks every part to stop
//! gracefully; a second one exits at once.

use tokio::sync::watch;

/// Asks everything holding the matching [`Shutdown`] to stop.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(watch::Sender<bool>);

impl ShutdownTrigger {
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

/// Resolves when shutdown was asked for; cheap to clone into every task.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A shutdown that only the returned trigger starts (tests, and stopping one part).
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (ShutdownTrigger(sender), Shutdown(receiver))
    }

    /// A shutdown started by the first SIGTERM or SIGINT; the second exits the process with 130.
    pub fn on_signals() -> std::io::Result<Shutdown> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let (trigger, shutdown) = Shutdown::new();
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!(signal = "SIGTERM", "shutting down gracefully"),
                _ = interrupt.recv() => tracing::info!(signal = "SIGINT", "shutting down gracefully"),
            }
            trigger.trigger();
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
            tracing::warn!("second signal: exiting at once");
            std::process::exit(130);
        });
        Ok(shutdown)
    }

    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits until shutdown is asked for (at once if it already was).
    pub async fn wait(&mut self) {
        // An error means every trigger is gone, so nobody can ask any more: treat it as asked.
        let _ = self.0.wait_for(|asked| *asked).await;
    }
}
