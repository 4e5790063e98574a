//! Supervised tasks: a service's server and background tasks (relays, consumers, sweepers,
//! schedulers) run as one set. When one fails, panics or ends on its own while the others
//! still run, the cause is logged, the whole set is stopped gracefully and the failure is
//! returned, so the process exits non-zero and its orchestrator restarts it, instead of leaving
//! a server that answers while its events no longer flow.

use std::{any::Any, collections::HashMap, future::Future, pin::Pin, time::Duration};

use tokio::{task::JoinSet, time::Instant};

use crate::Shutdown;

/// How long the tasks may take to stop once asked (a server drains for at most two drain
/// timeouts, 60 s by default); then the rest are aborted and the set fails.
pub const STOP_GRACE: Duration = Duration::from_secs(90);

type TaskFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type StartTask = Box<dyn FnOnce(Shutdown) -> TaskFuture + Send>;

/// What a supervised task may return: nothing, or a result.
pub trait TaskOutcome: Send + 'static {
    fn into_result(self) -> anyhow::Result<()>;
}

impl TaskOutcome for () {
    fn into_result(self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl TaskOutcome for anyhow::Result<()> {
    fn into_result(self) -> anyhow::Result<()> {
        self
    }
}

/// Named tasks to start together, each with the set's shutdown signal.
#[derive(Default)]
#[must_use = "tasks do nothing until supervised"]
pub struct Tasks(Vec<(String, StartTask)>);

impl Tasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a task; `start` receives the shutdown it must honour (the set's own, which also
    /// fires when a sibling fails).
    pub fn add<F, Fut>(mut self, name: impl Into<String>, start: F) -> Self
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TaskOutcome,
    {
        let start: StartTask =
            Box::new(move |shutdown| Box::pin(async move { start(shutdown).await.into_result() }));
        self.0.push((name.into(), start));
        self
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| name.as_str())
    }
}

/// Runs `tasks` until `shutdown`, or until one of them fails: then the others are asked to
/// stop, are waited for, and the first failure is returned (naming its task).
pub async fn supervise(tasks: Tasks, shutdown: Shutdown) -> anyhow::Result<()> {
    supervise_within(tasks, shutdown, STOP_GRACE).await
}

async fn supervise_within(
    tasks: Tasks,
    mut shutdown: Shutdown,
    grace: Duration,
) -> anyhow::Result<()> {
    let (stop_all, own_shutdown) = Shutdown::new();
    let mut running = JoinSet::new();
    let mut names = HashMap::new();
    for (name, start) in tasks.0 {
        let handle = running.spawn(start(own_shutdown.clone()));
        names.insert(handle.id(), name);
    }
    let mut asked_to_stop = false;
    let mut first_failure: Option<anyhow::Error> = None;
    let mut stop_deadline: Option<Instant> = None;
    loop {
        if own_shutdown.is_triggered() && stop_deadline.is_none() {
            stop_deadline = Some(Instant::now() + grace);
        }
        // Evaluated even while disabled, so it needs a value before the stop begins.
        let grace_ends = stop_deadline.unwrap_or_else(|| Instant::now() + grace);
        let joined = tokio::select! {
            joined = running.join_next_with_id() => joined,
            _ = shutdown.wait(), if !asked_to_stop => {
                asked_to_stop = true;
                stop_all.trigger();
                continue;
            }
            _ = tokio::time::sleep_until(grace_ends), if stop_deadline.is_some() => {
                let stuck: Vec<_> = names.values().cloned().collect();
                tracing::error!(tasks = ?stuck, "tasks did not stop in time; aborting them");
                first_failure.get_or_insert(anyhow::anyhow!(
                    "{} did not stop within {grace:?}",
                    stuck.join(", ")
                ));
                running.abort_all();
                stop_deadline = Some(Instant::now() + Duration::from_secs(86_400));
                continue;
            }
        };
        let Some(joined) = joined else { break };
        let (id, outcome) = match joined {
            Ok((id, outcome)) => (id, outcome),
            Err(error) => (error.id(), Err(join_failure(error))),
        };
        let name = names.remove(&id).unwrap_or_default();
        let failure = match outcome {
            Err(error) => Some(error),
            Ok(()) if !own_shutdown.is_triggered() => {
                Some(anyhow::anyhow!("ended while the service was still running"))
            }
            Ok(()) => None,
        };
        if let Some(failure) = failure {
            tracing::error!(
                task = %name,
                error = format!("{failure:#}"),
                "task failed; stopping the service"
            );
            stop_all.trigger();
            first_failure.get_or_insert(failure.context(format!("{name} failed")));
        }
    }
    first_failure.map_or(Ok(()), Err)
}

fn join_failure(error: tokio::task::JoinError) -> anyhow::Error {
    match error.try_into_panic() {
        Ok(panic) => anyhow::anyhow!("panicked: {}", panic_message(panic.as_ref())),
        Err(error) => anyhow::anyhow!("was cancelled: {error}"),
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn until_stopped(mut shutdown: Shutdown) {
        shutdown.wait().await;
    }

    #[tokio::test]
    async fn a_panicking_task_stops_its_siblings_and_is_named() {
        let (_keep, shutdown) = Shutdown::new();
        let tasks = Tasks::new()
            .add("server", until_stopped)
            .add("relay", |_| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if true {
                    panic!("the relay lost its mind");
                }
            });
        let error = tokio::time::timeout(Duration::from_secs(5), supervise(tasks, shutdown))
            .await
            .expect("the sibling stops once the relay panics")
            .unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("relay failed"), "{text}");
        assert!(text.contains("the relay lost its mind"), "{text}");
    }

    #[tokio::test]
    async fn a_task_that_ends_early_is_a_failure() {
        let (_keep, shutdown) = Shutdown::new();
        let tasks = Tasks::new()
            .add("server", until_stopped)
            .add("sweeper", |_| async {});
        let error = supervise(tasks, shutdown).await.unwrap_err();
        assert!(format!("{error:#}").contains("sweeper failed"), "{error:#}");
    }

    #[tokio::test]
    async fn an_error_is_returned_with_its_cause() {
        let (_keep, shutdown) = Shutdown::new();
        let tasks = Tasks::new()
            .add("server", until_stopped)
            .add("consumer", |_| async {
                Err(anyhow::anyhow!("queue deleted"))
            });
        let error = supervise(tasks, shutdown).await.unwrap_err();
        assert!(format!("{error:#}").contains("queue deleted"), "{error:#}");
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_stop_is_aborted_after_the_grace() {
        let (trigger, shutdown) = Shutdown::new();
        let tasks = Tasks::new()
            .add("server", until_stopped)
            .add("stuck relay", |_| std::future::pending::<()>());
        trigger.trigger();
        let error = tokio::time::timeout(
            Duration::from_secs(5),
            supervise_within(tasks, shutdown, Duration::from_millis(100)),
        )
        .await
        .expect("the stuck task is aborted")
        .unwrap_err();
        assert!(
            format!("{error:#}").contains("stuck relay did not stop"),
            "{error:#}"
        );
    }

    #[tokio::test]
    async fn a_requested_shutdown_ends_cleanly() {
        let (trigger, shutdown) = Shutdown::new();
        let tasks = Tasks::new()
            .add("server", until_stopped)
            .add("relay", until_stopped);
        trigger.trigger();
        supervise(tasks, shutdown).await.expect("a clean stop");
    }
}
