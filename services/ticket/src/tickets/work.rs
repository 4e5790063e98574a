//! The actions that move a ticket without a reply: take (가져오기), forward (전달), resolve
//! internally (내부해결), restore and delete in the spam box, close (완료) and update.

use chrono::Utc;
use switchboard_platform::{
    error::{FieldViolations, invalid_field},
    principal::PrincipalExt,
    request::uuid_field,
};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        CloseTicketRequest, CloseTicketResponse, DeleteTicketRequest, DeleteTicketResponse,
        ForwardTicketRequest, ForwardTicketResponse, ResolutionReason, ResolveInternallyRequest,
        ResolveInternallyResponse, RestoreTicketRequest, RestoreTicketResponse, TakeTicketRequest,
        TakeTicketResponse, Ticket, TicketChangeOrigin, TicketEventKind, TicketPriority,
        TicketStatus, UpdateTicketRequest, UpdateTicketResponse,
    },
};
use tonic::Status;

use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Change, TicketApi, access, announce,
    batch::Refusal,
    count_message, lock_visible,
    reply::{check_types, internal_comment, message_writes},
    save, save_with, store,
};
use crate::{
    attachments,
    domain::{
        fields,
        workflow::{Action, next_status},
    },
};

fn refused(error: crate::domain::workflow::Refused) -> Status {
    Status::failed_precondition(error.to_string())
}

/// The status after `action`, or FAILED_PRECONDITION naming the status and the action.
fn next(ticket: &Ticket, action: Action) -> Result<TicketStatus, Status> {
    next_status(
        ticket.status(),
        action,
        !ticket.assignee_login.is_empty(),
        ticket.status_before_spam(),
    )
    .map_err(refused)
}

/// Locks the ticket `id` for `action` by `principal`: the ticket and its status after the
/// action, or the refusal (NOT_FOUND, or the state machine's FAILED_PRECONDITION) with its
/// batch row reason.
pub(crate) async fn lock_for(
    tx: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
    action: Action,
) -> Result<(Ticket, TicketStatus), Refusal> {
    let ticket = lock_visible(tx, principal, id)
        .await
        .map_err(Refusal::lookup)?;
    let status = next(&ticket, action).map_err(Refusal::invalid_status)?;
    Ok((ticket, status))
}

pub async fn take(
    api: &TicketApi,
    principal: &Principal,
    request: TakeTicketRequest,
) -> Result<TakeTicketResponse, Status> {
    access::require_staff(principal)?;
    let mut violations = FieldViolations::new();
    let ticket_id = violations.uuid("ticket_id", &request.ticket_id);
    let asked = violations
        .optional_uuid("group_id", &request.group_id)
        .map(|id| id.to_string())
        .unwrap_or_default();
    violations.into_result()?;
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let before = lock_visible(&mut tx, principal, ticket_id.expect("checked")).await?;
    let status = next(&before, Action::Take)?;
    let group_id = match (before.group_id.as_str(), asked.as_str()) {
        (current, asked) if !current.is_empty() => {
            if !asked.is_empty() && asked != current {
                return Err(invalid_field(
                    "group_id",
                    "must be empty or the ticket's group",
                ));
            }
            current.to_owned()
        }
        (_, "") => match principal.group_ids.as_slice() {
            [only] => only.clone(),
            [] => return Err(Status::permission_denied("you belong to no group")),
            _ => {
                return Err(invalid_field(
                    "group_id",
                    "is required: the ticket has no group and you are in several",
                ));
            }
        },
        (_, asked) => asked.to_owned(),
    };
    if !access::in_group(principal, &group_id) {
        return Err(Status::permission_denied(
            "group_id: you are not in this group",
        ));
    }
    let mut after = before.clone();
    if after.group_id != group_id {
        let group = api.directory.group(&group_id).await?;
        after.group_display_name = group.map(|g| g.display_name).unwrap_or_default();
        after.group_id = group_id;
    }
    after.status = status as i32;
    after.assignee_login = principal.subject.clone();
    after.assignee_display_name = principal.display_name.clone();
    let change = Change::new(
        TicketEventKind::Taken,
        TicketChangeOrigin::User,
        principal.actor(),
    );
    let ticket = save(&mut tx, &api.limits, &before, after, change, Utc::now()).await?;
    switchboard_platform::db::commit(tx).await?;
    Ok(TakeTicketResponse {
        ticket: Some(ticket),
    })
}

