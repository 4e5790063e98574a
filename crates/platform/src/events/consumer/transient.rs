//! Which database failures are not the event's fault: the server unreachable, restarting or
//! shutting down, or a transaction that lost a serialization race. Retrying them later works,
//! so the consumer keeps the events instead of spending one of their delivery attempts.

/// Whether `error` says PostgreSQL could not do the work now, rather than that the work is wrong.
pub(super) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| transient_sqlstate(&code)),
        _ => false,
    }
}

/// Class 08 (connection exception); 57P01–57P03 (admin or crash shutdown, cannot connect
/// now); 40001 and 40P01 (serialization failure, deadlock).
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct FakeDbError(&'static str);

    impl std::fmt::Display for FakeDbError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "sqlstate {}", self.0)
        }
    }

    impl std::error::Error for FakeDbError {}

    impl sqlx::error::DatabaseError for FakeDbError {
        fn message(&self) -> &str {
            "fake"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn sqlstate(code: &'static str) -> sqlx::Error {
        sqlx::Error::Database(Box::new(FakeDbError(code)))
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
