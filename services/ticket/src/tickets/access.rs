//! Who may see and act on a ticket, from the verified principal (ticket_service.proto): admins
//! every ticket; agents the tickets of their groups, those with no group yet and their own.
//! A ticket the caller may not see answers exactly as one that does not exist.

use switchboard_platform::principal::PrincipalExt;
use switchboard_proto::{common::v1::Principal, ticket::v1::Ticket};
use tonic::Status;

/// The scope that reads every ticket (mail-ingest sending replies, CRM middleware).
pub const READ_SCOPE: &str = "tickets:read";
/// The scope of `TicketIngestService`.
pub const INGEST_SCOPE: &str = "tickets:ingest";
/// The scope of `TicketAutomationService` (the trigger engine).
pub const AUTOMATE_SCOPE: &str = "tickets:automate";

/// Whether `principal`, as an agent or admin, sees `ticket`.
pub fn sees(principal: &Principal, ticket: &Ticket) -> bool {
    if principal.is_admin() {
        return true;
    }
    if principal.kind() != switchboard_proto::common::v1::PrincipalKind::Agent {
        return false;
    }
    ticket.group_id.is_empty()
        || principal.group_ids.contains(&ticket.group_id)
        || (!ticket.assignee_login.is_empty() && ticket.assignee_login == principal.subject)
}

/// Whether `principal` may read `ticket` through the read rpcs (`GetTicket`, messages, events,
/// attachments): those who see it, and services with [`READ_SCOPE`].
pub fn may_read(principal: &Principal, ticket: &Ticket) -> bool {
    sees(principal, ticket) || principal.has_scope(READ_SCOPE)
}

/// Whether `principal` is an agent or admin (the callers of the working rpcs).
pub fn is_staff(principal: &Principal) -> bool {
    use switchboard_proto::common::v1::PrincipalKind;
    matches!(
        principal.kind(),
        PrincipalKind::Agent | PrincipalKind::Admin
    )
}

/// PERMISSION_DENIED unless `principal` is an agent or admin.
pub fn require_staff(principal: &Principal) -> Result<(), Status> {
    if is_staff(principal) {
        Ok(())
    } else {
        Err(Status::permission_denied(
            "this method is for agents and admins",
        ))
    }
}

/// PERMISSION_DENIED unless the caller may use the read rpcs at all (agents, admins and the
/// [`READ_SCOPE`]).
pub fn require_reader(principal: &Principal) -> Result<(), Status> {
    if is_staff(principal) || principal.has_scope(READ_SCOPE) {
        Ok(())
    } else {
        Err(Status::permission_denied(
            "this method is for agents, admins and the tickets:read scope",
        ))
    }
}

/// PERMISSION_DENIED unless `principal` is a service holding `scope` (the internal services,
/// whose methods no agent or admin calls).
pub fn require_scope(principal: &Principal, scope: &str) -> Result<(), Status> {
    if principal.has_scope(scope) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "this method is for the {scope} scope"
        )))
    }
}

/// Whether `principal` belongs to the group `group_id`.
pub fn in_group(principal: &Principal, group_id: &str) -> bool {
    principal.group_ids.iter().any(|g| g == group_id)
}

/// The answer for a ticket that does not exist or that the caller may not see.
pub fn not_found() -> Status {
    Status::not_found("ticket not found")
}

/// Whether `principal` is the ticket's assignee.
pub fn is_assignee(principal: &Principal, ticket: &Ticket) -> bool {
    !ticket.assignee_login.is_empty() && ticket.assignee_login == principal.subject
}

#[cfg(test)]
mod tests {
    use switchboard_proto::common::v1::PrincipalKind;

    use super::*;

    fn agent(groups: &[&str]) -> Principal {
        Principal {
            subject: "kim".into(),
            kind: PrincipalKind::Agent as i32,
            group_ids: groups.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        }
    }

    fn ticket(group: &str, assignee: &str) -> Ticket {
        Ticket {
            group_id: group.into(),
            assignee_login: assignee.into(),
            ..Default::default()
        }
    }

    #[test]
    fn agents_see_their_groups_ungrouped_and_their_own_tickets_only() {
        let kim = agent(&["a"]);
        assert!(sees(&kim, &ticket("a", "lee")));
        assert!(sees(&kim, &ticket("", "")));
        assert!(sees(&kim, &ticket("b", "kim")));
        assert!(!sees(&kim, &ticket("b", "lee")));
        assert!(!sees(&kim, &ticket("b", "")));
    }

    #[test]
    fn services_read_only_with_the_scope_and_never_see_as_staff() {
        let mut service = Principal {
            subject: "mail-ingest".into(),
            kind: PrincipalKind::Service as i32,
            ..Default::default()
        };
        let other = ticket("b", "");
        assert!(!may_read(&service, &other));
        service.scopes.push(READ_SCOPE.into());
        assert!(may_read(&service, &other));
        assert!(!sees(&service, &other));
        assert!(!is_staff(&service));
    }

    #[test]
    fn internal_methods_are_for_services_with_the_scope_never_for_admins() {
        let admin = Principal {
            subject: "admin".into(),
            kind: PrincipalKind::Admin as i32,
            scopes: vec![AUTOMATE_SCOPE.into()],
            ..Default::default()
        };
        assert!(require_scope(&admin, AUTOMATE_SCOPE).is_err());
        let engine = Principal {
            subject: "trigger-engine".into(),
            kind: PrincipalKind::Service as i32,
            scopes: vec![AUTOMATE_SCOPE.into()],
            ..Default::default()
        };
        assert!(require_scope(&engine, AUTOMATE_SCOPE).is_ok());
        assert!(require_scope(&engine, INGEST_SCOPE).is_err());
    }
}
