//! `TicketService`: reading and working tickets. Each method reads the verified principal,
//! validates its request naming bad fields, and makes its change, history entry and events in
//! one transaction ([`save`]).

pub mod access;
mod announce;
mod batch;
mod create;
mod history;
pub mod messages;
mod read;
pub(crate) mod reply;
pub mod row;
mod search;
pub mod store;
mod views;
mod work;
pub mod writes;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    error::{Error, Result as StoreResult},
    request::{PrincipalAndBody, uuid_field},
    time::timestamp,
};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{ticket_service_server::TicketService, *},
};
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use self::writes::Writes;
pub use self::{
    access::{AUTOMATE_SCOPE, INGEST_SCOPE, not_found, sees},
    announce::{Change, SOURCE, announce, note_only, notes, record, system_actor},
};
use crate::{
    TicketSettings,
    attachments::{self, DownloadStream},
    directory::Directory,
    domain::template::Values,
};

/// What the handlers need from the configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    pub auto_close_after: chrono::Duration,
    pub attachment_max_bytes: u64,
    /// The trigger notifications a requester's address receives in an hour at the most.
    pub notifications_per_hour: i64,
}

#[derive(Clone)]
pub struct TicketApi {
    pub(crate) pool: PgPool,
    pub(crate) directory: Directory,
    pub(crate) limits: Arc<Limits>,
}

impl From<&TicketSettings> for Limits {
    fn from(settings: &TicketSettings) -> Self {
        Self {
            auto_close_after: chrono::Duration::from_std(settings.auto_close_after())
                .unwrap_or(chrono::Duration::days(14)),
            attachment_max_bytes: settings.attachment_max_bytes,
            notifications_per_hour: i64::from(settings.trigger_notifications_per_hour),
        }
    }
}

impl TicketApi {
    pub fn new(pool: PgPool, directory: Directory, settings: &TicketSettings) -> Self {
        Self {
            pool,
            directory,
            limits: Arc::new(Limits::from(settings)),
        }
    }

    /// The ticket `ticket_id` (API text form) if `principal` sees it; NOT_FOUND otherwise.
    pub async fn visible_ticket(
        &self,
        principal: &Principal,
        ticket_id: &str,
    ) -> Result<Ticket, Status> {
        let id = uuid_field("ticket_id", ticket_id)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        match store::load(&mut conn, id, false).await? {
            Some(ticket) if sees(principal, &ticket) => Ok(ticket),
            _ => Err(not_found()),
        }
    }

    /// The values a template is filled with for `ticket`, written by `principal`.
    pub fn template_values(&self, ticket: &Ticket, principal: &Principal) -> Values {
        let agent_name = if principal.display_name.is_empty() {
            principal.subject.clone()
        } else {
            principal.display_name.clone()
        };
        template_values(ticket, agent_name)
    }
}

/// The values a template is filled with for `ticket`, signed by `agent_name`.
pub(crate) fn template_values(ticket: &Ticket, agent_name: String) -> Values {
    let requester = ticket.requester.clone().unwrap_or_default();
    Values {
        requester_name: requester.name,
        requester_email: requester.email,
        ticket_number: ticket.number,
        ticket_subject: ticket.subject.clone(),
        agent_name,
        group_name: ticket.group_display_name.clone(),
    }
}

