//! `InboundService`: customer messages in (raw e-mail from an MTA, help-center inquiries,
//! external-channel messages) and the quarantine. Every message is stored as received before it
//! is handed to the ticket service, so a retry after any failure uses the stored original.

mod batches;
mod channel;
mod help_center;
pub mod mail;
mod quarantine;
mod raw_headers;
mod store;
mod submitted;

use chrono::Utc;
use sqlx::PgPool;
use switchboard_platform::{
    error::{FieldViolations, invalid_field},
    principal::PrincipalExt,
    request::PrincipalAndBody,
    time::instant,
};
use switchboard_proto::{
    events::v1::MailSource,
    inbound::v1::{inbound_service_server::InboundService, *},
};
use tonic::{Request, Response, Status};

use self::mail::RawMail;
use crate::{
    accounts::{self, Account},
    config::MailIngestSettings,
    screen::EnvelopeSender,
    tickets::Tickets,
};

/// The `source` of mail-ingest's events.
pub const SOURCE: &str = "mail-ingest";
/// The longest envelope sender (RFC 5321's path limit).
const MAX_ADDRESS_CHARS: usize = 320;

#[derive(Clone)]
pub struct InboundApi {
    pub pool: PgPool,
    pub tickets: Tickets,
    pub settings: MailIngestSettings,
    batches: batches::Batches,
    accounts: accounts::RecentAccounts,
}

impl InboundApi {
    pub fn new(pool: PgPool, tickets: Tickets, settings: MailIngestSettings) -> Self {
        Self {
            batches: batches::Batches::new(pool.clone()),
            accounts: accounts::RecentAccounts::default(),
            pool,
            tickets,
            settings,
        }
    }
}

/// PERMISSION_DENIED unless `principal` holds `scope` (submissions are for the MTA and the
/// connectors' API keys and services, as the contract says; admins sign in as agents).
fn require_scope(
    principal: &switchboard_proto::common::v1::Principal,
    scope: &str,
) -> Result<(), Status> {
    if principal.has_scope(scope) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "this method is for API keys and services with the {scope} scope"
        )))
    }
}

impl InboundApi {
    /// The account a submission names, or the first account an envelope recipient is.
    async fn account_of(&self, request: &SubmitRawEmailRequest) -> Result<Account, Status> {
        let account = if !request.mail_account_id.is_empty() {
            let id = switchboard_platform::request::uuid_field(
                "mail_account_id",
                &request.mail_account_id,
            )?;
            self.accounts
                .by_id(&self.pool, id)
                .await?
                .ok_or_else(|| invalid_field("mail_account_id", "no such mail account"))?
        } else if request.envelope_recipients.is_empty() {
            return Err(invalid_field(
                "mail_account_id",
                "is required unless envelope_recipients names an account's address",
            ));
        } else {
            accounts::by_address(&self.pool, &request.envelope_recipients)
                .await?
                .ok_or_else(|| {
                    invalid_field(
                        "envelope_recipients",
                        "names no receiving account's address",
                    )
                })?
        };
        if !account.active {
            return Err(Status::failed_precondition(format!(
                "the mail account {} is inactive",
                account.account.address
            )));
        }
        Ok(account)
    }

    async fn submit_raw_email(
        &self,
        request: SubmitRawEmailRequest,
    ) -> Result<SubmitRawEmailResponse, Status> {
        let mut violations = FieldViolations::new();
        if request.raw.is_empty() {
            violations.add("raw", "is required: the message as received");
        }
        let sender = match request.envelope_sender.as_deref().map(str::trim) {
            None => EnvelopeSender::Absent,
            Some("" | "<>") => EnvelopeSender::Null,
            Some(text) => {
                let address = text.trim_start_matches('<').trim_end_matches('>');
                if address.chars().count() > MAX_ADDRESS_CHARS
                    || address.chars().any(|c| c.is_control() || c.is_whitespace())
                {
                    violations.add(
                        "envelope_sender",
                        "must be an address of at most 320 characters without spaces or control characters",
                    );
                }
                EnvelopeSender::Address(address.to_owned())
            }
        };
        violations.into_result()?;
        let limits = self.settings.limits();
        if request.raw.len() > limits.max_bytes {
            return Err(Status::resource_exhausted(format!(
                "raw: {} bytes, over the limit of {} bytes",
                request.raw.len(),
                limits.max_bytes
            )));
        }
        let account = self.account_of(&request).await?;
        let receive_time = match &request.receive_time {
            Some(at) => instant(at)
                .ok_or_else(|| invalid_field("receive_time", "is not a valid time stamp"))?,
            None => Utc::now(),
        };
        let mail = RawMail {
            raw: request.raw.into(),
            account,
            envelope_sender: sender,
            envelope_recipients: request.envelope_recipients,
            receive_time,
            source: MailSource::Mta,
        };
        mail::submit(self, mail, Some(&limits)).await
    }
}

