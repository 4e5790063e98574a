//! Turning failures into gRPC statuses: field-level `BadRequest` details for bad input, SQL
//! errors classified by SQLSTATE in one place, internal causes logged and never sent.
//!
//! Handlers and stores return [`Result`]: `?` turns a `sqlx::Error` (remembering where it was
//! met) or a ready `Status` into an [`Error`], and an [`Error`] into the `Status` the caller sees.

use std::panic::Location;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::events::HandlerError;

/// What a service's handlers and stores return.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure of a call: a status meant for the caller, or a cause only the log may see.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A status for the caller as it is (bad input, not found, permission denied, …).
    #[error("{:?}: {}", .0.code(), .0.message())]
    Status(Box<Status>),
    /// A database failure, met at `at` (the `?` that turned it into an `Error`).
    #[error("postgres at {at}: {source}")]
    Sql {
        source: sqlx::Error,
        at: &'static Location<'static>,
    },
    /// Any other failure whose cause the caller must not see.
    #[error("internal at {at}: {source}")]
    Internal {
        source: Box<dyn std::error::Error + Send + Sync>,
        at: &'static Location<'static>,
    },
}

impl Error {
    /// An internal failure caused by `cause`, met where this is called.
    #[track_caller]
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal {
            source: cause.into(),
            at: Location::caller(),
        }
    }

    /// A database failure met at `at` (for helpers that capture their caller's location).
    pub fn sql_at(source: sqlx::Error, at: &'static Location<'static>) -> Self {
        Self::Sql { source, at }
    }

    /// What the database error is, by SQLSTATE; `None` for other failures.
    pub fn sql_kind(&self) -> Option<SqlErrorKind> {
        match self {
            Self::Sql { source, .. } => Some(classify_sql(source)),
            _ => None,
        }
    }

    /// `ALREADY_EXISTS` "`{field} {description}`" when this is a unique violation of
    /// `constraint`; any other error is returned unchanged.
    pub fn unique_violation(
        self,
        constraint: &str,
        field: &str,
        description: impl std::fmt::Display,
    ) -> Self {
        match self.sql_kind() {
            Some(SqlErrorKind::UniqueViolation {
                constraint: Some(violated),
            }) if violated == constraint => {
                Status::already_exists(format!("{field} {description}")).into()
            }
            _ => self,
        }
    }
}

impl From<sqlx::Error> for Error {
    /// Records the location of the `?` (or call) that converted the error, for the log.
    #[track_caller]
    fn from(source: sqlx::Error) -> Self {
        Self::sql_at(source, Location::caller())
    }
}

impl From<Status> for Error {
    fn from(status: Status) -> Self {
        Self::Status(Box::new(status))
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Status(status) => *status,
            Error::Sql { source, at } => sql_error_status(&source, at),
            Error::Internal { source, at } => {
                tracing::error!(location = %at, error = %source, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// A consumer's handler fails with the error's text (it is logged and the event retried).
impl From<Error> for HandlerError {
    fn from(error: Error) -> Self {
        match error {
            Error::Sql { source, .. } => Self::from(source),
            other => Self(other.to_string()),
        }
    }
}

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

/// How much of a caller's text an error, detail or log field may repeat.
pub const QUOTE_CHARS: usize = 64;

/// Caller input as an error message, `BadRequest` description or log field may show it: at most
/// [`QUOTE_CHARS`] characters (cut on a character boundary), in quotes, and when cut, with its
/// length: `"0101234…" (5000 chars)`. Never echo caller input any other way
/// (CONTRIBUTING.md, "Errors name the field").
pub fn quote(text: &str) -> Quoted<'_> {
    Quoted(text)
}

/// Caller input bounded for display; see [`quote`].
#[derive(Clone, Copy)]
pub struct Quoted<'a>(&'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.char_indices().nth(QUOTE_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => {
                let shown = format!("{:?}", &self.0[..cut]);
                let shown = shown.strip_suffix('"').unwrap_or(&shown);
                write!(f, "{shown}…\" ({} chars)", self.0.chars().count())
            }
        }
    }
}

impl std::fmt::Debug for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl FieldViolations {
    /// A violation naming `field` when `text` is longer than `max` characters; true when it is
    /// within the bound (so callers can skip checks that would only repeat the complaint).
    pub fn max_chars(&mut self, field: &str, text: &str, max: usize) -> bool {
        let within = text.chars().nth(max).is_none();
        if !within {
            self.add(
                field,
                format!(
                    "must be at most {max} characters (got {})",
                    text.chars().count()
                ),
            );
        }
        within
    }
}

/// `INVALID_ARGUMENT` naming one field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    let mut violations = FieldViolations::new();
    violations.add(field, description);
    violations.into_status()
}

/// `status` with the fields it names moved under message field `prefix` (`period` becomes
/// `times.period`), for a request checked as a part of a larger one. A status naming no field
/// is returned as it is.
pub fn nested_fields(status: Status, prefix: &str) -> Status {
    let Some(bad) = status.get_details_bad_request() else {
        return status;
    };
    if status.code() != Code::InvalidArgument || bad.field_violations.is_empty() {
        return status;
    }
    let mut violations = FieldViolations::new();
    for violation in bad.field_violations {
        violations.add(
            format!("{prefix}.{}", violation.field),
            violation.description,
        );
    }
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
    /// The pool had no connection in time, the server is unreachable, or it is shutting down,
    /// starting up or out of connections (SQLSTATE class 08, 57P01–57P03, 53300): a failure of
    /// the moment, not of the request.
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
                Some("57P01") | Some("57P02") | Some("57P03") | Some("53300") => {
                    SqlErrorKind::Unavailable
                }
                Some(code) if code.starts_with("08") => SqlErrorKind::Unavailable,
                _ => SqlErrorKind::Other,
            }
        }
        // A connection that broke mid-conversation surfaces as I/O or protocol errors.
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => SqlErrorKind::Unavailable,
        _ => SqlErrorKind::Other,
    }
}

/// The status for a database error that no handler turned into something more specific. The
/// cause is logged with the operation; the caller learns only what kind of failure it was.
/// (Code on [`Error`] gets the same through `?`.)
pub fn sql_status(operation: &str, error: &sqlx::Error) -> Status {
    sql_error_status(error, &operation)
}

/// The one mapping of database errors to statuses; `at` says in the log where it happened.
fn sql_error_status(error: &sqlx::Error, at: &dyn std::fmt::Display) -> Status {
    match classify_sql(error) {
        SqlErrorKind::UniqueViolation { .. } => {
            Status::already_exists("the resource already exists")
        }
        SqlErrorKind::ForeignKeyViolation { .. } => {
            Status::failed_precondition("a referenced resource does not exist")
        }
        SqlErrorKind::Retryable => Status::aborted("concurrent change; retry the call"),
        SqlErrorKind::Unavailable => {
            tracing::error!(location = %at, %error, "database unavailable");
            Status::unavailable("the database is unavailable")
        }
        SqlErrorKind::CheckViolation { .. } | SqlErrorKind::Other => {
            tracing::error!(location = %at, %error, "internal error");
            Status::internal("internal error")
        }
    }
}

/// `INTERNAL` for a cause the caller must not see; the cause is logged.
pub fn internal(operation: &str, error: &dyn std::fmt::Display) -> Status {
    tracing::error!(operation, %error, "internal error");
    Status::internal("internal error")
}

#[cfg(test)]
pub(crate) mod tests;
