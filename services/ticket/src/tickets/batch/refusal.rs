//! The batch row reasons, and a single-ticket change's refusal that carries its reason.

use switchboard_platform::error::Error;
use tonic::{Code, Status};

pub(crate) const NOT_FOUND: &str = "NOT_FOUND";
pub(crate) const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
pub(crate) const INVALID_STATUS: &str = "INVALID_STATUS";
pub(crate) const NO_REPLY_ADDRESS: &str = "NO_REPLY_ADDRESS";

/// Why a change of one ticket failed: the status a single-ticket rpc answers, and, when the
/// failure is the ticket's own (not the service's), its batch row reason.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(super) reason: Option<&'static str>,
    pub(super) status: Status,
}

impl Refusal {
    pub(crate) fn row(reason: &'static str, status: Status) -> Self {
        Self {
            reason: Some(reason),
            status,
        }
    }

    /// A ticket lookup's failure: NOT_FOUND (missing or not visible) is the row's.
    pub(crate) fn lookup(status: Status) -> Self {
        match status.code() {
            Code::NotFound => Self::row(NOT_FOUND, status),
            _ => status.into(),
        }
    }

    /// The state machine refused the action (FAILED_PRECONDITION naming the status).
    pub(crate) fn invalid_status(status: Status) -> Self {
        Self::row(INVALID_STATUS, status)
    }
}

impl From<Status> for Refusal {
    fn from(status: Status) -> Self {
        Self {
            reason: None,
            status,
        }
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Status::from(error).into()
    }
}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Self {
        refusal.status
    }
}
