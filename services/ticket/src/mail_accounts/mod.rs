//! Receiving e-mail accounts (대표메일 계정), announced to mail-ingest: `MailAccountService`,
//! and what tickets ask of the accounts (`lookup`).

mod api;
mod check;
mod defaults;
mod grpc;
pub mod lookup;
mod merge;
mod store;
mod view;

use sqlx::PgPool;
use switchboard_proto::ticket::v1::mail_account_service_server::MailAccountServiceServer;

pub use self::api::MailAccountApi;

/// `MailAccountService` on the service's pool.
pub fn server(pool: PgPool) -> MailAccountServiceServer<MailAccountApi> {
    MailAccountServiceServer::new(MailAccountApi::new(pool))
}
