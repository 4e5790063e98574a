//! The directory of agents and groups (served by the gateway itself), and what authentication
//! reads from it.

pub mod bootstrap;
mod service;
pub mod store;
pub mod validate;

pub use service::{DirectoryApi, SOURCE};
