//! What every Switchboard service shares: configuration, telemetry, the gRPC server builder,
//! errors as statuses, principal verification, PostgreSQL with embedded migrations, the
//! transactional outbox with its relay, and the event consumer with its inbox.

pub mod business_hours;
pub mod calendar;
pub mod config;
pub mod db;
pub mod directory;
pub mod error;
pub mod events;
pub mod group_commit;
pub mod grpc;
pub mod loopback;
pub mod metrics;
pub mod paging;
pub mod phone;
pub mod principal;
pub mod request;
pub mod request_id;
pub mod service;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod time;

pub use shutdown::{Shutdown, ShutdownTrigger};
