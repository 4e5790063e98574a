//! The callback service's SQL: plain async functions over a connection or the pool.

pub mod attempts;
pub mod callbacks;
pub mod connect_requests;
pub mod history;
pub mod intake;
pub mod intake_push;
pub mod routes;
pub mod rows;
pub mod search;

pub use rows::{AttemptRow, CallbackRow, RouteRow};