/// A forward's destination and note, checked: what [`forward_one`] does to each ticket.
pub(crate) struct CheckedForward {
    pub group_id: String,
    pub group_display_name: String,
    pub assignee: String,
    pub assignee_name: String,
    pub note: String,
    /// Part of `BatchForwardTickets` (the change event says so).
    pub batch: bool,
}

/// Checks a forward's `group_id` (a group that exists), `assignee_login` (empty or an active
/// member of it) and `note`, alone or in a batch; `violations` holds the request's other
/// problems, reported with these.
pub(crate) async fn check_forward(
    api: &TicketApi,
    mut violations: FieldViolations,
    group_id: &str,
    assignee_login: &str,
    note: &str,
) -> Result<CheckedForward, Status> {
    let group_id = violations.uuid("group_id", group_id);
    violations.max_chars("note", note, 10_000);
    violations.into_result()?;
    let group_id = group_id.expect("checked").to_string();
    let group = api
        .directory
        .group(&group_id)
        .await?
        .ok_or_else(|| invalid_field("group_id", "no such group"))?;
    let assignee = assignee_login.trim();
    let assignee_name = if assignee.is_empty() {
        String::new()
    } else {
        match api.directory.agent(assignee).await? {
            Some(agent) if agent.group_ids.contains(&group_id) => agent.display_name,
            _ => {
                return Err(invalid_field(
                    "assignee_login",
                    "must be an active member of the group",
                ));
            }
        }
    };
    Ok(CheckedForward {
        group_id,
        group_display_name: group.display_name,
        assignee: assignee.to_owned(),
        assignee_name,
        note: note.to_owned(),
        batch: false,
    })
}

pub async fn forward(
    api: &TicketApi,
    principal: &Principal,
    request: ForwardTicketRequest,
) -> Result<ForwardTicketResponse, Status> {
    principal.require_admin()?;
    let mut violations = FieldViolations::new();
    let ticket_id = violations.uuid("ticket_id", &request.ticket_id);
    let checked = check_forward(
        api,
        violations,
        &request.group_id,
        &request.assignee_login,
        &request.note,
    )
    .await?;
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let ticket = forward_one(
        api,
        &mut tx,
        principal,
        ticket_id.expect("checked"),
        &checked,
    )
    .await?;
    switchboard_platform::db::commit(tx).await?;
    Ok(ForwardTicketResponse {
        ticket: Some(ticket),
    })
}

/// The checked forward of the ticket `ticket_id` in `tx`, with its note, history entry and
/// event, as `ForwardTicket` makes them. A refusal says its batch row reason.
pub(crate) async fn forward_one(
    api: &TicketApi,
    tx: &mut PgConnection,
    principal: &Principal,
    ticket_id: Uuid,
    checked: &CheckedForward,
) -> Result<Ticket, Refusal> {
    let action = Action::Forward {
        to_agent: !checked.assignee.is_empty(),
    };
    let (before, status) = lock_for(tx, principal, ticket_id, action).await?;
    let now = Utc::now();
    let mut after = before.clone();
    after.status = status as i32;
    after.group_id = checked.group_id.clone();
    after.group_display_name = checked.group_display_name.clone();
    after.assignee_login = checked.assignee.clone();
    after.assignee_display_name = checked.assignee_name.clone();
    let mut change = Change::new(
        TicketEventKind::Forwarded,
        TicketChangeOrigin::User,
        principal.actor(),
    )
    .with_note(checked.note.clone());
    change.batch = checked.batch;
    let note = if checked.note.trim().is_empty() {
        None
    } else {
        let composed = internal_comment(
            tx,
            &before,
            principal,
            checked.note.clone(),
            Vec::new(),
            now,
        )
        .await?;
        count_message(&mut after, &composed.message);
        change = change.with_message(composed.message.clone());
        Some(composed)
    };
    let ticket = save_with(
        tx,
        &api.limits,
        &before,
        after,
        change,
        now,
        |writes| match &note {
            Some(composed) => message_writes(writes, ticket_id, composed),
            None => Ok(()),
        },
    )
    .await?;
    Ok(ticket)
}

