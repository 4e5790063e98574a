//! The notifications of a trigger run, in order. A sent one is a ticket change of its own, as a
//! reply is: a `TICKET_MESSAGE_KIND_NOTIFICATION` message, a version, `ticket.message_added`
//! and `ticket_message.reply_requested`. A suppressed one is only a history entry saying why.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_platform::error::Error;
use switchboard_proto::ticket::v1::{
    Ticket, TicketChangeOrigin, TicketChannel, TicketEventKind, TicketMessageKind,
};
use tonic::{Code, Status};
use uuid::Uuid;

use super::{
    throttle,
    validate::{Notification, Recipient},
};
use crate::{
    domain::template,
    templates::lookup::{UsableTemplate, active},
    tickets::{
        Change, TicketApi, count_message, note_only,
        reply::{Composed, Outgoing, compose, message_writes},
        save_with, system_actor, template_values,
    },
};

/// The reasons the ticket service suppresses a notification (ticket_automation.proto).
const TEMPLATE_INACTIVE: &str = "TEMPLATE_INACTIVE";
const NO_ADDRESS: &str = "NO_ADDRESS";
const THROTTLED: &str = "THROTTLED";
/// Not among the proto's reasons: no active mail account can send it.
const NO_MAIL_ACCOUNT: &str = "NO_MAIL_ACCOUNT";

/// What becomes of one notification.
enum Decision {
    /// Sent; to the requester at this address, which the throttle counts.
    Send(Box<Composed>, Option<String>),
    Suppress(String),
}

/// Sends or records `notification` of the trigger `trigger_name` on `ticket`; returns the
/// ticket after it.
pub async fn notify(
    api: &TicketApi,
    tx: &mut PgConnection,
    ticket: Ticket,
    notification: &Notification,
    trigger_name: &str,
    now: DateTime<Utc>,
) -> Result<Ticket, Status> {
    let change = Change::new(
        TicketEventKind::NotificationSent,
        TicketChangeOrigin::Trigger,
        system_actor(),
    )
    .by_trigger(notification.trigger_id.clone(), trigger_name);
    let (composed, address) = match decide(api, tx, &ticket, notification, now).await? {
        Decision::Send(composed, address) => (composed, address),
        Decision::Suppress(reason) => {
            note_only(
                tx,
                &ticket,
                change.with_note(format!("suppressed: {reason}")),
            )
            .await?;
            return Ok(ticket);
        }
    };
    let ticket_id = Uuid::parse_str(&ticket.id).map_err(Error::internal)?;
    let message_id = Uuid::parse_str(&composed.message.id).map_err(Error::internal)?;
    let mut after = ticket.clone();
    count_message(&mut after, &composed.message);
    let change = change.with_message(composed.message.clone());
    let after = save_with(tx, &api.limits, &ticket, after, change, now, |writes| {
        message_writes(writes, ticket_id, &composed)?;
        match &address {
            Some(address) => throttle::record(writes, address, message_id, now),
            None => Ok(()),
        }
    })
    .await?;
    Ok(after)
}

/// Whether `notification` is sent, checked in order: the engine's decision, the template, the
/// requester's address and their hourly allowance, an account to send from.
async fn decide(
    api: &TicketApi,
    tx: &mut PgConnection,
    ticket: &Ticket,
    notification: &Notification,
    now: DateTime<Utc>,
) -> Result<Decision, Status> {
    if let Some(reason) = &notification.suppressed {
        return Ok(Decision::Suppress(reason.clone()));
    }
    let Some(template) = active(tx, notification.template_id).await? else {
        return Ok(Decision::Suppress(TEMPLATE_INACTIVE.into()));
    };
    let counted = match &notification.recipient {
        Recipient::Addresses(_) => None,
        Recipient::Requester => {
            let Some(address) = requester_address(ticket) else {
                return Ok(Decision::Suppress(NO_ADDRESS.into()));
            };
            let sent = throttle::sent_in_last_hour(tx, &address, now).await?;
            if sent >= api.limits.notifications_per_hour {
                return Ok(Decision::Suppress(THROTTLED.into()));
            }
            Some(address)
        }
    };
    let outgoing = rendered(ticket, &template, &notification.recipient);
    match compose(tx, ticket, &system_actor(), outgoing, now).await {
        Ok(composed) => Ok(Decision::Send(Box::new(composed), counted)),
        // The address is there by now: compose refuses only for want of an account to send from.
        Err(status) if status.code() == Code::FailedPrecondition => {
            Ok(Decision::Suppress(NO_MAIL_ACCOUNT.into()))
        }
        Err(status) => Err(status),
    }
}

