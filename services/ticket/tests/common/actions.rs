//! The ticket actions as one call each, through the gateway as `token`.

use switchboard_proto::ticket::v1::{
    AddCommentRequest, CloseTicketRequest, CreateMailAccountRequest, DeleteTicketRequest,
    ForwardTicketRequest, GetTicketRequest, MailAccount, MailTlsMode, ReplyDisposition,
    ReplyTicketRequest, ResolutionReason, ResolveInternallyRequest, RestoreTicketRequest,
    SmtpSettings, TakeTicketRequest, Ticket, UpdateTicketRequest,
};
use tonic::Status;

use super::{Mesh, bearer};

impl Mesh {
    /// A mail account to send replies from (the first one created becomes the default), made
    /// by the admin through `MailAccountService`.
    pub async fn reply_account(&self, address: &str) -> String {
        let request = CreateMailAccountRequest {
            request_id: String::new(),
            mail_account: Some(MailAccount {
                address: address.into(),
                display_name: "고객센터".into(),
                smtp: Some(SmtpSettings {
                    host: "smtp.example.co.kr".into(),
                    tls_mode: MailTlsMode::Starttls as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        self.mail_accounts()
            .await
            .create_mail_account(bearer(request, &self.admin()))
            .await
            .expect("the admin creates a mail account")
            .into_inner()
            .mail_account
            .unwrap()
            .id
    }

    pub async fn get(&self, token: &str, id: &str) -> Result<Ticket, Status> {
        let request = GetTicketRequest {
            ticket_id: id.into(),
        };
        let response = self
            .tickets()
            .await
            .get_ticket(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    pub async fn take(&self, token: &str, id: &str) -> Result<Ticket, Status> {
        self.take_into(token, id, "").await
    }

    /// Takes the ticket into `group` (needed when it has none and the caller is in several).
    pub async fn take_into(&self, token: &str, id: &str, group: &str) -> Result<Ticket, Status> {
        let request = TakeTicketRequest {
            ticket_id: id.into(),
            group_id: group.into(),
        };
        let response = self
            .tickets()
            .await
            .take_ticket(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    pub async fn forward(
        &self,
        token: &str,
        id: &str,
        group: &str,
        assignee: &str,
    ) -> Result<Ticket, Status> {
        let request = ForwardTicketRequest {
            ticket_id: id.into(),
            group_id: group.into(),
            assignee_login: assignee.into(),
            note: String::new(),
        };
        let response = self
            .tickets()
            .await
            .forward_ticket(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    pub async fn reply(
        &self,
        token: &str,
        id: &str,
        disposition: ReplyDisposition,
        body: &str,
    ) -> Result<Ticket, Status> {
        let request = ReplyTicketRequest {
            ticket_id: id.into(),
            disposition: disposition as i32,
            body: body.into(),
            ..Default::default()
        };
        let response = self
            .tickets()
            .await
            .reply_ticket(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    pub async fn comment(&self, token: &str, id: &str, body: &str) -> Result<Ticket, Status> {
        let request = AddCommentRequest {
            ticket_id: id.into(),
            body: body.into(),
            ..Default::default()
        };
        let response = self
            .tickets()
            .await
            .add_comment(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    pub async fn resolve(
        &self,
        token: &str,
        id: &str,
        reason: ResolutionReason,
    ) -> Result<Ticket, Status> {
        let request = ResolveInternallyRequest {
            ticket_id: id.into(),
            reason: reason as i32,
            note: "처리 메모".into(),
            duplicate_of_ticket_id: String::new(),
        };
        let response = self
            .tickets()
            .await
            .resolve_internally(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    pub async fn restore(&self, token: &str, id: &str) -> Result<Ticket, Status> {
        let request = RestoreTicketRequest {
            ticket_id: id.into(),
        };
        let response = self
            .tickets()
            .await
            .restore_ticket(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    pub async fn delete(&self, token: &str, id: &str) -> Result<(), Status> {
        let request = DeleteTicketRequest {
            ticket_id: id.into(),
        };
        self.tickets()
            .await
            .delete_ticket(bearer(request, token))
            .await?;
        Ok(())
    }

    pub async fn close(&self, token: &str, id: &str) -> Result<Ticket, Status> {
        let request = CloseTicketRequest {
            ticket_id: id.into(),
        };
        let response = self
            .tickets()
            .await
            .close_ticket(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }

    /// Sets the priority (the one field every open ticket may change).
    pub async fn set_priority(
        &self,
        token: &str,
        id: &str,
        priority: i32,
    ) -> Result<Ticket, Status> {
        let request = UpdateTicketRequest {
            ticket: Some(Ticket {
                id: id.into(),
                priority,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["priority".into()],
            }),
            expected_version: 0,
        };
        let response = self
            .tickets()
            .await
            .update_ticket(bearer(request, token))
            .await?;
        Ok(response.into_inner().ticket.unwrap())
    }
}
