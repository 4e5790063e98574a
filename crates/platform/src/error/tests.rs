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
fn nested_fields_are_named_under_their_prefix() {
    let mut violations = FieldViolations::new();
    violations
        .add("period", "is required")
        .add("filter.channels[0]", "unknown");
    let nested = nested_fields(violations.into_status(), "times");
    assert_eq!(nested.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&nested),
        ["times.period", "times.filter.channels[0]"]
    );
    assert_eq!(
        nested.message(),
        "times.period: is required; times.filter.channels[0]: unknown"
    );
    let denied = nested_fields(Status::permission_denied("no"), "times");
    assert_eq!(
        (denied.code(), denied.message()),
        (Code::PermissionDenied, "no")
    );
}

#[test]
fn no_violations_is_ok() {
    assert!(FieldViolations::new().into_result().is_ok());
}

/// A database error with a SQLSTATE and a constraint, as PostgreSQL reports one.
#[derive(Debug)]
struct FakeDbError {
    code: &'static str,
    constraint: Option<&'static str>,
}

impl std::fmt::Display for FakeDbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sqlstate {}", self.code)
    }
}

impl std::error::Error for FakeDbError {}

impl sqlx::error::DatabaseError for FakeDbError {
    fn message(&self) -> &str {
        "fake"
    }
    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.into())
    }
    fn constraint(&self) -> Option<&str> {
        self.constraint
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

/// A database error of SQLSTATE `code`, for tests of its classification.
pub(crate) fn db_error(code: &'static str, constraint: Option<&'static str>) -> sqlx::Error {
    sqlx::Error::Database(Box::new(FakeDbError { code, constraint }))
}

/// The line of the `?` in `fails_with`.
const QUESTION_MARK_LINE: u32 = line!() + 3;

fn fails_with(error: sqlx::Error) -> Result<()> {
    Err(error)?;
    Ok(())
}

#[test]
fn sql_errors_become_statuses_by_sqlstate() {
    let status = |e| Status::from(Error::from(e));
    assert_eq!(status(db_error("23505", None)).code(), Code::AlreadyExists);
    assert_eq!(
        status(db_error("23503", None)).code(),
        Code::FailedPrecondition
    );
    assert_eq!(status(db_error("40001", None)).code(), Code::Aborted);
    assert_eq!(status(sqlx::Error::PoolTimedOut).code(), Code::Unavailable);
    // A server shutting down, starting up or out of connections, and a broken connection.
    for code in ["57P01", "57P03", "53300", "08006"] {
        assert_eq!(
            status(db_error(code, None)).code(),
            Code::Unavailable,
            "{code}"
        );
    }
    let broken = sqlx::Error::Protocol("unexpected end of stream".into());
    assert_eq!(status(broken).code(), Code::Unavailable);
    let internal = status(db_error("42P01", None));
    assert_eq!(internal.code(), Code::Internal);
    // The cause stays in the log.
    assert_eq!(internal.message(), "internal error");
}

#[test]
fn the_question_mark_records_where_the_error_was_met() {
    let Err(Error::Sql { at, .. }) = fails_with(sqlx::Error::RowNotFound) else {
        panic!("expected a database error");
    };
    assert!(at.file().ends_with("tests.rs"), "{at}");
    assert_eq!(at.line(), QUESTION_MARK_LINE);
}

#[test]
fn a_status_passes_through_unchanged() {
    let error = Error::from(invalid_field("id", "must be a UUID"));
    let status = Status::from(error);
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["id"]);
}

#[test]
fn internal_causes_are_not_sent() {
    let status = Status::from(Error::internal("disk full at /var/lib"));
    assert_eq!(status.code(), Code::Internal);
    assert_eq!(status.message(), "internal error");
}

#[test]
fn a_unique_violation_of_the_named_constraint_names_the_field() {
    let taken = Error::from(db_error("23505", Some("ivr_routes_code_key"))).unique_violation(
        "ivr_routes_code_key",
        "ivr_route.code",
        format_args!("{:?} is used by another route", "main"),
    );
    let status = Status::from(taken);
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(
        status.message(),
        r#"ivr_route.code "main" is used by another route"#
    );
    // No BadRequest details, as before the helper.
    assert!(violated_fields(&status).is_empty());
}

#[test]
fn other_errors_pass_the_unique_violation_helper_unchanged() {
    let helper = |e: sqlx::Error| {
        Status::from(Error::from(e).unique_violation("groups_display_name_key", "group.x", "y"))
    };
    let other_constraint = helper(db_error("23505", Some("groups_pkey")));
    assert_eq!(other_constraint.code(), Code::AlreadyExists);
    assert_eq!(other_constraint.message(), "the resource already exists");
    assert_eq!(helper(db_error("40P01", None)).code(), Code::Aborted);
    let status = Status::from(Error::from(Status::not_found("no group")).unique_violation(
        "groups_display_name_key",
        "group.x",
        "y",
    ));
    assert_eq!(status.code(), Code::NotFound);
}

#[test]
fn a_consumer_sees_the_database_error_as_before() {
    let HandlerError(text) = Error::from(sqlx::Error::RowNotFound).into();
    assert!(text.starts_with("postgres: "), "{text}");
}

#[test]
fn quotes_are_bounded_on_a_character_boundary() {
    assert_eq!(quote("010").to_string(), "\"010\"");
    let long = format!("010{}", "1".repeat(4997));
    assert_eq!(
        quote(&long).to_string(),
        format!("\"010{}…\" (5000 chars)", "1".repeat(61))
    );
    // Korean is three bytes a character: the cut is by characters, never inside one.
    let korean = "연결".repeat(100);
    let shown = quote(&korean).to_string();
    assert!(shown.starts_with(&format!("\"{}", "연결".repeat(32))));
    assert!(shown.ends_with("…\" (200 chars)"), "{shown}");
    // Exactly the bound is shown whole.
    assert_eq!(
        quote(&"x".repeat(64)).to_string(),
        format!("{:?}", "x".repeat(64))
    );
}

#[test]
fn over_long_strings_are_refused_by_name() {
    let mut violations = FieldViolations::new();
    assert!(violations.max_chars("memo", &"가".repeat(10), 10));
    assert!(!violations.max_chars("callback.phone_number", &"1".repeat(100_000), 32));
    let status = violations.into_status();
    assert_eq!(violated_fields(&status), ["callback.phone_number"]);
    assert!(status.message().len() < 100, "{}", status.message());
}