/// Locks the ticket `id` for a change by `principal`; NOT_FOUND when it does not exist or the
/// principal does not see it.
pub(crate) async fn lock_visible(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<Ticket, Status> {
    match store::load(conn, id, true).await? {
        Some(ticket) if sees(principal, &ticket) => Ok(ticket),
        _ => Err(not_found()),
    }
}

/// Stamps `after` as the next version of `before`, changed at `now`: the times that follow
/// from its status (solved, auto-close, closed), then writes it with its history entry and
/// change event.
pub(crate) async fn save(
    conn: &mut PgConnection,
    limits: &Limits,
    before: &Ticket,
    after: Ticket,
    change: Change,
    now: DateTime<Utc>,
) -> StoreResult<Ticket> {
    save_with(conn, limits, before, after, change, now, |_| Ok(())).await
}

/// [`save`], with `more` rows written in the same statement (the change's message).
pub(crate) async fn save_with(
    conn: &mut PgConnection,
    limits: &Limits,
    before: &Ticket,
    after: Ticket,
    change: Change,
    now: DateTime<Utc>,
    more: impl FnOnce(&mut Writes) -> StoreResult<()>,
) -> StoreResult<Ticket> {
    save_version(conn, limits, before, after, now, |writes, after| {
        record(writes, Some(before), after, change)?;
        more(writes)
    })
    .await
}

/// Stamps `after` as the next version of `before` (see [`stamp`]) and writes it with what
/// `describe` adds for the stamped ticket: its history and events.
pub(crate) async fn save_version(
    conn: &mut PgConnection,
    limits: &Limits,
    before: &Ticket,
    mut after: Ticket,
    now: DateTime<Utc>,
    describe: impl FnOnce(&mut Writes, &Ticket) -> StoreResult<()>,
) -> StoreResult<Ticket> {
    stamp(before, &mut after, now, limits.auto_close_after);
    let mut writes = Writes::new();
    row::write_into(&mut writes, &after, Some(before.version))?;
    describe(&mut writes, &after)?;
    if writes.execute(conn).await? != 1 {
        return Err(Error::internal("the locked ticket changed under its lock"));
    }
    Ok(after)
}

/// The next version of `before`: version and update time, and the times its status implies.
pub(crate) fn stamp(
    before: &Ticket,
    after: &mut Ticket,
    now: DateTime<Utc>,
    auto_close: chrono::Duration,
) {
    use TicketStatus::{Closed, Solved};
    after.version = before.version + 1;
    after.update_time = Some(timestamp(now));
    let (was, is) = (before.status(), after.status());
    if is == Solved && was != Solved {
        after.solve_time = Some(timestamp(now));
        after.auto_close_time = Some(timestamp(now + auto_close));
    }
    if is != Solved {
        after.auto_close_time = None;
    }
    if is == Closed && was != Closed {
        after.close_time = Some(timestamp(now));
    }
}

/// Adds `message` to the counters of `ticket` (count, first reply, last customer message).
/// Returns true when the message is the ticket's first public reply.
pub(crate) fn count_message(ticket: &mut Ticket, message: &TicketMessage) -> bool {
    ticket.message_count += 1;
    match message.kind() {
        TicketMessageKind::PublicReply if ticket.first_reply_time.is_none() => {
            ticket.first_reply_time = message.create_time;
            true
        }
        TicketMessageKind::Customer => {
            ticket.last_customer_message_time = message.create_time;
            false
        }
        _ => false,
    }
}

#[tonic::async_trait]
impl TicketService for TicketApi {
    async fn create_ticket(
        &self,
        request: Request<CreateTicketRequest>,
    ) -> Result<Response<CreateTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        create::create(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn get_ticket(
        &self,
        request: Request<GetTicketRequest>,
    ) -> Result<Response<GetTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        read::get(self, &principal, &request)
            .await
            .map(Response::new)
    }

    async fn list_tickets(
        &self,
        request: Request<ListTicketsRequest>,
    ) -> Result<Response<ListTicketsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        views::list(&self.pool, &principal, request)
            .await
            .map(Response::new)
    }

    async fn count_ticket_views(
        &self,
        request: Request<CountTicketViewsRequest>,
    ) -> Result<Response<CountTicketViewsResponse>, Status> {
        let (principal, _) = request.into_principal_and_body()?;
        views::count_views(&self.pool, &principal)
            .await
            .map(Response::new)
    }

    async fn search_tickets(
        &self,
        request: Request<SearchTicketsRequest>,
    ) -> Result<Response<SearchTicketsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        search::search(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn take_ticket(
        &self,
        request: Request<TakeTicketRequest>,
    ) -> Result<Response<TakeTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::take(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn forward_ticket(
        &self,
        request: Request<ForwardTicketRequest>,
    ) -> Result<Response<ForwardTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::forward(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn reply_ticket(
        &self,
        request: Request<ReplyTicketRequest>,
    ) -> Result<Response<ReplyTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        reply::reply(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn add_comment(
        &self,
        request: Request<AddCommentRequest>,
    ) -> Result<Response<AddCommentResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        reply::comment(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn resolve_internally(
        &self,
        request: Request<ResolveInternallyRequest>,
    ) -> Result<Response<ResolveInternallyResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::resolve(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn restore_ticket(
        &self,
        request: Request<RestoreTicketRequest>,
    ) -> Result<Response<RestoreTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::restore(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn delete_ticket(
        &self,
        request: Request<DeleteTicketRequest>,
    ) -> Result<Response<DeleteTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::delete(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn close_ticket(
        &self,
        request: Request<CloseTicketRequest>,
    ) -> Result<Response<CloseTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::close(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn update_ticket(
        &self,
        request: Request<UpdateTicketRequest>,
    ) -> Result<Response<UpdateTicketResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        work::update(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn batch_reply_tickets(
        &self,
        request: Request<BatchReplyTicketsRequest>,
    ) -> Result<Response<BatchReplyTicketsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        batch::reply(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn batch_forward_tickets(
        &self,
        request: Request<BatchForwardTicketsRequest>,
    ) -> Result<Response<BatchForwardTicketsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        batch::forward(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn list_ticket_messages(
        &self,
        request: Request<ListTicketMessagesRequest>,
    ) -> Result<Response<ListTicketMessagesResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        read::messages(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn list_ticket_events(
        &self,
        request: Request<ListTicketEventsRequest>,
    ) -> Result<Response<ListTicketEventsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        read::events(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn list_requester_tickets(
        &self,
        request: Request<ListRequesterTicketsRequest>,
    ) -> Result<Response<ListRequesterTicketsResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        read::requester_tickets(self, &principal, request)
            .await
            .map(Response::new)
    }

    async fn upload_ticket_attachment(
        &self,
        request: Request<Streaming<UploadTicketAttachmentRequest>>,
    ) -> Result<Response<UploadTicketAttachmentResponse>, Status> {
        let (principal, stream) = request.into_principal_and_body()?;
        attachments::upload(self, &principal, stream)
            .await
            .map(Response::new)
    }

    type DownloadTicketAttachmentStream = DownloadStream;

    async fn download_ticket_attachment(
        &self,
        request: Request<DownloadTicketAttachmentRequest>,
    ) -> Result<Response<DownloadStream>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        attachments::download(self, &principal, request)
            .await
            .map(Response::new)
    }
}