pub async fn resolve(
    api: &TicketApi,
    principal: &Principal,
    request: ResolveInternallyRequest,
) -> Result<ResolveInternallyResponse, Status> {
    access::require_staff(principal)?;
    let mut violations = FieldViolations::new();
    let ticket_id = violations.uuid("ticket_id", &request.ticket_id);
    let reason = match ResolutionReason::try_from(request.reason) {
        Ok(ResolutionReason::Unspecified) | Err(_) => {
            violations.add("reason", "must be a ResolutionReason");
            ResolutionReason::Unspecified
        }
        Ok(reason) => reason,
    };
    violations.max_chars("note", &request.note, 2_000);
    if reason == ResolutionReason::Other && request.note.trim().is_empty() {
        violations.add("note", "is required for RESOLUTION_REASON_OTHER");
    }
    let duplicate_of =
        violations.optional_uuid("duplicate_of_ticket_id", &request.duplicate_of_ticket_id);
    if duplicate_of.is_some() && reason != ResolutionReason::Duplicate {
        violations.add(
            "duplicate_of_ticket_id",
            "is only for RESOLUTION_REASON_DUPLICATE",
        );
    }
    violations.into_result()?;
    let ticket_id = ticket_id.expect("checked");
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let before = lock_visible(&mut tx, principal, ticket_id).await?;
    let status = next(&before, Action::ResolveInternally(reason))?;
    let allowed = principal.is_admin()
        || access::is_assignee(principal, &before)
        || (before.status() == TicketStatus::Unassigned && reason == ResolutionReason::Spam);
    if !allowed {
        return Err(Status::permission_denied(
            "only the assignee or an admin may resolve this ticket; take it first",
        ));
    }
    if let Some(other) = duplicate_of {
        let seen = match store::load(&mut tx, other, false).await? {
            Some(other) => access::sees(principal, &other) && other.id != before.id,
            None => false,
        };
        if !seen {
            return Err(invalid_field(
                "duplicate_of_ticket_id",
                "no such other ticket",
            ));
        }
    }
    let mut after = before.clone();
    after.status = status as i32;
    after.resolution_reason = reason as i32;
    after.resolution_note = request.note.trim().to_owned();
    if status == TicketStatus::Spam {
        after.status_before_spam = before.status;
    }
    let mut change = Change::new(
        TicketEventKind::ResolvedInternally,
        TicketChangeOrigin::User,
        principal.actor(),
    )
    .with_note(after.resolution_note.clone())
    .related_to(duplicate_of.map(|id| id.to_string()).unwrap_or_default());
    change.resolution_reason = reason;
    let ticket = save(&mut tx, &api.limits, &before, after, change, Utc::now()).await?;
    switchboard_platform::db::commit(tx).await?;
    Ok(ResolveInternallyResponse {
        ticket: Some(ticket),
    })
}

pub async fn restore(
    api: &TicketApi,
    principal: &Principal,
    request: RestoreTicketRequest,
) -> Result<RestoreTicketResponse, Status> {
    access::require_staff(principal)?;
    let ticket_id = uuid_field("ticket_id", &request.ticket_id)?;
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let before = lock_visible(&mut tx, principal, ticket_id).await?;
    let status = next(&before, Action::Restore)?;
    let mut after = before.clone();
    after.status = status as i32;
    after.status_before_spam = TicketStatus::Unspecified as i32;
    after.resolution_reason = ResolutionReason::Unspecified as i32;
    after.resolution_note.clear();
    let change = Change::new(
        TicketEventKind::Restored,
        TicketChangeOrigin::User,
        principal.actor(),
    );
    let ticket = save(&mut tx, &api.limits, &before, after, change, Utc::now()).await?;
    switchboard_platform::db::commit(tx).await?;
    Ok(RestoreTicketResponse {
        ticket: Some(ticket),
    })
}

pub async fn delete(
    api: &TicketApi,
    principal: &Principal,
    request: DeleteTicketRequest,
) -> Result<DeleteTicketResponse, Status> {
    access::require_staff(principal)?;
    let ticket_id = uuid_field("ticket_id", &request.ticket_id)?;
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let ticket = lock_visible(&mut tx, principal, ticket_id).await?;
    next(&ticket, Action::Delete)?;
    sqlx::query("DELETE FROM tickets WHERE id = $1")
        .bind(ticket_id)
        .execute(&mut *tx)
        .await
        .map_err(switchboard_platform::error::Error::from)?;
    attachments::delete_orphans(&mut tx).await?;
    announce::deleted(&mut tx, &ticket, principal.actor()).await?;
    switchboard_platform::db::commit(tx).await?;
    Ok(DeleteTicketResponse {})
}