/// Where the requester receives notifications, as the throttle counts them: their e-mail
/// address, else their user on the ticket's external channel; `None` when neither (the channels
/// [`compose`] can send by).
fn requester_address(ticket: &Ticket) -> Option<String> {
    let requester = ticket.requester.clone().unwrap_or_default();
    if !requester.email.is_empty() {
        return Some(requester.email.to_lowercase());
    }
    let external =
        ticket.channel() == TicketChannel::External && !ticket.external_thread_key.is_empty();
    external.then(|| {
        let user = if requester.external_user_id.is_empty() {
            &ticket.external_thread_key
        } else {
            &requester.external_user_id
        };
        format!("{}:{user}", ticket.external_channel)
    })
}

/// The notification `template` filled for `ticket`, signed by its assignee
/// (template.proto: `{{agent.name}}`), its subject the template's or else the ticket's.
fn rendered(ticket: &Ticket, template: &UsableTemplate, recipient: &Recipient) -> Outgoing {
    let agent = if ticket.assignee_display_name.is_empty() {
        ticket.assignee_login.clone()
    } else {
        ticket.assignee_display_name.clone()
    };
    let values = template_values(ticket, agent);
    let subject = template::render(&template.subject, &values)
        .trim()
        .to_owned();
    Outgoing {
        kind: TicketMessageKind::Notification,
        body: template::render(&template.body, &values),
        template_id: template.id.to_string(),
        to: match recipient {
            Recipient::Requester => Vec::new(),
            Recipient::Addresses(addresses) => addresses.clone(),
        },
        subject: if subject.is_empty() {
            ticket.subject.clone()
        } else {
            subject
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use switchboard_proto::ticket::v1::TicketRequester;

    use super::*;

    fn ticket(channel: TicketChannel, requester: TicketRequester) -> Ticket {
        Ticket {
            number: 1042,
            subject: "환불 문의".into(),
            channel: channel as i32,
            external_channel: "kakaotalk".into(),
            external_thread_key: "room-7".into(),
            assignee_login: "kim".into(),
            requester: Some(requester),
            ..Default::default()
        }
    }

    #[test]
    fn the_requester_is_counted_by_e_mail_else_by_their_channel_user() {
        let mail = TicketRequester {
            email: "Minsu@Example.com".into(),
            ..Default::default()
        };
        assert_eq!(
            requester_address(&ticket(TicketChannel::Email, mail)).as_deref(),
            Some("minsu@example.com")
        );
        let chat = TicketRequester {
            external_user_id: "u-1".into(),
            ..Default::default()
        };
        assert_eq!(
            requester_address(&ticket(TicketChannel::External, chat.clone())).as_deref(),
            Some("kakaotalk:u-1")
        );
        assert_eq!(requester_address(&ticket(TicketChannel::Phone, chat)), None);
    }

    #[test]
    fn the_template_is_filled_for_the_ticket_and_signed_by_its_assignee() {
        let template = UsableTemplate {
            id: Uuid::nil(),
            subject: "{{ ticket.number }} 접수 안내".into(),
            body: "{{requester.name}}님, {{agent.name}}입니다.".into(),
        };
        let requester = TicketRequester {
            name: "김민수".into(),
            ..Default::default()
        };
        let ticket = ticket(TicketChannel::Email, requester);
        let outgoing = rendered(&ticket, &template, &Recipient::Requester);
        assert_eq!(outgoing.subject, "#1042 접수 안내");
        assert_eq!(outgoing.body, "김민수님, kim입니다.");
        assert!(outgoing.to.is_empty());
        let untitled = UsableTemplate {
            subject: " ".into(),
            ..template
        };
        let team = Recipient::Addresses(vec!["team@example.com".into()]);
        let outgoing = rendered(&ticket, &untitled, &team);
        assert_eq!(outgoing.subject, "환불 문의");
        assert_eq!(outgoing.to, ["team@example.com"]);
    }
}
