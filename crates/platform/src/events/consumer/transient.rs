//! Which database failures are not the event's fault: the server unreachable, restarting or
//! shutting down, or a transaction that lost a serialization race. Retrying them later works,
//! so the consumer keeps the events instead of spending one of their delivery attempts.

use crate::error::SqlErrorKind;

/// Whether `error` says PostgreSQL could not do the work now, rather than that the work is wrong:
/// the same rule that answers a request with `UNAVAILABLE` or `ABORTED`.
pub(super) fn is_transient(error: &sqlx::Error) -> bool {
    matches!(
        crate::error::classify_sql(error),
        SqlErrorKind::Unavailable | SqlErrorKind::Retryable
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::error::tests::db_error;

    fn sqlstate(code: &'static str) -> sqlx::Error {
        db_error(code, None)
    }

    #[test]
    fn an_unreachable_or_restarting_server_and_lost_races_are_transient() {
        for code in [
            "08006", "08001", "57P01", "57P02", "57P03", "40001", "40P01",
        ] {
            assert!(is_transient(&sqlstate(code)), "{code}");
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(is_transient(&sqlx::Error::Io(refused)));
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(is_transient(&sqlx::Error::PoolClosed));
        assert!(is_transient(&sqlx::Error::Protocol(
            "unexpected eof".into()
        )));
    }

    #[test]
    fn a_wrong_statement_or_refused_row_is_the_event_s_fault() {
        for code in ["23505", "23503", "42P01", "22P02", "57014"] {
            assert!(!is_transient(&sqlstate(code)), "{code}");
        }
        assert!(!is_transient(&sqlx::Error::RowNotFound));
    }
}
