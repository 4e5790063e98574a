//! Turning failures into gRPC statuses: field-level `BadRequest` details for bad input, SQL
//! errors classified by SQLSTATE in one place, internal causes logged and never sent.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Collects every problem with a request's fields, so the caller learns them all at once.
#[derive(Debug, Default)]
pub struct FieldViolations(Vec<(String, String)>);

impl FieldViolations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (a request field path such as `callback.phone_number`) is invalid.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) -> &mut Self {
        self.0.push((field.into(), description.into()));
        self
    }

    /// Records a violation of `field` when `invalid` holds.
    pub fn check(
        &mut self,
        invalid: bool,
        field: &str,
        description: impl FnOnce() -> String,
    ) -> &mut Self {
        if invalid {
            self.add(field, description());
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded; otherwise `INVALID_ARGUMENT` naming every field.
    pub fn into_result(self) -> Result<(), Status> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into_status())
        }
    }

    pub fn into_status(self) -> Status {
        let message = self
            .0
            .iter()
            .map(|(field, description)| format!("{field}: {description}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut details = ErrorDetails::new();
        for (field, description) in self.0 {
            details.add_bad_request_violation(field, description);
        }
        Status::with_error_details(Code::InvalidArgument, message, details)
    }
}

/// `INVALID_ARGUMENT` naming one field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    let mut violations = FieldViolations::new();
    violations.add(field, description);
    violations.into_status()
}

/// The fields named in an `INVALID_ARGUMENT` status's `BadRequest` details (for clients and tests).
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// What a database error means for the caller, decided by SQLSTATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlErrorKind {
    /// 23505: a unique constraint (named) refused the row.
    UniqueViolation {
        constraint: Option<String>,
    },
    /// 23503: a referenced row does not exist.
    ForeignKeyViolation {
        constraint: Option<String>,
    },
    /// 23514 / 23502: a check or not-null constraint refused the row.
    CheckViolation {
        constraint: Option<String>,
    },
    /// 40001 / 40P01: serialization failure or deadlock; the transaction may be retried.
    Retryable,
    /// The pool had no connection in time, or the server is unreachable.
    Unavailable,
    Other,
}

pub fn classify_sql(error: &sqlx::Error) -> SqlErrorKind {
    match error {
        sqlx::Error::Database(db) => {
            let constraint = db.constraint().map(str::to_owned);
            match db.code().as_deref() {
                Some("23505") => SqlErrorKind::UniqueViolation { constraint },
                Some("23503") => SqlErrorKind::ForeignKeyViolation { constraint },
                Some("23514") | Some("23502") => SqlErrorKind::CheckViolation { constraint },
                Some("40001") | Some("40P01") => SqlErrorKind::Retryable,
                _ => SqlErrorKind::Other,
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            SqlErrorKind::Unavailable
        }
        _ => SqlErrorKind::Other,
    }
}

/// The status for a database error that no handler turned into something more specific. The
/// cause is logged with the operation; the caller learns only what kind of failure it was.
pub fn sql_status(operation: &str, error: &sqlx::Error) -> Status {
    match classify_sql(error) {
        SqlErrorKind::UniqueViolation { .. } => {
            Status::already_exists("the resource already exists")
        }
        SqlErrorKind::ForeignKeyViolation { .. } => {
            Status::failed_precondition("a referenced resource does not exist")
        }
        SqlErrorKind::Retryable => Status::aborted("concurrent change; retry the call"),
        SqlErrorKind::Unavailable => {
            tracing::error!(operation, %error, "database unavailable");
            Status::unavailable("the database is unavailable")
        }
        SqlErrorKind::CheckViolation { .. } | SqlErrorKind::Other => internal(operation, error),
    }
}

/// `INTERNAL` for a cause the caller must not see; the cause is logged.
pub fn internal(operation: &str, error: &dyn std::fmt::Display) -> Status {
    tracing::error!(operation, %error, "internal error");
    Status::internal("internal error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_name_every_field() {
        let mut violations = FieldViolations::new();
        violations
            .check(true, "phone_number", || "must not be empty".into())
            .check(false, "memo", || unreachable!())
            .add("ivr_route_id", "unknown route");
        let status = violations.into_status();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["phone_number", "ivr_route_id"]);
        assert!(status.message().contains("phone_number: must not be empty"));
    }

    #[test]
    fn no_violations_is_ok() {
        assert!(FieldViolations::new().into_result().is_ok());
    }
}
