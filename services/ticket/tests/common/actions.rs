//! The ticket actions as one call each, through the gateway as `token`.

use prost::Message;
use switchboard_proto::ticket::v1::{
    AddCommentRequest, CloseTicketRequest, DeleteTicketRequest, ForwardTicketRequest,
    GetTicketRequest, ImapSettings, MailAccount, MailTlsMode, ReplyDisposition, ReplyTicketRequest,
    ResolutionReason, ResolveInternallyRequest, RestoreTicketRequest, SmtpSettings,
    TakeTicketRequest, Ticket, UpdateTicketRequest,
};
use tonic::Status;

use super::{Mesh, bearer};

impl Mesh {
    /// A mail account to send replies from (the default one when it is the first), written straight into the service's table (the
    /// tests of `MailAccountService` cover its rpcs).
    pub async fn reply_account(&self, address: &str) -> String {
        let id = uuid::Uuid::now_v7();
        let account = MailAccount {
            id: id.to_string(),
            address: address.into(),
            display_name: "고객센터".into(),
            active: true,
            default_for_replies: true,
            imap: Some(ImapSettings::default()),
            smtp: Some(SmtpSettings {
                host: "smtp.example.co.kr".into(),
                tls_mode: MailTlsMode::Starttls as i32,
                ..Default::default()
            }),
            ..Default::default()
        };
        sqlx::query(
            "INSERT INTO mail_accounts (id, address, active, default_for_replies, account)
             VALUES ($1, $2, true, NOT EXISTS (SELECT FROM mail_accounts WHERE default_for_replies), $3)",
        )
        .bind(id)
        .bind(address)
        .bind(account.encode_to_vec())
        .execute(&self.pool)
        .await
        .expect("insert a mail account");
        id.to_string()
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
        let request = TakeTicketRequest {
            ticket_id: id.into(),
            group_id: String::new(),
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
