//! `TriggerService`: the ordered list of triggers and their dry run.

pub mod api;
mod grpc;
pub mod store;

pub use grpc::TriggerServer;
