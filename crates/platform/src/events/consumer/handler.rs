//! What a consumer's application code implements: an [`EventHandler`], and the
//! [`HandlerError`] it fails with (permanent, or transient when it is not the event's fault).

use std::{fmt::Display, future::Future};

use sqlx::PgConnection;
use switchboard_proto::events::v1::EventEnvelope;

use super::transient;

/// Why a handler could not apply an event. The transaction is rolled back. A permanent failure
/// is retried until the queue's delivery limit dead-letters the event; a transient one (made
/// by [`HandlerError::transient`], or by `?` on a `sqlx::Error` that says the database is
/// unreachable, restarting, or lost a serialization race) is retried with backoff without
/// counting as a delivery attempt.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

/// The text a transient failure starts with. A marker in the text (not a field) keeps
/// `HandlerError(text)` the permanent failure every handler already writes.
const TRANSIENT: &str = "transient: ";

impl HandlerError {
    /// A failure that is not the event's: retrying it later will work.
    pub fn transient(cause: impl Display) -> Self {
        Self(format!("{TRANSIENT}{cause}"))
    }

    pub fn is_transient(&self) -> bool {
        self.0.starts_with(TRANSIENT)
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        let text = format!("postgres: {error}");
        if transient::is_transient(&error) {
            Self::transient(text)
        } else {
            Self(text)
        }
    }
}

/// Applies events. Both methods run inside the transaction that also records the events in the
/// inbox; they must make their effect only through `tx`.
pub trait EventHandler: Send + Sync + 'static {
    /// Applies one event.
    fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Applies `events` (distinct, none applied before, in delivery order) in one transaction:
    /// all or nothing. An error rolls the whole batch back and the consumer then applies each
    /// event alone, so a handler may override this with bulk statements without handling a
    /// poison event itself. By default, `handle` for each in turn.
    fn handle_batch(
        &self,
        tx: &mut PgConnection,
        events: &[EventEnvelope],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async move {
            for event in events {
                self.handle(tx, event).await?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permanent_failure_is_the_text_as_written_and_a_transient_one_says_so() {
        let permanent = HandlerError("route id \"x\" is not a UUID".into());
        assert!(!permanent.is_transient());
        assert_eq!(permanent.to_string(), "route id \"x\" is not a UUID");
        let transient = HandlerError::transient("the reporting store is restarting");
        assert!(transient.is_transient());
        assert_eq!(
            transient.to_string(),
            "transient: the reporting store is restarting"
        );
    }

    #[test]
    fn a_database_error_keeps_its_postgres_prefix_and_says_whether_it_is_transient() {
        let lost = HandlerError::from(sqlx::Error::PoolTimedOut);
        assert!(lost.is_transient());
        assert!(
            lost.0
                .ends_with("postgres: pool timed out while waiting for an open connection")
        );
        let missing = HandlerError::from(sqlx::Error::RowNotFound);
        assert!(!missing.is_transient());
        assert!(missing.0.starts_with("postgres: "));
    }
}
