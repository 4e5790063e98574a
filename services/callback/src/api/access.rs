//! Row-level rules, decided from the verified principal only (never from request fields).

use switchboard_platform::principal::PrincipalExt;
use switchboard_proto::common::v1::{Principal, PrincipalKind};
use tonic::Status;

use crate::{directory::PHONE_PERMISSION, store::CallbackRow};

/// The scope internal systems read callbacks with.
pub const READ_SCOPE: &str = "callbacks:read";
/// The scope of the IVR.
pub const CREATE_SCOPE: &str = "callbacks:create";
/// The scope of the CTI reporting call outcomes.
pub const ATTEMPTS_SCOPE: &str = "callbacks:attempts";

/// Which callbacks a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sight {
    /// Admins and services with `callbacks:read`.
    Everything,
    /// An agent with the phone permission: the callbacks assigned to them.
    AssignedTo(String),
}

fn no_phone() -> Status {
    Status::permission_denied("callbacks need the phone permission")
}

/// `PERMISSION_DENIED` unless `principal` is an agent with the phone permission; their login.
fn phone_agent(principal: &Principal) -> Result<String, Status> {
    if principal.kind() == PrincipalKind::Agent && principal.has_permission(PHONE_PERMISSION) {
        Ok(principal.subject.clone())
    } else {
        Err(no_phone())
    }
}

/// What `principal` may read.
pub fn sight(principal: &Principal) -> Result<Sight, Status> {
    match principal.kind() {
        PrincipalKind::Admin => Ok(Sight::Everything),
        PrincipalKind::Service if principal.has_scope(READ_SCOPE) => Ok(Sight::Everything),
        PrincipalKind::Agent => phone_agent(principal).map(Sight::AssignedTo),
        _ => Err(Status::permission_denied(format!(
            "reading callbacks needs the {READ_SCOPE} scope"
        ))),
    }
}

/// Whether `sight` covers `row`.
pub fn sees(sight: &Sight, row: &CallbackRow) -> bool {
    match sight {
        Sight::Everything => true,
        Sight::AssignedTo(login) => row.assignee_login.as_deref() == Some(login.as_str()),
    }
}

pub fn not_yours(id: &impl std::fmt::Display) -> Status {
    Status::permission_denied(format!("callback {id} is not assigned to you"))
}

/// Who may work callbacks (connect, complete): admins on any, phone agents on their own.
pub fn worker(principal: &Principal) -> Result<Sight, Status> {
    match principal.kind() {
        PrincipalKind::Admin => Ok(Sight::Everything),
        PrincipalKind::Agent => phone_agent(principal).map(Sight::AssignedTo),
        _ => Err(Status::permission_denied(
            "only the assigned agent or an admin works a callback",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(kind: PrincipalKind, permissions: &[&str], scopes: &[&str]) -> Principal {
        Principal {
            subject: "kim".into(),
            kind: kind as i32,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn who_sees_what() {
        assert_eq!(
            sight(&principal(PrincipalKind::Admin, &[], &[])).unwrap(),
            Sight::Everything
        );
        assert_eq!(
            sight(&principal(PrincipalKind::Agent, &["phone"], &[])).unwrap(),
            Sight::AssignedTo("kim".into())
        );
        assert!(sight(&principal(PrincipalKind::Agent, &[], &[])).is_err());
        assert_eq!(
            sight(&principal(PrincipalKind::Service, &[], &[READ_SCOPE])).unwrap(),
            Sight::Everything
        );
        assert!(sight(&principal(PrincipalKind::Service, &[], &[CREATE_SCOPE])).is_err());
        // A scope on an agent principal means nothing.
        assert!(sight(&principal(PrincipalKind::Agent, &[], &[READ_SCOPE])).is_err());
    }

    #[test]
    fn services_do_not_work_callbacks() {
        assert!(worker(&principal(PrincipalKind::Service, &[], &[READ_SCOPE])).is_err());
        assert!(worker(&principal(PrincipalKind::Agent, &[], &[])).is_err());
    }
}
