//! What a change did to a ticket, before → after, in the stable order of ticket_event.proto
//! (status, group, assignee, priority, inquiry type, processing type, tags, customer fields,
//! subject): the list the ticket service writes into a history entry and its event, and the
//! trigger engine into a run's changes.

use std::collections::BTreeSet;

use crate::ticket::v1::{Ticket, TicketField, TicketFieldChange, TicketPriority, TicketStatus};

/// Every field that differs between `before` and `after`.
pub fn diff(before: &Ticket, after: &Ticket) -> Vec<TicketFieldChange> {
    let mut changes = Vec::new();
    let mut plain = |field: TicketField, before: String, after: String| {
        if before != after {
            changes.push(TicketFieldChange {
                field: field as i32,
                before,
                after,
                ..Default::default()
            });
        }
    };
    plain(
        TicketField::Status,
        status_name(before.status),
        status_name(after.status),
    );
    if before.group_id != after.group_id {
        changes.push(TicketFieldChange {
            field: TicketField::Group as i32,
            before: before.group_id.clone(),
            after: after.group_id.clone(),
            before_display: before.group_display_name.clone(),
            after_display: after.group_display_name.clone(),
            ..Default::default()
        });
    }
    if before.assignee_login != after.assignee_login {
        changes.push(TicketFieldChange {
            field: TicketField::Assignee as i32,
            before: before.assignee_login.clone(),
            after: after.assignee_login.clone(),
            before_display: before.assignee_display_name.clone(),
            after_display: after.assignee_display_name.clone(),
            ..Default::default()
        });
    }
    let mut plain = |field: TicketField, before: String, after: String| {
        if before != after {
            changes.push(TicketFieldChange {
                field: field as i32,
                before,
                after,
                ..Default::default()
            });
        }
    };
    plain(
        TicketField::Priority,
        priority_name(before.priority),
        priority_name(after.priority),
    );
    plain(
        TicketField::InquiryType,
        before.inquiry_type_id.clone(),
        after.inquiry_type_id.clone(),
    );
    plain(
        TicketField::ProcessingType,
        before.processing_type_id.clone(),
        after.processing_type_id.clone(),
    );
    if before.tags != after.tags {
        let old: BTreeSet<&String> = before.tags.iter().collect();
        let new: BTreeSet<&String> = after.tags.iter().collect();
        changes.push(TicketFieldChange {
            field: TicketField::Tags as i32,
            before: before.tags.join(" "),
            after: after.tags.join(" "),
            added_tags: new.difference(&old).map(|t| t.to_string()).collect(),
            removed_tags: old.difference(&new).map(|t| t.to_string()).collect(),
            ..Default::default()
        });
    }
    let keys: BTreeSet<&String> = before
        .customer_fields
        .keys()
        .chain(after.customer_fields.keys())
        .collect();
    for key in keys {
        let old = before.customer_fields.get(key).cloned().unwrap_or_default();
        let new = after.customer_fields.get(key).cloned().unwrap_or_default();
        if old != new {
            changes.push(TicketFieldChange {
                field: TicketField::CustomerField as i32,
                field_key: key.clone(),
                before: old,
                after: new,
                ..Default::default()
            });
        }
    }
    if before.subject != after.subject {
        changes.push(TicketFieldChange {
            field: TicketField::Subject as i32,
            before: before.subject.clone(),
            after: after.subject.clone(),
            ..Default::default()
        });
    }
    changes
}

fn status_name(status: i32) -> String {
    TicketStatus::try_from(status)
        .ok()
        .filter(|s| *s != TicketStatus::Unspecified)
        .map(|s| s.as_str_name().to_owned())
        .unwrap_or_default()
}

fn priority_name(priority: i32) -> String {
    TicketPriority::try_from(priority)
        .ok()
        .filter(|p| *p != TicketPriority::Unspecified)
        .map(|p| p.as_str_name().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_come_in_the_stable_order_with_tags_added_and_removed() {
        let before = Ticket {
            status: TicketStatus::Unassigned as i32,
            priority: TicketPriority::Normal as i32,
            tags: vec!["a".into(), "b".into()],
            subject: "환불".into(),
            ..Default::default()
        };
        let mut after = before.clone();
        after.subject = "환불 요청".into();
        after.tags = vec!["b".into(), "c".into()];
        after.status = TicketStatus::InProgress as i32;
        after.assignee_login = "kim".into();
        after.assignee_display_name = "김".into();
        let changes = diff(&before, &after);
        let fields: Vec<i32> = changes.iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            [
                TicketField::Status,
                TicketField::Assignee,
                TicketField::Tags,
                TicketField::Subject
            ]
            .map(|f| f as i32)
        );
        assert_eq!(changes[0].before, "TICKET_STATUS_UNASSIGNED");
        assert_eq!(changes[1].after_display, "김");
        assert_eq!(changes[2].added_tags, ["c"]);
        assert_eq!(changes[2].removed_tags, ["a"]);
        assert!(diff(&after, &after).is_empty());
    }
}