#[tonic::async_trait]
impl InboundService for InboundApi {
    async fn submit_raw_email(
        &self,
        request: Request<SubmitRawEmailRequest>,
    ) -> Result<Response<SubmitRawEmailResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        require_scope(&principal, "mail:submit")?;
        InboundApi::submit_raw_email(self, request)
            .await
            .map(Response::new)
    }

    async fn submit_help_center_inquiry(
        &self,
        request: Request<SubmitHelpCenterInquiryRequest>,
    ) -> Result<Response<SubmitHelpCenterInquiryResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        require_scope(&principal, "inquiries:submit")?;
        help_center::submit(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn submit_channel_message(
        &self,
        request: Request<SubmitChannelMessageRequest>,
    ) -> Result<Response<SubmitChannelMessageResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        require_scope(&principal, "channels:submit")?;
        channel::submit(self, request).await.map(Response::new)
    }

    async fn get_mailbox_status(
        &self,
        request: Request<GetMailboxStatusRequest>,
    ) -> Result<Response<GetMailboxStatusResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        crate::imap::api::get(&self.pool, request)
            .await
            .map(Response::new)
    }

    async fn list_mailbox_statuses(
        &self,
        request: Request<ListMailboxStatusesRequest>,
    ) -> Result<Response<ListMailboxStatusesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        crate::imap::api::list(&self.pool, request)
            .await
            .map(Response::new)
    }

    async fn fetch_mailbox(
        &self,
        request: Request<FetchMailboxRequest>,
    ) -> Result<Response<FetchMailboxResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        crate::imap::api::fetch(&self.pool, request)
            .await
            .map(Response::new)
    }

    async fn reset_mailbox_cursor(
        &self,
        request: Request<ResetMailboxCursorRequest>,
    ) -> Result<Response<ResetMailboxCursorResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        crate::imap::api::reset_cursor(&self.pool, request)
            .await
            .map(Response::new)
    }

    async fn list_outbound_messages(
        &self,
        request: Request<ListOutboundMessagesRequest>,
    ) -> Result<Response<ListOutboundMessagesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        crate::outbound::api::list(&self.pool, request)
            .await
            .map(Response::new)
    }

    async fn get_outbound_message(
        &self,
        request: Request<GetOutboundMessageRequest>,
    ) -> Result<Response<GetOutboundMessageResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        crate::outbound::api::get(&self.pool, request)
            .await
            .map(Response::new)
    }

    async fn retry_outbound_message(
        &self,
        request: Request<RetryOutboundMessageRequest>,
    ) -> Result<Response<RetryOutboundMessageResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        crate::outbound::api::retry(&self.pool, request, self.settings.give_up_after())
            .await
            .map(Response::new)
    }

    async fn list_quarantined_messages(
        &self,
        request: Request<ListQuarantinedMessagesRequest>,
    ) -> Result<Response<ListQuarantinedMessagesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        quarantine::list(self, request).await.map(Response::new)
    }

    async fn reprocess_quarantined_message(
        &self,
        request: Request<ReprocessQuarantinedMessageRequest>,
    ) -> Result<Response<ReprocessQuarantinedMessageResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        principal.require_admin()?;
        quarantine::reprocess(self, request)
            .await
            .map(Response::new)
    }
}
