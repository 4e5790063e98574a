//! `CreateTicket` (티켓 생성): a ticket opened by an agent, its first message a public reply
//! sent to the requester or an internal comment recording the inquiry.

use chrono::Utc;
use switchboard_platform::{
    error::{FieldViolations, invalid_field},
    principal::PrincipalExt,
    request_id::{RequestId, commit_with},
    time::timestamp,
};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        CreateTicketRequest, CreateTicketResponse, ReplyDisposition, Ticket, TicketChangeOrigin,
        TicketChannel, TicketEventKind, TicketMessageKind, TicketPriority, TicketStatus,
    },
};
use tonic::Status;
use uuid::Uuid;

use super::{
    Change, TicketApi, access, count_message, record,
    reply::{
        Outgoing, attach_files, compose, message_writes, rendered_within_bounds, validate_body,
    },
    row, store,
    writes::Writes,
};
use crate::{
    attachments,
    domain::{fields, template, workflow::created_status},
};

pub async fn create(
    api: &TicketApi,
    principal: &Principal,
    request: CreateTicketRequest,
) -> Result<CreateTicketResponse, Status> {
    access::require_staff(principal)?;
    let request_id = RequestId::parse("CreateTicket", &request.request_id, &request, principal)?;
    let given = request.ticket.clone().unwrap_or_default();
    let mut violations = FieldViolations::new();
    let group_id = violations.uuid("ticket.group_id", &given.group_id);
    let channel = match given.channel() {
        TicketChannel::Unspecified | TicketChannel::Agent => TicketChannel::Agent,
        TicketChannel::Phone => TicketChannel::Phone,
        _ => {
            violations.add(
                "ticket.channel",
                "must be TICKET_CHANNEL_AGENT or TICKET_CHANNEL_PHONE",
            );
            TicketChannel::Agent
        }
    };
    let requester = fields::requester(
        &mut violations,
        "ticket.requester",
        given.requester.as_ref(),
        true,
    );
    let mail_account = violations.optional_uuid("ticket.mail_account_id", &given.mail_account_id);
    let inquiry_type = violations.optional_uuid("ticket.inquiry_type_id", &given.inquiry_type_id);
    let processing_type =
        violations.optional_uuid("ticket.processing_type_id", &given.processing_type_id);
    let priority = match given.priority() {
        TicketPriority::Unspecified => TicketPriority::Normal,
        other => other,
    };
    if TicketPriority::try_from(given.priority).is_err() {
        violations.add("ticket.priority", "is not a TicketPriority");
    }
    let tags = fields::tags(&mut violations, "ticket.tags", &given.tags);
    fields::customer_fields(
        &mut violations,
        "ticket.customer_fields",
        &given.customer_fields,
    );
    let template_id = violations.optional_uuid("template_id", &request.template_id);
    if request.body.is_empty() && template_id.is_none() {
        violations.add("body", "is required without a template_id");
    }
    validate_body(&mut violations, "body", &request.body);
    let disposition = ReplyDisposition::try_from(request.disposition).unwrap_or_else(|_| {
        violations.add("disposition", "is not a ReplyDisposition");
        ReplyDisposition::Unspecified
    });
    if !request.send_to_requester && disposition != ReplyDisposition::Unspecified {
        violations.add(
            "disposition",
            "must be unspecified without send_to_requester",
        );
    }
    if request.attachment_ids.len() > 20 {
        violations.add("attachment_ids", "must hold at most 20 ids");
    }
    // The subject may come from the template (checked once the template is read).
    let subject_given = !given.subject.trim().is_empty() || template_id.is_none();
    let subject = if subject_given {
        fields::subject(&mut violations, "ticket.subject", &given.subject)
    } else {
        String::new()
    };
    violations.into_result()?;
    // Ids in their canonical text form from here on, whatever RFC 4122 form the caller used.
    let group_id = group_id.expect("checked").to_string();
    let text = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    if !principal.is_admin() && !access::in_group(principal, &group_id) {
        return Err(Status::permission_denied(
            "ticket.group_id: you are not in this group",
        ));
    }
    // The assignee: the one named, else for a reply the agent writing it.
    let assignee_login = match (given.assignee_login.trim(), request.send_to_requester) {
        ("", true) if !principal.is_admin() => principal.subject.clone(),
        ("", true) => {
            return Err(invalid_field(
                "ticket.assignee_login",
                "is required to send the first message to the requester",
            ));
        }
        (login, _) => login.to_owned(),
    };
    if request.send_to_requester && requester.email.is_empty() {
        return Err(Status::failed_precondition(
            "send_to_requester needs the requester's e-mail address",
        ));
    }
    let group = api
        .directory
        .group(&group_id)
        .await?
        .ok_or_else(|| invalid_field("ticket.group_id", "no such group"))?;
    let assignee_name = if assignee_login.is_empty() {
        String::new()
    } else if assignee_login == principal.subject {
        principal.display_name.clone()
    } else {
        let agent = api.directory.agent(&assignee_login).await?;
        match agent {
            Some(agent) if agent.group_ids.contains(&group_id) => agent.display_name,
            _ => {
                return Err(invalid_field(
                    "ticket.assignee_login",
                    "must be an active member of the group",
                ));
            }
        }
    };
    if !assignee_login.is_empty()
        && assignee_login == principal.subject
        && !access::in_group(principal, &group_id)
    {
        return Err(invalid_field(
            "ticket.assignee_login",
            "must be a member of the group",
        ));
    }

    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    if let Some(request_id) = &request_id
        && let Some(response) = request_id.replay::<CreateTicketResponse>(&mut tx).await?
    {
        return Ok(response);
    }
    super::reply::check_types(&mut tx, "ticket", inquiry_type, processing_type).await?;
    if let Some(account) = mail_account
        && !crate::mail_accounts::lookup::exists(&mut tx, account).await?
    {
        return Err(invalid_field(
            "ticket.mail_account_id",
            "no such mail account",
        ));
    }
    let template = match template_id {
        Some(id) => Some(
            crate::templates::lookup::usable(&mut tx, id, principal)
                .await?
                .ok_or_else(|| invalid_field("template_id", "no such template"))?,
        ),
        None => None,
    };
    let now = Utc::now();
    let id = Uuid::now_v7();
    let number = store::next_number(&mut tx).await?;
    let status = created_status(!assignee_login.is_empty(), disposition);
    let mut ticket = Ticket {
        id: id.to_string(),
        number,
        subject,
        status: TicketStatus::Unassigned as i32,
        group_id: group_id.clone(),
        group_display_name: group.display_name,
        assignee_login: assignee_login.clone(),
        assignee_display_name: assignee_name,
        channel: channel as i32,
        requester: Some(requester),
        mail_account_id: text(mail_account),
        inquiry_type_id: text(inquiry_type),
        processing_type_id: text(processing_type),
        priority: priority as i32,
        tags,
        customer_fields: given.customer_fields.clone(),
        create_time: Some(timestamp(now)),
        update_time: Some(timestamp(now)),
        version: 0,
        ..Default::default()
    };
    // Placeholders see the ticket as created (its number, group and requester).
    let values = api.template_values(&ticket, principal);
    let (body, template_subject) = match &template {
        Some(t) if request.body.is_empty() => {
            (template::render(&t.body, &values), t.subject.clone())
        }
        Some(t) => (request.body.clone(), t.subject.clone()),
        None => (request.body.clone(), String::new()),
    };
    rendered_within_bounds(&body)?;
    if ticket.subject.is_empty() {
        ticket.subject = template::render(&template_subject, &values)
            .trim()
            .to_owned();
        if ticket.subject.is_empty() {
            return Err(invalid_field(
                "ticket.subject",
                "must not be empty (the template has no subject)",
            ));
        }
        ticket.subject = ticket.subject.chars().take(500).collect();
    }
    let kind = if request.send_to_requester {
        TicketMessageKind::PublicReply
    } else {
        TicketMessageKind::InternalComment
    };
    let prepared = attachments::prepare_uploads(
        &mut tx,
        &principal.subject,
        &request.attachment_ids,
        "attachment_ids",
    )
    .await?;
    let outgoing = Outgoing {
        kind,
        body,
        body_html: String::new(),
        cc: Vec::new(),
        disposition,
        template_id: template
            .as_ref()
            .map(|t| t.id.to_string())
            .unwrap_or_default(),
        attachments: prepared,
        ..Default::default()
    };
    let composed = compose(&mut tx, &ticket, &principal.actor(), outgoing, now).await?;
    // Stamped as the change from nothing: a ticket created solved gets its solve and
    // auto-close times.
    let blank = ticket.clone();
    ticket.status = status as i32;
    super::stamp(&blank, &mut ticket, now, api.limits.auto_close_after);
    count_message(&mut ticket, &composed.message);
    let mut writes = Writes::new();
    row::write_into(&mut writes, &ticket, None)?;
    message_writes(&mut writes, id, &composed)?;
    let change = Change::new(
        TicketEventKind::Created,
        TicketChangeOrigin::User,
        principal.actor(),
    )
    .with_message(composed.message.clone());
    record(&mut writes, None, &ticket, change)?;
    writes.execute(&mut tx).await?;
    attach_files(&mut tx, id, &composed).await?;
    let response = CreateTicketResponse {
        ticket: Some(ticket),
        message: Some(composed.message),
    };
    commit_with(request_id.as_ref(), tx, response).await
}
