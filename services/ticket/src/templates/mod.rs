//! Reply templates (템플릿) and their placeholders: `TemplateService`, and what tickets ask of
//! templates (`lookup`).

mod api;
mod check;
mod grpc;
pub mod lookup;
mod store;

use sqlx::PgPool;
use switchboard_proto::ticket::v1::template_service_server::TemplateServiceServer;

pub use self::api::TemplateApi;
use crate::tickets::TicketApi;

/// `TemplateService`; `tickets` answers which tickets a caller sees and fills placeholders.
pub fn server(pool: PgPool, tickets: TicketApi) -> TemplateServiceServer<TemplateApi> {
    TemplateServiceServer::new(TemplateApi::new(pool, tickets))
}