pub async fn close(
    api: &TicketApi,
    principal: &Principal,
    request: CloseTicketRequest,
) -> Result<CloseTicketResponse, Status> {
    principal.require_admin()?;
    let ticket_id = uuid_field("ticket_id", &request.ticket_id)?;
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let before = lock_visible(&mut tx, principal, ticket_id).await?;
    let status = next(&before, Action::Close)?;
    let mut after = before.clone();
    after.status = status as i32;
    let change = Change::new(
        TicketEventKind::Closed,
        TicketChangeOrigin::User,
        principal.actor(),
    );
    let ticket = save(&mut tx, &api.limits, &before, after, change, Utc::now()).await?;
    switchboard_platform::db::commit(tx).await?;
    Ok(CloseTicketResponse {
        ticket: Some(ticket),
    })
}

const UPDATABLE: [&str; 4] = ["priority", "tags", "inquiry_type_id", "processing_type_id"];

pub async fn update(
    api: &TicketApi,
    principal: &Principal,
    request: UpdateTicketRequest,
) -> Result<UpdateTicketResponse, Status> {
    access::require_staff(principal)?;
    let given = request.ticket.clone().unwrap_or_default();
    let paths = request.update_mask.clone().unwrap_or_default().paths;
    let mut violations = FieldViolations::new();
    let ticket_id = violations.uuid("ticket.id", &given.id);
    if paths.is_empty() {
        violations.add("update_mask", "must name at least one field");
    }
    for path in &paths {
        if !UPDATABLE.contains(&path.as_str()) {
            violations.add(
                "update_mask",
                format!("may name only {}", UPDATABLE.join(", ")),
            );
        }
    }
    let has = |path: &str| paths.iter().any(|p| p == path);
    let tags = if has("tags") {
        Some(fields::tags(&mut violations, "ticket.tags", &given.tags))
    } else {
        None
    };
    let inquiry = if has("inquiry_type_id") {
        violations.optional_uuid("ticket.inquiry_type_id", &given.inquiry_type_id)
    } else {
        None
    };
    let processing = if has("processing_type_id") {
        violations.optional_uuid("ticket.processing_type_id", &given.processing_type_id)
    } else {
        None
    };
    if has("priority") && TicketPriority::try_from(given.priority).is_err() {
        violations.add("ticket.priority", "is not a TicketPriority");
    }
    if request.expected_version < 0 {
        violations.add("expected_version", "must not be negative");
    }
    violations.into_result()?;
    let ticket_id = ticket_id.expect("checked");
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    let before = lock_visible(&mut tx, principal, ticket_id).await?;
    next(&before, Action::Update)?;
    if request.expected_version != 0 && request.expected_version != before.version {
        return Err(Status::aborted(format!(
            "the ticket is at version {}, not {}",
            before.version, request.expected_version
        )));
    }
    let mut after = before.clone();
    if has("priority") {
        after.priority = match given.priority() {
            TicketPriority::Unspecified => TicketPriority::Normal as i32,
            other => other as i32,
        };
    }
    if let Some(tags) = tags {
        after.tags = tags;
    }
    // Only a newly given type must be active: an inactive one the ticket has stays.
    let text = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    let new_inquiry = inquiry.filter(|id| id.to_string() != before.inquiry_type_id);
    let new_processing = processing.filter(|id| id.to_string() != before.processing_type_id);
    check_types(&mut tx, "ticket", new_inquiry, new_processing).await?;
    if has("inquiry_type_id") {
        after.inquiry_type_id = text(inquiry);
    }
    if has("processing_type_id") {
        after.processing_type_id = text(processing);
    }
    if switchboard_proto::ticket_changes::diff(&before, &after).is_empty() {
        return Ok(UpdateTicketResponse {
            ticket: Some(before),
        });
    }
    let change = Change::new(
        TicketEventKind::Updated,
        TicketChangeOrigin::User,
        principal.actor(),
    );
    let ticket = save(&mut tx, &api.limits, &before, after, change, Utc::now()).await?;
    switchboard_platform::db::commit(tx).await?;
    Ok(UpdateTicketResponse {
        ticket: Some(ticket),
    })
}
